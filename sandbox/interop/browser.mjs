// Part 3: hosted Checkout and the Customer Portal used by a person in headless Chromium
// (Playwright driving Debian's /usr/bin/chromium), each flow followed by REST checks that the
// objects are as Stripe leaves them.
import { launch, flow as chromiumFlow } from './chromium.mjs';
import { check, counted, ok, eq, fail, stripe, api, ensureEndpoint, waitDeliveries, receiverDeliveries, sleep, RECEIVER_URL, SANDBOX_URL } from './lib.mjs';

const PART = 'browser';
const run = `br${Date.now().toString(36)}`;
const EXPIRY = `12 / ${String((new Date().getFullYear() + 3) % 100).padStart(2, '0')}`;

console.log('browser (Chromium via Playwright)');
await ensureEndpoint();

const browser = await launch();

/** Runs `fn(page)` in a fresh browser context; a failing flow leaves a screenshot in .work/. */
const flow = (name, fn) => chromiumFlow(browser, PART, name, fn);

async function fillCard(page, number) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry').fill(EXPIRY);
  await page.getByLabel('CVC').fill('123');
}

async function alertText(page) {
  const alert = page.getByRole('alert');
  await alert.waitFor({ state: 'visible' });
  return (await alert.innerText()).trim();
}

/** The success page the browser ended on, and the session id Checkout filled in. */
async function landedOnSuccess(page, session) {
  await page.waitForURL((u) => u.href.startsWith(`${RECEIVER_URL}/success`));
  const u = new URL(page.url());
  eq(u.searchParams.get('session_id'), session.id, 'session_id in success_url ({CHECKOUT_SESSION_ID} filled)');
  ok(await page.getByRole('heading', { name: 'Payment successful' }).isVisible(), 'success page not shown');
}

/** The PaymentIntent that paid an invoice (invoice_payments, as in API versions since 2025-03). */
async function invoicePaymentIntent(invoiceId) {
  const pays = await stripe('GET', '/v1/invoice_payments', { invoice: invoiceId });
  const paid = pays.data.filter((p) => p.status === 'paid');
  eq(paid.length, 1, `paid invoice_payments of ${invoiceId}`);
  eq(paid[0].payment?.type, 'payment_intent', 'invoice_payment.payment.type');
  return stripe('GET', `/v1/payment_intents/${paid[0].payment.payment_intent}`);
}

function deliveredFor(type, pred) {
  return receiverDeliveries().filter((d) => {
    if (d.type !== type) return false;
    const ev = JSON.parse(Buffer.from(d.body_b64, 'base64').toString('utf8'));
    return pred(ev.data.object, ev);
  });
}

async function expectDelivered(type, pred, what) {
  ok(await waitDeliveries(15000), 'deliveries still in flight after 15 s');
  const hits = deliveredFor(type, pred);
  ok(hits.length >= 1, `no ${type} delivery for ${what}`);
  return hits.map((d) => JSON.parse(Buffer.from(d.body_b64, 'base64').toString('utf8')));
}

// ------------------------------------------------------------------ catalogue and customers
const basicProduct = await stripe('POST', '/v1/products', { name: 'Interop Basic' });
const proProduct = await stripe('POST', '/v1/products', { name: 'Interop Pro' });
const bookProduct = await stripe('POST', '/v1/products', { name: 'Interop Book' });
const basic = await stripe('POST', '/v1/prices', { product: basicProduct.id, unit_amount: 900, currency: 'usd', recurring: { interval: 'month' } });
const pro = await stripe('POST', '/v1/prices', { product: proProduct.id, unit_amount: 1500, currency: 'usd', recurring: { interval: 'month' } });
const book = await stripe('POST', '/v1/prices', { product: bookProduct.id, unit_amount: 2500, currency: 'usd' });
const alice = await stripe('POST', '/v1/customers', { email: `${run}-alice@example.com`, name: 'Alice Interop' });
const bob = await stripe('POST', '/v1/customers', { email: `${run}-bob@example.com`, name: 'Bob Interop' });

