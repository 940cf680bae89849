//! Reports through `POST /api/v1/usage` reach Stripe as meter events exactly once: a retried
//! report, a resend after a crash between Stripe's answer and the local mark, Stripe down for a
//! while. Reconciliation finds a difference; the spend cap refuses chargeable usage (402).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::*;

const METER: &str = "api-calls";

/// A customer subscribed (through Stripe's API) to the hybrid `scale` plan, linked to a user,
/// with a customer API key: (user id, customer id, key).
async fn scale_customer(app: &TestApp, tag: &str) -> (i64, String, String) {
    let api = Api { http: reqwest::Client::new(), base: app.sandbox_url.clone() };
    let email = unique_email(tag);
    let customer = api.customer_paying_with(&email, "pm_card_visa").await;
    let user = insert_user(app.db.pool(), &email).await;
    sqlx::query("UPDATE users SET stripe_customer_id = $1 WHERE id = $2")
        .bind(&customer)
        .bind(user)
        .execute(app.db.pool())
        .await
        .unwrap();
    let prices = prices(&app.stripe).await;
    let form = [
        ("customer", customer.clone()),
        ("items[0][price]", prices["scale_monthly"].clone()),
        ("items[1][price]", prices["scale_api-calls_monthly"].clone()),
    ];
    api.post("/v1/subscriptions", &form).await;
    app.settle().await;
    let live = format!("SELECT COUNT(*) FROM subscriptions WHERE customer_id = '{customer}' AND status = 'active'");
    eventually(app.db.pool(), &live, 1).await;
    let key = app.issue_api_key(tag, Some(user)).await;
    (user, customer, key)
}

async fn email_of(app: &TestApp, user: i64) -> String {
    sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(user).fetch_one(app.db.pool()).await.unwrap()
}

async fn log_in_as(app: &TestApp, user: i64) -> String {
    let email = email_of(app, user).await;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(
            tollgate::server::auth::password::hash_password(tollgate::domain::Password::parse(PASSWORD).unwrap())
                .await
                .unwrap(),
        )
        .bind(user)
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_redirect(&app.log_in(&email, PASSWORD).await, "/account");
    email
}

/// What Stripe (the sandbox) counts for the customer's meter over the last day and the next.
async fn stripe_total(app: &TestApp, customer: &str) -> f64 {
    let meters = app.stripe_get_json("/v1/billing/meters").await;
    let meter = meters["data"].as_array().unwrap().iter().find(|m| m["event_name"] == "api_call").expect("the meter");
    let now = sandbox_now(&app.sandbox_url).await;
    let (start, end) = ((now - 86_400) / 60 * 60, (now + 86_400) / 60 * 60);
    let path = format!(
        "/v1/billing/meters/{}/event_summaries?customer={customer}&start_time={start}&end_time={end}",
        meter["id"].as_str().unwrap()
    );
    let summaries = app.stripe_get_json(&path).await;
    summaries["data"].as_array().unwrap().iter().map(|s| s["aggregated_value"].as_f64().unwrap()).sum()
}

async fn all_sent(app: &TestApp, want: i64) {
    eventually_within(
        app.db.pool(),
        "SELECT COUNT(*) FROM usage_events WHERE status = 'sent'",
        want,
        Duration::from_secs(60),
    )
    .await;
}

#[tokio::test]
async fn a_report_sent_three_times_and_resent_after_a_crash_counts_once_in_stripe() {
    let app = spawn_app().await;
    let (_, customer, key) = scale_customer(&app, "thrice").await;
    let body = report(METER, 7, "evt-thrice-1");
    let answers: Vec<(StatusCode, String)> =
        futures::future::join_all((0..3).map(|_| app.report_usage(Some(&key), body.clone())))
            .await
            .into_iter()
            .map(|(status, json)| (status, json["status"].as_str().unwrap_or_default().to_owned()))
            .collect();
    let created = answers.iter().filter(|a| a.0 == StatusCode::ACCEPTED && a.1 == "created").count();
    let duplicates = answers.iter().filter(|a| a.0 == StatusCode::OK && a.1 == "duplicate").count();
    assert_eq!((created, duplicates), (1, 2), "{answers:?}");
    all_sent(&app, 1).await;
    assert_eq!(stripe_total(&app, &customer).await, 7.0);

    let first: i64 = sqlx::query_scalar("SELECT attempts FROM usage_events").fetch_one(app.db.pool()).await.unwrap();
    // The worker dies after Stripe took the event, before marking it: the row is pending again.
    sqlx::query("UPDATE usage_events SET status = 'pending', sent_at = NULL, next_attempt_at = 0")
        .execute(app.db.pool())
        .await
        .unwrap();
    all_sent(&app, 1).await;
    let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM usage_events").fetch_one(app.db.pool()).await.unwrap();
    let error: Option<String> =
        sqlx::query_scalar("SELECT last_error FROM usage_events").fetch_one(app.db.pool()).await.unwrap();
    assert!(attempts > first && error.is_none(), "sent again, without an error ({attempts}, {error:?})");
    assert_eq!(stripe_total(&app, &customer).await, 7.0, "and counted once by Stripe");
}

