// Runs in the `clock` project, after `js` and `no-js` have finished: it moves the embedded
// sandbox's clock a month on, which would renew every other test's subscriptions under them.
import { type Browser, type Page } from '@playwright/test';
import {
  expect,
  test,
  open,
  subscribedCustomer,
  issuePlatformKey,
  sandboxUrl,
  submitLogIn,
  expectOnAccount,
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  PASSWORD,
} from './helpers';

test.describe.configure({ mode: 'serial' });

/** The admin, signed in, in a browser context of its own. */
async function adminPage(browser: Browser, javaScriptEnabled: boolean): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled });
  const admin = await context.newPage();
  await submitLogIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD, javaScriptEnabled);
  await expectOnAccount(admin, ADMIN_EMAIL);
  return admin;
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'JS on' : 'JS off';
  // The second run starts a month after the first in Stripe's time: `tollgate serve` on the
  // embedded sandbox follows the sandbox's clock, so its usage lands in the new period too.
  test(`hybrid plan: usage through the API, then the renewal invoice bills base fee and overage (${mode})`, async ({
    browser,
    request,
  }) => {
    test.setTimeout(120_000);
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    const email = await subscribedCustomer(page, 'renewal', 'scale', 'Scale', javaScriptEnabled);

    const admin = await adminPage(browser, javaScriptEnabled);
    const key = await issuePlatformKey(admin, `renewal ${email}`, javaScriptEnabled);
    const reported = await request.post('/api/v1/usage', {
      headers: { authorization: `Bearer ${key}` },
      data: { meter: 'api-calls', value: 10_500, identifier: `renewal-${email}`, customer: email },
    });
    expect(reported.status()).toBe(202);

    // The worker has handed the event to Stripe before the period ends.
    await expect(async () => {
      await open(admin, '/admin/usage', javaScriptEnabled);
      await expect(admin.locator('.usage-pending')).toHaveText('0', { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });

    // 10,000 calls are included; 500 over at 1 cent: $5.00 on top of the $49.00 base fee,
    // in Stripe's preview of the next invoice now that Stripe has the event.
    await open(page, '/account', javaScriptEnabled);
    await expect(page.locator('tr[data-meter="api-calls"] .usage-used')).toHaveText('10500');
    await expect(page.locator('tr[data-meter="api-calls"] .usage-overage')).toHaveText('$5.00');
    await expect(page.locator('.usage-projected')).toHaveText('$54.00');

    const advanced = await request.post(`${sandboxUrl()}/_sandbox/clock/advance`, { data: { days: 32 } });
    expect(advanced.ok()).toBe(true);
    // A month passed for Stripe and for the app (it follows the sandbox's clock): both log-ins
    // are past their absolute lifetime, so both log in again.
    await submitLogIn(page, email, PASSWORD, javaScriptEnabled);
    await expectOnAccount(page, email);
    await submitLogIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD, javaScriptEnabled);
    await expectOnAccount(admin, ADMIN_EMAIL);

    // The renewal invoice, paid by the card on file, reaches the account page through webhooks.
    const paid = page.locator('table.invoices tr', { hasText: '$54.00' });
    await expect(async () => {
      await open(page, '/account', javaScriptEnabled);
      await expect(paid.locator('td[data-status]')).toHaveText('paid', { timeout: 1_000 });
    }).toPass({ timeout: 60_000 });

    // The admin sees the payment, the customer's MRR (the base fee: usage is not recurring
    // revenue) and the new-subscription movement in the revenue export.
    await open(admin, '/admin/payments', javaScriptEnabled);
    await expect(admin.locator('tr', { hasText: email }).filter({ hasText: '$54.00' }).first()).toBeVisible();
    await open(admin, '/admin/usage', javaScriptEnabled);
    await admin.getByRole('link', { name: email }).first().click();
    await expect(admin).toHaveURL(/\/admin\/customers\/cus_/);
    const customer = admin.url().split('/admin/customers/')[1];
    await expect(admin.locator('.admin-list')).toContainText('$49.00 MRR');
    await expect(admin.locator('.admin-timeline')).toContainText('$54.00');
    // The subscription started a month ago in the app's time: the last 90 days hold it.
    await open(admin, '/admin?period=90d', javaScriptEnabled);
    const csvHref = await admin.getByRole('link', { name: 'Download movements (CSV)' }).getAttribute('href');
    const csv = await (await admin.request.get(csvHref ?? '')).text();
    const line = csv.split('\n').find((l) => l.includes(customer) && l.includes(',new,'));
    expect(line, `a new-subscription movement for ${customer} in:\n${csv}`).toContain(',0,4900,4900,usd,');
    await admin.context().close();
    await context.close();
  });
}
