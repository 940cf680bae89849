// Part 2a: stripe-node against the sandbox — the REST API through the SDK, then every delivery the
// receiver captured verified with stripe.webhooks.constructEvent (and tampered ones rejected).
import Stripe from 'stripe';
import { check, counted, ok, eq, fail, ensureEndpoint, waitDeliveries, receiverDeliveries, secretFor, SANDBOX_URL, KEY } from './lib.mjs';

const PART = 'sdk-node';
const base = new URL(SANDBOX_URL);
const sdk = new Stripe(KEY, {
  host: base.hostname,
  port: Number(base.port),
  protocol: 'http',
  maxNetworkRetries: 0,
  telemetry: false,
  timeout: 20000,
});
const run = `node${Date.now().toString(36)}`;

console.log('stripe-node');
const { secret } = await ensureEndpoint();

let customer;
let recurring;
let oneTime;

await check(PART, 'customers.create / retrieve / update', async () => {
  customer = await sdk.customers.create({ email: `${run}@example.com`, name: 'Node Interop', metadata: { run } });
  ok(/^cus_/.test(customer.id), `id ${customer.id}`);
  eq(customer.object, 'customer', 'object');
  eq(customer.email, `${run}@example.com`, 'email');
  eq(customer.metadata, { run }, 'metadata');
  eq(customer.livemode, false, 'livemode');
  ok(Number.isInteger(customer.created), `created ${customer.created}`);
  const again = await sdk.customers.retrieve(customer.id);
  eq(again.id, customer.id, 'retrieve id');
  const upd = await sdk.customers.update(customer.id, { metadata: { plan: 'pro' } });
  eq(upd.metadata, { run, plan: 'pro' }, 'metadata after update (merged)');
  ok(typeof customer.lastResponse?.requestId === 'string' && /^req_/.test(customer.lastResponse.requestId), `Request-Id header: ${customer.lastResponse?.requestId}`);
});

await check(PART, 'products.create + prices.create (recurring, one-time) + prices.list lookup_keys', async () => {
  const product = await sdk.products.create({ name: `Node plan ${run}` });
  ok(/^prod_/.test(product.id), `product id ${product.id}`);
  eq(product.active, true, 'product.active');
  recurring = await sdk.prices.create({
    product: product.id,
    unit_amount: 1500,
    currency: 'usd',
    recurring: { interval: 'month' },
    lookup_key: `${run}_monthly`,
  });
  ok(/^price_/.test(recurring.id), `price id ${recurring.id}`);
  eq(recurring.type, 'recurring', 'price.type');
  eq(recurring.recurring?.interval, 'month', 'recurring.interval');
  eq(recurring.recurring?.interval_count, 1, 'recurring.interval_count');
  eq(recurring.unit_amount, 1500, 'unit_amount');
  eq(recurring.product, product.id, 'price.product');
  oneTime = await sdk.prices.create({ product: product.id, unit_amount: 2500, currency: 'usd' });
  eq(oneTime.type, 'one_time', 'one-time price.type');
  eq(oneTime.recurring, null, 'one-time price.recurring');
  const found = await sdk.prices.list({ lookup_keys: [`${run}_monthly`], expand: ['data.product'] });
  eq(found.data.map((p) => p.id), [recurring.id], 'prices.list lookup_keys');
  eq(found.data[0].product?.id, product.id, 'expand[]=data.product');
});

await check(PART, 'customers.list pagination (limit, has_more, starting_after, auto-pagination)', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await sdk.customers.create({ email: `${run}-page@example.com` })).id);
  const first = await sdk.customers.list({ email: `${run}-page@example.com`, limit: 2 });
  eq(first.object, 'list', 'list object');
  eq(first.url, '/v1/customers', 'list url');
  eq(first.data.length, 2, 'first page size');
  eq(first.has_more, true, 'first page has_more');
  // Stripe lists newest first.
  eq(first.data.map((c) => c.id), [ids[4], ids[3]], 'first page order (newest first)');
  const second = await sdk.customers.list({ email: `${run}-page@example.com`, limit: 2, starting_after: first.data[1].id });
  eq(second.data.map((c) => c.id), [ids[2], ids[1]], 'second page (starting_after)');
  const back = await sdk.customers.list({ email: `${run}-page@example.com`, limit: 2, ending_before: second.data[0].id });
  eq(back.data.map((c) => c.id), [ids[4], ids[3]], 'ending_before page');
  const all = await sdk.customers.list({ email: `${run}-page@example.com`, limit: 2 }).autoPagingToArray({ limit: 100 });
  eq(all.map((c) => c.id), [...ids].reverse(), 'autoPagingToArray');
});

