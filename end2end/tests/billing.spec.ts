import { type Page } from '@playwright/test';
import { expect, test, open, payOnCheckout, signUp, subscribedCustomer, uniqueEmail } from './helpers';

function plan(page: Page, key: string) {
  return page.locator(`article[data-plan="${key}"]`);
}

test.describe('billing', () => {
  test('pricing toggles monthly and yearly', async ({ page, javaScriptEnabled }) => {
    await open(page, '/pricing', javaScriptEnabled);
    await expect(plan(page, 'pro').locator('.price')).toContainText('$29.00');
    await page.getByRole('link', { name: /^Yearly/ }).click();
    await expect(page).toHaveURL(/interval=year/);
    await expect(plan(page, 'pro').locator('.price')).toContainText('$290.00');
    await page.getByRole('link', { name: 'Monthly', exact: true }).click();
    await expect(plan(page, 'pro').locator('.price')).toContainText('$29.00');
  });

  test('subscribe through Checkout, change plan with a preview, cancel, resume, open the portal', async ({
    page,
    javaScriptEnabled,
  }) => {
    // Five flows in one (about 20 page loads): past the default minute on a busy 2-core machine.
    test.setTimeout(120_000);
    await signUp(page, uniqueEmail('billing'), javaScriptEnabled);
    await open(page, '/pricing', javaScriptEnabled);
    await plan(page, 'business').getByRole('button', { name: 'Subscribe to Business' }).click();

    await payOnCheckout(page, 'Subscribe');
    await expect(page).toHaveURL(/\/checkout\/success\?session_id=cs_/);
    await expect(page.locator('.notice')).toHaveText('Your Business plan is active.');

    await page.getByRole('link', { name: 'Go to your account' }).click();
    await expect(page.locator('.plan-name')).toHaveText('Business');
    await expect(page.locator('dd.status')).toHaveText('Active');
    await expect(page.getByText('Visa •••• 4242')).toBeVisible();

    // A downgrade, previewed: nothing due today, the cheaper plan from the renewal date.
    await page.getByRole('link', { name: 'Change plan', exact: true }).click();
    await page.getByRole('link', { name: 'Switch to Pro', exact: true }).click();
    await expect(page.locator('.due-now')).toHaveText('$0.00');
    await expect(page.locator('.next-invoice')).toContainText('$29.00 on ');
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect(page.locator('.notice')).toContainText('Your plan changes to Pro (monthly) on');
    await expect(page.locator('.plan-name')).toHaveText('Business');

    // Cancel (with a confirm step), then resume.
    await page.getByRole('link', { name: 'Cancel subscription', exact: true }).click();
    await expect(page.getByText('stays active until')).toBeVisible();
    await page.getByRole('button', { name: 'Cancel subscription', exact: true }).click();
    await expect(page.locator('.notice')).toContainText('You keep access until');
    await expect(page.locator('dd.status')).toHaveText('Cancels at the end of the period');
    await page.getByRole('button', { name: 'Resume subscription', exact: true }).click();
    await expect(page.locator('.notice')).toContainText('Your subscription continues');
    await expect(page.locator('dd.status')).toHaveText('Active');

    // Manage billing opens the Customer Portal, which comes back to /account.
    await page.getByRole('button', { name: 'Manage billing', exact: true }).click();
    await expect(page.getByRole('region', { name: 'Current plan' })).toBeVisible();
  });

  test('the webhook alone grants access when the success page never loads', async ({
    page,
    javaScriptEnabled,
  }) => {
    await signUp(page, uniqueEmail('nosuccess'), javaScriptEnabled);
    await open(page, '/pricing', javaScriptEnabled);
    await plan(page, 'business').getByRole('button', { name: 'Subscribe to Business' }).click();
    // The browser never reaches the app's success page: the card form's POST goes to the
    // sandbox (the payment happens), but its redirect to /checkout/success is not followed.
    let redirectedTo = '';
    await page.route('**/checkout/cs_*', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const response = await route.fetch({ maxRedirects: 0 });
      redirectedTo = response.headers()['location'] ?? '';
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>The tab was closed.</p>' });
    });
    await payOnCheckout(page, 'Subscribe');
    await expect(page.getByText('The tab was closed.')).toBeVisible();
    expect(redirectedTo).toContain('/checkout/success?session_id=cs_');
    await page.unroute('**/checkout/cs_*');

    await expect(async () => {
      await open(page, '/account', javaScriptEnabled);
      await expect(page.locator('.plan-name')).toHaveText('Business', { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    await expect(page.locator('dd.status')).toHaveText('Active');
  });

  test('pause the subscription from the account, then resume it', async ({ page, javaScriptEnabled }) => {
    // Business has no trial: paid at once, so active (a trial cannot be paused here).
    await subscribedCustomer(page, 'pause', 'business', 'Business', javaScriptEnabled);
    await open(page, '/account', javaScriptEnabled);
    await page.getByRole('link', { name: 'Pause subscription', exact: true }).click();
    await expect(page.getByText('credited to your first payment when you resume')).toBeVisible();
    await page.getByRole('button', { name: 'Pause subscription', exact: true }).click();
    await expect(page.locator('.notice')).toContainText('Your subscription is paused.');
    await expect(page.locator('dd.status')).toHaveText('Paused');
    await expect(page.getByRole('link', { name: 'Pause subscription', exact: true })).toHaveCount(0);

    await page.getByRole('button', { name: 'Resume subscription', exact: true }).click();
    await expect(page.locator('.notice')).toContainText('The subscription is active again.');
    await expect(page.locator('dd.status')).toHaveText('Active');
  });
});
