//! Chaos: the sandbox duplicates, reorders and concurrently delivers webhooks while 200
//! customers live a scripted life (subscribe, upgrade, downgrade, cancel, resume, fail,
//! refund, and one in ten buys a one-time item through Checkout, half of those refunded in
//! full). Afterwards the local tables must equal the sandbox's truth for every subscription,
//! payment and refund, MRR movements must add up, each purchase must grant exactly one
//! entitlement (revoked exactly when fully refunded), and no email may be written twice.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};

use crate::helpers::*;

pub(super) const CUSTOMERS: usize = 200;
/// One customer's life. Each step waits for Stripe's answer; webhooks arrive however chaos
/// delivers them.
pub(super) async fn live(api: &Api, prices: &HashMap<String, String>, i: usize, seed: u64, buyer: Option<i64>) {
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
        buy_once(api, prices, &customer, user_id, i % 20 == BUYER_REMAINDER).await;
    }
}

/// Customers with `i % 10` equal to this buy a one-time item (and with `i % 20`, refund it).
const BUYER_REMAINDER: usize = 4;

/// Users for the customers who buy a one-time item (Checkout names the user it is for).
pub(super) async fn buyers(pool: &sqlx::AnyPool) -> HashMap<usize, i64> {
    let mut out = HashMap::new();
    for i in (0..CUSTOMERS).filter(|i| i % 10 == BUYER_REMAINDER) {
        out.insert(i, insert_user(pool, &format!("buyer{i}@example.com")).await);
    }
    out
}

