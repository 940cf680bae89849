// Part 3b: the sandbox's Stripe.js stand-in ({sandbox}/v3/) loaded in Chromium by a merchant page
// on another origin (the receiver's /shop), running Stripe.js's confirm flows against the
// standalone sandbox with a publishable key, each followed by REST checks (secret key) that the
// objects are as Stripe leaves them.
import { launch, flow as chromiumFlow } from './chromium.mjs';
import { counted, ok, eq, stripe, RECEIVER_URL, SANDBOX_URL } from './lib.mjs';

const PART = 'browser';
const PK = 'pk_test_interop_stripejs';
const EXPIRY = `12 / ${String((new Date().getFullYear() + 3) % 100).padStart(2, '0')}`;
const RETURN = `${RECEIVER_URL}/return?from=stripejs`;

console.log('browser: Stripe.js stand-in (Chromium via Playwright)');
const browser = await launch();
const flow = (name, fn) => chromiumFlow(browser, PART, name, fn);

const customer = await stripe('POST', '/v1/customers', { email: `stripejs-${Date.now()}@example.com` });

/** A PaymentIntent for $20 made by the server. */
const paymentIntent = (extra = {}) => stripe('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', customer: customer.id, ...extra });

/** The merchant page with Stripe(PK) as `window.stripe`; `elements` options → a mounted Payment Element. */
async function shop(page, elementsOptions) {
  await page.goto(`${RECEIVER_URL}/shop?sandbox=${encodeURIComponent(SANDBOX_URL)}`);
  await page.evaluate(
    ({ pk, options }) => {
      window.stripe = Stripe(pk);
      if (options) {
        window.elements = window.stripe.elements(options);
        window.paymentElement = window.elements.create('payment');
        window.ready = new Promise((resolve) => window.paymentElement.on('ready', resolve));
        window.paymentElement.mount('#payment-element');
      }
    },
    { pk: PK, options: elementsOptions || null }
  );
  if (elementsOptions) await page.evaluate(() => window.ready);
}

async function fillCard(page, number, frame = page) {
  await frame.getByLabel('Card number').fill(number);
  await frame.getByLabel('Expiration').fill(EXPIRY);
  await frame.getByLabel('CVC').fill('123');
  await frame.getByLabel('ZIP').fill('94111');
}

/** confirmPayment started in the page (it navigates away on success, so it is not awaited). */
function startConfirmPayment(page, extra = {}) {
  return page.evaluate((extra) => {
    window.confirmation = window.stripe.confirmPayment({ elements: window.elements, confirmParams: { return_url: extra.returnUrl }, ...extra.options });
  }, { returnUrl: RETURN, options: extra });
}

/** The landing page after a redirect: its query parameters. */
async function landed(page) {
  await page.waitForURL((u) => u.href.startsWith(`${RECEIVER_URL}/return`));
  return new URL(page.url()).searchParams;
}

function expectRedirectParams(params, kind, intent, status) {
  eq(params.get('from'), 'stripejs', 'the return_url query kept');
  eq(params.get(kind), intent.id, kind);
  eq(params.get(`${kind}_client_secret`), intent.client_secret, `${kind}_client_secret`);
  eq(params.get('redirect_status'), status, 'redirect_status');
}

await flow('Stripe.js: 4242 confirmPayment → return_url with payment_intent, payment_intent_client_secret, redirect_status=succeeded', async (page) => {
  const pi = await paymentIntent();
  await shop(page, { clientSecret: pi.client_secret });
  await fillCard(page, '4242 4242 4242 4242');
  await startConfirmPayment(page);
  expectRedirectParams(await landed(page), 'payment_intent', pi, 'succeeded');
  const after = await stripe('GET', `/v1/payment_intents/${pi.id}`, { expand: ['payment_method'] });
  eq(after.status, 'succeeded', 'PaymentIntent status');
  eq(after.payment_method.card.last4, '4242', 'the card entered');
  eq(after.payment_method.billing_details.address.postal_code, '94111', 'ZIP sent as billing_details');
});

