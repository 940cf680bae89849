//! A marketplace purchase's events. `checkout.session.completed`: from the platform endpoint
//! (destination charges, via `checkout_session::completed`) or the Connect endpoint (direct
//! charges: the session lives on the creator's account, where `ctx.stripe` reads it); a direct
//! charge paid on the app's own page reports `payment_intent.succeeded` there. A direct
//! charge's refunds and disputes arrive on the Connect endpoint only (`refunded`, `disputed`).

use anyhow::Context;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_shared::PaymentIntentId;

use super::{object_id, ApplyContext};
use crate::server::db;
use crate::server::marketplace::orders::{self, fulfil, sync_dispute, sync_refunds};
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

pub async fn completed(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let id: String = object_id(&event)?;
    let Some(order) = orders::by_payment(ctx.pool, orders::PaidThrough::Checkout(&id)).await? else {
        return Ok(Outcome::Skipped(format!("{id} is not a marketplace order")));
    };
    fulfil_order(ctx, &id, &order).await
}

/// Re-reads the session and fulfils its order.
pub async fn fulfil_order(ctx: &ApplyContext<'_>, session_id: &str, order: &orders::Order) -> anyhow::Result<Outcome> {
    let session = fulfil::retrieve(ctx.stripe, session_id).await?;
    Ok(match fulfil::fulfil(ctx.pool, &session, order, ctx.now).await? {
        fulfil::OrderFulfilled::Paid => Outcome::Applied,
        fulfil::OrderFulfilled::AlreadyPaid => Outcome::Skipped("the order was paid already (success page)".into()),
        fulfil::OrderFulfilled::NotReady => Outcome::Skipped("not paid yet".into()),
    })
}

/// `payment_intent.succeeded` on a creator's account: a direct charge paid on the app's own page
/// (`/p/{slug}/pay`), re-read there and its order fulfilled.
pub async fn payment_succeeded(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let id: PaymentIntentId = object_id(&event)?;
    let intent = ctx
        .stripe
        .send(&RetrievePaymentIntent::new(&id), None)
        .await
        .with_context(|| format!("retrieving payment intent {id}"))?;
    let mut tx = db::begin_write(ctx.pool).await.context("starting a transaction")?;
    let fulfilled = fulfil::fulfil_intent(&mut tx, &intent, ctx.now).await?;
    tx.commit().await.context("committing the paid order")?;
    Ok(match fulfilled {
        fulfil::OrderFulfilled::Paid => Outcome::Applied,
        fulfil::OrderFulfilled::AlreadyPaid => Outcome::Skipped("the order was paid already (return page)".into()),
        fulfil::OrderFulfilled::NotReady => Outcome::Skipped(format!("{id} pays no pending marketplace order")),
    })
}

/// `charge.refunded`: the charge is the event's object.
pub async fn refunded(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    refunds_of(ctx, &object_id(&event)?).await
}

/// `charge.refund.updated`: the refund names its charge.
pub async fn refund_updated(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    refunds_of(ctx, &super::charge::refund_charge(&event.payload)?).await
}

async fn refunds_of(ctx: &ApplyContext<'_>, charge: &stripe_shared::ChargeId) -> anyhow::Result<Outcome> {
    Ok(match sync_refunds::sync_charge(ctx.pool, ctx.stripe, charge, ctx.now).await? {
        sync_refunds::OrderRefunds::NotAnOrder => Outcome::Skipped(format!("{charge} is not a marketplace order's")),
        sync_refunds::OrderRefunds::Unchanged => Outcome::Skipped("the order had these refunds already".into()),
        sync_refunds::OrderRefunds::Updated { .. } => Outcome::Applied,
    })
}

/// `charge.dispute.*` on a creator's account.
pub async fn disputed(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let dispute = object_id(&event)?;
    Ok(match sync_dispute::sync(ctx.pool, ctx.stripe, &dispute, ctx.now).await? {
        true => Outcome::Applied,
        false => Outcome::Skipped(format!("{dispute} changes no marketplace order")),
    })
}
