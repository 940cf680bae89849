import { type Page } from '@playwright/test';
import { expect, test, open, payOnCheckout, signUp, uniqueEmail } from './helpers';

/** Asks for `seats` on /account and opens the preview. */
async function previewSeats(page: Page, seats: string): Promise<void> {
  await page.getByLabel('Seats', { exact: true }).fill(seats);
  await page.getByRole('button', { name: 'Preview seat change', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Confirm plan change' })).toBeVisible();
}

test.describe('seats', () => {
  test('subscribe to a per-seat plan with 3 seats, add 2 now, remove 1 at the period end', async ({
    page,
    javaScriptEnabled,
  }) => {
    await signUp(page, uniqueEmail('seats'), javaScriptEnabled);
    await open(page, '/pricing', javaScriptEnabled);
    const team = page.locator('article[data-plan="team"]');
    await expect(team.locator('.price')).toContainText('$12.00');
    await team.getByLabel('Seats').fill('3');
    await team.getByRole('button', { name: 'Subscribe to Team' }).click();

    // Stripe's page offers the count asked for, adjustable within the plan's bounds.
    const quantity = page.getByLabel('Quantity of Team');
    await expect(quantity).toHaveValue('3');
    await expect(quantity).toHaveAttribute('max', '50');
    await expect(page.getByText('Total due today: $36.00')).toBeVisible();
    await payOnCheckout(page, 'Subscribe');
    await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/);
    await expect(page.locator('.notice')).toHaveText('Your Team plan is active.');

    await page.getByRole('link', { name: 'Go to your account' }).click();
    await expect(page.locator('.plan-name')).toHaveText('Team');
    await expect(page.getByText('$36.00 / month')).toBeVisible();

    // Two more: previewed with the prorated charge, then charged now.
    await previewSeats(page, '5');
    await expect(page.getByText('Team (monthly), 5 seats', { exact: true })).toBeVisible();
    await expect(page.locator('.due-now')).not.toHaveText('$0.00');
    await expect(page.locator('.due-now')).toHaveText(/^\$2[34]\.\d\d$/);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect(page.locator('.notice')).toHaveText('Your plan is now Team (monthly), 5 seats.');
    await expect(page.getByText('$60.00 / month')).toBeVisible();

    // One fewer: nothing due now, four seats from the renewal date.
    await previewSeats(page, '4');
    await expect(page.locator('.due-now')).toHaveText('$0.00');
    await expect(page.locator('.next-invoice')).toContainText('$48.00 on ');
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect(page.locator('.notice')).toContainText('Your plan changes to Team (monthly), 4 seats on');
    await expect(page.getByText('$60.00 / month')).toBeVisible();
    await expect(page.getByText(/Team \(monthly\), 4 seats from /)).toBeVisible();
  });
});