/// A payment-mode Checkout Session paid on the hosted page with 4242, as a browser would; then
/// maybe a full refund, which must revoke what it bought.
async fn buy_once(api: &Api, prices: &HashMap<String, String>, customer: &str, user_id: i64, refund: bool) {
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

pub(super) async fn set_chaos(api: &Api) {
    let chaos = json!({"duplicate_share": 0.3, "reorder_window": 8, "concurrency": 8});
    let res = api.http.post(format!("{}/_sandbox/chaos", api.base)).json(&chaos).send().await.unwrap();
    assert!(res.status().is_success());
}

/// A month and a half from the pinned start: renewals, failed payments and dunning,
/// cancellations at period end. The checks compare the app with Stripe, whatever fell due.
pub(super) async fn advance_weeks(api: &Api) {
    for _ in 0..3 {
        move_sandbox_clock_by(&api.base, 16 * 86_400).await;
    }
}

/// The local tables against the sandbox's truth: every subscription equal, MRR movements adding
/// up, one receipt per paid invoice, no email twice, and chaos really duplicated deliveries.
pub(super) async fn assert_local_equals_sandbox(api: &Api, pool: &sqlx::AnyPool, customers: usize) {
    let truth = api.all("/v1/subscriptions?status=all").await;
    assert!(truth.len() >= customers, "every customer subscribed: {}", truth.len());
    let rows: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, status, price_id, CAST(cancel_at_period_end AS INTEGER), current_period_end, mrr FROM subscriptions",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let local: HashMap<_, _> = rows.iter().map(|r| (r.0.clone(), r)).collect();
    assert_eq!(local.len(), truth.len(), "one local row per Stripe subscription");
    let mut statuses: HashMap<String, usize> = HashMap::new();
    for sub in &truth {
        let id = sub["id"].as_str().unwrap();
        let row = local.get(id).unwrap_or_else(|| panic!("{id} missing locally"));
        let item = &sub["items"]["data"][0];
        let expected = (
            sub["status"].as_str().unwrap(),
            item["price"]["id"].as_str().unwrap(),
            i64::from(sub["cancel_at_period_end"] == true),
            item["current_period_end"].as_i64().unwrap(),
        );
        assert_eq!((row.1.as_str(), row.2.as_str(), row.3, row.4), expected, "{id} differs from Stripe");
        *statuses.entry(row.1.clone()).or_default() += 1;
    }
    // The script really exercised the lifecycle.
    for status in ["active", "canceled", "past_due"] {
        assert!(statuses.get(status).copied().unwrap_or(0) > 0, "no {status} subscription: {statuses:?}");
    }

    // MRR movements telescope to each subscription's MRR: none lost, none doubled.
    let sums: Vec<(String, i64, i64)> = sqlx::query_as(
        // SUM is numeric on Postgres, which the Any driver cannot decode: cast back to an integer.
        "SELECT s.id, s.mrr, CAST(COALESCE((SELECT SUM(m.delta) FROM mrr_movements m WHERE m.subscription_id = s.id), 0) AS BIGINT) \
         FROM subscriptions s",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (id, mrr, sum) in &sums {
        assert_eq!(mrr, sum, "movements of {id} add up to {sum}, its MRR is {mrr}");
    }

    // One receipt per paid invoice, never two.
    let invoices = api.all("/v1/invoices?expand[]=data.payments").await;
    let paid_invoices =
        invoices.iter().filter(|i| i["status"] == "paid" && i["amount_paid"].as_i64().unwrap_or(0) > 0).count() as i64;
    // Each payment knows the invoice it paid, whichever of the two events was applied first.
    let links: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, invoice_id FROM payments").fetch_all(pool).await.unwrap();
    let links: HashMap<String, Option<String>> = links.into_iter().collect();
    let mut linked = 0;
    for invoice in &invoices {
        for payment in invoice["payments"]["data"].as_array().into_iter().flatten() {
            let pi = payment["payment"]["payment_intent"].as_str().unwrap();
            assert_eq!(links.get(pi).cloned().flatten().as_deref(), invoice["id"].as_str(), "the invoice {pi} paid");
            linked += 1;
        }
    }
    assert!(linked as i64 >= paid_invoices, "paid invoices list their payments: {linked}");
    let receipts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM emails WHERE kind = 'receipt'").fetch_one(pool).await.unwrap();
    assert_eq!(receipts, paid_invoices);
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT to_address, subject, body FROM emails GROUP BY to_address, subject, body HAVING COUNT(*) > 1) d",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(duplicates, 0, "an email was written twice");
    let delivered_twice = api.get("/_sandbox/deliveries").await["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["duplicate"] == true)
        .count();
    assert!(delivered_twice > 0, "chaos delivered no duplicate: the test proved nothing");

    assert_money_equals_sandbox(api, pool).await;
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

/// Payments and refunds equal Stripe's; each paid one-time Checkout granted exactly one
/// entitlement, revoked exactly when its payment was refunded in full.
async fn assert_money_equals_sandbox(api: &Api, pool: &sqlx::AnyPool) {
    let refunds = stripe_amounts(api, "/v1/refunds").await;
    assert!(refunds.len() >= CUSTOMERS / 20, "the script refunded: {}", refunds.len());
    assert_eq!(local_amounts(pool, "refunds").await, refunds, "local refunds differ from Stripe's");
    let payments = stripe_amounts(api, "/v1/payment_intents").await;
    assert_eq!(local_amounts(pool, "payments").await, payments, "local payments differ from Stripe's");

    let purchases: Vec<Value> = api
        .all("/v1/checkout/sessions")
        .await
        .into_iter()
        .filter(|s| s["mode"] == "payment" && s["payment_status"] == "paid")
        .collect();
    assert_eq!(purchases.len(), CUSTOMERS / 10, "every buyer paid");
    let granted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entitlements").fetch_one(pool).await.unwrap();
    assert_eq!(granted, purchases.len() as i64, "one entitlement per purchase, none twice");
    let mut revoked = 0;
    for session in &purchases {
        let pi = session["payment_intent"].as_str().unwrap();
        let charge = &api.all(&format!("/v1/charges?payment_intent={pi}")).await[0];
        let refunded_in_full = charge["amount_refunded"] == charge["amount"];
        let row: (String, Option<i64>) =
            sqlx::query_as("SELECT grant_key, revoked_at FROM entitlements WHERE payment_intent_id = $1")
                .bind(pi)
                .fetch_one(pool)
                .await
                .unwrap_or_else(|e| panic!("no entitlement for {pi}: {e}"));
        assert_eq!(row.1.is_some(), refunded_in_full, "{pi}: revoked must mean refunded in full");
        revoked += usize::from(refunded_in_full);
    }
    assert_eq!(revoked, CUSTOMERS / 20, "the refunded half was revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_customers_under_chaos_end_equal_to_the_sandbox() {
    let app = spawn_app().await;
    app.pin_clock(PinnedStart::FirstOfJanuary).await;
    let api = Api { http: reqwest::Client::new(), base: app.sandbox_url.clone() };
    set_chaos(&api).await;
    let prices = prices(&app.stripe).await;
    let buyers = buyers(app.db.pool()).await;
    futures::stream::iter(0..CUSTOMERS)
        .for_each_concurrent(16, |i| live(&api, &prices, i, 0x7011_6a7e, buyers.get(&i).copied()))
        .await;
    advance_weeks(&api).await;
    app.settle().await;
    assert_local_equals_sandbox(&api, app.db.pool(), CUSTOMERS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_restarted_mid_run_the_app_still_ends_equal_to_the_sandbox() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // The sandbox outlives the app (in this process); it retries for ~50 s, as Stripe would
    // retry for days, so deliveries refused while the app is down arrive later.
    let config = stripe_sandbox::SandboxConfig {
        webhook_retry_schedule: (0..9).map(|i| Duration::from_millis(100 << i)).collect(),
        ..Default::default()
    };
    let sandbox = stripe_sandbox::start_with("127.0.0.1:0".parse().unwrap(), config).await.unwrap();
    let api = Api { http: reqwest::Client::new(), base: sandbox.base_url() };
    move_sandbox_clock(&api.base, PinnedStart::January30.next_instant()).await;
    set_chaos(&api).await;

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let endpoint = api
        .post("/v1/webhook_endpoints", &[("url", format!("{url}/webhooks/stripe")), ("enabled_events[]", "*".into())])
        .await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let stripe = tollgate::server::stripe::client::StripeClient::new(&KEY.to_string().into(), Some(&api.base)).unwrap();
    let prices = prices(&stripe).await;

    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/tollgate.db", dir.path().display());
    let catalog_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog.toml");
    let vars: Vec<(String, String)> = [
        ("DATABASE_URL", database.clone()),
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("APP_URL", url.clone()),
        ("STRIPE_SECRET_KEY", KEY.to_string()),
        ("STRIPE_API_BASE", api.base.clone()),
        ("STRIPE_WEBHOOK_SECRET", secret),
        ("CATALOG_PATH", catalog_path.display().to_string()),
        ("RUST_LOG", "warn".to_string()),
        // A test-mode key would hold the app to Stripe's 25 requests/s; this sandbox has no limit
        // (the limit has its own tests in `rate_limit`).
        ("STRIPE_MAX_REQUESTS_PER_SEC", "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut app = ServeProcess::start(vars, url).await;
    let db = tollgate::server::db::Db::connect(&tollgate::server::config::DatabaseUrl::parse(&database).unwrap())
        .await
        .unwrap();
    let buyers = buyers(db.pool()).await;

    // Kill the app twice while customers live, and once while renewals are delivered.
    let done = AtomicUsize::new(0);
    let script = futures::stream::iter(0..CUSTOMERS).for_each_concurrent(16, |i| {
        let done = &done;
        let api = &api;
        let prices = &prices;
        let buyer = buyers.get(&i).copied();
        async move {
            live(api, prices, i, 0x5191_c111, buyer).await;
            done.fetch_add(1, Ordering::SeqCst);
        }
    });
    let killer = async {
        for at in [CUSTOMERS / 3, 2 * CUSTOMERS / 3] {
            while done.load(Ordering::SeqCst) < at {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            app.kill();
            tokio::time::sleep(Duration::from_millis(300)).await;
            app.restart().await;
        }
    };
    futures::join!(script, killer);
    advance_weeks(&api).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.kill();
    app.restart().await;

    assert!(sandbox.wait_for_deliveries(Duration::from_secs(180), true).await, "the sandbox still delivering");
    hooks::inbox_applied_within(db.pool(), Duration::from_secs(60)).await;
    let refused = sandbox.attempts().iter().filter(|a| !a.succeeded).count();
    assert!(refused > 0, "no delivery was refused while the app was down: the kill proved nothing");
    assert_local_equals_sandbox(&api, db.pool(), CUSTOMERS).await;
}