function sessionParams(extra) {
  return {
    success_url: `${RECEIVER_URL}/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${RECEIVER_URL}/cancel`,
    ...extra,
  };
}

let aliceSub = null;

// ------------------------------------------------------------------ Checkout
await flow('Checkout subscription: 4242 4242 4242 4242 → success_url, subscription active, invoice paid', async (page) => {
  const s = await stripe('POST', '/v1/checkout/sessions', sessionParams({ mode: 'subscription', customer: alice.id, line_items: [{ price: basic.id, quantity: 1 }], client_reference_id: run }));
  await page.goto(s.url);
  ok(await page.getByRole('cell', { name: 'Interop Basic' }).isVisible(), 'order summary lacks "Interop Basic"');
  ok(await page.getByText('$9.00 / month').first().isVisible(), 'order summary lacks "$9.00 / month"');
  eq(await page.getByLabel('Email').count(), 0, 'an Email field although the session has a customer');
  ok(await page.getByRole('link', { name: 'Back' }).isVisible(), 'no Back link');
  await fillCard(page, '4242 4242 4242 4242');
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await landedOnSuccess(page, s);

  const done = await stripe('GET', `/v1/checkout/sessions/${s.id}`, { expand: ['subscription', 'subscription.latest_invoice'] });
  eq(done.status, 'complete', 'session.status');
  eq(done.payment_status, 'paid', 'session.payment_status');
  eq(done.customer, alice.id, 'session.customer');
  const sub = done.subscription;
  ok(sub && typeof sub === 'object' && /^sub_/.test(sub.id), `session.subscription ${JSON.stringify(sub)?.slice(0, 80)}`);
  eq(sub.status, 'active', 'subscription.status');
  eq(sub.customer, alice.id, 'subscription.customer');
  eq(sub.items.data[0].price.id, basic.id, 'subscription price');
  ok(typeof sub.default_payment_method === 'string' && /^pm_/.test(sub.default_payment_method), `subscription.default_payment_method ${sub.default_payment_method} (Checkout sets the card it collected)`);
  const pm = await stripe('GET', `/v1/payment_methods/${sub.default_payment_method}`);
  eq(pm.card?.last4, '4242', 'card last4');
  eq(pm.customer, alice.id, 'payment method attached to the customer');
  eq(sub.latest_invoice?.status, 'paid', 'latest_invoice.status');
  eq(sub.latest_invoice?.amount_paid, 900, 'latest_invoice.amount_paid');
  eq(sub.latest_invoice?.billing_reason, 'subscription_create', 'latest_invoice.billing_reason');
  ok(sub.latest_invoice?.hosted_invoice_url, 'latest_invoice.hosted_invoice_url');
  const pi = await invoicePaymentIntent(sub.latest_invoice.id);
  eq(pi.status, 'succeeded', 'payment_intent.status of the first invoice');
  eq(pi.amount_received, 900, 'payment_intent.amount_received');
  await expectDelivered('checkout.session.completed', (o) => o.id === s.id, s.id);
  await expectDelivered('customer.subscription.created', (o) => o.id === sub.id, sub.id);
  await expectDelivered('invoice.paid', (o) => o.id === sub.latest_invoice.id, sub.latest_invoice.id);
  aliceSub = sub;
});

