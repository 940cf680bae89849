//! Revenue against the truth: 300 customers arrive over six months of sandbox time (trials,
//! monthly and yearly plans, upgrades, downgrades, cancellations, failing cards). The local
//! revenue data the admin pages are computed from must equal a recomputation from the
//! sandbox's subscriptions.

use std::collections::HashMap;

use futures::StreamExt;
use serde_json::Value;

use crate::helpers::*;

const MONTHS: usize = 6;
const PER_MONTH: usize = 50;

/// MRR as the sandbox's subscription implies it: paying statuses only and not while payment
/// collection is paused, yearly prices over 12 months (rounded half up), times the quantity,
/// less its discounts (percentages, then amounts off each invoice).
pub(crate) fn expected_mrr(sub: &Value) -> i64 {
    if !matches!(sub["status"].as_str(), Some("active") | Some("past_due")) || sub["pause_collection"].is_object() {
        return 0;
    }
    let item = &sub["items"]["data"][0];
    let amount = item["price"]["unit_amount"].as_i64().unwrap() * item["quantity"].as_i64().unwrap_or(1);
    let months = match item["price"]["recurring"]["interval"].as_str() {
        Some("year") => 12,
        _ => 1,
    } * item["price"]["recurring"]["interval_count"].as_i64().unwrap_or(1);
    // Listed with `discounts.source.coupon` expanded.
    let percent_off: f64 = sub["discounts"]
        .as_array()
        .map(|ds| ds.iter().filter_map(|d| d["source"]["coupon"]["percent_off"].as_f64()).sum())
        .unwrap_or(0.0);
    let amount_off: i64 = sub["discounts"]
        .as_array()
        .map(|ds| ds.iter().filter_map(|d| d["source"]["coupon"]["amount_off"].as_i64()).sum())
        .unwrap_or(0);
    let kept_bp = 10_000 - (percent_off * 100.0).round() as i64;
    let num = (i128::from(amount) * i128::from(kept_bp) - i128::from(amount_off) * 10_000).max(0);
    let den = i128::from(months) * 10_000;
    ((num * 2 + den) / (den * 2)) as i64
}

