//! Radar's early fraud warnings through real signed sandbox deliveries (every event delivered
//! twice): the warning flags its payment, alerts every admin once and is audited once; with
//! `FRAUD_WARNING_AUTO_REFUND` it refunds the charge in full, once, and without it nothing is
//! refunded. Handling the warning again changes nothing.

use serde_json::json;
use tollgate::server::billing::fraud_warnings::{self, Response};

use crate::helpers::hooks::{count, eventually, inbox_drained, spawn_hooks_app, HooksApp};
use crate::helpers::ADMIN_EMAIL;

/// Stripe's test card whose charge succeeds, then gets an early fraud warning.
const FRAUD_WARNING: &str = "4000 0000 0000 5423";

/// Buys the one-time item with the warned card, every delivery duplicated; returns its payment
/// intent once the warning is stored.
async fn warned_purchase(h: &HooksApp, email: &str) -> String {
    h.control("/chaos", json!({"duplicate_share": 1.0, "reorder_window": 0, "delay_ms": 0, "concurrency": 4})).await;
    let user = h.insert_user(email).await;
    let (_session, status) = h.buy_one_time(user, email, FRAUD_WARNING).await;
    assert_eq!(status, 303, "the charge itself succeeds");
    let pool = h.pool();
    eventually(pool, "SELECT COUNT(*) FROM early_fraud_warnings", 1).await;
    eventually(pool, "SELECT COUNT(*) FROM payments WHERE status = 'succeeded'", 1).await;
    sqlx::query_scalar("SELECT payment_intent_id FROM early_fraud_warnings").fetch_one(pool).await.unwrap()
}

/// The warning handled once more, as a late redelivery would.
async fn handle_again(h: &HooksApp, auto_refund: bool) -> Response {
    let id: String = sqlx::query_scalar("SELECT id FROM early_fraud_warnings").fetch_one(h.pool()).await.unwrap();
    let url = "http://tollgate.test/admin/payments";
    let now = tollgate::server::db::now();
    fraud_warnings::sync(h.pool(), &h.app.stripe, &id.as_str().into(), auto_refund, url, now).await.unwrap()
}

async fn stripe_refunds(h: &HooksApp, payment_intent: &str) -> Vec<serde_json::Value> {
    h.stripe_get(&format!("/v1/refunds?payment_intent={payment_intent}")).await["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_early_fraud_warning_alerts_the_admins_once_and_flags_the_payment_but_refunds_nothing_by_default() {
    let h = spawn_hooks_app(&[]).await;
    let pool = h.pool();
    let payment_intent = warned_purchase(&h, "warned@example.com").await;
    let alerts = format!("SELECT COUNT(*) FROM emails WHERE kind = 'fraud_warning' AND to_address = '{ADMIN_EMAIL}'");
    eventually(pool, &alerts, 1).await;
    h.wait_for_deliveries().await;
    inbox_drained(pool).await;

    // The created event really came twice…
    let deliveries = h.stripe_get("/_sandbox/deliveries?event_type=radar.early_fraud_warning.created").await;
    let dupes = deliveries["data"].as_array().unwrap().iter().filter(|d| d["duplicate"] == true).count();
    assert!(dupes >= 1, "the sandbox sent no duplicate: {deliveries}");
    // …and handling it again is a no-op too.
    assert_eq!(handle_again(&h, false).await, Response::LeftToTheAdmin);
    assert_eq!(count(pool, "SELECT COUNT(*) FROM emails WHERE kind = 'fraud_warning'").await, 1);
    assert_eq!(count(pool, "SELECT COUNT(*) FROM audit_log WHERE action = 'fraud_warning'").await, 1);
    let body: String =
        sqlx::query_scalar("SELECT body FROM emails WHERE kind = 'fraud_warning'").fetch_one(pool).await.unwrap();
    assert!(body.contains("$199.00") && body.contains("FRAUD_WARNING_AUTO_REFUND is off"), "{body}");

    // Nothing refunded, in Stripe or here; the warning is still actionable.
    assert!(stripe_refunds(&h, &payment_intent).await.is_empty());
    assert_eq!(count(pool, "SELECT COUNT(*) FROM refunds").await, 0);
    assert_eq!(count(pool, "SELECT COUNT(*) FROM early_fraud_warnings WHERE CAST(actionable AS INTEGER) = 1").await, 1);

    // The payment is flagged on the admin's payments page.
    h.app.log_in_as_admin().await;
    let page = h.app.page("/admin/payments").await;
    let row = &page[page.find(&format!(r#"data-payment="{payment_intent}""#)).expect("the payment's row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("Early fraud warning (misc)"), "{row}");
    assert!(row.contains("normal risk (32)"), "Radar's own verdict stays: {row}");
}

#[tokio::test]
async fn with_auto_refund_on_an_early_fraud_warning_refunds_the_charge_in_full_once() {
    let h = spawn_hooks_app(&[("FRAUD_WARNING_AUTO_REFUND", "true")]).await;
    let pool = h.pool();
    let payment_intent = warned_purchase(&h, "refunded@example.com").await;
    // The refund's own webhook, and the warning's update (no longer actionable), come back.
    eventually(pool, "SELECT COUNT(*) FROM refunds WHERE reason = 'fraudulent' AND status = 'succeeded'", 1).await;
    eventually(pool, "SELECT COUNT(*) FROM early_fraud_warnings WHERE CAST(actionable AS INTEGER) = 0", 1).await;
    eventually(pool, "SELECT COUNT(*) FROM entitlements WHERE revoke_reason = 'refunded'", 1).await;
    h.wait_for_deliveries().await;
    inbox_drained(pool).await;
    assert_eq!(handle_again(&h, true).await, Response::Settled, "a settled warning is not refunded again");

    let refunds = stripe_refunds(&h, &payment_intent).await;
    assert_eq!(refunds.len(), 1, "one refund in Stripe: {refunds:?}");
    assert_eq!((refunds[0]["amount"].as_i64(), refunds[0]["reason"].as_str()), (Some(19900), Some("fraudulent")));
    assert_eq!(count(pool, "SELECT COUNT(*) FROM emails WHERE kind = 'fraud_warning'").await, 1);
    let (audits, after): (i64, String) = sqlx::query_as(
        "SELECT COUNT(*), MAX(after_state) FROM audit_log WHERE action = 'fraud_warning' AND subject_id = $1",
    )
    .bind(&payment_intent)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(audits, 1);
    let refund_id = refunds[0]["id"].as_str().unwrap();
    assert!(after.contains(refund_id), "the audit row names the refund: {after}");
}
