//! `customer.subscription.*`: the subscription row and what follows from it (own transaction).

use anyhow::Context;

use stripe_shared::SubscriptionId;

use super::{account_url, customer_email, enqueue_alone, object_id, ApplyContext};
use crate::server::billing::{emails, subscriptions};
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

/// Any change to a subscription: re-read and stored (entitlements, MRR movements follow).
pub async fn changed(ctx: &ApplyContext<'_>, event: InboxEvent, envelope: Envelope) -> anyhow::Result<Outcome> {
    subscriptions::sync_subscription(ctx.pool, ctx.stripe, &object_id(&event)?, &event.id, envelope.created, ctx.now)
        .await?;
    Ok(Outcome::Applied)
}

/// A trial ends in a few days: stored as any change, and the customer is told.
pub async fn trial_will_end(ctx: &ApplyContext<'_>, event: InboxEvent, envelope: Envelope) -> anyhow::Result<Outcome> {
    let id: SubscriptionId = object_id(&event)?;
    subscriptions::sync_subscription(ctx.pool, ctx.stripe, &id, &event.id, envelope.created, ctx.now).await?;
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT customer_id, trial_end FROM subscriptions WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(ctx.pool)
            .await
            .context("reading the subscription")?;
    if let Some((customer_id, Some(trial_end))) = row {
        if let Some(to) = customer_email(ctx.pool, &customer_id, None).await? {
            let email = emails::trial_ending(&to, &id, trial_end, &account_url(ctx));
            enqueue_alone(ctx.pool, &email, ctx.now).await?;
        }
    }
    Ok(Outcome::Applied)
}