#[tokio::test]
async fn while_stripe_is_down_nothing_is_lost_and_it_is_sent_when_stripe_returns() {
    let app = spawn_app_with(&[("STRIPE_MAX_REQUESTS_PER_SEC", "1000")]).await;
    let (_, customer, key) = scale_customer(&app, "down").await;
    let http = reqwest::Client::new();
    let fault = json!({ "path": "/v1/billing/meter_events", "status": 500, "times": 100000 });
    http.post(format!("{}/_sandbox/faults", app.sandbox_url)).json(&fault).send().await.unwrap();
    for n in 0..5 {
        let (status, _) = app.report_usage(Some(&key), report(METER, 10, &format!("evt-down-{n}"))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "accepted while Stripe is down");
    }
    eventually(app.db.pool(), "SELECT COUNT(*) FROM usage_events WHERE attempts > 0 AND status = 'pending'", 5).await;
    assert_eq!(stripe_total(&app, &customer).await, 0.0);
    http.delete(format!("{}/_sandbox/faults", app.sandbox_url)).send().await.unwrap();
    all_sent(&app, 5).await;
    assert_eq!(stripe_total(&app, &customer).await, 50.0, "every event once");
}

#[tokio::test]
async fn reconciliation_finds_a_difference_injected_on_purpose() {
    let app = spawn_app().await;
    let (user, customer, key) = scale_customer(&app, "recon").await;
    for n in 0..3 {
        app.report_usage(Some(&key), report(METER, 5, &format!("evt-recon-{n}"))).await;
    }
    all_sent(&app, 3).await;
    let catalog = tollgate::server::catalog::load(std::path::Path::new("catalog.toml")).unwrap();
    let now = sandbox_now(&app.sandbox_url).await;
    let clean = tollgate::server::usage::reconcile::reconcile(app.db.pool(), &app.stripe, &catalog, now).await.unwrap();
    assert_eq!((clean.checked, clean.differences), (1, 0));

    // A row marked sent that Stripe never got.
    sqlx::query(
        "INSERT INTO usage_events (identifier, user_id, customer_id, meter, event_name, value, occurred_at, \
           recorded_at, status, attempts, sent_at) VALUES ('evt-lost', $1, $2, 'api-calls', 'api_call', 4, $3, $3, 'sent', 1, $3)",
    )
    .bind(user)
    .bind(&customer)
    .bind(now)
    .execute(app.db.pool())
    .await
    .unwrap();
    let found = tollgate::server::usage::reconcile::reconcile(app.db.pool(), &app.stripe, &catalog, now).await.unwrap();
    assert_eq!(found.differences, 1);
    let (local, stripe, difference): (i64, i64, i64) =
        sqlx::query_as("SELECT local_total, stripe_total, difference FROM usage_reconciliation")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((local, stripe, difference), (19, 15, 4));
    app.log_in_as_admin().await;
    let page = app.page("/admin/usage").await;
    assert!(page.contains("usage-difference") && page.contains(&customer), "the admin page shows it");
}

