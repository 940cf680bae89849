import { type Browser, type Page } from '@playwright/test';
import {
  expect,
  test,
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  expectOnAccount,
  open,
  sandboxUrl,
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
  test('sorts the subscriptions by a click on a column header, and filters keep the order', async ({
    page,
    browser,
    javaScriptEnabled,
  }) => {
    await payingCustomer(browser, '4242 4242 4242 4242', javaScriptEnabled);
    await asAdmin(page, javaScriptEnabled);
    await open(page, '/admin/subscriptions', javaScriptEnabled);
    const header = (name: string) => page.getByRole('columnheader', { name, exact: true });
    await expect(header('Created')).toHaveAttribute('aria-sort', 'descending');
    /** The MRR column's figures in page order, in cents. */
    const mrr = async () =>
      (await page.locator('table.subscriptions tbody td.num').allTextContents()).map((text) =>
        Math.round(Number(text.replace(/[^0-9.-]/g, '')) * 100),
      );

    await header('MRR').getByRole('link').click();
    await expect(page).toHaveURL(/sort=mrr&dir=desc/);
    await expect(header('MRR')).toHaveAttribute('aria-sort', 'descending');
    await expect(header('Created')).not.toHaveAttribute('aria-sort', /.*/);
    const largestFirst = await mrr();
    expect(largestFirst.length).toBeGreaterThan(0);
    expect(largestFirst).toEqual([...largestFirst].sort((a, b) => b - a));

    await header('MRR').getByRole('link').click();
    await expect(page).toHaveURL(/sort=mrr&dir=asc/);
    await expect(header('MRR')).toHaveAttribute('aria-sort', 'ascending');
    const smallestFirst = await mrr();
    expect(smallestFirst).toEqual([...smallestFirst].sort((a, b) => a - b));

    // A filter keeps the order (the form carries it).
    await page.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect(page).toHaveURL(/status=active/);
    await expect(page).toHaveURL(/sort=mrr&dir=asc/);
    await expect(header('MRR')).toHaveAttribute('aria-sort', 'ascending');
  });

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

  test('sees a dispute from the dispute test card with its deadline and answers it with prefilled evidence', async ({ page, browser, javaScriptEnabled }) => {
    await payingCustomer(browser, '4000 0000 0000 0259', javaScriptEnabled);
    await asAdmin(page, javaScriptEnabled);
    await expect(async () => {
      await open(page, '/admin/disputes', javaScriptEnabled);
      await expect(page.getByRole('cell', { name: 'fraudulent' }).first()).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    const row = page.locator('tr[data-dispute]').first();
    await expect(row.locator('td.days-left')).toHaveText(/^\d+$/);
    const respond = row.getByRole('link', { name: 'Respond' });
    await expect(respond).toHaveAttribute('href', /^\/admin\/disputes\/du_/);
    const path = (await respond.getAttribute('href'))!;
    await open(page, path, javaScriptEnabled);
    // Prefilled from tollgate's records; Stripe's test-mode evidence that wins.
    await expect(page.getByLabel('Customer email')).toHaveValue(/@/);
    await expect(page.getByLabel('Product description')).toHaveValue(/^Subscription to /);
    await page.getByLabel('Anything else').fill('winning_evidence');
    await page.getByRole('button', { name: 'Submit evidence' }).click();
    await expect(page.getByText('Evidence submitted.')).toBeVisible();
    await expect(async () => {
      await open(page, path, javaScriptEnabled);
      await expect(page.getByText('This dispute is closed (won).')).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    await expect(page.getByRole('link', { name: 'Open in the Stripe dashboard' })).toHaveAttribute(
      'href',
      /^https:\/\/dashboard\.stripe\.com\/test\/disputes\/du_/,
    );
  });

  test('replays a dead-lettered event once the fault is gone, and the replay is audited', async ({
    page,
    browser,
    request,
    javaScriptEnabled,
  }) => {
    // Waits for real retries: 3 attempts 1 s and 2 s apart (scripts/test sets WEBHOOK_MAX_ATTEMPTS
    // and WEBHOOK_RETRY_SECS), each making the Stripe client retry too.
    test.setTimeout(120_000);
    const email = await payingCustomer(browser, '4242 4242 4242 4242', javaScriptEnabled);
    await asAdmin(page, javaScriptEnabled);
    const { customer, subscription } = await subscriptionOf(page, email, javaScriptEnabled);

    // The sandbox answers 500 to every read of this subscription…
    const fault = `/v1/subscriptions/${subscription}`;
    const added = await request.post(`${sandboxUrl()}/_sandbox/faults`, {
      data: { path: fault, method: 'GET', status: 500, times: 10_000 },
    });
    expect(added.ok()).toBe(true);
    const deadRow = page.locator('tr.status-dead', { hasText: subscription });
    try {
      // …then a change to it sends a signed customer.subscription.updated, which the worker
      // cannot apply: it must re-fetch the subscription.
      const updated = await request.post(`${sandboxUrl()}/v1/subscriptions/${subscription}`, {
        headers: { authorization: 'Bearer sk_test_e2e_dead_letter' },
        form: { 'metadata[e2e]': `dead-letter-${Date.now()}` },
      });
      expect(updated.ok()).toBe(true);
      await expect(async () => {
        await open(page, '/admin/events?status=dead', javaScriptEnabled);
        await expect(deadRow).toBeVisible({ timeout: 1_000 });
      }).toPass({ timeout: 90_000 });
      await expect(deadRow.locator('.admin-badge')).toHaveText('dead');
      await expect(deadRow.locator('td.num')).toHaveText('3');
      await expect(deadRow).toContainText(`retrieving subscription ${subscription}`);
    } finally {
      // The fault is gone (only this test's: the other project's runs alongside).
      const cleared = await request.delete(`${sandboxUrl()}/_sandbox/faults?path=${encodeURIComponent(fault)}`);
      expect(cleared.status()).toBe(204);
    }

    const eventId = (await deadRow.locator('code').first().textContent())?.trim() ?? '';
    expect(eventId).toMatch(/^evt_/);
    await deadRow.getByRole('button', { name: 'Replay', exact: true }).click();
    await expect(page.getByText(`Event ${eventId} is queued for replay.`)).toBeVisible();

    const processedRow = page.locator('tr.status-processed', { hasText: eventId });
    await expect(async () => {
      await open(page, '/admin/events?status=processed&type=customer.subscription.updated', javaScriptEnabled);
      await expect(processedRow).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 30_000 });

    // The replay on the customer's timeline: who, from where, before → after.
    await open(page, `/admin/customers/${customer}`, javaScriptEnabled);
    const audit = page.locator('li.timeline-admin-action', { hasText: `webhook_event.replay ${eventId}` });
    await expect(audit).toBeVisible();
    await expect(audit).toContainText(`by ${ADMIN_EMAIL} from 127.0.0.1: dead → pending`);
  });

  test('schedules a downgrade after the confirm step, and the change is audited', async ({
    page,
    browser,
    javaScriptEnabled,
  }) => {
    // Business has no trial, so the customer pays at once (upgrades with a prorated charge are
    // covered by tests/api/admin_plan_change.rs).
    const email = await payingCustomer(browser, '4242 4242 4242 4242', javaScriptEnabled);
    await asAdmin(page, javaScriptEnabled);
    const { customer } = await subscriptionOf(page, email, javaScriptEnabled);
    await open(page, `/admin/customers/${customer}`, javaScriptEnabled);
    await expect(page.locator('.current-plan')).toContainText('Business (monthly) — renews on');
    await page.getByLabel('New plan').selectOption('starter_monthly');
    await page.getByRole('button', { name: 'Change plan', exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/customers/${customer}/plan\\?price=starter_monthly$`));
    await expect(page.locator('dd.to-plan')).toHaveText('Starter (monthly)');
    await expect(page.locator('dd.due-now')).toHaveText('$0.00');
    await expect(page.locator('p.explanation')).toContainText('A downgrade: the customer keeps Business (monthly) until');
    await page.getByRole('button', { name: 'Confirm plan change', exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/customers/${customer}$`));
    await expect(page.locator('.notice')).toHaveText(/^The plan changes to Starter \(monthly\) on \d+ \w+ \d{4}\.$/);
    await expect(page.locator('.current-plan')).toContainText('Business (monthly) — changes to Starter (monthly) on');
    const audit = page.locator('li.timeline-admin-action', { hasText: 'subscription.plan_change' });
    await expect(audit).toContainText(`by ${ADMIN_EMAIL} from 127.0.0.1: Business (monthly)`);
    await expect(audit).toContainText('; then Starter (monthly)');
  });
});

/** The customer's Stripe id and subscription, once the webhooks have stored them. */
async function subscriptionOf(
  page: Page,
  email: string,
  javaScriptEnabled: boolean,
): Promise<{ customer: string; subscription: string }> {
  const row = page.locator('table.subscriptions tr', { hasText: email });
  await expect(async () => {
    await open(page, `/admin/subscriptions?email=${encodeURIComponent(email)}`, javaScriptEnabled);
    await expect(row).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  const href = (await row.getByRole('link', { name: email }).getAttribute('href')) ?? '';
  const subscription = (await row.locator('code').textContent())?.trim() ?? '';
  expect(href).toMatch(/^\/admin\/customers\/cus_/);
  expect(subscription).toMatch(/^sub_/);
  return { customer: href.replace('/admin/customers/', ''), subscription };
}
