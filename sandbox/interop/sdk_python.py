"""Part 2b: stripe-python against the sandbox.

The REST API through both of stripe-python's styles (the module-level `stripe.api_base` and a
`StripeClient` with `base_addresses`), then every delivery the receiver captured verified with
`stripe.Webhook.construct_event` (and tampered ones rejected).
"""

import base64
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

import stripe

PART = "sdk-python"
SANDBOX_URL = os.environ["SANDBOX_URL"]
KEY = os.environ["STRIPE_TEST_KEY"]
WORK = os.environ["INTEROP_WORK"]
RUN = "py%x" % int(time.time() * 1000)
COUNTS = {"pass": 0, "fail": 0}


class CheckError(Exception):
    pass


def ok(cond, msg):
    if not cond:
        raise CheckError(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise CheckError(f"{what}: expected {expected!r}, got {actual!r}")


def record(status, name, msg):
    clean = lambda s: " ".join(str(s).split())[:2000]
    with open(os.path.join(WORK, "results.tsv"), "a") as f:
        f.write(f"{PART}\t{status}\t{clean(name)}\t{clean(msg)}\n")


def check(name):
    def deco(fn):
        t0 = time.time()
        try:
            fn()
            COUNTS["pass"] += 1
            ms = int((time.time() - t0) * 1000)
            record("PASS", name, f"{ms} ms")
            print(f"  PASS {name} ({ms} ms)", flush=True)
        except Exception as e:  # noqa: BLE001 — every failure is a failed check
            COUNTS["fail"] += 1
            msg = str(e) if isinstance(e, CheckError) else traceback.format_exc()
            record("FAIL", name, msg)
            print(f"  FAIL {name}\n       " + msg.replace("\n", "\n       "), flush=True)
        return fn

    return deco


def control(path, body):
    req = urllib.request.Request(
        SANDBOX_URL + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def deliveries():
    path = os.path.join(WORK, "deliveries.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


print("stripe-python", stripe.VERSION, flush=True)

stripe.api_key = KEY
stripe.api_base = SANDBOX_URL
stripe.max_network_retries = 0
stripe.enable_telemetry = False
client = stripe.StripeClient(KEY, base_addresses={"api": SANDBOX_URL}, max_network_retries=0)
state = {}


@check("stripe.Customer.create / retrieve / modify (module-level api_base)")
def _():
    c = stripe.Customer.create(email=f"{RUN}@example.com", name="Python Interop", metadata={"run": RUN})
    ok(c.id.startswith("cus_"), f"id {c.id}")
    eq(c.object, "customer", "object")
    eq(c.email, f"{RUN}@example.com", "email")
    eq(c.metadata.to_dict(), {"run": RUN}, "metadata")
    eq(c.livemode, False, "livemode")
    eq(stripe.Customer.retrieve(c.id).id, c.id, "retrieve id")
    m = stripe.Customer.modify(c.id, metadata={"plan": "pro"})
    eq(m.metadata.to_dict(), {"run": RUN, "plan": "pro"}, "metadata after modify (merged)")
    state["customer"] = c


@check("StripeClient: products.create + prices.create (recurring, one-time) + prices.list lookup_keys")
def _():
    p = client.v1.products.create(params={"name": f"Python plan {RUN}"})
    ok(p.id.startswith("prod_"), f"product id {p.id}")
    price = client.v1.prices.create(
        params={
            "product": p.id,
            "unit_amount": 1500,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "lookup_key": f"{RUN}_monthly",
        }
    )
    eq(price.type, "recurring", "price.type")
    eq(price.recurring.interval, "month", "recurring.interval")
    one = client.v1.prices.create(params={"product": p.id, "unit_amount": 2500, "currency": "usd"})
    eq(one.type, "one_time", "one-time price.type")
    found = client.v1.prices.list(params={"lookup_keys": [f"{RUN}_monthly"], "expand": ["data.product"]})
    eq([x.id for x in found.data], [price.id], "prices.list lookup_keys")
    eq(found.data[0].product.id, p.id, "expand[]=data.product")
    state["price"] = price


@check("customers list pagination (limit, has_more, starting_after, auto_paging_iter)")
def _():
    email = f"{RUN}-page@example.com"
    ids = [client.v1.customers.create(params={"email": email}).id for _ in range(5)]
    first = client.v1.customers.list(params={"email": email, "limit": 2})
    eq(first.object, "list", "list object")
    eq(first.url, "/v1/customers", "list url")
    eq([c.id for c in first.data], [ids[4], ids[3]], "first page (newest first)")
    eq(first.has_more, True, "has_more")
    second = client.v1.customers.list(params={"email": email, "limit": 2, "starting_after": first.data[-1].id})
    eq([c.id for c in second.data], [ids[2], ids[1]], "second page (starting_after)")
    every = [c.id for c in stripe.Customer.list(email=email, limit=2).auto_paging_iter()]
    eq(every, list(reversed(ids)), "auto_paging_iter")


@check("checkout.Session.create (subscription) + retrieve with expand line_items")
def _():
    s = stripe.checkout.Session.create(
        mode="subscription",
        customer=state["customer"].id,
        line_items=[{"price": state["price"].id, "quantity": 1}],
        success_url="http://127.0.0.1/success?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://127.0.0.1/cancel",
        metadata={"run": RUN},
    )
    ok(s.id.startswith("cs_test_"), f"id {s.id}")
    eq(s.object, "checkout.session", "object")
    eq(s.status, "open", "status")
    eq(s.mode, "subscription", "mode")
    eq(s.amount_total, 1500, "amount_total")
    ok(s.url.startswith(SANDBOX_URL + "/"), f"url {s.url}")
    r = stripe.checkout.Session.retrieve(s.id, expand=["line_items"])
    eq(r.line_items.data[0].price.id, state["price"].id, "expanded line item price")
    items = client.v1.checkout.sessions.line_items.list(s.id)
    eq(len(items.data), 1, "line_items.list count")


@check("errors: InvalidRequestError 404 resource_missing, 400 parameter_missing; AuthenticationError 401")
def _():
    try:
        stripe.Customer.retrieve("cus_doesnotexist")
        raise CheckError("retrieve of a missing customer succeeded")
    except stripe.InvalidRequestError as e:
        eq(e.http_status, 404, "http_status")
        eq(e.code, "resource_missing", "code")
        eq(e.param, "id", "param")
    try:
        stripe.Price.create(unit_amount=100, product="prod_x")
        raise CheckError("price without currency succeeded")
    except stripe.InvalidRequestError as e:
        eq(e.http_status, 400, "http_status")
        eq(e.code, "parameter_missing", "code")
    try:
        stripe.StripeClient("sk_live_nope_0123456789", base_addresses={"api": SANDBOX_URL}).v1.customers.list()
        raise CheckError("a non-test key was accepted")
    except stripe.AuthenticationError as e:
        eq(e.http_status, 401, "http_status")


@check("billing.Meter.create + MeterEvent.create (duplicate refused) + meters.event_summaries.list")
def _():
    event_name = f"{RUN}_calls"
    meter = stripe.billing.Meter.create(
        display_name="Python calls", event_name=event_name, default_aggregation={"formula": "sum"}
    )
    ok(meter.id.startswith("mtr_"), f"meter id {meter.id}")
    eq(meter.object, "billing.meter", "object")
    eq(meter.status, "active", "status")
    # The sandbox clock may run ahead of the wall clock: the meter's `created` is its now.
    start = meter.created // 60 * 60 - 60
    customer = state["customer"].id
    for identifier, value in ((f"{RUN}-ev1", "30"), (f"{RUN}-ev2", "12")):
        ev = client.v1.billing.meter_events.create(
            params={"event_name": event_name, "payload": {"stripe_customer_id": customer, "value": value}, "identifier": identifier}
        )
        eq(ev.object, "billing.meter_event", "meter event object")
        eq(ev.payload["value"], value, "payload value kept as a string")
    try:
        stripe.billing.MeterEvent.create(
            event_name=event_name, payload={"stripe_customer_id": customer, "value": "1"}, identifier=f"{RUN}-ev1"
        )
        raise CheckError("a repeated identifier was accepted")
    except stripe.InvalidRequestError as e:
        eq(e.http_status, 400, "http_status")
    sums = stripe.billing.Meter.list_event_summaries(meter.id, customer=customer, start_time=start, end_time=start + 3600)
    eq(len(sums.data), 1, "one summary for the range")
    eq(sums.data[0].object, "billing.meter_event_summary", "summary object")
    eq(sums.data[0].aggregated_value, 42, "aggregated_value")
    hourly = client.v1.billing.meters.event_summaries.list(
        meter.id, params={"customer": customer, "start_time": start // 3600 * 3600, "end_time": start // 3600 * 3600 + 7200, "value_grouping_window": "hour"}
    )
    eq(len(hourly.data), 2, "one summary per hour")
    eq(sum(s.aggregated_value for s in hourly.data), 42, "hourly values add up")


@check("idempotency_key replays the first response")
def _():
    key = f"{RUN}-idem"
    a = stripe.Customer.create(email=f"{RUN}-idem@example.com", idempotency_key=key)
    b = stripe.Customer.create(email=f"{RUN}-idem@example.com", idempotency_key=key)
    eq(b.id, a.id, "replayed id")
    try:
        stripe.Customer.create(email=f"{RUN}-other@example.com", idempotency_key=key)
        raise CheckError("same key with another body succeeded")
    except stripe.IdempotencyError as e:
        eq(e.http_status, 400, "http_status")


ONBOARDING_FORM = {
    "business_type": "individual", "business_name": "Python Seller", "url": "https://accessible.stripe.com",
    "first_name": "Jenny", "last_name": "Rosen", "email": "jenny@example.com", "phone": "000-000-0000",
    "sms_code": "000-000", "dob": "01/01/1901", "address_line1": "address_full_match", "city": "San Francisco",
    "state": "CA", "postal_code": "94111", "ssn_last_4": "0000", "routing_number": "110000000",
    "account_number": "000123456789", "action": "complete",
}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@check("Connect: Account.create (express) + AccountLink.create + hosted onboarding + destination charge")
def _():
    account = client.v1.accounts.create(params={
        "type": "express",
        "country": "US",
        "email": f"{RUN}-seller@example.com",
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
    })
    ok(account.id.startswith("acct_"), f"account id {account.id}")
    eq([account.details_submitted, account.charges_enabled, account.payouts_enabled], [False, False, False], "new account flags")
    ok("external_account" in account.requirements.currently_due, f"currently_due {account.requirements.currently_due}")
    link = stripe.AccountLink.create(
        account=account.id, type="account_onboarding",
        refresh_url="http://app.test/refresh", return_url="http://app.test/return",
    )
    eq(link.object, "account_link", "account link object")
    eq(link.expires_at - link.created, 300, "account link lifetime")
    opener = urllib.request.build_opener(_NoRedirect)
    body = urllib.parse.urlencode(ONBOARDING_FORM).encode()
    try:
        opener.open(urllib.request.Request(link.url, data=body, method="POST"))
        raise CheckError("onboarding submit did not redirect")
    except urllib.error.HTTPError as e:
        eq(e.code, 303, "onboarding submit status")
        eq(e.headers["location"], "http://app.test/return", "redirect to return_url")
    onboarded = stripe.Account.retrieve(account.id)
    eq([onboarded.details_submitted, onboarded.charges_enabled, onboarded.payouts_enabled], [True, True, True], "onboarded flags")
    eq(onboarded.capabilities["transfers"], "active", "transfers capability after onboarding")
    intent = stripe.PaymentIntent.create(
        amount=10000, currency="usd", payment_method="pm_card_visa", payment_method_types=["card"], confirm=True,
        transfer_data={"destination": account.id}, application_fee_amount=1230,
    )
    eq(intent.status, "succeeded", "payment intent status")
    charge = stripe.Charge.retrieve(intent.latest_charge, expand=["transfer", "application_fee"])
    eq(charge.transfer_data.destination, account.id, "charge.transfer_data.destination")
    eq(charge.transfer.amount, 10000, "transfer amount (the whole charge)")
    eq(charge.application_fee.amount, 1230, "application fee amount")
    eq(charge.application_fee.account, account.id, "application fee account")
    balance = stripe.Balance.retrieve(stripe_account=account.id)
    eq([b.amount for b in balance.pending if b.currency == "usd"], [10000 - 1230], "connected account pending balance")
    refund = stripe.Refund.create(charge=charge.id, reverse_transfer=True, refund_application_fee=True)
    ok(refund.transfer_reversal and refund.transfer_reversal.startswith("trr_"), f"transfer_reversal {refund.transfer_reversal}")
    eq(stripe.ApplicationFee.retrieve(charge.application_fee.id).refunded, True, "fee refunded")


idle = control("/_sandbox/deliveries/wait", {"timeout_ms": 15000, "retries": False}).get("idle")
captured = deliveries()
with open(os.path.join(WORK, "endpoint.secret")) as f:
    SECRET = f.read().strip()
CONNECT_SECRET_FILE = os.path.join(WORK, "connect_endpoint.secret")
CONNECT_SECRET = open(CONNECT_SECRET_FILE).read().strip() if os.path.exists(CONNECT_SECRET_FILE) else None


def secret_for(delivery):
    """The signing secret of the endpoint a delivery came through (Connect ones at /hooks/connect)."""
    return CONNECT_SECRET if delivery.get("path") == "/hooks/connect" and CONNECT_SECRET else SECRET


@check("stripe.Webhook.construct_event verifies every captured delivery")
def _():
    ok(idle, "delivery queue not idle after 15 s")
    ok(captured, "the receiver captured no delivery")
    mine = [
        d
        for d in captured
        if d["type"] == "customer.created"
        and json.loads(base64.b64decode(d["body_b64"]))["data"]["object"]["id"] == state["customer"].id
    ]
    eq(len(mine), 1, "customer.created deliveries of this part's customer")
    for d in captured:
        raw = base64.b64decode(d["body_b64"])
        sig = d["headers"].get("stripe-signature")
        ok(sig, f"delivery {d['seq']} ({d['type']}) has no Stripe-Signature")
        signed_with = secret_for(d)
        for payload in (raw, raw.decode("utf-8")):
            try:
                ev = stripe.Webhook.construct_event(payload, sig, signed_with)
            except stripe.SignatureVerificationError as e:
                raise CheckError(f"delivery {d['seq']} ({d['type']} {d['id']}) rejected: {e}; header {sig}")
            eq(ev.id, d["id"], f"event id of delivery {d['seq']}")
            eq(ev.type, d["type"], f"type of {d['id']}")
            eq(ev.object, "event", f"object of {d['id']}")
        ev = client.construct_event(raw, sig, signed_with)
        eq(ev.id, d["id"], "StripeClient.construct_event id")
    print(f"       ({len(captured)} deliveries, {len({d['type'] for d in captured})} event types)", flush=True)


@check("construct_event rejects a tampered body, a wrong secret and a stale timestamp")
def _():
    ok(captured, "nothing to tamper with")
    d = [x for x in captured if x.get("path") != "/hooks/connect"][-1]
    raw = base64.b64decode(d["body_b64"]).decode("utf-8")
    sig = d["headers"]["stripe-signature"]
    tampered = raw.replace('"livemode":false', '"livemode":true')
    ok(tampered != raw, 'body has no "livemode":false to flip')

    def expect_reject(payload, header, secret, what):
        try:
            stripe.Webhook.construct_event(payload, header, secret)
        except stripe.SignatureVerificationError:
            return
        raise CheckError(f"{what} was accepted")

    expect_reject(tampered, sig, SECRET, "tampered body")
    expect_reject(raw + " ", sig, SECRET, "body with an extra space")
    expect_reject(raw, sig, SECRET + "x", "wrong secret")
    t = int(sig.split("t=")[1].split(",")[0])
    ok(abs(t - time.time()) < 600, f"signature timestamp t={t} is not wall-clock time")
    v1 = stripe.WebhookSignature._compute_signature(f"{t - 3600}.{raw}", SECRET)
    expect_reject(raw, f"t={t - 3600},v1={v1}", SECRET, "timestamp an hour old")


sys.exit(1 if COUNTS["fail"] else 0)