#[tokio::test]
async fn the_spend_cap_refuses_chargeable_usage_until_raised_and_late_reports_are_judged() {
    let app = spawn_app().await;
    let (user, _, key) = scale_customer(&app, "cap").await;
    log_in_as(&app, user).await;
    let res = app.submit("/account", "Save spend cap", &[("cap", "0.50")]).await;
    assert_redirect(&res, "/account");

    // The plan includes 10,000 calls, then 1 cent each: 10,040 cost 40 cents, 10,060 would cost 60.
    assert_eq!(app.report_usage(Some(&key), report(METER, 10_040, "cap-1")).await.0, StatusCode::ACCEPTED);
    let (status, error) = app.report_usage(Some(&key), report(METER, 20, "cap-2")).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{error}");
    assert_eq!(error["error"]["code"], "spend_cap_reached");
    assert!(error["error"]["message"].as_str().unwrap().contains("$0.50"), "{error}");
    app.submit("/account", "Save spend cap", &[("cap", "5.00")]).await;
    assert_eq!(app.report_usage(Some(&key), report(METER, 20, "cap-2")).await.0, StatusCode::ACCEPTED);

    let now = sandbox_now(&app.sandbox_url).await.max(tollgate::server::db::now());
    let mut late = report(METER, 1, "late-ok");
    late["timestamp"] = (now - 30 * 86_400).into();
    assert_eq!(app.report_usage(Some(&key), late).await.0, StatusCode::ACCEPTED, "30 days late is taken");
    let mut old = report(METER, 1, "too-old");
    old["timestamp"] = (tollgate::server::db::now() - 36 * 86_400).into();
    let (status, error) = app.report_usage(Some(&key), old).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["error"]["message"].as_str().unwrap().contains("35 days"), "{error}");

    let account = app.page("/account").await;
    assert!(account.contains("Usage this period"), "{account}");
}

#[tokio::test]
async fn the_account_shows_usage_and_the_next_invoice_bills_the_base_fee_and_the_overage() {
    let app = spawn_app().await;
    let (user, customer, key) = scale_customer(&app, "arrears").await;
    assert_eq!(app.report_usage(Some(&key), report(METER, 10_500, "arrears-1")).await.0, StatusCode::ACCEPTED);
    all_sent(&app, 1).await;
    let email = log_in_as(&app, user).await;
    let account = app.page("/account").await;
    assert!(account.contains(">10500<"), "used: {account}");
    assert!(account.contains("usage-overage\">$5.00<"), "500 calls over at 1 cent: {account}");
    assert!(account.contains("usage-projected\">$54.00<"), "base fee and overage: {account}");

    app.advance_through_period_end(&email).await;
    let invoice = app.stripe_latest_invoice_of(&email).await;
    let lines: Vec<i64> =
        invoice["lines"]["data"].as_array().unwrap().iter().map(|l| l["amount"].as_i64().unwrap()).collect();
    assert!(lines.contains(&4900) && lines.contains(&500), "the base fee and the overage: {lines:?}");
    assert_eq!(invoice["total"], 5400);
    let paid = format!("SELECT COUNT(*) FROM invoices WHERE customer_id = '{customer}' AND amount_paid = 5400");
    eventually(app.db.pool(), &paid, 1).await;
    app.log_in_as_admin().await;
    let page = app.page(&format!("/admin/customers/{customer}")).await;
    assert!(page.contains("$54.00"), "the admin sees the invoice: {page}");
}

