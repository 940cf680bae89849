//! `customer.*`: the Stripe customer row (batched).

use stripe_shared::CustomerId;

use super::{object_id, ApplyContext};
use crate::server::billing::customers::{self, Fetched, Synced};
use crate::server::webhooks::inbox::InboxEvent;
use crate::server::webhooks::worker::{Outcome, Prepared};

/// `customer.created`, `customer.updated`: the customer as Stripe has it now.
pub async fn changed(ctx: &ApplyContext<'_>, event: InboxEvent) -> anyhow::Result<Prepared> {
    let id: CustomerId = object_id(&event)?;
    let fetched = customers::fetch(ctx.stripe, &id).await?;
    Ok(store(id, fetched, ctx.now))
}

/// `customer.deleted`: nothing to fetch.
pub async fn deleted(ctx: &ApplyContext<'_>, event: InboxEvent) -> anyhow::Result<Prepared> {
    let id: CustomerId = object_id(&event)?;
    Ok(store(id, Fetched::Deleted, ctx.now))
}

fn store(id: CustomerId, fetched: Fetched, now: i64) -> Prepared {
    Prepared::write(move |tx| {
        let (id, fetched) = (id.clone(), fetched.clone());
        Box::pin(async move {
            match customers::store_fetched(tx, &id, &fetched, now).await? {
                Synced::Stored { ours: false } | Synced::Deleted { ours: false } => {
                    Ok(Outcome::Skipped(format!("customer {id} is not linked to a user (stored anyway)")))
                }
                _ => Ok(Outcome::Applied),
            }
        })
    })
}