await flow('Stripe.js: declined card resolves {error} with code, decline_code and message, no redirect', async (page) => {
  const pi = await paymentIntent();
  await shop(page, { clientSecret: pi.client_secret });
  await fillCard(page, '4000 0000 0000 9995');
  const result = await page.evaluate(() => window.stripe.confirmPayment({ elements: window.elements, confirmParams: { return_url: 'http://never.test/' } }));
  eq(
    [result.error?.type, result.error?.code, result.error?.decline_code, result.error?.message],
    ['card_error', 'card_declined', 'insufficient_funds', 'Your card has insufficient funds.'],
    'the error'
  );
  eq(result.error.payment_intent?.status, 'requires_payment_method', 'error.payment_intent.status');
  ok(page.url().startsWith(`${RECEIVER_URL}/shop`), `navigated away: ${page.url()}`);
  const after = await stripe('GET', `/v1/payment_intents/${pi.id}`);
  eq(after.last_payment_error?.decline_code, 'insufficient_funds', 'last_payment_error.decline_code');
});

await flow('Stripe.js: incomplete form → validation_error shown in the Payment Element, nothing sent', async (page) => {
  const pi = await paymentIntent();
  await shop(page, { clientSecret: pi.client_secret });
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  const result = await page.evaluate(() => window.stripe.confirmPayment({ elements: window.elements, confirmParams: { return_url: 'http://never.test/' } }));
  eq([result.error?.type, result.error?.code], ['validation_error', 'incomplete_expiry'], 'the error');
  eq((await page.getByRole('alert').innerText()).trim(), "Your card's expiration date is incomplete.", 'message in the form');
  eq((await stripe('GET', `/v1/payment_intents/${pi.id}`)).status, 'requires_payment_method', 'PaymentIntent untouched');
});

for (const [button, status, redirectStatus] of [
  ['Complete', 'succeeded', 'succeeded'],
  ['Fail', 'requires_payment_method', 'failed'],
]) {
  await flow(`Stripe.js: 3-D Secure card (4000 0027 6000 3184) confirmPayment → challenge → ${button} → redirect_status=${redirectStatus}`, async (page) => {
    const pi = await paymentIntent();
    await shop(page, { clientSecret: pi.client_secret });
    await fillCard(page, '4000 0027 6000 3184');
    await startConfirmPayment(page);
    await page.waitForURL((u) => u.href.startsWith(`${SANDBOX_URL}/3ds/${pi.id}`));
    await page.getByRole('button', { name: button }).click();
    expectRedirectParams(await landed(page), 'payment_intent', pi, redirectStatus);
    const after = await stripe('GET', `/v1/payment_intents/${pi.id}`);
    eq(after.status, status, 'PaymentIntent status');
    if (button === 'Fail') eq(after.last_payment_error?.code, 'payment_intent_authentication_failure', 'last_payment_error.code');
  });
}

await flow('Stripe.js: handleNextAction on a server-confirmed intent needing 3-D Secure → challenge frame → Complete → succeeded', async (page) => {
  const pi = await paymentIntent({ payment_method: 'pm_card_authenticationRequired', confirm: 'true' });
  eq(pi.status, 'requires_action', 'server-side confirm');
  await shop(page);
  const pending = page.evaluate((secret) => window.stripe.handleNextAction({ clientSecret: secret }), pi.client_secret);
  await page.frameLocator('iframe[title="3D Secure authentication"]').getByRole('button', { name: 'Complete' }).click();
  const result = await pending;
  eq(result.paymentIntent?.status, 'succeeded', `handleNextAction result ${JSON.stringify(result)}`);
  ok(result.paymentIntent.customer === undefined, 'a publishable key does not see the customer');
  eq(await page.locator('iframe[title="3D Secure authentication"]').count(), 0, 'challenge frame closed');
  eq((await stripe('GET', `/v1/payment_intents/${pi.id}`)).status, 'succeeded', 'PaymentIntent status');
});

await flow('Stripe.js: confirmCardPayment with the Payment Element, 3-D Secure → Fail → {error: payment_intent_authentication_failure}', async (page) => {
  const pi = await paymentIntent();
  await shop(page, { clientSecret: pi.client_secret });
  await fillCard(page, '4000 0038 0000 0446');
  const pending = page.evaluate((secret) => window.stripe.confirmCardPayment(secret, { payment_method: { card: window.paymentElement } }), pi.client_secret);
  await page.frameLocator('iframe[title="3D Secure authentication"]').getByRole('button', { name: 'Fail' }).click();
  const result = await pending;
  eq(result.error?.code, 'payment_intent_authentication_failure', `confirmCardPayment result ${JSON.stringify(result)}`);
  eq(result.error.payment_intent?.status, 'requires_payment_method', 'error.payment_intent.status');
  const retrieved = await page.evaluate((secret) => window.stripe.retrievePaymentIntent(secret), pi.client_secret);
  eq(retrieved.paymentIntent?.status, 'requires_payment_method', 'retrievePaymentIntent');
});

