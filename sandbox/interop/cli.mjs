// Part 1: the real Stripe CLI (`stripe trigger`) against the sandbox, each event reaching a
// registered webhook endpoint (the local receiver).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, counted, ok, eq, fail, stripe, ensureEndpoint, ensureConnectEndpoint, readWork, waitDeliveries, receiverDeliveries, SANDBOX_URL, RECEIVER_URL, KEY, WORK } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PART = 'cli';
export const EVENTS = [
  'customer.created',
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'invoice.paid',
  'invoice.payment_failed',
  'payment_intent.succeeded',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  // Connect: every Connect-related trigger of the CLI (1.52.0). Connected accounts' events
  // (account.*) reach the Connect endpoint.
  'account.updated',
  'account.application.deauthorized',
  'balance.available',
  'payout.created',
  'payout.updated',
  'transfer.created',
  'transfer.reversed',
  'transfer.updated',
];

// The binary @stripe/cli's shim runs on linux-x64 (see `run` for why we install it directly).
const stripeBin = path.join(here, 'node_modules', '@stripe', 'cli-linux-x64', 'bin', 'stripe');
// A throwaway home: no login, no config of the person running this, no keyring.
const cliHome = path.join(WORK, 'stripe-cli-home');
fs.mkdirSync(path.join(cliHome, '.config'), { recursive: true });
const cliEnv = {
  PATH: process.env.PATH,
  HOME: cliHome,
  XDG_CONFIG_HOME: path.join(cliHome, '.config'),
  STRIPE_CLI_TELEMETRY_OPTOUT: '1',
  STRIPE_API_KEY: KEY,
  NO_COLOR: '1',
};

console.log('Stripe CLI fixtures');

await check(PART, 'stripe CLI binary runs (stripe version)', async () => {
  const r = spawnSync(stripeBin, ['version'], { env: cliEnv, encoding: 'utf8', timeout: 30000 });
  ok(r.status === 0, `stripe version exited ${r.status}: ${r.stderr || r.error}`);
  ok(/stripe version \d/.test(r.stdout), `unexpected output: ${r.stdout}`);
});

// The endpoint every check later uses; its secret goes to WORK/endpoint.secret for the SDK checks.
const endpointOk = await check(PART, 'register webhook endpoint (POST /v1/webhook_endpoints, enabled_events[]=*)', async () => {
  ok(!fs.existsSync(path.join(WORK, 'endpoint.secret')), 'an endpoint was registered before this part');
  await ensureEndpoint();
  const ep = await stripe('GET', `/v1/webhook_endpoints/${readWork('endpoint.id')}`);
  ok(ep.object === 'webhook_endpoint', `object is ${ep.object}`);
  ok(/^we_/.test(ep.id), `id ${ep.id} lacks we_ prefix`);
  ok(ep.secret === undefined || ep.secret === null, 'retrieve shows the secret (Stripe shows it only on create)');
  ok(/^whsec_/.test(readWork('endpoint.secret')), `secret ${readWork('endpoint.secret')} is not a whsec_… secret`);
  ok(ep.status === 'enabled', `status ${ep.status}`);
  eq(ep.enabled_events, ['*'], 'enabled_events');
});
if (!endpointOk) fail('no webhook endpoint; cannot go on');

await check(PART, 'register Connect webhook endpoint (connect=true)', async () => {
  const { id } = await ensureConnectEndpoint();
  const ep = await stripe('GET', `/v1/webhook_endpoints/${id}`);
  ok(/^we_/.test(ep.id), `id ${ep.id} lacks we_ prefix`);
  ok(/^whsec_/.test(readWork('connect_endpoint.secret')), 'no whsec_ secret');
});

for (const event of EVENTS) {
  await check(PART, `stripe trigger ${event}`, async () => {
    const before = receiverDeliveries().length;
    const t0 = Date.now();
    const r = spawnSync(stripeBin, ['trigger', event, '--api-base', SANDBOX_URL, '--api-key', KEY], {
      env: cliEnv,
      encoding: 'utf8',
      timeout: 90000,
    });
    const out = `${r.stdout}${r.stderr}`.trim().replace(/Checking for new versions\.\.\.\s*/g, '');
    fs.appendFileSync(path.join(WORK, 'stripe-cli.log'), `== stripe trigger ${event} (exit ${r.status}, ${Date.now() - t0} ms)\n${out}\n`);
    if (r.error) fail(`could not run the CLI: ${r.error}`);
    if (r.status !== 0) {
      let hint = '';
      if (/No such PaymentMethod: 'pm_card_visa'/.test(out) && /invoice_settings\[default_payment_method\]/.test(out)) {
        hint =
          ' — SANDBOX BUG: the fixture creates its customer with POST /v1/customers ' +
          'payment_method=pm_card_visa&invoice_settings[default_payment_method]=pm_card_visa; Stripe resolves the ' +
          'test id in invoice_settings to the payment method the same request attaches, the sandbox answers 400 resource_missing';
      }
      fail(`exit ${r.status}; CLI said: ${out.split('\n').slice(-3).join(' | ')}${hint}`);
    }
    ok(/Trigger succeeded/.test(out), `no "Trigger succeeded" in: ${out}`);
    const idle = await waitDeliveries(15000);
    ok(idle, 'deliveries still in flight after 15 s');
    const fresh = receiverDeliveries().slice(before);
    const hit = fresh.find((d) => d.type === event);
    if (hit && event.startsWith('account.')) {
      eq(hit.path, '/hooks/connect', `${event} endpoint (a connected account's event)`);
      ok(/^acct_/.test(JSON.parse(Buffer.from(hit.body_b64, 'base64')).account), `${event} has no account`);
    }
    if (!hit) {
      const types = [...new Set(fresh.map((d) => d.type))].join(', ') || 'none';
      fail(`the CLI exited 0 but no ${event} reached the receiver; new deliveries: ${types}`);
    }
  });
}

process.exitCode = counted().fail ? 1 : 0;
