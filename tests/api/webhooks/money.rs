//! Money events through real signed sandbox deliveries: one-time grants and refunds, failed
//! payments, disputes and their admin alert, and duplicate deliveries.

use serde_json::json;

use crate::helpers::hooks::{count, eventually, inbox_drained, spawn_hooks_app};
use crate::helpers::ADMIN_EMAIL;

const VISA: &str = "4242 4242 4242 4242";
const DECLINED: &str = "4000 0000 0000 0002";
const DISPUTED: &str = "4000 0000 0000 0259";

#[tokio::test]
async fn a_one_time_purchase_grants_once_and_a_full_refund_revokes_it() {
    let h = spawn_hooks_app(&[]).await;
    let pool = h.pool();
    let user = h.insert_user("once@example.com").await;
    let (_session, status) = h.buy_one_time(user, "once@example.com", VISA).await;
    assert_eq!(status, 303);
    eventually(pool, "SELECT COUNT(*) FROM entitlements WHERE grant_key = 'onboarding' AND revoked_at IS NULL", 1)
        .await;
    eventually(pool, "SELECT COUNT(*) FROM payments WHERE status = 'succeeded' AND amount = 19900", 1).await;
    let pi: String = sqlx::query_scalar("SELECT payment_intent_id FROM entitlements").fetch_one(pool).await.unwrap();
    assert!(pi.starts_with("pi_"), "{pi}");

    // A partial refund is a credit: the purchase stands.
    h.stripe_post("/v1/refunds", &[("payment_intent", &pi), ("amount", "5000")]).await;
    eventually(pool, "SELECT COUNT(*) FROM refunds WHERE amount = 5000 AND status = 'succeeded'", 1).await;
    inbox_drained(pool).await;
    assert_eq!(count(pool, "SELECT COUNT(*) FROM entitlements WHERE revoked_at IS NULL").await, 1);

    // Refunding the rest takes it back.
    h.stripe_post("/v1/refunds", &[("payment_intent", &pi)]).await;
    eventually(pool, "SELECT COUNT(*) FROM refunds", 2).await;
    eventually(
        pool,
        "SELECT COUNT(*) FROM entitlements WHERE revoked_at IS NOT NULL AND revoke_reason = 'refunded'",
        1,
    )
    .await;
    let refunded: i64 =
        count(pool, &format!("SELECT CAST(SUM(amount) AS BIGINT) FROM refunds WHERE payment_intent_id = '{pi}'")).await;
    assert_eq!(refunded, 19900);
}

#[tokio::test]
async fn a_declined_card_is_a_failed_payment_with_its_code_and_grants_nothing() {
    let h = spawn_hooks_app(&[]).await;
    let pool = h.pool();
    let user = h.insert_user("declined@example.com").await;
    let (_session, status) = h.buy_one_time(user, "declined@example.com", DECLINED).await;
    assert_eq!(status, 402);
    eventually(
        pool,
        "SELECT COUNT(*) FROM payments WHERE status = 'requires_payment_method' \
         AND failure_code = 'generic_decline' AND failure_message IS NOT NULL AND customer_id IS NOT NULL",
        1,
    )
    .await;
    inbox_drained(pool).await;
    assert_eq!(count(pool, "SELECT COUNT(*) FROM entitlements").await, 0);
}

#[tokio::test]
async fn a_dispute_is_stored_and_alerts_the_admin_once_even_with_every_delivery_duplicated() {
    let h = spawn_hooks_app(&[]).await;
    let pool = h.pool();
    // Every event delivered twice, some concurrently.
    h.control("/chaos", json!({"duplicate_share": 1.0, "reorder_window": 0, "delay_ms": 0, "concurrency": 4})).await;
    let user = h.insert_user("disputer@example.com").await;
    let (_session, status) = h.buy_one_time(user, "disputer@example.com", DISPUTED).await;
    assert_eq!(status, 303);
    eventually(pool, "SELECT COUNT(*) FROM disputes WHERE reason = 'fraudulent' AND status = 'needs_response'", 1)
        .await;
    eventually(
        pool,
        &format!("SELECT COUNT(*) FROM emails WHERE kind = 'dispute_alert' AND to_address = '{ADMIN_EMAIL}'"),
        1,
    )
    .await;
    h.wait_for_deliveries().await;
    inbox_drained(pool).await;

    // The duplicates really were delivered…
    let deliveries = h.stripe_get("/_sandbox/deliveries?event_type=charge.dispute.created").await;
    let dupes = deliveries["data"].as_array().unwrap().iter().filter(|d| d["duplicate"] == true).count();
    assert!(dupes >= 1, "the sandbox sent no duplicate: {deliveries}");
    // …and changed nothing twice.
    assert_eq!(count(pool, "SELECT COUNT(*) FROM emails WHERE kind = 'dispute_alert'").await, 1);
    assert_eq!(count(pool, "SELECT COUNT(*) FROM entitlements").await, 1);
    assert_eq!(count(pool, "SELECT COUNT(*) FROM disputes").await, 1);
    assert_eq!(count(pool, "SELECT COUNT(*) FROM payments").await, 1);
    let due: Option<i64> = sqlx::query_scalar("SELECT evidence_due_by FROM disputes").fetch_one(pool).await.unwrap();
    assert!(due.is_some_and(|t| t > 0));

    // The admin closes it (accepting the loss): the row follows.
    let id: String = sqlx::query_scalar("SELECT id FROM disputes").fetch_one(pool).await.unwrap();
    h.stripe_post(&format!("/v1/disputes/{id}/close"), &[]).await;
    eventually(pool, "SELECT COUNT(*) FROM disputes WHERE status = 'lost'", 1).await;
    assert_eq!(count(pool, "SELECT COUNT(*) FROM emails WHERE kind = 'dispute_alert'").await, 1);
}