await flow('Stripe.js: deferred intent (elements mode) — elements.submit() validates, then confirmPayment redirect:if_required resolves {paymentIntent}', async (page) => {
  await shop(page, { mode: 'payment', amount: 2000, currency: 'usd' });
  const empty = await page.evaluate(() => window.elements.submit());
  eq(empty.error?.code, 'incomplete_number', 'submit() of an empty form');
  await fillCard(page, '4242424242424242');
  eq(await page.evaluate(() => window.elements.submit()), { selectedPaymentMethod: 'card' }, 'submit() of a complete form');
  const pi = await paymentIntent();
  const result = await page.evaluate(
    (secret) => window.stripe.confirmPayment({ elements: window.elements, clientSecret: secret, confirmParams: { return_url: 'http://never.test/' }, redirect: 'if_required' }),
    pi.client_secret
  );
  eq(result.paymentIntent?.status, 'succeeded', `confirmPayment result ${JSON.stringify(result)}`);
  ok(page.url().startsWith(`${RECEIVER_URL}/shop`), `navigated away: ${page.url()}`);
});

await flow('Stripe.js: confirmSetup on a SetupIntent → return_url with setup_intent params; the card saved to the customer', async (page) => {
  const seti = await stripe('POST', '/v1/setup_intents', { customer: customer.id });
  await shop(page, { clientSecret: seti.client_secret });
  await fillCard(page, '5555 5555 5555 4444');
  const refused = await page.evaluate(() => window.stripe.confirmSetup({ elements: window.elements, confirmParams: {} }));
  eq(refused.error?.type, 'invalid_request_error', 'confirmSetup without return_url (redirect: always)');
  await page.evaluate((returnUrl) => {
    window.confirmation = window.stripe.confirmSetup({ elements: window.elements, confirmParams: { return_url: returnUrl } });
  }, RETURN);
  expectRedirectParams(await landed(page), 'setup_intent', seti, 'succeeded');
  const after = await stripe('GET', `/v1/setup_intents/${seti.id}`, { expand: ['payment_method'] });
  eq(after.status, 'succeeded', 'SetupIntent status');
  eq([after.payment_method.customer, after.payment_method.card.last4], [customer.id, '4444'], 'the card saved to the customer');
});

await flow('Stripe.js: publishable key on a secret-key endpoint → 401 in Stripe\'s words, readable across origins (CORS)', async (page) => {
  await shop(page);
  const answer = await page.evaluate(
    async ({ base, pk }) => {
      const r = await fetch(`${base}/v1/customers`, { headers: { authorization: `Bearer ${pk}` } });
      return { status: r.status, body: await r.json() };
    },
    { base: SANDBOX_URL, pk: PK }
  );
  eq(answer.status, 401, 'status');
  ok(answer.body.error.message.startsWith('This API call cannot be made with a publishable API key.'), answer.body.error.message);
});

await flow('Stripe.js: embedded Checkout (ui_mode=embedded_page) mounted, paid in its frame → browser at return_url', async (page) => {
  const price = await stripe('POST', '/v1/prices', { currency: 'usd', unit_amount: 2500, product_data: { name: 'Embedded Book' } });
  const session = await stripe('POST', '/v1/checkout/sessions', {
    mode: 'payment',
    ui_mode: 'embedded_page',
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    return_url: `${RECEIVER_URL}/return?from=embedded&session_id={CHECKOUT_SESSION_ID}`,
  });
  eq(session.url, null, 'an embedded session has no url');
  await shop(page);
  await page.evaluate(async (secret) => {
    window.checkout = await window.stripe.initEmbeddedCheckout({ fetchClientSecret: async () => secret });
    window.checkout.mount('#checkout');
  }, session.client_secret);
  const frame = page.frameLocator('iframe[title="Embedded Checkout"]');
  await frame.getByLabel('Card number').fill('4242 4242 4242 4242');
  await frame.getByLabel('Expiry').fill(EXPIRY);
  await frame.getByLabel('CVC').fill('123');
  await frame.getByRole('button', { name: 'Pay' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${RECEIVER_URL}/return?from=embedded`));
  eq(new URL(page.url()).searchParams.get('session_id'), session.id, '{CHECKOUT_SESSION_ID} filled');
  const after = await stripe('GET', `/v1/checkout/sessions/${session.id}`);
  eq([after.status, after.payment_status], ['complete', 'paid'], 'session status');
});

await browser.close();
process.exitCode = counted().fail ? 1 : 0;
