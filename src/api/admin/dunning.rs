//! `/admin/dunning`: past-due subscriptions and "retry now".

use leptos::prelude::*;

use crate::views::{admin::dunning::DunningList, AppError};

#[server(endpoint = "admin_dunning")]
pub async fn admin_dunning() -> Result<DunningList, AppError> {
    use crate::server::{admin::dunning, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    Ok(dunning::past_due(&ctx.state).await?)
}

/// Pays the open invoice now (audited `invoice.retry`), back to `/admin/dunning` with the outcome.
#[server(endpoint = "admin_retry_invoice")]
pub async fn admin_retry_invoice(
    customer: String,
    subscription: String,
    invoice: String,
    token: String,
) -> Result<(), AppError> {
    use crate::server::{admin::dunning, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let subscription = (&customer.trim().into(), &subscription.trim().into());
    let outcome = dunning::retry_now(&ctx.state, &actor, subscription, &invoice.trim().into(), &token).await;
    ctx.finish(outcome, "/admin/dunning").await
}