let declined = null;
await flow('Checkout payment: 4000 0000 0000 0002 declined (role=alert, session open) → then 4242 succeeds', async (page) => {
  const s = await stripe('POST', '/v1/checkout/sessions', sessionParams({ mode: 'payment', line_items: [{ price: book.id, quantity: 1 }] }));
  await page.goto(s.url);
  ok(await page.getByText('$25.00').first().isVisible(), 'order summary lacks "$25.00"');
  await page.getByLabel('Email').fill(`${run}-guest@example.com`);
  await fillCard(page, '4000 0000 0000 9995');
  await page.getByRole('button', { name: 'Pay' }).click();
  eq(await alertText(page), 'Your card has insufficient funds.', 'alert for 4000 0000 0000 9995 (Stripe\'s insufficient_funds message)');
  if ((await page.getByLabel('Email').inputValue()) === '') await page.getByLabel('Email').fill(`${run}-guest@example.com`);
  await fillCard(page, '4000 0000 0000 0002');
  await page.getByRole('button', { name: 'Pay' }).click();
  const msg = await alertText(page);
  eq(msg, 'Your card was declined.', 'alert for 4000 0000 0000 0002 (Stripe\'s generic_decline message)');
  ok(page.url().startsWith(`${SANDBOX_URL}/checkout/${s.id}`), `left the Checkout page: ${page.url()}`);
  const still = await stripe('GET', `/v1/checkout/sessions/${s.id}`);
  eq(still.status, 'open', 'session.status after the decline');
  eq(still.payment_status, 'unpaid', 'session.payment_status after the decline');

  if ((await page.getByLabel('Email').inputValue()) === '') await page.getByLabel('Email').fill(`${run}-guest@example.com`);
  await fillCard(page, '4242 4242 4242 4242');
  await page.getByRole('button', { name: 'Pay' }).click();
  await landedOnSuccess(page, s);

  const done = await stripe('GET', `/v1/checkout/sessions/${s.id}`, { expand: ['payment_intent', 'payment_intent.latest_charge'] });
  eq(done.status, 'complete', 'session.status');
  eq(done.payment_status, 'paid', 'session.payment_status');
  eq(done.amount_total, 2500, 'session.amount_total');
  eq(done.customer_details?.email, `${run}-guest@example.com`, 'session.customer_details.email');
  eq(done.customer, null, 'session.customer (payment mode, customer_creation if_required: a guest, no Customer object)');
  const pi = done.payment_intent;
  ok(pi && typeof pi === 'object' && /^pi_/.test(pi.id), `session.payment_intent ${JSON.stringify(pi)?.slice(0, 80)}`);
  eq(pi.status, 'succeeded', 'payment_intent.status');
  eq(pi.amount, 2500, 'payment_intent.amount');
  eq(pi.amount_received, 2500, 'payment_intent.amount_received');
  eq(pi.latest_charge?.paid, true, 'latest_charge.paid');
  eq(pi.latest_charge?.status, 'succeeded', 'latest_charge.status');
  const pm = await stripe('GET', `/v1/payment_methods/${pi.payment_method}`);
  eq(pm.card?.last4, '4242', 'the charged card');
  await expectDelivered('checkout.session.completed', (o) => o.id === s.id, s.id);
  await expectDelivered('payment_intent.succeeded', (o) => o.id === pi.id, pi.id);
  declined = { session: s, pi };
});

await check(PART, 'Checkout decline recorded as on Stripe (failed charge on the PaymentIntent, charge.failed, payment_intent.payment_failed)', async () => {
  ok(declined, 'the decline flow did not complete');
  // On Stripe the declined attempt is a failed charge on the session's PaymentIntent: the retry
  // succeeds on the same PaymentIntent, which then has two charges, and the decline was announced
  // by charge.failed and payment_intent.payment_failed.
  const { session: s, pi } = declined;
  const charges = await stripe('GET', '/v1/charges', { payment_intent: pi.id });
  const failedCharges = charges.data.filter((c) => c.status === 'failed');
  const failedEvents = deliveredFor('payment_intent.payment_failed', (o) => o.id === pi.id).length + deliveredFor('charge.failed', (o) => o.payment_intent === pi.id).length;
  if (failedCharges.length === 0 || failedEvents === 0) {
    fail(
      `SANDBOX BUG: the declined attempt (POST /checkout/${s.id} card_number=4000 0000 0000 0002 → 402) left no trace: ` +
        `${failedCharges.length} failed charges on ${pi.id} (charges: ${charges.data.map((c) => `${c.id} ${c.status}`).join(', ')}), ` +
        `${failedEvents} charge.failed / payment_intent.payment_failed deliveries. Stripe confirms the session's PaymentIntent on each ` +
        'attempt: the decline is a failed charge (failure_code card_declined) on that PaymentIntent and emits charge.failed and ' +
        'payment_intent.payment_failed, and the successful retry reuses the PaymentIntent',
    );
  }
  eq(failedCharges[0].failure_code, 'card_declined', 'failed charge failure_code');
  eq(failedCharges[0].outcome?.reason ?? 'generic_decline', 'generic_decline', 'failed charge outcome.reason');
});

