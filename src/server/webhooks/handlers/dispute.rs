//! `charge.dispute.*`: the dispute row; a new dispute alerts the admins (own transaction); a
//! dispute on a marketplace order's payment (destination charge) moves the order too.

use super::{object_id, ApplyContext};
use crate::server::billing::disputes;
use crate::server::http::app_url::AppUrl;
use crate::server::marketplace::orders::sync_dispute;
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

/// A new dispute: stored, and the admins alerted.
pub async fn created(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    sync(ctx, &event, true).await
}

/// Any later change (updated, closed, funds withdrawn or reinstated).
pub async fn changed(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    sync(ctx, &event, false).await
}

async fn sync(ctx: &ApplyContext<'_>, event: &InboxEvent, alert: bool) -> anyhow::Result<Outcome> {
    let admin_url = AppUrl::new(ctx.app_url).join("/admin/disputes");
    let dispute = object_id(event)?;
    disputes::sync(ctx.pool, ctx.stripe, &dispute, alert, &admin_url, ctx.now).await?;
    sync_dispute::sync(ctx.pool, ctx.stripe, &dispute, ctx.now).await?;
    Ok(Outcome::Applied)
}
