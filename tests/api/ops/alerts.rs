//! Operational alerts: a burst of declined payments, a dead-lettered event and refused webhook
//! signatures each mail every admin once when they start and once when they are over, however
//! many times the alerts are evaluated; `/metrics` shows each kind's value and whether it is open.

use tollgate::server::alerts::{self, AlertThresholds};
use tollgate::server::webhooks::signature;

use crate::helpers::hooks::spawn_hooks_app;
use crate::helpers::*;

const TOKEN: &str = "metrics-token-for-alert-tests";
const VISA: &str = "4242 4242 4242 4242";
const DECLINED: &str = "4000 0000 0000 0002";

/// What the test apps are configured with: evaluated every second, a rate over three attempts.
const OVERRIDES: [(&str, &str); 5] = [
    ("ALERT_CHECK_INTERVAL_SECS", "1"),
    ("ALERT_PAYMENT_MIN_ATTEMPTS", "3"),
    ("ALERT_PAYMENT_FAILURE_RATE_PERCENT", "50"),
    ("ALERT_REFUSED_WEBHOOKS_PER_HOUR", "2"),
    ("METRICS_TOKEN", TOKEN),
];

fn thresholds() -> AlertThresholds {
    AlertThresholds {
        check_interval_secs: 1,
        payment_min_attempts: 3,
        payment_failure_rate_percent: 50,
        refused_webhooks_per_hour: 2,
        ..AlertThresholds::default()
    }
}

/// Mails of `kind` (`ops_alert`, `ops_recovered`) to the admin whose subject starts with `subject`.
fn mails(kind: &str, subject: &str) -> String {
    format!(
        "SELECT COUNT(*) FROM emails WHERE kind = '{kind}' AND to_address = '{ADMIN_EMAIL}' AND subject LIKE '{subject}%'"
    )
}

/// Evaluates three more times at once, as other instances (or a restarted one) would, while the
/// app's own evaluator keeps running.
async fn evaluate_again(app: &TestApp) {
    let thresholds = thresholds();
    let once = || alerts::evaluate(app.db.pool(), &app.stripe, &thresholds, &app.address, tollgate::server::db::now());
    let (a, b, c) = futures::join!(once(), once(), once());
    for result in [a, b, c] {
        result.unwrap();
    }
}

async fn count(app: &TestApp, query: &str) -> i64 {
    sqlx::query_scalar(query).fetch_one(app.db.pool()).await.unwrap()
}

async fn scrape(app: &TestApp) -> String {
    let res = app.client.get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.text().await.unwrap()
}

fn gauge(body: &str, name: &str, kind: &str) -> f64 {
    let prefix = format!("{name}{{kind=\"{kind}\"}} ");
    let line = body.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {prefix} in {body}"));
    line[prefix.len()..].parse().unwrap()
}

#[tokio::test]
async fn a_burst_of_declined_payments_alerts_once_and_recovers_once() {
    let h = spawn_hooks_app(&OVERRIDES).await;
    let app = &h.app;
    // One buyer per payment: each Checkout is its own attempt.
    let buy = |n: usize, card: &'static str| {
        let h = &h;
        async move {
            let email = format!("buyer{n}@example.com");
            let user = h.insert_user(&email).await;
            h.buy_one_time(user, &email, card).await.1
        }
    };
    for n in 0..3 {
        assert_eq!(buy(n, DECLINED).await, 402);
    }
    let alerted = mails("ops_alert", "Alert: Payment failure rate at 100.00%");
    eventually(app.db.pool(), &alerted, 1).await;
    evaluate_again(app).await;
    assert_eq!(count(app, &alerted).await, 1, "one email for the incident, however often it is evaluated");
    let body: String =
        sqlx::query_scalar("SELECT body FROM emails WHERE kind = 'ops_alert'").fetch_one(app.db.pool()).await.unwrap();
    assert!(body.contains("/admin/payments"), "where to look: {body}");
    let recovered = mails("ops_recovered", "Recovered: Payment failure rate");
    assert_eq!(count(app, &recovered).await, 0);

    // Payments succeed again: 3 failures in 7 attempts is under 50%.
    for n in 3..7 {
        assert_eq!(buy(n, VISA).await, 303);
    }
    eventually(app.db.pool(), &recovered, 1).await;
    evaluate_again(app).await;
    assert_eq!(count(app, &recovered).await, 1, "one recovery email");
    assert_eq!(count(app, &alerted).await, 1, "and no new alert");
    let open = "SELECT COUNT(*) FROM alert_incidents WHERE kind = 'payment_failure_rate' AND resolved_at IS NULL";
    assert_eq!(count(app, open).await, 0);
}

#[tokio::test]
async fn a_dead_letter_alerts_once_shows_on_metrics_and_recovers_once_replayed() {
    let app = spawn_app_with(&OVERRIDES).await;
    dead_event(&app, "evt_alert_dead").await;
    let alerted = mails("ops_alert", "Alert: Dead-lettered webhook events");
    eventually(app.db.pool(), &alerted, 1).await;
    evaluate_again(&app).await;
    assert_eq!(count(&app, &alerted).await, 1);
    let body = scrape(&app).await;
    assert_eq!(gauge(&body, "tollgate_alert_open", "webhook_dead_letters"), 1.0, "{body}");
    assert_eq!(gauge(&body, "tollgate_alert_value", "webhook_dead_letters"), 1.0);
    assert_eq!(gauge(&body, "tollgate_alert_threshold", "payment_failure_rate"), 50.0);
    for kind in ["webhook_outbox_lag", "mail_outbox_lag", "webhook_refused_signatures", "stripe_unreachable"] {
        gauge(&body, "tollgate_alert_value", kind);
        gauge(&body, "tollgate_alert_open", kind);
    }

    app.log_in_as_admin().await;
    let res = app.submit("/admin/events?status=dead", "Replay", &[("event_id", "evt_alert_dead")]).await;
    assert_redirect(&res, "/admin/events?replayed=evt_alert_dead&outcome=queued");
    let recovered = mails("ops_recovered", "Recovered: Dead-lettered webhook events");
    eventually(app.db.pool(), &recovered, 1).await;
    evaluate_again(&app).await;
    assert_eq!(count(&app, &recovered).await, 1);
    assert_eq!(count(&app, &alerted).await, 1);
    assert_eq!(gauge(&scrape(&app).await, "tollgate_alert_open", "webhook_dead_letters"), 0.0);
}

#[tokio::test]
async fn webhooks_refused_for_their_signature_are_counted_in_the_database_and_alert() {
    let app = spawn_app_with(&OVERRIDES).await;
    let body = br#"{"id":"evt_forged","object":"event"}"#;
    for _ in 0..2 {
        let now = tollgate::server::db::now();
        let res = app
            .client
            .post(app.url("/webhooks/stripe"))
            .header("stripe-signature", signature::sign(body, "whsec_rotated_away", now))
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400);
    }
    let counted = "SELECT CAST(SUM(hits) AS BIGINT) FROM rate_limit_hits WHERE scope = 'webhook_refused'";
    assert_eq!(count(&app, counted).await, 2, "durable, for every instance's evaluation");
    eventually(app.db.pool(), &mails("ops_alert", "Alert: Webhook deliveries refused"), 1).await;
}
