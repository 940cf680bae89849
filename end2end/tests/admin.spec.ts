import { type Browser, type Page } from '@playwright/test';
import {
  expect,
  test,
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  expectOnAccount,
  open,
  signUp,
  submitLogIn,
  uniqueEmail,
} from './helpers';

/** A customer, in their own browser context, who pays Business monthly with `card`. */
async function payingCustomer(browser: Browser, card: string, javaScriptEnabled: boolean): Promise<string> {
  const context = await browser.newContext({ javaScriptEnabled });
  const page = await context.newPage();
  const email = uniqueEmail('admin-e2e');
  await signUp(page, email, javaScriptEnabled);
  await open(page, '/pricing', javaScriptEnabled);
  await page.locator('article[data-plan="business"]').getByRole('button', { name: 'Subscribe to Business' }).click();
  await page.getByLabel('Card number').fill(card);
  await page.getByLabel('Expiry').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
  await expect(page).toHaveURL(/\/checkout\/success/);
  await context.close();
  return email;
}

async function asAdmin(page: Page, javaScriptEnabled: boolean): Promise<void> {
  await submitLogIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, javaScriptEnabled);
  await expectOnAccount(page, ADMIN_EMAIL);
}

test.describe('admin', () => {
  test('issues a partial refund after the confirm step and sees it', async ({ page, browser, javaScriptEnabled }) => {
    const email = await payingCustomer(browser, '4242 4242 4242 4242', javaScriptEnabled);
    await asAdmin(page, javaScriptEnabled);
    const refundLink = page.getByRole('link', { name: `Refund $99.00 from ${email}` });
    await expect(async () => {
      await open(page, '/admin/payments', javaScriptEnabled);
      await expect(refundLink).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    await refundLink.click();
    await expect(page.locator('dd.refundable')).toHaveText('$99.00');
    await page.getByLabel('Amount (USD)').fill('10.00');
    await page.getByLabel('Reason').selectOption('requested_by_customer');
    await page.getByRole('button', { name: 'Confirm refund', exact: true }).click();
    await expect(page).toHaveURL(/\/admin\/payments$/);
    await expect(page.locator('.notice')).toHaveText('Refund of $10.00 requested. It is listed below once Stripe confirms it.');
    // The refund row comes with Stripe's webhook.
    await expect(async () => {
      await open(page, '/admin/payments', javaScriptEnabled);
      // This customer's payment now shows what was refunded (other tests share the server).
      const row = page.locator('table.payments tr', { hasText: email });
      await expect(row.locator('td.refunded')).toHaveText('$10.00', { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
  });

  test('sees a dispute from the dispute test card with its deadline', async ({ page, browser, javaScriptEnabled }) => {
    await payingCustomer(browser, '4000 0000 0000 0259', javaScriptEnabled);
    await asAdmin(page, javaScriptEnabled);
    await expect(async () => {
      await open(page, '/admin/disputes', javaScriptEnabled);
      await expect(page.getByRole('cell', { name: 'fraudulent' }).first()).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    const row = page.locator('tr[data-dispute]').first();
    await expect(row.locator('td.days-left')).toHaveText(/^\d+$/);
    await expect(row.getByRole('link', { name: 'Respond in Stripe' })).toHaveAttribute(
      'href',
      /^https:\/\/dashboard\.stripe\.com\/test\/disputes\/du_/,
    );
  });

  test('replays an event from the event log', async ({ page, browser, javaScriptEnabled }) => {
    await payingCustomer(browser, '4242 4242 4242 4242', javaScriptEnabled);
    await asAdmin(page, javaScriptEnabled);
    await open(page, '/admin/events?type=invoice.paid', javaScriptEnabled);
    const replay = page.getByRole('button', { name: 'Replay', exact: true }).first();
    await expect(replay).toBeVisible();
    await replay.click();
    await expect(page.getByText(/is queued for replay\.$/)).toBeVisible();
  });
});
