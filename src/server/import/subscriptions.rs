//! Imported subscriptions and the MRR history they imply. The webhook path records a movement
//! whenever a stored subscription's MRR changes (`billing::subscriptions::upsert`); an import
//! sees each subscription once, as it is now, so a subscription new to the database is stored
//! the way its life went: a canceled one that was paid for is first stored as it was while
//! paying (a "new" movement at its start), then as it is (the churn, at its end); a paying one
//! gets its "new" movement at the start of its paid time (its trial's end, else its start).
//! Storing goes through `store_subscription`, whose movements are numbered per subscription,
//! so a second import, finding each row current, adds none.

use anyhow::Context;
use sqlx::{Any, Transaction};
use stripe_shared::{Subscription, SubscriptionStatus};

use crate::server::billing::subscriptions::{store_subscription, SubscriptionRow};

/// The cause logged with the movements an import writes.
const CAUSE: &str = "import";

/// Stores one listed subscription (and, when it is new here, the history before it).
pub async fn store(tx: &mut Transaction<'static, Any>, sub: &Subscription, now: i64) -> anyhow::Result<()> {
    let row = SubscriptionRow::from_stripe(sub)?;
    let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE id = $1")
        .bind(&row.id)
        .fetch_one(&mut **tx)
        .await
        .context("looking for the subscription")?;
    let ended = row.ended_at.or(row.canceled_at).unwrap_or(now);
    let occurred_at = match (known > 0, sub.status == SubscriptionStatus::Canceled) {
        (_, true) => ended,
        (true, false) => now,
        (false, false) => paid_from(sub),
    };
    if known == 0 {
        if let Some(paying) = while_paying(sub)? {
            store_subscription(tx, &paying, CAUSE, paid_from(sub), now).await?;
        }
    }
    store_subscription(tx, &row, CAUSE, occurred_at, now).await?;
    Ok(())
}

/// When the subscription started to pay: its trial's end, else its start.
fn paid_from(sub: &Subscription) -> i64 {
    sub.trial_end.filter(|end| *end > sub.start_date).unwrap_or(sub.start_date)
}

/// A canceled subscription as it was while it paid; none when it never did (canceled in its
/// trial).
fn while_paying(sub: &Subscription) -> anyhow::Result<Option<SubscriptionRow>> {
    if sub.status != SubscriptionStatus::Canceled {
        return Ok(None);
    }
    let ended = sub.ended_at.or(sub.canceled_at).unwrap_or(sub.start_date);
    if ended < paid_from(sub) {
        return Ok(None);
    }
    let mut paying = sub.clone();
    paying.status = SubscriptionStatus::Active;
    paying.canceled_at = None;
    paying.ended_at = None;
    paying.cancel_at = None;
    paying.cancel_at_period_end = false;
    let row = SubscriptionRow::from_stripe(&paying)?;
    Ok((row.mrr > 0).then_some(row))
}
