//! A dispute on an order's payment (`charge.dispute.*`, on the platform endpoint for a destination
//! charge, on the Connect endpoint for a direct one): the order is `disputed` while the dispute is
//! open; a lost dispute takes the product out of the buyer's library, a won one puts the order
//! back where its refunds left it. Each move is one conditional update and one audit row.

use anyhow::Context;
use stripe_core::dispute::RetrieveDispute;
use stripe_shared::{DisputeId, DisputeStatus};

use crate::domain::marketplace::OrderStatus;
use crate::server::admin::audit::{self, Actor, Record};
use crate::server::db;
use crate::server::stripe::client::StripeClient;

/// Where a dispute stands, for its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Open,
    Lost,
    /// Won, or an inquiry closed without a chargeback.
    Won,
}

fn stage(status: &DisputeStatus) -> Stage {
    match status {
        DisputeStatus::Lost => Stage::Lost,
        DisputeStatus::Won | DisputeStatus::WarningClosed | DisputeStatus::Prevented => Stage::Won,
        _ => Stage::Open,
    }
}

/// Re-reads dispute `dispute_id` with `stripe` (bound to the account its charge lives on) and
/// moves its order, if it is a marketplace order's. Returns whether anything was written.
pub async fn sync(
    pool: &sqlx::AnyPool,
    stripe: &StripeClient,
    dispute_id: &DisputeId,
    now: i64,
) -> anyhow::Result<bool> {
    // With its charge, as the platform's dispute sync reads it (one read serves both).
    let dispute = stripe
        .send(&RetrieveDispute::new(dispute_id).expand(vec!["charge".to_string()]), None)
        .await
        .with_context(|| format!("retrieving dispute {dispute_id}"))?;
    let Some(payment_intent) = dispute.payment_intent.as_ref().map(|pi| pi.id().as_str().to_owned()) else {
        return Ok(false);
    };
    if let stripe_types::Expandable::Object(charge) = &dispute.charge {
        if !super::fulfil::may_be_a_sale(stripe, charge) {
            return Ok(false);
        }
    }
    let Some(order_id) = super::fulfil::paid_order_of_payment(pool, stripe, &payment_intent, now).await? else {
        return Ok(false);
    };
    let mut tx = db::begin_write(pool).await.context("starting a transaction")?;
    // Read under lock (Postgres; SQLite's write transaction already excludes other writers),
    // so the move below is decided on the status it changes.
    let lock = if tx.backend_name() == "PostgreSQL" { " FOR UPDATE" } else { "" };
    let (status, amount, refunded): (String, i64, i64) =
        sqlx::query_as(&format!("SELECT status, amount, refunded FROM orders WHERE id = $1{lock}"))
            .bind(order_id)
            .fetch_one(&mut *tx)
            .await
            .context("reading the disputed order")?;
    let stage = stage(&dispute.status);
    let (from, to, action) = match stage {
        Stage::Open | Stage::Lost => (
            [OrderStatus::Paid, OrderStatus::PartiallyRefunded, OrderStatus::Refunded].as_slice(),
            OrderStatus::Disputed,
            "marketplace.order_disputed",
        ),
        Stage::Won => (
            [OrderStatus::Disputed].as_slice(),
            OrderStatus::after_refunds(refunded, amount),
            "marketplace.dispute_won",
        ),
    };
    let moves = from.iter().any(|from| from.as_str() == status);
    let mut wrote = false;
    if moves {
        let moved = sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(to.as_str())
            .bind(now)
            .bind(order_id)
            .bind(&status)
            .execute(&mut *tx)
            .await
            .context("moving the disputed order")?;
        // Zero rows: another delivery moved it first (SQLite without the row lock); it audited.
        if moved.rows_affected() == 1 {
            let subject = order_id.to_string();
            let before = serde_json::json!({ "status": status }).to_string();
            let after = serde_json::json!({
                "status": to.as_str(), "dispute": dispute.id.as_str(), "dispute_status": dispute.status.as_str(),
            })
            .to_string();
            let record = Record {
                action,
                subject_type: "order",
                subject_id: &subject,
                customer_id: None,
                before: Some(&before),
                after: Some(&after),
            };
            audit::write(&mut tx, &Actor::stripe(), record, now).await?;
            wrote = true;
        }
    }
    if stage == Stage::Lost {
        wrote |= super::revoke_access(&mut tx, order_id, "dispute_lost", now).await?;
    }
    tx.commit().await.context("committing the disputed order")?;
    Ok(wrote)
}
