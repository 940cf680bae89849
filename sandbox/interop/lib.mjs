// Shared helpers for the interop checks: environment, raw form-encoded Stripe calls, results.
import fs from 'node:fs';
import path from 'node:path';

export const SANDBOX_URL = must('SANDBOX_URL'); // http://127.0.0.1:PORT
export const RECEIVER_URL = must('RECEIVER_URL'); // http://127.0.0.1:PORT
export const KEY = must('STRIPE_TEST_KEY'); // sk_test_…
export const WORK = must('INTEROP_WORK'); // scratch directory of this run

function must(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set (run sandbox/interop/run)`);
    process.exit(2);
  }
  return v;
}

export class CheckError extends Error {}

/** Fails the current check with a message. */
export function fail(msg) {
  throw new CheckError(msg);
}

/** Asserts `cond`, else fails with `msg`. */
export function ok(cond, msg) {
  if (!cond) fail(msg);
}

/** Asserts deep-ish equality of two JSON-able values. */
export function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}

let counts = { pass: 0, fail: 0 };

/** Runs one named check of `part`, records PASS/FAIL in results.tsv and prints it. */
export async function check(part, name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    counts.pass++;
    record(part, 'PASS', name, `${Date.now() - t0} ms`);
    console.log(`  PASS ${name} (${Date.now() - t0} ms)`);
    return true;
  } catch (e) {
    counts.fail++;
    const msg = e instanceof CheckError ? e.message : (e && e.stack) || String(e);
    record(part, 'FAIL', name, msg);
    console.log(`  FAIL ${name}\n       ${msg.replace(/\n/g, '\n       ')}`);
    return false;
  }
}

export function counted() {
  return { ...counts };
}

function record(part, status, name, msg) {
  const clean = (s) => String(s).replace(/[\t\n\r]+/g, ' ').slice(0, 2000);
  fs.appendFileSync(path.join(WORK, 'results.tsv'), `${part}\t${status}\t${clean(name)}\t${clean(msg)}\n`);
}

/** Encodes a nested object the way Stripe's SDKs do (`a[b][0][c]=v`). */
export function form(obj, prefix = '', out = new URLSearchParams()) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}[${k}]` : k;
    if (v === undefined) continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (item !== null && typeof item === 'object') form(item, `${key}[${i}]`, out);
        else out.append(`${key}[]`, String(item));
      });
    } else if (v !== null && typeof v === 'object') {
      form(v, key, out);
    } else {
      out.append(key, v === null ? '' : String(v));
    }
  }
  return out;
}

/** One Stripe API call over plain HTTP; returns {status, body}. */
export async function api(method, p, params = undefined, headers = {}) {
  let url = `${SANDBOX_URL}${p}`;
  const init = { method, headers: { authorization: `Bearer ${KEY}`, ...headers } };
  if (params) {
    const f = form(params);
    if (method === 'GET' || method === 'DELETE') url += `?${f}`;
    else {
      init.body = f.toString();
      init.headers['content-type'] = 'application/x-www-form-urlencoded';
    }
  }
  const r = await fetch(url, init);
  const text = await r.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: r.status, body };
}

/** Like `api` but fails the check unless the status is 2xx; returns the body. */
export async function stripe(method, p, params = undefined, headers = {}) {
  const r = await api(method, p, params, headers);
  if (r.status < 200 || r.status > 299) {
    fail(`${method} ${p} ${params ? form(params) : ''} → ${r.status} ${JSON.stringify(r.body)}`);
  }
  return r.body;
}

/** A control-API call (`/_sandbox/...`, JSON body). */
export async function control(method, p, body = undefined) {
  const r = await fetch(`${SANDBOX_URL}${p}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) fail(`${method} ${p} → ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Waits until the sandbox's delivery queue is idle. */
export async function waitDeliveries(timeoutMs = 10000) {
  const r = await control('POST', '/_sandbox/deliveries/wait', { timeout_ms: timeoutMs, retries: false });
  return r.idle;
}

/** Every delivery the receiver recorded so far (from its file). */
export function receiverDeliveries() {
  const f = path.join(WORK, 'deliveries.jsonl');
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

export function readWork(name) {
  return fs.readFileSync(path.join(WORK, name), 'utf8').trim();
}

export function writeWork(name, text) {
  fs.writeFileSync(path.join(WORK, name), text);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A receiver endpoint for every event at `hookPath`, registered once per run (its id and secret
 * kept in WORK/`name`.id and .secret); returns {id, secret}. */
async function ensureNamedEndpoint(name, hookPath, params) {
  if (!fs.existsSync(path.join(WORK, `${name}.secret`))) {
    const ep = await stripe('POST', '/v1/webhook_endpoints', { url: `${RECEIVER_URL}${hookPath}`, enabled_events: ['*'], ...params });
    writeWork(`${name}.secret`, ep.secret);
    writeWork(`${name}.id`, ep.id);
  }
  return { id: readWork(`${name}.id`), secret: readWork(`${name}.secret`) };
}

/** The receiver's webhook endpoint (registered once per run); returns {id, secret}. */
export const ensureEndpoint = () => ensureNamedEndpoint('endpoint', '/hooks/interop', { description: 'interop receiver' });

/** The receiver's Connect endpoint (`connect=true`, at /hooks/connect: connected accounts'
 * events), registered once per run; returns {id, secret}. */
export const ensureConnectEndpoint = () =>
  ensureNamedEndpoint('connect_endpoint', '/hooks/connect', { connect: 'true', description: 'interop receiver (Connect)' });

/** The signing secret of the endpoint a delivery came through (by the receiver path). */
export function secretFor(delivery) {
  const connect = path.join(WORK, 'connect_endpoint.secret');
  if (delivery.path === '/hooks/connect' && fs.existsSync(connect)) return readWork('connect_endpoint.secret');
  return readWork('endpoint.secret');
}