await check(PART, 'checkout.sessions.create (subscription) + retrieve with expand line_items + listLineItems', async () => {
  const s = await sdk.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    line_items: [{ price: recurring.id, quantity: 2 }],
    success_url: 'http://127.0.0.1/success?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://127.0.0.1/cancel',
    client_reference_id: run,
    metadata: { run },
  });
  ok(/^cs_test_/.test(s.id), `id ${s.id}`);
  eq(s.object, 'checkout.session', 'object');
  eq(s.status, 'open', 'status');
  eq(s.payment_status, 'unpaid', 'payment_status');
  eq(s.mode, 'subscription', 'mode');
  eq(s.customer, customer.id, 'customer');
  eq(s.client_reference_id, run, 'client_reference_id');
  eq(s.amount_total, 3000, 'amount_total');
  ok(typeof s.url === 'string' && s.url.startsWith(`${SANDBOX_URL}/`), `url ${s.url} is not a sandbox page`);
  const page = await fetch(s.url);
  eq(page.status, 200, `GET ${s.url} status`);
  const r = await sdk.checkout.sessions.retrieve(s.id, { expand: ['line_items'] });
  eq(r.line_items?.object, 'list', 'expanded line_items object');
  eq(r.line_items?.data?.[0]?.price?.id, recurring.id, 'line item price');
  eq(r.line_items?.data?.[0]?.quantity, 2, 'line item quantity');
  const li = await sdk.checkout.sessions.listLineItems(s.id);
  eq(li.data.length, 1, 'listLineItems count');
  const exp = await sdk.checkout.sessions.expire(s.id);
  eq(exp.status, 'expired', 'status after expire');
});

