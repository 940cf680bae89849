//! An order's refunds as Stripe last reported them (`charge.refunded`, on the platform endpoint
//! for a destination charge, on the Connect endpoint for a direct one): what the buyer got back,
//! the share taken back from the creator (the transfer's reversals) and the platform's fee
//! returned to the creator. A full refund takes the product out of the buyer's library.
//!
//! Each change is one conditional update and one audit row: figures only ever grow, so a stale
//! re-read (a concurrent worker that read before the latest refund) changes nothing.

use anyhow::Context;
use stripe_connect::application_fee::RetrieveApplicationFee;
use stripe_connect::transfer::RetrieveTransfer;
use stripe_core::charge::RetrieveCharge;
use stripe_shared::{Charge, ChargeId};

use crate::domain::marketplace::OrderStatus;
use crate::server::admin::audit::{self, Actor, Record};
use crate::server::db;
use crate::server::stripe::client::StripeClient;

/// What Stripe says was given back on an order's payment, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct RefundFigures {
    /// To the buyer.
    pub refunded: i64,
    /// Of the platform's fee, to the creator.
    pub fee_refunded: i64,
    /// Of the transfer, from the creator (destination charges).
    pub transfer_reversed: i64,
}

impl RefundFigures {
    /// Whether `self` (newer) has everything `older` had: refunds are never taken back.
    fn covers(&self, older: &Self) -> bool {
        self.refunded >= older.refunded
            && self.fee_refunded >= older.fee_refunded
            && self.transfer_reversed >= older.transfer_reversed
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRefunds {
    /// The charge is not a marketplace order's.
    NotAnOrder,
    /// Nothing new since the last time.
    Unchanged,
    /// The order's figures moved; `revoked` when this took the product back.
    Updated { revoked: bool },
}

/// Re-reads charge `charge_id` with `stripe` (bound to the account the charge lives on) and, when
/// it paid for an order, stores that order's refunds.
pub async fn sync_charge(
    pool: &sqlx::AnyPool,
    stripe: &StripeClient,
    charge_id: &ChargeId,
    now: i64,
) -> anyhow::Result<OrderRefunds> {
    let charge =
        stripe.send(&RetrieveCharge::new(charge_id), None).await.with_context(|| format!("retrieving {charge_id}"))?;
    sync_order_of(pool, stripe, &charge, now).await
}

/// As [`sync_charge`], for a charge just read from Stripe with `stripe`.
pub async fn sync_order_of(
    pool: &sqlx::AnyPool,
    stripe: &StripeClient,
    charge: &Charge,
    now: i64,
) -> anyhow::Result<OrderRefunds> {
    let Some(payment_intent) = charge.payment_intent.as_ref().map(|pi| pi.id().as_str().to_owned()) else {
        return Ok(OrderRefunds::NotAnOrder);
    };
    if !super::fulfil::may_be_a_sale(stripe, charge) {
        return Ok(OrderRefunds::NotAnOrder);
    }
    let Some(order_id) = super::fulfil::paid_order_of_payment(pool, stripe, &payment_intent, now).await? else {
        return Ok(OrderRefunds::NotAnOrder);
    };
    let order = order_row(pool, order_id).await?;
    let figures = figures_of(stripe, charge).await?;
    store(pool, &order, charge, figures, now).await
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    amount: i64,
    status: String,
}

async fn order_row(pool: &sqlx::AnyPool, id: i64) -> anyhow::Result<OrderRow> {
    sqlx::query_as("SELECT id, amount, status FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .context("reading the refunded order")
}

/// The charge's refunds, its transfer's reversals and its fee's refunds. The transfer and the
/// application fee are the platform's objects, read there whoever owns the charge.
async fn figures_of(stripe: &StripeClient, charge: &Charge) -> anyhow::Result<RefundFigures> {
    let platform = stripe.on_platform();
    let transfer_reversed = match &charge.transfer {
        Some(transfer) => {
            platform
                .send(&RetrieveTransfer::new(transfer.id().clone()), None)
                .await
                .context("retrieving the transfer")?
                .amount_reversed
        }
        None => 0,
    };
    let fee_refunded = match &charge.application_fee {
        Some(fee) => {
            platform
                .send(&RetrieveApplicationFee::new(fee.id().clone()), None)
                .await
                .context("retrieving the application fee")?
                .amount_refunded
        }
        None => 0,
    };
    Ok(RefundFigures { refunded: charge.amount_refunded, fee_refunded, transfer_reversed })
}

async fn store(
    pool: &sqlx::AnyPool,
    order: &OrderRow,
    charge: &Charge,
    figures: RefundFigures,
    now: i64,
) -> anyhow::Result<OrderRefunds> {
    let mut tx = db::begin_write(pool).await.context("starting a transaction")?;
    db::lock_key(&mut tx, &format!("order:{}", order.id)).await.context("locking the order")?;
    let before: RefundFigures =
        sqlx::query_as("SELECT refunded, fee_refunded, transfer_reversed FROM orders WHERE id = $1")
            .bind(order.id)
            .fetch_one(&mut *tx)
            .await
            .context("reading the order's refunds")?;
    if before == figures || !figures.covers(&before) || order.status == OrderStatus::Pending.as_str() {
        return Ok(OrderRefunds::Unchanged);
    }
    // A disputed order keeps that status: the dispute's outcome decides what comes next.
    let status = match OrderStatus::parse(&order.status) {
        Some(OrderStatus::Disputed) => OrderStatus::Disputed,
        _ => OrderStatus::after_refunds(figures.refunded, order.amount),
    };
    sqlx::query(
        "UPDATE orders SET refunded = $1, fee_refunded = $2, transfer_reversed = $3, status = $4, charge_id = $5, \
         updated_at = $6 WHERE id = $7",
    )
    .bind(figures.refunded)
    .bind(figures.fee_refunded)
    .bind(figures.transfer_reversed)
    .bind(status.as_str())
    .bind(charge.id.as_str())
    .bind(now)
    .bind(order.id)
    .execute(&mut *tx)
    .await
    .context("storing the order's refunds")?;
    let subject = order.id.to_string();
    let json = |f: &RefundFigures, status: &str| {
        serde_json::json!({
            "status": status, "refunded": f.refunded, "fee_refunded": f.fee_refunded,
            "transfer_reversed": f.transfer_reversed, "currency": charge.currency.to_string(),
        })
        .to_string()
    };
    let (was, is) = (json(&before, &order.status), json(&figures, status.as_str()));
    let record = Record {
        action: "marketplace.order_refunded",
        subject_type: "order",
        subject_id: &subject,
        customer_id: None,
        before: Some(&was),
        after: Some(&is),
    };
    audit::write(&mut tx, &Actor::stripe(), record, now).await?;
    let revoked = charge.refunded && super::revoke_access(&mut tx, order.id, "refunded", now).await?;
    tx.commit().await.context("committing the order's refunds")?;
    Ok(OrderRefunds::Updated { revoked })
}
