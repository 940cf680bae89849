//! `/admin/subscriptions`: filter by status and plan, search by email, sort by a column, paginate.

use leptos::prelude::*;

use crate::views::{admin::subscriptions::SubscriptionsPage, AppError};
#[cfg(feature = "ssr")]
use crate::{domain::subscription::SubscriptionStatus, views::admin::sort::Sort};

#[server(endpoint = "admin_subscriptions")]
pub async fn admin_subscriptions(
    status: Option<String>,
    plan: Option<String>,
    email: Option<String>,
    page: Option<i64>,
    sort: Option<String>,
    dir: Option<String>,
) -> Result<SubscriptionsPage, AppError> {
    use crate::server::{admin::subscriptions, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let filter = subscriptions::Filter {
        status: status.and_then(|s| s.parse::<SubscriptionStatus>().ok()),
        plan: plan.filter(|p| !p.is_empty()),
        email: email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()),
        sort: Sort::parse(sort.as_deref(), dir.as_deref()),
        page: page.unwrap_or(0).max(0),
    };
    Ok(subscriptions::page(ctx.state.db.pool(), &filter).await?)
}
