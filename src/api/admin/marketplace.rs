//! `/admin/marketplace`: creators, fee revenue, failed payouts, and setting a creator's own fee
//! rate (audited); `/admin/orders`: the marketplace's orders, filtered and paged.

use leptos::prelude::*;

use crate::views::{
    admin::marketplace::{MarketplaceOverview, OrdersPage},
    AppError,
};

#[server(endpoint = "admin_marketplace")]
pub async fn admin_marketplace(page: Option<i64>) -> Result<MarketplaceOverview, AppError> {
    use crate::server::{admin::marketplace, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    Ok(marketplace::overview(&ctx.state, page.unwrap_or(0).max(0)).await?)
}

/// Sets the creator's own fee rate to `percent` (`7.5`), or clears it when `percent` is empty.
#[server(endpoint = "admin_creator_fee")]
pub async fn set_creator_fee(creator: i64, percent: String, token: String) -> Result<(), AppError> {
    use crate::server::{admin::marketplace::fee_override, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let outcome = fee_override::set(&ctx.state, &actor, creator, &percent, &token).await;
    ctx.finish(outcome, "/admin/marketplace").await
}

#[server(endpoint = "admin_orders")]
pub async fn admin_orders(
    status: Option<String>,
    creator: Option<String>,
    email: Option<String>,
    page: Option<i64>,
    sort: Option<String>,
    dir: Option<String>,
) -> Result<OrdersPage, AppError> {
    use crate::server::{admin::marketplace::orders, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let filter = orders::Filter::parse(&orders::OrdersQuery { status, creator, email, sort, dir, page });
    Ok(orders::page(ctx.state.db.pool(), &filter).await?)
}
