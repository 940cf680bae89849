import { expect, test, open, signUp, uniqueEmail } from './helpers';

test.describe('projects', () => {
  test('at the plan limit the Projects page shows the upgrade prompt', async ({ page, javaScriptEnabled }) => {
    await signUp(page, uniqueEmail('projects'), javaScriptEnabled);
    await open(page, '/projects', javaScriptEnabled);
    await expect(page.getByRole('heading', { name: 'Projects', level: 1 })).toBeVisible();
    await expect(page.getByText('0 of 1 project on your Free plan.')).toBeVisible();

    // The free plan allows one project.
    await page.getByLabel('Project name').fill('First project');
    await page.getByRole('button', { name: 'Create project', exact: true }).click();
    await expect(page).toHaveURL(/\/projects$/);
    await expect(page.getByRole('status')).toContainText('First project');
    await expect(page.locator('.project-name')).toHaveText(['First project']);

    const upgrade = page.locator('[data-upgrade="projects"]');
    await expect(upgrade).toBeVisible();
    await expect(upgrade).toContainText("You have reached your plan's limit of 1 project.");
    await expect(upgrade.getByRole('link', { name: 'Upgrade your plan' })).toHaveAttribute('href', '/pricing');
    await expect(page.getByRole('button', { name: 'Create project', exact: true })).toHaveCount(0);
  });
});