await flow('Checkout subscription: 4000 0025 0000 3155 → 3-D Secure "Fail" → message → "Complete" → success', async (page) => {
  const s = await stripe('POST', '/v1/checkout/sessions', sessionParams({ mode: 'subscription', customer: bob.id, line_items: [{ price: pro.id, quantity: 1 }] }));
  await page.goto(s.url);
  await fillCard(page, '4000 0025 0000 3155');
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await page.waitForURL((u) => u.pathname === `/checkout/${s.id}/authenticate`);
  ok(await page.getByRole('button', { name: 'Complete' }).isVisible(), 'no "Complete" button on the 3-D Secure page');
  await page.getByRole('button', { name: 'Fail' }).click();
  // The form comes back (402) with the message; the address may stay …/authenticate.
  const msg = await alertText(page);
  ok(page.url().startsWith(`${SANDBOX_URL}/checkout/${s.id}`), `left Checkout after "Fail": ${page.url()}`);
  ok(await page.getByLabel('Card number').isVisible(), 'no card form after "Fail"');
  ok(/unable to authenticate your payment method/i.test(msg), `alert says "${msg}"`);
  eq((await stripe('GET', `/v1/checkout/sessions/${s.id}`)).status, 'open', 'session.status after a failed authentication');

  await fillCard(page, '4000 0025 0000 3155');
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await page.waitForURL((u) => u.pathname === `/checkout/${s.id}/authenticate`);
  await page.getByRole('button', { name: 'Complete' }).click();
  await landedOnSuccess(page, s);

  const done = await stripe('GET', `/v1/checkout/sessions/${s.id}`, { expand: ['subscription.latest_invoice'] });
  eq(done.status, 'complete', 'session.status');
  eq(done.payment_status, 'paid', 'session.payment_status');
  eq(done.subscription?.status, 'active', 'subscription.status');
  eq(done.subscription?.latest_invoice?.status, 'paid', 'latest_invoice.status');
  const pm = await stripe('GET', `/v1/payment_methods/${done.subscription.default_payment_method}`);
  eq(pm.card?.last4, '3155', 'card last4');
  const pi = await invoicePaymentIntent(done.subscription.latest_invoice.id);
  eq(pi.status, 'succeeded', 'payment_intent.status after 3-D Secure');
});

let trialPaymentStatus = null;
await flow('Checkout trial: "Start trial", invalid then valid promotion code → subscription trialing with the discount', async (page) => {
  const coupon = await stripe('POST', '/v1/coupons', { percent_off: 50, duration: 'once', name: 'Half off' });
  const code = `HALF${run.toUpperCase()}`;
  const promo = await stripe('POST', '/v1/promotion_codes', { promotion: { type: 'coupon', coupon: coupon.id }, code });
  const s = await stripe('POST', '/v1/checkout/sessions', sessionParams({ mode: 'subscription', allow_promotion_codes: true, subscription_data: { trial_period_days: 7 }, line_items: [{ price: pro.id, quantity: 1 }] }));
  await page.goto(s.url);
  ok(await page.getByText('$0.00').first().isVisible(), 'a trial should be "$0.00" due today');
  await page.getByLabel('Email').fill(`${run}-trial@example.com`);
  await page.getByLabel('Promotion code').fill('NOPE-NOT-A-CODE');
  await fillCard(page, '4242 4242 4242 4242');
  await page.getByRole('button', { name: 'Start trial' }).click();
  eq(await alertText(page), 'This code is invalid.', 'alert for an unknown promotion code');
  eq((await stripe('GET', `/v1/checkout/sessions/${s.id}`)).status, 'open', 'session.status after an invalid code');
  if ((await page.getByLabel('Email').inputValue()) === '') await page.getByLabel('Email').fill(`${run}-trial@example.com`);
  await page.getByLabel('Promotion code').fill(code);
  await fillCard(page, '4242 4242 4242 4242');
  await page.getByRole('button', { name: 'Start trial' }).click();
  await landedOnSuccess(page, s);

  const done = await stripe('GET', `/v1/checkout/sessions/${s.id}`, { expand: ['subscription', 'customer'] });
  eq(done.status, 'complete', 'session.status');
  trialPaymentStatus = { session: s.id, value: done.payment_status };
  ok(done.customer && /^cus_/.test(done.customer.id), `subscription mode creates a customer: ${JSON.stringify(done.customer)?.slice(0, 60)}`);
  eq(done.customer.email, `${run}-trial@example.com`, 'customer.email from the form');
  const sub = done.subscription;
  eq(sub.status, 'trialing', 'subscription.status');
  ok(Math.abs(sub.trial_end - sub.trial_start - 7 * 86400) < 5, `trial of ${(sub.trial_end - sub.trial_start) / 86400} days`);
  ok(Array.isArray(sub.discounts) && sub.discounts.length === 1, `subscription.discounts ${JSON.stringify(sub.discounts)}`);
  const disc = typeof sub.discounts[0] === 'string' ? null : sub.discounts[0];
  if (disc) eq(disc.promotion_code, promo.id, 'discount.promotion_code');
  const inv = await stripe('GET', `/v1/invoices/${sub.latest_invoice}`);
  eq(inv.amount_due, 0, 'trial invoice amount_due');
  eq(inv.status, 'paid', 'trial invoice status');
  await expectDelivered('customer.subscription.created', (o) => o.id === sub.id && o.status === 'trialing', sub.id);
});

