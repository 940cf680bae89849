import { expect, test, open, signUp, uniqueEmail } from './helpers';

test.describe('marketplace creators', () => {
  test("become a creator through Stripe's hosted onboarding, then open the Express dashboard", async ({
    page,
    javaScriptEnabled,
  }) => {
    test.setTimeout(120_000);
    await signUp(page, uniqueEmail('creator'), javaScriptEnabled);
    await open(page, '/creator', javaScriptEnabled);
    await expect(page.getByRole('heading', { name: 'Sell on tollgate', level: 1 })).toBeVisible();
    await page.getByRole('button', { name: 'Become a creator', exact: true }).click();

    // Stripe's hosted onboarding, with its test values filled in: leave the ID document out.
    await expect(page.getByRole('heading', { name: /Set up payouts for/ })).toBeVisible();
    await page.getByRole('button', { name: 'Submit without ID document', exact: true }).click();
    await expect(page).toHaveURL(/\/creator$/);
    const account = page.locator('[data-creator-state]');
    await expect(account).toHaveAttribute('data-creator-state', 'restricted');
    await expect(page.locator('.creator-status')).toHaveText('Stripe needs more before you can sell:');
    await expect(page.locator('.requirements-due li')).toContainText(['Individual verification document']);

    // Continuing finishes it.
    await page.getByRole('button', { name: 'Continue onboarding', exact: true }).click();
    await expect(page.getByRole('heading', { name: /Set up payouts for/ })).toBeVisible();
    await page.getByRole('button', { name: 'Agree and submit', exact: true }).click();
    await expect(page).toHaveURL(/\/creator$/);
    await expect(account).toHaveAttribute('data-creator-state', 'enabled');
    await expect(page.locator('.creator-status')).toHaveText(
      'Your Stripe account is ready: you can publish products and get paid.',
    );

    await page.getByRole('button', { name: 'Open Stripe dashboard', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Express Dashboard' })).toBeVisible();
  });
});
