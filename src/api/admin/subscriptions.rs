//! `/admin/subscriptions`: filter by status and plan, search by email, paginate.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    api::AppError,
    domain::{money::Money, subscription::SubscriptionStatus},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionLine {
    pub id: String,
    pub customer_id: String,
    /// The local user's email, when the Stripe customer belongs to one.
    pub email: Option<String>,
    pub status: SubscriptionStatus,
    pub lookup_key: Option<String>,
    pub mrr: Money,
    pub current_period_end: i64,
    pub cancel_at_period_end: bool,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionsPage {
    pub lines: Vec<SubscriptionLine>,
    /// Every price lookup key in use, for the plan filter.
    pub plans: Vec<String>,
    pub page: i64,
    pub has_more: bool,
}

pub const SUBSCRIPTIONS_PER_PAGE: i64 = 50;

#[server(endpoint = "admin_subscriptions")]
pub async fn admin_subscriptions(
    status: Option<String>,
    plan: Option<String>,
    email: Option<String>,
    page: Option<i64>,
) -> Result<SubscriptionsPage, AppError> {
    use crate::server::{admin::subscriptions, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let filter = subscriptions::Filter {
        status: status.and_then(|s| s.parse::<SubscriptionStatus>().ok()),
        plan: plan.filter(|p| !p.is_empty()),
        email: email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()),
        page: page.unwrap_or(0).max(0),
    };
    Ok(subscriptions::page(ctx.state.db.pool(), &filter).await?)
}