/// One customer: a plan (maybe yearly, maybe with a trial), then one change.
async fn arrive(api: &Api, prices: &HashMap<String, String>, coupons: &[String], i: usize) {
    let mut rng = Lcg(0x2e7e_0000 ^ ue(i));
    let keys =
        ["starter_monthly", "pro_monthly", "business_monthly", "starter_yearly", "pro_yearly", "business_yearly"];
    let card = if i % 10 == 9 { "pm_card_chargeCustomerFail" } else { "pm_card_visa" };
    let customer = api.customer_paying_with(&format!("revenue{i}@example.com"), "pm_card_visa").await;
    let mut form =
        vec![("customer", customer.clone()), ("items[0][price]", prices[keys[rng.next(keys.len())]].clone())];
    if rng.next(3) == 0 {
        form.push(("trial_period_days", "14".into()));
    }
    if rng.next(4) == 0 {
        form.push(("discounts[0][coupon]", coupons[rng.next(coupons.len())].clone()));
    }
    let sub = api.post("/v1/subscriptions", &form).await;
    let sub_id = sub["id"].as_str().unwrap().to_string();
    let item = sub["items"]["data"][0]["id"].as_str().unwrap().to_string();
    match rng.next(5) {
        0 => {
            let to = keys[rng.next(keys.len())];
            api.post(
                &format!("/v1/subscriptions/{sub_id}"),
                &[
                    ("items[0][id]", item),
                    ("items[0][price]", prices[to].clone()),
                    ("proration_behavior", "create_prorations".into()),
                ],
            )
            .await;
        }
        1 => {
            api.post(&format!("/v1/subscriptions/{sub_id}"), &[("cancel_at_period_end", "true".into())]).await;
        }
        // A grace period: payment collection paused (no MRR meanwhile), some until a day.
        2 if rng.next(3) == 0 => {
            let mut pause = vec![("pause_collection[behavior]", "void".to_string())];
            if rng.next(2) == 0 {
                let now = sub["created"].as_i64().unwrap();
                pause.push(("pause_collection[resumes_at]", (now + 40 * 86_400).to_string()));
            }
            api.post(&format!("/v1/subscriptions/{sub_id}"), &pause).await;
        }
        _ => {}
    }
    // Some cards stop working after sign-up: renewals fail, dunning runs.
    if card != "pm_card_visa" {
        api.post(&format!("/v1/payment_methods/{card}/attach"), &[("customer", customer.clone())]).await;
        api.post(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", card.into())])
            .await;
    }
}

/// A different seed per customer, from its number.
const fn ue(i: usize) -> u64 {
    (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revenue_data_equals_the_sandbox_after_six_months() {
    let app = spawn_app().await;
    app.pin_clock(PinnedStart::February28NonLeap).await;
    let api = Api { http: reqwest::Client::new(), base: app.sandbox_url.clone() };
    let prices = prices(&app.stripe).await;
    // A percentage for good, an amount off each invoice, and a percentage for the first two
    // months (its end is an expansion).
    let mut coupons = Vec::new();
    for coupon in [
        vec![("percent_off", "25"), ("duration", "forever")],
        vec![("amount_off", "500"), ("currency", "usd"), ("duration", "forever")],
        vec![("percent_off", "50"), ("duration", "repeating"), ("duration_in_months", "2")],
    ] {
        let form: Vec<(&str, String)> = coupon.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        coupons.push(api.post("/v1/coupons", &form).await["id"].as_str().unwrap().to_string());
    }
    for month in 0..MONTHS {
        let first = month * PER_MONTH;
        futures::stream::iter(first..first + PER_MONTH)
            .for_each_concurrent(16, |i| arrive(&api, &prices, &coupons, i))
            .await;
        // The last month's arrivals are still on trial at the end.
        let steps: &[i64] = if month + 1 == MONTHS { &[5] } else { &[10, 10, 10] };
        for days in steps {
            move_sandbox_clock_by(&api.base, days * 86_400).await;
        }
        app.settle().await;
    }

    let truth = api.all("/v1/subscriptions?status=all&expand[]=data.discounts.source.coupon").await;
    assert_eq!(truth.len(), MONTHS * PER_MONTH);
    assert!(truth.iter().any(|s| s["discounts"][0]["source"]["coupon"]["percent_off"] == 25.0), "some have the coupon");
    assert!(truth.iter().any(|s| s["discounts"][0]["source"]["coupon"]["amount_off"] == 500), "and an amount off");
    assert!(truth.iter().any(|s| s["pause_collection"].is_object()), "some pause payment collection");
    let now = sandbox_now(&api.base).await;
    let live_discounts = || {
        truth
            .iter()
            .filter(|s| s["status"] != "canceled")
            .flat_map(|s| s["discounts"].as_array().cloned().unwrap_or_default())
    };
    assert!(live_discounts().all(|d| d["end"].as_i64().is_none_or(|end| end > now)), "ended discounts are gone");
    let expected: i64 = truth.iter().map(expected_mrr).sum();
    let count = |status: &str| truth.iter().filter(|s| s["status"] == status).count() as i64;
    let covered = ["active", "trialing", "past_due", "canceled"].map(|s| (s, count(s)));
    assert!(expected > 0 && covered.iter().all(|(_, n)| *n > 0), "the scenario covers the cases: {covered:?}");

    let pool = app.db.pool();
    let local_mrr: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(mrr), 0) AS BIGINT) FROM subscriptions")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(local_mrr, expected, "MRR from the subscriptions table");
    let from_movements: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM mrr_movements")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(from_movements, expected, "MRR as the sum of every movement");
    for status in ["active", "trialing", "past_due", "canceled"] {
        let local: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE status = $1")
            .bind(status)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(local, count(status), "{status} subscriptions");
    }
    // And the admin's revenue page shows the same numbers.
    app.log_in_as_admin().await;
    let page = app.page("/admin?period=12m").await;
    let usd = tollgate::domain::money::Currency::parse("usd").unwrap();
    let dollars = |minor: i64| tollgate::domain::money::Money::new(minor, usd).to_string();
    assert_eq!(kpi(&page, "MRR"), dollars(expected), "MRR on /admin");
    assert_eq!(kpi(&page, "ARR"), dollars(expected * 12), "ARR on /admin");

    // Every subscription that ever paid has exactly one `new` movement.
    let new_movements: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM mrr_movements WHERE kind = 'new'").fetch_one(pool).await.unwrap();
    let ever_paid: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT customer_id) FROM mrr_movements").fetch_one(pool).await.unwrap();
    assert_eq!(new_movements, ever_paid);
}

#[tokio::test]
async fn an_amount_off_counts_and_a_discount_that_ends_is_an_expansion() {
    let app = spawn_app().await;
    let api = app.stripe_api();
    let prices = prices(&app.stripe).await;
    let half = api
        .post(
            "/v1/coupons",
            &[("percent_off", "50".into()), ("duration", "repeating".into()), ("duration_in_months", "1".into())],
        )
        .await;
    let five_off = api
        .post(
            "/v1/coupons",
            &[("amount_off", "500".into()), ("currency", "usd".into()), ("duration", "forever".into())],
        )
        .await;
    let customer = api.customer_paying_with("ending-discount@example.com", "pm_card_visa").await;
    let form = [
        ("customer", customer),
        ("items[0][price]", prices["pro_monthly"].clone()),
        ("discounts[0][coupon]", half["id"].as_str().unwrap().to_string()),
        ("discounts[1][coupon]", five_off["id"].as_str().unwrap().to_string()),
    ];
    let sub = api.post("/v1/subscriptions", &form).await;
    let id = sub["id"].as_str().unwrap().to_string();
    // 2,900 less half, less 500 off each invoice.
    eventually(app.db.pool(), &format!("SELECT COUNT(*) FROM subscriptions WHERE id = '{id}' AND mrr = 950"), 1).await;
    let end = api.get(&format!("/v1/subscriptions/{id}?expand[]=discounts")).await["discounts"][0]["end"]
        .as_i64()
        .expect("the repeating discount's end");
    app.advance_to(end + 3600).await;
    let query = format!(
        "SELECT COUNT(*) FROM mrr_movements WHERE subscription_id = '{id}' AND kind = 'expansion' AND delta = 1450"
    );
    eventually(app.db.pool(), &query, 1).await;
    let mrr: i64 = sqlx::query_scalar("SELECT mrr FROM subscriptions WHERE id = $1")
        .bind(&id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(mrr, 2400, "the amount off stays");
}
