//! A creator's payouts (`payout.created`, `.updated`, `.paid`, `.failed`, `.canceled` on the
//! Connect endpoint): the payout is re-read on the creator's account and stored, its failure
//! audited once however often, and in whatever order, its events come. An account no creator
//! has is set aside with the reason.

use stripe_shared::PayoutId;

use super::account::{creator_account, not_a_creator};
use super::{object_id, ApplyContext};
use crate::server::http::app_url::AppUrl;
use crate::server::marketplace::payouts::{self, PayoutRow};
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

pub async fn changed(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let Some(account_id) = creator_account(ctx, &event).await? else {
        return Ok(not_a_creator(&event));
    };
    let id: PayoutId = object_id(&event)?;
    // `ctx.stripe` acts on the event's account (see `handlers::prepare`).
    let payout = payouts::read(ctx.stripe, &id).await?;
    let creator_url = AppUrl::new(ctx.app_url).join("/creator");
    payouts::sync(ctx.pool, &PayoutRow::from_stripe(account_id, &payout), &creator_url, ctx.now).await?;
    Ok(Outcome::Applied)
}