await check(PART, 'Checkout trial session payment_status is no_payment_required (nothing charged today)', async () => {
  ok(trialPaymentStatus, 'the trial flow did not complete');
  if (trialPaymentStatus.value !== 'no_payment_required') {
    fail(
      `SANDBOX BUG: GET /v1/checkout/sessions/${trialPaymentStatus.session} of a completed subscription session with ` +
        `subscription_data[trial_period_days]=7 says payment_status "${trialPaymentStatus.value}"; Stripe says ` +
        '"no_payment_required" when the payment is delayed to a future date (a trial: $0.00 due today)',
    );
  }
});

await flow('Checkout "Back" link goes to cancel_url and leaves the session open', async (page) => {
  const s = await stripe('POST', '/v1/checkout/sessions', sessionParams({ mode: 'payment', customer: bob.id, line_items: [{ price: book.id, quantity: 2 }] }));
  await page.goto(s.url);
  ok(await page.getByText('$50.00').first().isVisible(), 'order summary lacks "$50.00" for quantity 2');
  await page.getByRole('link', { name: 'Back' }).click();
  await page.waitForURL(`${RECEIVER_URL}/cancel`);
  eq((await stripe('GET', `/v1/checkout/sessions/${s.id}`)).status, 'open', 'session.status');
});

