//! The revenue dashboard's data (`/admin`) and the period it covers.

use leptos::prelude::*;

use crate::views::{
    admin::revenue::{Period, RevenueReport},
    AppError,
};

#[server(endpoint = "admin_revenue")]
pub async fn admin_revenue(period: Period) -> Result<RevenueReport, AppError> {
    use crate::server::{admin::revenue, db, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    Ok(revenue::report(ctx.state.db.pool(), period, db::now()).await?)
}