await check(PART, 'errors: 404 resource_missing, 400 parameter_missing, 401 bad key', async () => {
  try {
    await sdk.customers.retrieve('cus_doesnotexist');
    fail('retrieve of a missing customer succeeded');
  } catch (e) {
    ok(e instanceof Stripe.errors.StripeInvalidRequestError, `error class ${e.constructor.name}: ${e.message}`);
    eq(e.statusCode, 404, 'statusCode');
    eq(e.code, 'resource_missing', 'code');
    eq(e.param, 'id', 'param');
  }
  try {
    await sdk.prices.create({ unit_amount: 100, product: 'prod_x' });
    fail('price without currency succeeded');
  } catch (e) {
    ok(e instanceof Stripe.errors.StripeInvalidRequestError, `error class ${e.constructor.name}: ${e.message}`);
    eq(e.statusCode, 400, 'statusCode');
    eq(e.code, 'parameter_missing', 'code');
    eq(e.param, 'currency', 'param');
  }
  const bad = new Stripe('sk_live_nope_0123456789', { host: base.hostname, port: Number(base.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
  try {
    await bad.customers.list();
    fail('a non-test key was accepted');
  } catch (e) {
    ok(e instanceof Stripe.errors.StripeAuthenticationError, `error class ${e.constructor.name}: ${e.message}`);
    eq(e.statusCode, 401, 'statusCode');
  }
});

await check(PART, 'billing.meters.create + meterEvents.create (duplicate refused) + meters.listEventSummaries', async () => {
  const eventName = `${run}_calls`;
  const meter = await sdk.billing.meters.create({ display_name: 'Node calls', event_name: eventName, default_aggregation: { formula: 'sum' } });
  ok(/^mtr_/.test(meter.id), `meter id ${meter.id}`);
  eq(meter.object, 'billing.meter', 'object');
  eq(meter.status, 'active', 'status');
  eq(meter.customer_mapping, { event_payload_key: 'stripe_customer_id', type: 'by_id' }, 'customer_mapping');
  // The sandbox clock may run ahead of the wall clock: the meter's `created` is its now.
  const from = Math.floor(meter.created / 60) * 60 - 60;
  for (const [identifier, value] of [[`${run}-ev1`, '25'], [`${run}-ev2`, '17']]) {
    const ev = await sdk.billing.meterEvents.create({ event_name: eventName, payload: { stripe_customer_id: customer.id, value }, identifier });
    eq(ev.object, 'billing.meter_event', 'meter event object');
    eq(ev.payload.value, value, 'payload value kept as a string');
    eq(ev.identifier, identifier, 'identifier');
  }
  try {
    await sdk.billing.meterEvents.create({ event_name: eventName, payload: { stripe_customer_id: customer.id, value: '1' }, identifier: `${run}-ev1` });
    fail('a repeated identifier was accepted');
  } catch (e) {
    ok(e instanceof Stripe.errors.StripeInvalidRequestError, `error class ${e.constructor.name}: ${e.message}`);
    eq(e.statusCode, 400, 'statusCode');
  }
  const sums = await sdk.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: from, end_time: from + 3600 });
  eq(sums.data.length, 1, 'one summary for the range');
  eq(sums.data[0].object, 'billing.meter_event_summary', 'summary object');
  eq(sums.data[0].aggregated_value, 42, 'aggregated_value');
  eq([sums.data[0].start_time, sums.data[0].end_time], [from, from + 3600], 'summary range');
});

await check(PART, 'idempotencyKey replays the first response', async () => {
  const key = `${run}-idem`;
  const a = await sdk.customers.create({ email: `${run}-idem@example.com` }, { idempotencyKey: key });
  const b = await sdk.customers.create({ email: `${run}-idem@example.com` }, { idempotencyKey: key });
  eq(b.id, a.id, 'replayed id');
  try {
    await sdk.customers.create({ email: `${run}-other@example.com` }, { idempotencyKey: key });
    fail('same key with another body succeeded');
  } catch (e) {
    ok(e instanceof Stripe.errors.StripeIdempotencyError || e.type === 'StripeIdempotencyError', `error class ${e.constructor.name} (${e.type}): ${e.message}`);
    eq(e.statusCode, 400, 'statusCode');
  }
});

// ------------------------------------------------------------------ Connect
/** The hosted onboarding form as Stripe's test values fill it, submitted with `action`. */
const onboardingForm = (action) =>
  new URLSearchParams({
    business_type: 'individual', business_name: 'Node Seller', url: 'https://accessible.stripe.com',
    first_name: 'Jenny', last_name: 'Rosen', email: 'jenny@example.com', phone: '000-000-0000',
    sms_code: '000-000', dob: '01/01/1901', address_line1: 'address_full_match', city: 'San Francisco',
    state: 'CA', postal_code: '94111', ssn_last_4: '0000', routing_number: '110000000',
    account_number: '000123456789', action,
  });

await check(PART, 'Connect: accounts.create (express) + accountLinks.create + hosted onboarding + destination charge', async () => {
  const account = await sdk.accounts.create({
    type: 'express',
    country: 'US',
    email: `${run}-seller@example.com`,
    capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
  });
  ok(/^acct_/.test(account.id), `account id ${account.id}`);
  eq([account.details_submitted, account.charges_enabled, account.payouts_enabled], [false, false, false], 'new account flags');
  eq(account.capabilities?.transfers, 'inactive', 'transfers capability of a new account');
  ok(account.requirements?.currently_due?.includes('external_account'), `currently_due ${account.requirements?.currently_due}`);
  const link = await sdk.accountLinks.create({
    account: account.id,
    type: 'account_onboarding',
    refresh_url: 'http://app.test/refresh',
    return_url: 'http://app.test/return',
  });
  eq(link.object, 'account_link', 'account link object');
  eq(link.expires_at - link.created, 300, 'account link lifetime');
  const page = await fetch(link.url);
  eq(page.status, 200, 'onboarding page status');
  const done = await fetch(link.url, { method: 'POST', body: onboardingForm('complete'), redirect: 'manual' });
  eq(done.status, 303, 'onboarding submit status');
  eq(done.headers.get('location'), 'http://app.test/return', 'redirect to return_url');
  const onboarded = await sdk.accounts.retrieve(account.id);
  eq([onboarded.details_submitted, onboarded.charges_enabled, onboarded.payouts_enabled], [true, true, true], 'onboarded flags');
  eq(onboarded.capabilities?.transfers, 'active', 'transfers capability after onboarding');
  const intent = await sdk.paymentIntents.create({
    amount: 10000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    payment_method_types: ['card'],
    confirm: true,
    transfer_data: { destination: account.id },
    application_fee_amount: 1230,
  });
  eq(intent.status, 'succeeded', 'payment intent status');
  const charge = await sdk.charges.retrieve(intent.latest_charge, { expand: ['transfer', 'application_fee'] });
  eq(charge.transfer_data?.destination, account.id, 'charge.transfer_data.destination');
  eq(charge.transfer?.amount, 10000, 'transfer amount (the whole charge)');
  eq(charge.transfer?.destination, account.id, 'transfer destination');
  eq(charge.application_fee?.amount, 1230, 'application fee amount');
  eq(charge.application_fee?.account, account.id, 'application fee account');
  const balance = await sdk.balance.retrieve({}, { stripeAccount: account.id });
  eq(balance.pending.find((b) => b.currency === 'usd')?.amount, 10000 - 1230, 'connected account pending balance');
  const payments = await sdk.balanceTransactions.list({ type: 'payment' }, { stripeAccount: account.id });
  eq(payments.data.length, 1, 'payment balance transactions of the connected account');
});

// ------------------------------------------------------------------ signatures
const idle = await waitDeliveries(15000);
const deliveries = receiverDeliveries();

await check(PART, 'deliveries captured (customer.created from this part among them)', async () => {
  ok(idle, 'delivery queue not idle after 15 s');
  ok(deliveries.length > 0, 'the receiver captured no delivery');
  const mine = deliveries.filter((d) => d.type === 'customer.created' && JSON.parse(Buffer.from(d.body_b64, 'base64')).data.object.id === customer.id);
  eq(mine.length, 1, `customer.created deliveries for ${customer.id}`);
});

await check(PART, `stripe.webhooks.constructEvent verifies every captured delivery`, async () => {
  ok(deliveries.length > 0, 'nothing to verify');
  for (const d of deliveries) {
    const raw = Buffer.from(d.body_b64, 'base64');
    const sig = d.headers['stripe-signature'];
    ok(sig, `delivery ${d.seq} (${d.type}) has no Stripe-Signature header`);
    let ev;
    const signedWith = secretFor(d);
    try {
      ev = sdk.webhooks.constructEvent(raw, sig, signedWith);
    } catch (e) {
      fail(`delivery ${d.seq} (${d.type} ${d.id}) rejected: ${e.message}; header ${sig}`);
    }
    eq(ev.id, d.id, `event id of delivery ${d.seq}`);
    eq(ev.object, 'event', `object of ${d.id}`);
    ok(/^evt_/.test(ev.id), `event id ${ev.id}`);
    eq(ev.livemode, false, `livemode of ${d.id}`);
    ok(ev.data && typeof ev.data.object === 'object', `${d.id} has no data.object`);
    ok(typeof ev.api_version === 'string', `${d.id} api_version ${ev.api_version}`);
    eq(d.headers['content-type'], 'application/json; charset=utf-8', `${d.id} Content-Type`);
    eq(d.headers['user-agent'], 'Stripe/1.0 (+https://stripe.com/docs/webhooks)', `${d.id} User-Agent`);
    ok(/^t=\d+,v1=[0-9a-f]{64}$/.test(sig), `${d.id} Stripe-Signature format: ${sig}`);
    // Same check through the async variant.
    const ev2 = await sdk.webhooks.constructEventAsync(raw, sig, signedWith);
    eq(ev2.id, d.id, 'constructEventAsync id');
  }
  console.log(`       (${deliveries.length} deliveries, ${new Set(deliveries.map((d) => d.type)).size} event types)`);
});

await check(PART, 'constructEvent rejects a tampered body, a wrong secret and a stale timestamp', async () => {
  const d = deliveries.filter((x) => x.path !== '/hooks/connect').pop();
  ok(d, 'nothing to tamper with');
  const raw = Buffer.from(d.body_b64, 'base64').toString('utf8');
  const sig = d.headers['stripe-signature'];
  const tampered = raw.replace('"livemode":false', '"livemode":true');
  ok(tampered !== raw, 'body has no "livemode":false to flip');
  const expectReject = (payload, header, sec, what) => {
    try {
      sdk.webhooks.constructEvent(payload, header, sec);
    } catch (e) {
      ok(e instanceof Stripe.errors.StripeSignatureVerificationError, `${what}: error class ${e.constructor.name}`);
      return;
    }
    fail(`${what} was accepted`);
  };
  expectReject(tampered, sig, secret, 'tampered body');
  expectReject(raw + ' ', sig, secret, 'body with an extra space');
  expectReject(raw, sig, `${secret}x`, 'wrong secret');
  const t = Number(/t=(\d+)/.exec(sig)?.[1]);
  ok(Math.abs(t - Date.now() / 1000) < 600, `signature timestamp t=${t} is not wall-clock time`);
  const stale = sdk.webhooks.generateTestHeaderString({ payload: raw, secret, timestamp: t - 3600 });
  expectReject(raw, stale, secret, 'timestamp an hour old');
});

process.exitCode = counted().fail ? 1 : 0;