// ------------------------------------------------------------------ Customer Portal
await flow('Portal: switch plan, cancel at period end, renew, update card, invoice history, Return', async (page) => {
  ok(aliceSub, 'no subscription from the Checkout flow to manage');
  const config = await stripe('POST', '/v1/billing_portal/configurations', {
    business_profile: { headline: 'Interop Co.' },
    features: {
      customer_update: { enabled: false },
      invoice_history: { enabled: true },
      payment_method_update: { enabled: true },
      subscription_cancel: { enabled: true, mode: 'at_period_end' },
      subscription_update: {
        enabled: true,
        default_allowed_updates: ['price'],
        proration_behavior: 'none',
        products: [
          { product: basicProduct.id, prices: [basic.id] },
          { product: proProduct.id, prices: [pro.id] },
        ],
      },
    },
  });
  ok(/^bpc_/.test(config.id), `configuration id ${config.id}`);
  const ps = await stripe('POST', '/v1/billing_portal/sessions', { customer: alice.id, configuration: config.id, return_url: `${RECEIVER_URL}/return?from=portal` });
  ok(/^bps_/.test(ps.id), `portal session id ${ps.id}`);
  eq(ps.object, 'billing_portal.session', 'portal session object');
  eq(ps.configuration, config.id, 'portal session configuration');
  await page.goto(ps.url);

  // Current plan.
  const plan = page.getByRole('region', { name: 'Current plan' });
  const planName = plan.locator('strong');
  eq(await planName.innerText(), 'Interop Basic — $9.00 / month', 'current plan');
  ok(await plan.getByText(/^Renews /).isVisible(), `no "Renews DATE": ${await plan.innerText()}`);
  const options = await page.getByLabel('Plan', { exact: true }).locator('option').allInnerTexts();
  eq(options.sort(), ['Interop Basic — $9.00 / month', 'Interop Pro — $15.00 / month'], "Plan options (the configuration's products)");

  // Switch plan.
  await page.getByLabel('Plan', { exact: true }).selectOption({ label: 'Interop Pro — $15.00 / month' });
  await page.getByRole('button', { name: 'Update plan' }).click();
  await page.waitForLoadState();
  await planName.filter({ hasText: 'Interop Pro — $15.00 / month' }).waitFor();
  let sub = await stripe('GET', `/v1/subscriptions/${aliceSub.id}`);
  eq(sub.status, 'active', 'subscription.status after switching');
  eq(sub.items.data.length, 1, 'one item after switching');
  eq(sub.items.data[0].price.id, pro.id, 'subscription price after switching');
  await expectDelivered('customer.subscription.updated', (o, ev) => o.id === sub.id && o.items.data[0].price.id === pro.id && ev.data.previous_attributes?.items, 'the plan switch');

  // Cancel at period end.
  await page.getByRole('button', { name: 'Cancel plan' }).click();
  await plan.getByText(/^Cancels /).waitFor();
  sub = await stripe('GET', `/v1/subscriptions/${aliceSub.id}`);
  eq(sub.cancel_at_period_end, true, 'cancel_at_period_end after "Cancel plan"');
  eq(sub.status, 'active', 'status after cancel at period end');
  ok(sub.cancel_at === sub.items.data[0].current_period_end || sub.cancel_at === sub.current_period_end, `cancel_at ${sub.cancel_at} is not the period end`);
  await expectDelivered('customer.subscription.updated', (o, ev) => o.id === sub.id && o.cancel_at_period_end === true && ev.data.previous_attributes?.cancel_at_period_end === false, 'the cancellation');
  ok(await page.getByRole('button', { name: 'Renew plan' }).isVisible(), 'no "Renew plan" button on a canceling plan');

  // Renew.
  await page.getByRole('button', { name: 'Renew plan' }).click();
  await plan.getByText(/^Renews /).waitFor();
  sub = await stripe('GET', `/v1/subscriptions/${aliceSub.id}`);
  eq(sub.cancel_at_period_end, false, 'cancel_at_period_end after "Renew plan"');
  eq(sub.cancel_at, null, 'cancel_at after "Renew plan"');

  // Update the card.
  const pmSection = page.getByRole('region', { name: 'Payment method' });
  await pmSection.getByLabel('Card number').fill('5555 5555 5555 4444');
  await pmSection.getByLabel('Expiry').fill(EXPIRY);
  await pmSection.getByLabel('CVC').fill('123');
  await pmSection.getByRole('button', { name: 'Update payment method' }).click();
  await page.waitForLoadState();
  await pmSection.getByText(/4444/).waitFor();
  const cus = await stripe('GET', `/v1/customers/${alice.id}`, { expand: ['invoice_settings.default_payment_method'] });
  eq(cus.invoice_settings.default_payment_method?.card?.last4, '4444', 'customer default payment method after the update');
  sub = await stripe('GET', `/v1/subscriptions/${aliceSub.id}`);
  const effective = sub.default_payment_method || cus.invoice_settings.default_payment_method.id;
  const effPm = await stripe('GET', `/v1/payment_methods/${effective}`);
  eq(effPm.card?.last4, '4444', 'card the subscription will charge next (subscription.default_payment_method, else the customer default)');

  // Invoice history.
  const invoices = page.getByRole('region', { name: 'Invoice history' });
  const links = invoices.getByRole('link', { name: 'View invoice' });
  const apiInvoices = await stripe('GET', '/v1/invoices', { customer: alice.id, limit: 100 });
  ok(apiInvoices.data.length >= 1, 'the API lists no invoice for the customer');
  eq(await links.count(), apiInvoices.data.filter((i) => i.status !== 'draft').length, 'invoice history rows vs non-draft invoices of the customer');
  ok(await invoices.getByText('$9.00').first().isVisible(), 'invoice history lacks the $9.00 first invoice');
  const href = await links.first().getAttribute('href');
  const first = apiInvoices.data.find((i) => i.id === aliceSub.latest_invoice.id);
  ok(first, `first invoice ${aliceSub.latest_invoice.id} not listed`);
  const invPage = await page.context().newPage();
  const resp = await invPage.goto(first.hosted_invoice_url);
  eq(resp.status(), 200, 'hosted invoice page status');
  ok(/paid/i.test(await invPage.locator('body').innerText()), 'hosted invoice page does not say paid');
  await invPage.close();
  const pdf = await fetch(first.invoice_pdf);
  eq(pdf.status, 200, 'invoice_pdf status');
  ok((pdf.headers.get('content-type') || '').startsWith('application/pdf'), `invoice_pdf content-type ${pdf.headers.get('content-type')}`);
  ok(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString() === '%PDF-', 'invoice_pdf is not a PDF');
  ok(href && /\/invoice\/in_/.test(href), `View invoice link ${href}`);

  // Return.
  await page.getByRole('link', { name: 'Return' }).click();
  await page.waitForURL(`${RECEIVER_URL}/return?from=portal`);
  ok(await page.getByRole('heading', { name: 'Back at the app' }).isVisible(), 'return page not shown');
});

