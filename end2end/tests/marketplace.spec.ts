import { randomBytes } from 'node:crypto';
import { type Page } from '@playwright/test';
import {
  expect,
  test,
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  expectOnAccount,
  open,
  payOnCheckout,
  signUp,
  submitLogIn,
  uniqueEmail,
  creatorSelling,
  newPage,
} from './helpers';

/** The creator's all-time figure `label` (Sales, Gross, Platform fees, Refunds, Net) in USD. */
function stat(page: Page, label: string) {
  return page.locator('dl.stats[data-currency="USD"]').locator(`dt:text-is("${label}") + dd`);
}

/** Reloads `path` until `check` passes: webhooks are applied in the background. */
async function eventually(page: Page, path: string, javaScriptEnabled: boolean, check: () => Promise<void>): Promise<void> {
  await expect(async () => {
    await open(page, path, javaScriptEnabled);
    await check();
  }).toPass({ timeout: 30_000 });
}

test.describe('marketplace', () => {
  test('a creator sells, a buyer gets it in their library, the admin refunds it in full and the access is gone', async ({
    page,
    browser,
    javaScriptEnabled,
  }) => {
    test.setTimeout(180_000);
    const title = `Guide ${randomBytes(3).toString('hex')}`;
    const content = `The secret of ${title}.`;
    const seller = await creatorSelling(page, title, javaScriptEnabled);

    // Another user finds it in the store and pays with 4242.
    const buyer = await newPage(browser, javaScriptEnabled);
    await signUp(buyer, uniqueEmail('buyer'), javaScriptEnabled);
    await open(buyer, '/store', javaScriptEnabled);
    await buyer.getByRole('link', { name: title, exact: true }).click();
    await buyer.getByRole('button', { name: 'Buy for $25.00', exact: true }).click();
    await payOnCheckout(buyer, 'Pay');
    await expect(buyer).toHaveURL(/\/library\?session_id=cs_/);
    await expect(buyer.locator('.notice')).toHaveText('Thank you: your purchase is in your library.');
    await expect(buyer.locator('.library-item').filter({ hasText: title }).locator('.library-content')).toHaveText(content);

    // The creator's dashboard shows the sale, the platform's fee and what they keep.
    await eventually(page, '/creator', javaScriptEnabled, async () => {
      await expect(stat(page, 'Sales')).toHaveText('1', { timeout: 1_000 });
    });
    await expect(stat(page, 'Gross')).toHaveText('$25.00');
    await expect(stat(page, 'Platform fees')).toHaveText('$2.50');
    await expect(stat(page, 'Net')).toHaveText('$22.50');

    // The admin finds the order and refunds it with the defaults (transfer reversed, fee returned).
    const admin = await newPage(browser, javaScriptEnabled);
    await submitLogIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD, javaScriptEnabled);
    await expectOnAccount(admin, ADMIN_EMAIL);
    // The admin sees the platform's fee on the creator's row.
    await open(admin, '/admin/marketplace', javaScriptEnabled);
    const creatorRow = admin.getByRole('row').filter({ hasText: seller });
    await expect(creatorRow.locator('.fees')).toHaveText('$2.50');
    await open(admin, '/admin/orders', javaScriptEnabled);
    await admin.getByRole('row').filter({ hasText: title }).getByRole('link').first().click();
    await expect(admin.getByRole('heading', { name: /^Order \d+$/ })).toBeVisible();
    await expect(admin.locator('.order-status')).toHaveText('paid');
    await expect(admin.getByLabel(/Take the creator's share back/)).toBeChecked();
    await expect(admin.getByLabel(/Return the platform fee to the creator/)).toBeChecked();
    await expect(admin.getByLabel('Amount (USD)')).toHaveValue('25.00');
    await admin.getByRole('button', { name: 'Refund order', exact: true }).click();
    await expect(admin.getByRole('status').filter({ hasText: 'Refund of $25.00 requested.' })).toBeVisible();
    const orderPath = new URL(admin.url()).pathname;
    await eventually(admin, orderPath, javaScriptEnabled, async () => {
      await expect(admin.locator('.order-status')).toHaveText('refunded', { timeout: 1_000 });
    });
    await expect(admin.locator('.order-refunded')).toHaveText('$25.00');
    await expect(admin.locator('.order-reversed')).toHaveText('$25.00');
    await expect(admin.locator('.order-fee-refunded')).toHaveText('$2.50');
    await expect(admin.locator('.order-access')).toHaveText('None');

    // The buyer's library no longer delivers it; both dashboards show the refund.
    await open(buyer, '/library', javaScriptEnabled);
    await expect(buyer.getByText(content)).toHaveCount(0);
    await open(page, '/creator', javaScriptEnabled);
    await expect(stat(page, 'Refunds')).toHaveText('$25.00');
    await expect(stat(page, 'Platform fees')).toHaveText('$0.00');
    await expect(stat(page, 'Net')).toHaveText('$0.00');
    await open(admin, '/admin/marketplace', javaScriptEnabled);
    await expect(admin.getByRole('row').filter({ hasText: seller }).locator('.fees')).toHaveText(/^(\$0\.00|—)$/);
  });
});
