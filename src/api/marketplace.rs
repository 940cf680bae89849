//! Marketplace server functions: the creator page, becoming a creator (and continuing Stripe's
//! onboarding), opening Stripe's Express dashboard. Plain HTML forms post to them.

use leptos::prelude::*;

use crate::views::{marketplace::CreatorPageView, AppError};

#[server(endpoint = "creator/page")]
pub async fn creator_page() -> Result<Option<CreatorPageView>, AppError> {
    use crate::server::{http::context::RequestCtx, marketplace};
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else { return Ok(None) };
    Ok(Some(marketplace::creators::page(ctx.state.db.pool(), &user).await?))
}

/// "Become a creator" and "Continue onboarding": to Stripe's hosted onboarding.
#[server(endpoint = "creator/onboard")]
pub async fn onboard_creator() -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = marketplace::creators::start::start(&ctx.state, &user).await;
    ctx.finish(outcome, "/creator").await
}

#[server(endpoint = "creator/dashboard")]
pub async fn open_creator_dashboard() -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = marketplace::creators::dashboard::open(&ctx.state, &user).await;
    ctx.finish(outcome, "/creator").await
}