await flow('Connect onboarding: wrong SMS code (role=alert), "Agree and submit" → return_url; used link → refresh_url; Express Dashboard', async (page) => {
  const account = await stripe('POST', '/v1/accounts', {
    type: 'express',
    email: `${run}-seller@example.com`,
    'capabilities[card_payments][requested]': 'true',
    'capabilities[transfers][requested]': 'true',
  });
  const link = await stripe('POST', '/v1/account_links', {
    account: account.id,
    type: 'account_onboarding',
    refresh_url: `${RECEIVER_URL}/cancel?from=onboarding`,
    return_url: `${RECEIVER_URL}/return?from=onboarding`,
  });
  await page.goto(link.url);
  ok(await page.getByRole('heading', { name: /Set up payouts/ }).isVisible(), 'onboarding heading');
  eq(await page.getByLabel('Routing number').inputValue(), '110000000', 'test routing number filled in');
  await page.getByLabel('SMS code').fill('123-456');
  await page.getByRole('button', { name: 'Agree and submit' }).click();
  ok((await alertText(page)).includes('000-000'), 'SMS code message');
  await page.getByLabel('SMS code').fill('000-000');
  await page.getByLabel('Account number').fill('000111111116');
  await page.getByRole('button', { name: 'Agree and submit' }).click();
  await page.waitForURL(`${RECEIVER_URL}/return?from=onboarding`);
  const onboarded = await stripe('GET', `/v1/accounts/${account.id}`);
  eq([onboarded.details_submitted, onboarded.charges_enabled, onboarded.payouts_enabled], [true, true, true], 'onboarded flags');
  eq(onboarded.external_accounts.data[0]?.last4, '1116', 'the failing test bank account');
  await page.goto(link.url);
  await page.waitForURL(`${RECEIVER_URL}/cancel?from=onboarding`);
  const login = await stripe('POST', `/v1/accounts/${account.id}/login_links`);
  await page.goto(login.url);
  ok(await page.getByRole('heading', { name: 'Express Dashboard' }).isVisible(), 'dashboard heading');
  ok(await page.getByRole('table', { name: 'Balance' }).isVisible(), 'balance table');
  ok(await page.getByRole('table', { name: 'Recent payouts' }).isVisible(), 'payouts table');
});

await browser.close();
process.exitCode = counted().fail ? 1 : 0;
