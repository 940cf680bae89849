//! The chaos script, shared by the chaos tests and the chaos bench (`benches/chaos.rs`):
//! customers living a scripted life (subscribe, upgrade, downgrade, cancel, resume, fail,
//! refund, and one in ten buys a one-time item through Checkout, half of those refunded in
//! full) while the sandbox duplicates, reorders and concurrently delivers webhooks; then the
//! app's tables compared with the sandbox's truth ([`compare_with_sandbox`]).

use std::collections::HashMap;
use std::ops::Range;

use serde_json::{json, Value};

use crate::helpers::{insert_user, move_sandbox_clock_by, Api, Lcg};

/// One customer's life. Each step waits for Stripe's answer; webhooks arrive however chaos
/// delivers them. `i` numbers the customer (its email, its card, whether it buys once).
pub async fn live(api: &Api, prices: &HashMap<String, String>, i: usize, seed: u64, buyer: Option<i64>) {
    let mut rng = Lcg(seed ^ (i as u64) << 8);
    let keys = ["starter_monthly", "pro_monthly", "business_monthly", "starter_yearly", "pro_yearly"];
    // Every eighth customer's card attaches but declines every charge.
    let card = if i % 8 == 7 { "pm_card_chargeCustomerFail" } else { "pm_card_visa" };
    let customer = api.customer_paying_with(&format!("chaos{i}@example.com"), card).await;
    let first = keys[rng.next(3)];
    let sub = api
        .post(
            "/v1/subscriptions",
            &[
                ("customer", customer.clone()),
                ("items[0][price]", prices[first].clone()),
                ("payment_behavior", "allow_incomplete".into()),
            ],
        )
        .await;
    let sub_id = sub["id"].as_str().unwrap().to_string();
    let item = sub["items"]["data"][0]["id"].as_str().unwrap().to_string();
    for _ in 0..3 {
        let live = api.get(&format!("/v1/subscriptions/{sub_id}")).await;
        if matches!(live["status"].as_str(), Some("canceled") | Some("incomplete_expired")) {
            break;
        }
        match rng.next(6) {
            // Upgrade or downgrade, prorated.
            0 | 1 => {
                let to = keys[rng.next(keys.len())];
                let behavior = if rng.next(2) == 0 { "always_invoice" } else { "create_prorations" };
                api.post(
                    &format!("/v1/subscriptions/{sub_id}"),
                    &[
                        ("items[0][id]", item.clone()),
                        ("items[0][price]", prices[to].clone()),
                        ("proration_behavior", behavior.into()),
                    ],
                )
                .await;
            }
            2 => {
                api.post(&format!("/v1/subscriptions/{sub_id}"), &[("cancel_at_period_end", "true".into())]).await;
            }
            3 => {
                api.post(&format!("/v1/subscriptions/{sub_id}"), &[("cancel_at_period_end", "false".into())]).await;
            }
            4 => {
                let charges = api.get(&format!("/v1/charges?customer={customer}&limit=1")).await;
                if let Some(charge) = charges["data"][0]["id"].as_str().filter(|_| charges["data"][0]["paid"] == true) {
                    let charge_data = &charges["data"][0];
                    let left = charge_data["amount"].as_i64().unwrap_or(0)
                        - charge_data["amount_refunded"].as_i64().unwrap_or(0);
                    // Half of what is left, or the rest when little is left.
                    let amount = if left > 100 { left / 2 } else { left };
                    if amount > 0 {
                        api.post("/v1/refunds", &[("charge", charge.into()), ("amount", amount.to_string())]).await;
                    }
                }
            }
            _ => {
                if rng.next(4) == 0 {
                    api.call(reqwest::Method::DELETE, &format!("/v1/subscriptions/{sub_id}"), &[]).await;
                }
            }
        }
    }
    // Every eighth customer's card expires: the next renewal fails and dunning starts.
    if i % 8 == 6 {
        let failing = "pm_card_chargeCustomerFail".to_string();
        api.post(&format!("/v1/payment_methods/{failing}/attach"), &[("customer", customer.clone())]).await;
        api.post(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", failing)]).await;
    }
    if let Some(user_id) = buyer {
        buy_once(api, prices, &customer, user_id, is_refunding_buyer(i)).await;
    }
}

/// Customers with `i % 10` equal to this buy a one-time item (and with `i % 20`, refund it).
const BUYER_REMAINDER: usize = 4;

fn is_buyer(i: usize) -> bool {
    i % 10 == BUYER_REMAINDER
}

fn is_refunding_buyer(i: usize) -> bool {
    i % 20 == BUYER_REMAINDER
}

/// How many of the customers `0..customers` buy a one-time item, and how many of those refund it.
pub fn purchases_among(customers: usize) -> (usize, usize) {
    ((0..customers).filter(|i| is_buyer(*i)).count(), (0..customers).filter(|i| is_refunding_buyer(*i)).count())
}

/// Users for the customers in `customers` who buy a one-time item (Checkout names the user it
/// is for), by customer number.
pub async fn buyers(pool: &sqlx::AnyPool, customers: Range<usize>) -> HashMap<usize, i64> {
    let mut out = HashMap::new();
    for i in customers.filter(|i| is_buyer(*i)) {
        out.insert(i, insert_user(pool, &format!("buyer{i}@example.com")).await);
    }
    out
}

/// A payment-mode Checkout Session paid on the hosted page with 4242, as a browser would; then
/// maybe a full refund, which must revoke what it bought.
pub async fn buy_once(api: &Api, prices: &HashMap<String, String>, customer: &str, user_id: i64, refund: bool) {
    let session = api
        .post(
            "/v1/checkout/sessions",
            &[
                ("mode", "payment".into()),
                ("customer", customer.into()),
                ("line_items[0][price]", prices["onboarding_once"].clone()),
                ("line_items[0][quantity]", "1".into()),
                ("client_reference_id", user_id.to_string()),
                ("success_url", "https://example.com/done".into()),
                ("cancel_url", "https://example.com/pricing".into()),
            ],
        )
        .await;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let paid = browser
        .post(session["url"].as_str().unwrap())
        .form(&[("card_number", "4242 4242 4242 4242"), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303, "the hosted Checkout page took the card");
    if refund {
        let session = api.get(&format!("/v1/checkout/sessions/{}", session["id"].as_str().unwrap())).await;
        api.post("/v1/refunds", &[("payment_intent", session["payment_intent"].as_str().unwrap().into())]).await;
    }
}

/// Chaos on: a third of the deliveries duplicated, reordered within windows of 8, 8 at once.
pub async fn set_chaos(api: &Api) {
    let chaos = json!({"duplicate_share": 0.3, "reorder_window": 8, "concurrency": 8});
    let res = api.http.post(format!("{}/_sandbox/chaos", api.base)).json(&chaos).send().await.unwrap();
    assert!(res.status().is_success());
}

/// A month and a half from the pinned start: renewals, failed payments and dunning,
/// cancellations at period end. The checks compare the app with Stripe, whatever fell due.
pub async fn advance_weeks(api: &Api) {
    for _ in 0..3 {
        move_sandbox_clock_by(&api.base, 16 * 86_400).await;
    }
}

/// The app's tables against the sandbox's truth: each effect the app lacks or has twice, and
/// what the script exercised (for the "the run proved something" checks).
#[derive(Debug, Default)]
pub struct Comparison {
    /// Effects the sandbox has and the app lacks (or has wrong): one short description each.
    pub lost: Vec<String>,
    /// Effects the app has more than once, or that the sandbox does not have.
    pub duplicated: Vec<String>,
    pub exercised: Exercised,
}

/// What the run exercised, from the sandbox's side.
#[derive(Debug, Default)]
pub struct Exercised {
    pub subscriptions: usize,
    /// Local subscription statuses and how many of each.
    pub statuses: HashMap<String, usize>,
    pub paid_invoices: usize,
    /// Payments the paid invoices list (at least one each).
    pub invoice_payments: usize,
    pub refunds: usize,
    /// Paid one-time Checkout purchases, and how many of those were refunded in full.
    pub purchases: usize,
    pub refunded_purchases: usize,
    /// Deliveries chaos sent twice.
    pub duplicate_deliveries: usize,
}

/// Compares the app's tables with the sandbox: every subscription equal, MRR movements adding
/// up, one receipt per paid invoice, no email twice, payments and refunds equal, one
/// entitlement per purchase (revoked exactly when refunded in full).
pub async fn compare_with_sandbox(api: &Api, pool: &sqlx::AnyPool) -> Comparison {
    let mut out = Comparison::default();
    compare_subscriptions(api, pool, &mut out).await;
    compare_invoices_and_emails(api, pool, &mut out).await;
    compare_money(api, pool, &mut out).await;
    compare_entitlements(api, pool, &mut out).await;
    out.exercised.duplicate_deliveries = api.get("/_sandbox/deliveries").await["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["duplicate"] == true)
        .count();
    out
}

/// Every Stripe subscription has one equal local row (and no local row is unknown to Stripe);
/// MRR movements telescope to each subscription's MRR: below it one was lost, above it doubled.
async fn compare_subscriptions(api: &Api, pool: &sqlx::AnyPool, out: &mut Comparison) {
    let truth = api.all("/v1/subscriptions?status=all").await;
    let rows: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, status, price_id, CAST(cancel_at_period_end AS INTEGER), current_period_end, mrr FROM subscriptions",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut local: HashMap<_, _> = rows.iter().map(|r| (r.0.as_str(), r)).collect();
    out.exercised.subscriptions = truth.len();
    for sub in &truth {
        let id = sub["id"].as_str().unwrap();
        let Some(row) = local.remove(id) else {
            out.lost.push(format!("subscription {id} missing locally"));
            continue;
        };
        let item = &sub["items"]["data"][0];
        let expected = (
            sub["status"].as_str().unwrap(),
            item["price"]["id"].as_str().unwrap(),
            i64::from(sub["cancel_at_period_end"] == true),
            item["current_period_end"].as_i64().unwrap(),
        );
        let found = (row.1.as_str(), row.2.as_str(), row.3, row.4);
        if found != expected {
            out.lost.push(format!("subscription {id} is {found:?} locally, {expected:?} at Stripe"));
        }
        *out.exercised.statuses.entry(row.1.clone()).or_default() += 1;
    }
    out.duplicated.extend(local.keys().map(|id| format!("subscription {id} exists locally, not at Stripe")));

    let sums: Vec<(String, i64, i64)> = sqlx::query_as(
        // SUM is numeric on Postgres, which the Any driver cannot decode: cast back to an integer.
        "SELECT s.id, s.mrr, CAST(COALESCE((SELECT SUM(m.delta) FROM mrr_movements m WHERE m.subscription_id = s.id), 0) AS BIGINT) \
         FROM subscriptions s",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (id, mrr, sum) in sums {
        let line = format!("MRR movements of {id} add up to {sum}, its MRR is {mrr}");
        match sum.cmp(&mrr) {
            std::cmp::Ordering::Less => out.lost.push(line),
            std::cmp::Ordering::Greater => out.duplicated.push(line),
            std::cmp::Ordering::Equal => {}
        }
    }
}

/// Each payment knows the invoice it paid (whichever of the two events was applied first); each
/// paid invoice has its receipt (`receipt:<invoice>`), no other receipt exists, and no email was
/// written twice.
async fn compare_invoices_and_emails(api: &Api, pool: &sqlx::AnyPool, out: &mut Comparison) {
    let invoices = api.all("/v1/invoices?expand[]=data.payments").await;
    let links: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, invoice_id FROM payments").fetch_all(pool).await.unwrap();
    let links: HashMap<String, Option<String>> = links.into_iter().collect();
    for invoice in &invoices {
        let id = invoice["id"].as_str().unwrap();
        for payment in invoice["payments"]["data"].as_array().into_iter().flatten() {
            let pi = payment["payment"]["payment_intent"].as_str().unwrap();
            let linked = links.get(pi).cloned().flatten();
            if linked.as_deref() != Some(id) {
                out.lost.push(format!("payment {pi} paid {id}, locally linked to {linked:?}"));
            }
            out.exercised.invoice_payments += 1;
        }
    }

    let receipts: Vec<String> =
        sqlx::query_scalar("SELECT cause_key FROM emails WHERE kind = 'receipt'").fetch_all(pool).await.unwrap();
    let mut receipts: HashMap<String, usize> = receipts.into_iter().fold(HashMap::new(), |mut counts, key| {
        *counts.entry(key.trim_start_matches("receipt:").to_owned()).or_default() += 1;
        counts
    });
    for invoice in invoices.iter().filter(|i| i["status"] == "paid" && i["amount_paid"].as_i64().unwrap_or(0) > 0) {
        let id = invoice["id"].as_str().unwrap();
        out.exercised.paid_invoices += 1;
        match receipts.remove(id) {
            None => out.lost.push(format!("no receipt for the paid invoice {id}")),
            Some(1) => {}
            Some(n) => out.duplicated.push(format!("{n} receipts for the paid invoice {id}")),
        }
    }
    out.duplicated.extend(receipts.keys().map(|id| format!("a receipt for {id}, which is not a paid invoice")));

    let twice: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT to_address, subject, COUNT(*) FROM emails GROUP BY to_address, subject, body HAVING COUNT(*) > 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    out.duplicated
        .extend(twice.into_iter().map(|(to, subject, n)| format!("email {subject:?} to {to} written {n} times")));
}

/// id → (amount, status) of every object a Stripe list endpoint returns.
async fn stripe_amounts(api: &Api, path: &str) -> HashMap<String, (i64, String)> {
    let objects = api.all(path).await;
    let field = |o: &Value, f: &str| o[f].as_str().unwrap_or_default().to_owned();
    objects.iter().map(|o| (field(o, "id"), (o["amount"].as_i64().unwrap(), field(o, "status")))).collect()
}

/// id → (amount, status) of a local table.
async fn local_amounts(pool: &sqlx::AnyPool, table: &str) -> HashMap<String, (i64, String)> {
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as(&format!("SELECT id, amount, status FROM {table}")).fetch_all(pool).await.unwrap();
    rows.into_iter().map(|(id, amount, status)| (id, (amount, status))).collect()
}

/// Payments and refunds equal Stripe's, row for row.
async fn compare_money(api: &Api, pool: &sqlx::AnyPool, out: &mut Comparison) {
    for (table, path) in [("refunds", "/v1/refunds"), ("payments", "/v1/payment_intents")] {
        let truth = stripe_amounts(api, path).await;
        let mut local = local_amounts(pool, table).await;
        if table == "refunds" {
            out.exercised.refunds = truth.len();
        }
        for (id, expected) in &truth {
            match local.remove(id) {
                None => out.lost.push(format!("{table}: {id} missing locally")),
                Some(found) if found != *expected => {
                    out.lost.push(format!("{table}: {id} is {found:?} locally, {expected:?} at Stripe"))
                }
                Some(_) => {}
            }
        }
        out.duplicated.extend(local.keys().map(|id| format!("{table}: {id} exists locally, not at Stripe")));
    }
}

/// Each paid one-time Checkout granted exactly one entitlement, revoked exactly when its payment
/// was refunded in full; no entitlement for anything else.
async fn compare_entitlements(api: &Api, pool: &sqlx::AnyPool, out: &mut Comparison) {
    let purchases: Vec<Value> = api
        .all("/v1/checkout/sessions")
        .await
        .into_iter()
        .filter(|s| s["mode"] == "payment" && s["payment_status"] == "paid")
        .collect();
    out.exercised.purchases = purchases.len();
    let rows: Vec<(Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT payment_intent_id, revoked_at FROM entitlements").fetch_all(pool).await.unwrap();
    let mut granted: HashMap<String, Vec<Option<i64>>> = HashMap::new();
    for (pi, revoked_at) in rows {
        granted.entry(pi.unwrap_or_else(|| "no payment intent".into())).or_default().push(revoked_at);
    }
    for session in &purchases {
        let pi = session["payment_intent"].as_str().unwrap();
        let charge = &api.all(&format!("/v1/charges?payment_intent={pi}")).await[0];
        let refunded_in_full = charge["amount_refunded"] == charge["amount"];
        out.exercised.refunded_purchases += usize::from(refunded_in_full);
        let grants = granted.remove(pi).unwrap_or_default();
        match grants.as_slice() {
            [] => out.lost.push(format!("no entitlement for the purchase {pi}")),
            [revoked_at] if revoked_at.is_some() && !refunded_in_full => {
                out.duplicated.push(format!("the entitlement of {pi} revoked, its payment not refunded in full"))
            }
            [revoked_at] if revoked_at.is_none() && refunded_in_full => {
                out.lost.push(format!("the entitlement of {pi} not revoked, its payment refunded in full"))
            }
            [_] => {}
            more => out.duplicated.push(format!("{} entitlements for the purchase {pi}", more.len())),
        }
    }
    out.duplicated.extend(granted.keys().map(|pi| format!("an entitlement for {pi}, which is no paid purchase")));
}

/// The chaos tests' verdict: nothing lost, nothing duplicated, and the script really exercised
/// the lifecycle (`customers` subscribed, some active, canceled and past due, refunds made,
/// every buyer paid, the refunded half revoked, chaos delivered duplicates).
pub async fn assert_local_equals_sandbox(api: &Api, pool: &sqlx::AnyPool, customers: usize) {
    let comparison = compare_with_sandbox(api, pool).await;
    assert!(comparison.lost.is_empty(), "lost: {:#?}", comparison.lost);
    assert!(comparison.duplicated.is_empty(), "duplicated: {:#?}", comparison.duplicated);
    let done = &comparison.exercised;
    assert!(done.subscriptions >= customers, "every customer subscribed: {}", done.subscriptions);
    for status in ["active", "canceled", "past_due"] {
        assert!(done.statuses.get(status).copied().unwrap_or(0) > 0, "no {status} subscription: {:?}", done.statuses);
    }
    assert!(done.invoice_payments >= done.paid_invoices, "paid invoices list their payments: {done:?}");
    assert!(done.duplicate_deliveries > 0, "chaos delivered no duplicate: the test proved nothing");
    let (buyers, refunding) = purchases_among(customers);
    assert!(done.refunds >= customers / 20, "the script refunded: {}", done.refunds);
    assert_eq!(done.purchases, buyers, "every buyer paid");
    assert_eq!(done.refunded_purchases, refunding, "the refunded half was revoked (each revoke checked above)");
}
