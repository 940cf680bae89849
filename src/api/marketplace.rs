//! Marketplace server functions: the creator page, becoming a creator (and continuing Stripe's
//! onboarding), opening Stripe's Express dashboard. Plain HTML forms post to them.

use leptos::prelude::*;

use crate::views::{
    marketplace::{CreatorPageView, LibraryView, ProductCardView, StoreView},
    AppError,
};

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

#[server(endpoint = "creator/products/create")]
pub async fn create_product(
    title: String,
    description: String,
    price: String,
    content: String,
) -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::products::save};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let form = save::ProductForm { title, description, price, content };
    let outcome = save::create(&ctx.state, &user, &form).await;
    ctx.finish(outcome, "/creator").await
}

/// Publish (`publish` = "true") or unpublish a product.
#[server(endpoint = "creator/products/publish")]
pub async fn publish_product(id: i64, publish: bool) -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::products::publish};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = publish::set_published(&ctx.state, &user, id, publish).await;
    ctx.finish(outcome, "/creator").await
}

#[server(endpoint = "store/list")]
pub async fn store_page() -> Result<StoreView, AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::products};
    let ctx = RequestCtx::extract().await?;
    Ok(products::store(ctx.state.db.pool()).await?)
}

/// The product on sale at `/p/{slug}`; `None` when nothing is on sale there.
#[server(endpoint = "store/product")]
pub async fn product_page(slug: String) -> Result<Option<ProductCardView>, AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::products};
    let ctx = RequestCtx::extract().await?;
    Ok(products::on_sale(ctx.state.db.pool(), &slug).await?.as_ref().map(products::card))
}

/// "Buy": to Stripe's Checkout, paying the creator minus the platform's fee.
#[server(endpoint = "store/buy")]
pub async fn buy_product(slug: String) -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::orders::start};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = start::buy(&ctx.state, &user, &slug).await;
    ctx.finish(outcome, &format!("/p/{slug}")).await
}

/// `/library`, confirming the Checkout Session the buyer came back from (`session_id`).
#[server(endpoint = "library/page")]
pub async fn library_page(session_id: Option<String>) -> Result<Option<LibraryView>, AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::orders};
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else { return Ok(None) };
    Ok(Some(orders::library_page(&ctx.state, &user, session_id.as_deref()).await?))
}
