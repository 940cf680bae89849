//! Connected accounts' own events: `account.updated` re-reads the account on that account and
//! stores what the app keeps of a creator; `account.application.deauthorized` marks the creator
//! disconnected. An account no creator has is set aside with the reason.

use anyhow::Context;

use super::ApplyContext;
use crate::server::marketplace::creators::{self, sync};
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

pub async fn updated(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let Some(account_id) = creator_account(ctx, &event).await? else {
        return Ok(not_a_creator(&event));
    };
    // `ctx.stripe` acts on the event's account (see `handlers::prepare`).
    let account = sync::read_account(ctx.stripe).await?;
    sync::store(ctx.pool, account_id, &sync::AccountFacts::from(&account), ctx.now).await?;
    Ok(Outcome::Applied)
}

pub async fn deauthorized(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let account_id = event.account.as_deref().context("a Connect event without its account")?;
    let marked = sqlx::query(
        "UPDATE creators SET deauthorized_at = $1, updated_at = $1 WHERE account_id = $2 AND deauthorized_at IS NULL",
    )
    .bind(ctx.now)
    .bind(account_id)
    .execute(ctx.pool)
    .await
    .context("marking the creator disconnected")?;
    if marked.rows_affected() == 0 && creators::by_account(ctx.pool, account_id).await?.is_none() {
        return Ok(not_a_creator(&event));
    }
    Ok(Outcome::Applied)
}

/// The Connect event's account when it is a creator's; `None` when no creator has it (the
/// event is set aside with [`not_a_creator`]).
pub(super) async fn creator_account<'e>(
    ctx: &ApplyContext<'_>,
    event: &'e InboxEvent,
) -> anyhow::Result<Option<&'e str>> {
    let account_id = event.account.as_deref().context("a Connect event without its account")?;
    Ok(creators::by_account(ctx.pool, account_id).await?.map(|_| account_id))
}

pub(super) fn not_a_creator(event: &InboxEvent) -> Outcome {
    Outcome::Skipped(format!("account {} is no creator's", event.account.as_deref().unwrap_or_default()))
}
