//! `checkout.session.completed` of a marketplace purchase: from the platform endpoint
//! (destination charges, via `checkout_session::completed`) or the Connect endpoint (direct
//! charges: the session lives on the creator's account, where `ctx.stripe` reads it).

use super::{object_id, ApplyContext};
use crate::server::marketplace::orders::{self, fulfil};
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

pub async fn completed(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let id: String = object_id(&event)?;
    let Some(order) = orders::by_session(ctx.pool, &id).await? else {
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
