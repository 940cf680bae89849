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
    let (amount, refunded): (i64, i64) = sqlx::query_as("SELECT amount, refunded FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(pool)
        .await
        .context("reading the disputed order")?;
    let stage = stage(&dispute.status);
    let (from, to, action) = match stage {
        Stage::Open | Stage::Lost => (
            vec![OrderStatus::Paid, OrderStatus::PartiallyRefunded, OrderStatus::Refunded],
            OrderStatus::Disputed,
            "marketplace.order_disputed",
        ),
        Stage::Won => {
            (vec![OrderStatus::Disputed], OrderStatus::after_refunds(refunded, amount), "marketplace.dispute_won")
        }
    };
    let mut tx = db::begin_write(pool).await.context("starting a transaction")?;
    let mut wrote = false;
    for status in from {
        let moved = sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(to.as_str())
            .bind(now)
            .bind(order_id)
            .bind(status.as_str())
            .execute(&mut *tx)
            .await
            .context("moving the disputed order")?;
        if moved.rows_affected() == 1 {
            let subject = order_id.to_string();
            let before = serde_json::json!({ "status": status.as_str() }).to_string();
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
            break;
        }
    }
    if stage == Stage::Lost {
        wrote |= super::revoke_access(&mut tx, order_id, "dispute_lost", now).await?;
    }
    tx.commit().await.context("committing the disputed order")?;
    Ok(wrote)
}
