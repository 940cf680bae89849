//! `charge.refunded`, `charge.refund.updated`: a charge's refunds (own transaction), and the
//! marketplace order it paid for, if any (a destination charge lives on the platform).

use anyhow::Context;
use stripe_core::charge::RetrieveCharge;
use stripe_shared::ChargeId;

use super::{object_id, ApplyContext};
use crate::server::billing::refunds;
use crate::server::marketplace::orders::sync_refunds;
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

/// The event's object is the charge.
pub async fn refunded(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    sync_charge(ctx, &object_id(&event)?).await
}

/// The event carries the refund; its charge is what to re-read.
pub async fn refund_updated(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    sync_charge(ctx, &refund_charge(&event.payload)?).await
}

/// One read of the charge serves both: its refunds, then its order's.
async fn sync_charge(ctx: &ApplyContext<'_>, charge_id: &ChargeId) -> anyhow::Result<Outcome> {
    let charge = ctx
        .stripe
        .send(&RetrieveCharge::new(charge_id), None)
        .await
        .with_context(|| format!("retrieving charge {charge_id}"))?;
    refunds::sync_refunds_of(ctx.pool, ctx.stripe, &charge, ctx.now).await?;
    sync_refunds::sync_order_of(ctx.pool, ctx.stripe, &charge, ctx.now).await?;
    Ok(Outcome::Applied)
}

/// The charge a refund event's refund belongs to.
pub(super) fn refund_charge(payload: &str) -> anyhow::Result<ChargeId> {
    let value: serde_json::Value = serde_json::from_str(payload).context("stored payload is not JSON")?;
    value["data"]["object"]["charge"].as_str().map(ChargeId::from).context("the refund names no charge")
}
