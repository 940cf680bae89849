// Runs in the `clock` project (it moves the shared sandbox's clock a month on): a renewal whose
// card asks for 3-D Secure every time waits for the customer; the account's banner leads to
// /billing/confirm/:payment_intent, where Stripe.js (the sandbox's stand-in) shows the bank's
// challenge; without JavaScript the page says so and links Stripe's hosted invoice page.
import {
  expect,
  test,
  open,
  sandboxUrl,
  signUp,
  submitLogIn,
  expectOnAccount,
  uniqueEmail,
  PASSWORD,
} from './helpers';

test.describe.configure({ mode: 'serial' });

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'JS on' : 'JS off';
  test(`a renewal the bank wants confirmed is confirmed on the app's page (${mode})`, async ({ browser, request }) => {
    test.setTimeout(120_000);
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    const email = uniqueEmail('threeds');
    await signUp(page, email, javaScriptEnabled);
    await open(page, '/pricing', javaScriptEnabled);
    // Business has no trial: the first invoice is paid on Checkout, the renewal off-session.
    await page.locator('article[data-plan="business"]').getByRole('button', { name: 'Subscribe to Business' }).click();
    // Stripe's card that asks for 3-D Secure on every payment, renewals included.
    await expect(page.getByLabel('Card number')).toBeVisible();
    await page.getByLabel('Card number').fill('4000 0027 6000 3184');
    await page.getByLabel('Expiry').fill('12 / 34');
    await page.getByLabel('CVC').fill('123');
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await page.getByRole('button', { name: 'Complete' }).click();
    await expect(page.locator('.notice')).toHaveText('Your Business plan is active.');

    const advanced = await request.post(`${sandboxUrl()}/_sandbox/clock/advance`, { data: { days: 32 } });
    expect(advanced.ok()).toBe(true);
    // A month on, the log-in is past its absolute lifetime.
    await submitLogIn(page, email, PASSWORD, javaScriptEnabled);
    await expectOnAccount(page, email);

    const confirm = page.getByRole('link', { name: 'Confirm the payment' });
    await expect(async () => {
      await open(page, '/account', javaScriptEnabled);
      await expect(confirm).toHaveAttribute('href', /^\/billing\/confirm\/pi_/, { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    const path = (await confirm.getAttribute('href'))!;
    await open(page, path, javaScriptEnabled);
    await expect(page.getByText('Your bank asks you to confirm this payment.')).toBeVisible();

    if (javaScriptEnabled) {
      await expect(page.getByText('Confirming with your bank here needs JavaScript.')).toBeHidden();
      await page.getByRole('button', { name: 'Authenticate payment' }).click();
      await page.frameLocator('iframe[title="3D Secure authentication"]').getByRole('button', { name: 'Complete' }).click();
      await expect(page.getByText('Payment complete. Thank you.')).toBeVisible({ timeout: 15_000 });
      // The renewal is paid: the banner goes once the webhook has been applied.
      await expect(async () => {
        await open(page, '/account', javaScriptEnabled);
        await expect(page.getByRole('link', { name: 'Confirm the payment' })).toHaveCount(0, { timeout: 1_000 });
      }).toPass({ timeout: 30_000 });
    } else {
      await expect(page.getByRole('button', { name: 'Authenticate payment' })).toBeHidden();
      await expect(page.getByText('Confirming with your bank here needs JavaScript.')).toBeVisible();
      const invoice = page.getByRole('link', { name: 'Confirm it on the invoice page' });
      await expect(invoice).toHaveAttribute('href', new RegExp(`^${sandboxUrl().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    await context.close();
  });
}
