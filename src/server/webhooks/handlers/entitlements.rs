//! `entitlements.active_entitlement_summary.updated`: the customer's active entitlements, re-listed
//! from Stripe and stored whole (own transaction). The summary has no id of its own: the
//! customer it names is read from the stored payload.

use anyhow::Context;

use super::ApplyContext;
use crate::server::entitlements::stripe_summary;
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

pub async fn summary_updated(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let payload: serde_json::Value = serde_json::from_str(&event.payload).context("stored payload is not JSON")?;
    let customer = payload["data"]["object"]["customer"]
        .as_str()
        .with_context(|| format!("{} names no customer", event.event_type))?;
    stripe_summary::sync_customer(ctx.pool, ctx.stripe, customer, ctx.now).await?;
    Ok(Outcome::Applied)
}
