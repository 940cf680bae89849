//! `product.*`, `price.*`: the local copy of the catalog, and drift from `catalog.toml` (own
//! transaction).

use super::{object_id, ApplyContext};
use crate::server::billing::catalog_events;
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

pub async fn price(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let drift = catalog_events::sync_price(ctx.pool, ctx.stripe, &object_id(&event)?, ctx.now).await?;
    Ok(drift_outcome(drift))
}

pub async fn product(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let drift = catalog_events::sync_product(ctx.pool, ctx.stripe, &object_id(&event)?, ctx.now).await?;
    Ok(drift_outcome(drift))
}

/// Applied, but drift from `catalog.toml` is worth a note on the event (the admin's event log).
fn drift_outcome(drift: Vec<String>) -> Outcome {
    if drift.is_empty() {
        Outcome::Applied
    } else {
        Outcome::Skipped(format!("stored; drift from catalog.toml: {}", drift.join("; ")))
    }
}
