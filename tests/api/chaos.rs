//! Chaos: the sandbox duplicates, reorders and concurrently delivers webhooks while 200
//! customers live a scripted life (subscribe, upgrade, downgrade, cancel, resume, fail,
//! refund). Afterwards the local tables must equal the sandbox's truth for every
//! subscription, MRR movements must add up, and no email may be written twice.

use std::collections::HashMap;

use futures::StreamExt;
use serde_json::{json, Value};
use tollgate::server::catalog;

use crate::helpers::*;

const CUSTOMERS: usize = 200;
const KEY: &str = "sk_test_tollgate_sandbox";

/// A small deterministic generator: the same script every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Stripe's REST API on the sandbox, form-encoded as the SDKs send it.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, form: &[(&str, String)]) -> Value {
        let res = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert!(status.is_success(), "{path} → {status}: {body}");
        body
    }

    async fn post(&self, path: &str, form: &[(&str, String)]) -> Value {
        self.call(reqwest::Method::POST, path, form).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, &[]).await
    }

    /// Every object of a list endpoint (follows `has_more`).
    async fn all(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let page = match &after {
                Some(id) => self.get(&format!("{path}{sep}limit=100&starting_after={id}")).await,
                None => self.get(&format!("{path}{sep}limit=100")).await,
            };
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data.last().and_then(|o| o["id"].as_str()).map(str::to_string);
            out.extend(data);
            if page["has_more"] != true || after.is_none() {
                return out;
            }
        }
    }
}

/// One customer's life. Each step waits for Stripe's answer; webhooks arrive however chaos
/// delivers them.
async fn live(api: &Api, prices: &HashMap<String, String>, i: usize, seed: u64) {
    let mut rng = Lcg(seed ^ (i as u64) << 8);
    let keys = ["starter_monthly", "pro_monthly", "business_monthly", "starter_yearly", "pro_yearly"];
    // Every eighth customer's card attaches but declines every charge.
    let card = if i % 8 == 7 { "pm_card_chargeCustomerFail" } else { "pm_card_visa" };
    let customer = api
        .post(
            "/v1/customers",
            &[
                ("email", format!("chaos{i}@example.com")),
                ("payment_method", card.into()),
                ("invoice_settings[default_payment_method]", card.into()),
            ],
        )
        .await;
    let customer = customer["id"].as_str().unwrap().to_string();
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
                    let amount = charges["data"][0]["amount"].as_i64().unwrap_or(0);
                    if amount > 1 {
                        api.post("/v1/refunds", &[("charge", charge.into()), ("amount", (amount / 2).to_string())]).await;
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_customers_under_chaos_end_equal_to_the_sandbox() {
    let app = spawn_app().await;
    let api = Api { http: reqwest::Client::new(), base: app.sandbox_url.clone() };
    let chaos = json!({"duplicate_share": 0.3, "reorder_window": 8, "concurrency": 8});
    let res = api.http.post(format!("{}/_sandbox/chaos", app.sandbox_url)).json(&chaos).send().await.unwrap();
    assert!(res.status().is_success());

    let cat = catalog::load(std::path::Path::new(catalog::DEFAULT_PATH)).unwrap();
    let prices: HashMap<String, String> = catalog::sync::resolve(&app.stripe, &cat)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.as_str().to_string()))
        .collect();
    futures::stream::iter(0..CUSTOMERS)
        .for_each_concurrent(16, |i| live(&api, &prices, i, 0x7011_6a7e))
        .await;
    // A month and a half: renewals, failed payments and dunning, cancellations at period end.
    for days in [16, 16, 16] {
        let res = api.http.post(format!("{}/_sandbox/clock/advance", app.sandbox_url)).json(&json!({"days": days})).send().await.unwrap();
        assert!(res.status().is_success());
    }
    app.settle().await;

    let truth = api.all("/v1/subscriptions?status=all").await;
    assert!(truth.len() >= CUSTOMERS, "every customer subscribed: {}", truth.len());
    let rows: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, status, price_id, CAST(cancel_at_period_end AS INTEGER), current_period_end, mrr FROM subscriptions",
    )
    .fetch_all(app.db.pool())
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
        "SELECT s.id, s.mrr, COALESCE((SELECT SUM(m.delta) FROM mrr_movements m WHERE m.subscription_id = s.id), 0) \
         FROM subscriptions s",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    for (id, mrr, sum) in &sums {
        assert_eq!(mrr, sum, "movements of {id} add up to {sum}, its MRR is {mrr}");
    }

    // One receipt per paid invoice, never two.
    let paid_invoices = api
        .all("/v1/invoices")
        .await
        .into_iter()
        .filter(|i| i["status"] == "paid" && i["amount_paid"].as_i64().unwrap_or(0) > 0)
        .count() as i64;
    let receipts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM emails WHERE kind = 'receipt'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(receipts, paid_invoices);
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT to_address, subject, body FROM emails GROUP BY to_address, subject, body HAVING COUNT(*) > 1) d",
    )
    .fetch_one(app.db.pool())
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
}