/// `GET /api/v1/entitlements` with `key` and an optional `?customer=`: (status, JSON body).
async fn entitlements_with(app: &TestApp, key: &str, customer: Option<&str>) -> (StatusCode, serde_json::Value) {
    let mut req = reqwest::Client::new().get(app.url("/api/v1/entitlements")).bearer_auth(key);
    if let Some(customer) = customer {
        req = req.query(&[("customer", customer)]);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn the_entitlements_api_answers_under_an_api_key_with_the_usage_left_and_refuses_without_one() {
    let app = spawn_app().await;
    let (user, _customer, key) = scale_customer(&app, "ent-key").await;
    for (n, value) in [(1, 1200), (2, 300)] {
        let (status, body) = app.report_usage(Some(&key), report(METER, value, &format!("ent-{n}"))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }

    let (status, body) = entitlements_with(&app, &key, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["plan"].as_str(), body["subscribed"].as_bool()), (Some("scale"), Some(true)), "{body}");
    let calls = &body["meters"][METER];
    assert_eq!((calls["used"].as_u64(), calls["included"].as_u64()), (Some(1500), Some(10_000)), "{body}");
    assert_eq!(calls["included_left"], 8_500, "{body}");
    assert!(calls["resets_at"].as_i64().is_some_and(|at| at > 0), "{body}");

    // A platform key asks about a named customer, and must name one.
    let platform = app.issue_api_key("ent-platform", None).await;
    let email = email_of(&app, user).await;
    let (status, by_email) = entitlements_with(&app, &platform, Some(&email)).await;
    assert_eq!(status, StatusCode::OK, "{by_email}");
    assert_eq!(by_email, body, "the same answer whoever asks");
    let (status, refused) = entitlements_with(&app, &platform, None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request"))
    );

    // A customer key asks about its own customer only.
    let (other, _) = customer_with_id(&app, "ent-other").await;
    let (status, refused) = entitlements_with(&app, &key, Some(&email_of(&app, other).await)).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));

    // No key, a wrong key, a revoked key: 401, even beside a signed-in session.
    let res = reqwest::Client::new().get(app.url("/api/v1/entitlements")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let last = if key.ends_with('a') { 'b' } else { 'a' };
    let wrong = format!("{}{last}", &key[..key.len() - 1]);
    assert_eq!(entitlements_with(&app, &wrong, None).await.0, StatusCode::UNAUTHORIZED);
    app.revoke_api_key(&key).await;
    assert_eq!(entitlements_with(&app, &key, None).await.0, StatusCode::UNAUTHORIZED);
    log_in_as(&app, user).await;
    let res = app.client.get(app.url("/api/v1/entitlements")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "a bad key is not saved by a cookie");
    let res = app.client.get(app.url("/api/v1/entitlements")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the session alone still answers");
}

/// `POST /api/v1/usage` with a batch body.
async fn report_batch(app: &TestApp, key: &str, events: serde_json::Value) -> (StatusCode, serde_json::Value) {
    app.report_usage(Some(key), json!({ "events": events })).await
}

fn statuses(answer: &serde_json::Value) -> Vec<String> {
    answer["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_batch_counts_each_identifier_once_and_refuses_only_its_bad_events() {
    let app = spawn_app().await;
    let (_, customer, key) = scale_customer(&app, "batch").await;
    let old = tollgate::server::db::now() - 36 * 86_400;
    let events = json!([
        { "meter": METER, "value": 5, "identifier": "b-1" },
        { "meter": METER, "value": 7, "identifier": "b-2" },
        { "meter": METER, "value": 5, "identifier": "b-1" },
        { "meter": "no-such-meter", "value": 1, "identifier": "b-3" },
        { "meter": METER, "value": 0, "identifier": "b-4" },
        { "meter": METER, "value": 1, "identifier": "b-5", "timestamp": old },
    ]);
    let (status, answer) = report_batch(&app, &key, events.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(statuses(&answer), ["created", "created", "duplicate", "refused", "refused", "refused"], "{answer}");
    assert_eq!((answer["created"].as_i64(), answer["refused"].as_i64()), (Some(2), Some(3)), "{answer}");
    assert_eq!(answer["results"][3]["error"]["code"], "invalid_request", "{answer}");
    assert!(answer["results"][5]["error"]["message"].as_str().unwrap().contains("35 days"), "{answer}");

    // The same batch again changes nothing; a single report of a batch's identifier is a duplicate.
    let (_, again) = report_batch(&app, &key, events).await;
    assert_eq!(statuses(&again)[..3], ["duplicate", "duplicate", "duplicate"], "{again}");
    assert_eq!(app.report_usage(Some(&key), report(METER, 5, "b-2")).await.1["status"], "duplicate");
    all_sent(&app, 2).await;
    assert_eq!(stripe_total(&app, &customer).await, 12.0, "each event once");

    // Bounds: an empty batch, or one over 1,000 events, is refused whole.
    let (status, _) = report_batch(&app, &key, json!([])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let many: Vec<serde_json::Value> =
        (0..1_001).map(|n| json!({ "meter": METER, "value": 1, "identifier": format!("many-{n}") })).collect();
    let (status, refused) = report_batch(&app, &key, json!(many)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["message"], "A batch holds 1 to 1000 events.", "{refused}");
}

#[tokio::test]
async fn concurrent_reports_never_carry_the_charge_past_the_spend_cap() {
    let app = spawn_app().await;
    let (user, _, key) = scale_customer(&app, "cap-race").await;
    tollgate::server::usage::spend_cap::set(app.db.pool(), user, Some(50), tollgate::server::db::now()).await.unwrap();
    // The included 10,000 calls are free; then 1 cent each. The cap of 50 cents admits 50 more.
    assert_eq!(app.report_usage(Some(&key), report(METER, 10_000, "race-base")).await.0, StatusCode::ACCEPTED);
    let answers = futures::future::join_all(
        (0..40).map(|n| app.report_usage(Some(&key), report(METER, 5, &format!("race-{n}")))),
    )
    .await;
    let accepted = answers.iter().filter(|(status, _)| *status == StatusCode::ACCEPTED).count();
    let capped = answers.iter().filter(|(status, _)| *status == StatusCode::PAYMENT_REQUIRED).count();
    assert_eq!((accepted, capped), (10, 30), "exactly 50 calls over the included units: {answers:?}");
    let total: i64 = sqlx::query_scalar("SELECT CAST(SUM(value) AS BIGINT) FROM usage_events")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(total, 10_050);
}
