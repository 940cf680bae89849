//! `radar.early_fraud_warning.*` and `review.*` (own transactions): a warning flags its payment,
//! alerts the admins once and, with `FRAUD_WARNING_AUTO_REFUND`, refunds its charge once; a
//! review is stored as Stripe has it now.

use stripe_fraud::RadarEarlyFraudWarningId;
use stripe_shared::ReviewId;

use super::{object_id, ApplyContext};
use crate::server::billing::{fraud_warnings, reviews};
use crate::server::http::app_url::AppUrl;
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

/// Created or updated: both re-read the warning and do the same, once.
pub async fn early_fraud_warning(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let id: RadarEarlyFraudWarningId = object_id(&event)?;
    let admin_url = AppUrl::new(ctx.app_url).join("/admin/payments");
    fraud_warnings::sync(ctx.pool, ctx.stripe, &id, ctx.fraud_warning_auto_refund, &admin_url, ctx.now).await?;
    Ok(Outcome::Applied)
}

/// Opened or closed.
pub async fn review(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let id: ReviewId = object_id(&event)?;
    reviews::sync(ctx.pool, ctx.stripe, &id, ctx.now).await?;
    Ok(Outcome::Applied)
}
