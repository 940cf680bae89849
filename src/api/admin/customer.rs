//! `/admin/customers/:id`: one Stripe customer's subscriptions and a timeline of what happened.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::subscriptions::SubscriptionLine;
use crate::api::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimelineKind {
    Event,
    Invoice,
    Email,
    Audit,
}

impl TimelineKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Event => "Webhook event",
            Self::Invoice => "Invoice",
            Self::Email => "Email",
            Self::Audit => "Admin action",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineItem {
    pub at: i64,
    pub kind: TimelineKind,
    pub title: String,
    pub detail: String,
    /// The same object in the Stripe dashboard, when it has one there.
    pub stripe_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    pub id: String,
    pub email: Option<String>,
    pub stripe_url: String,
    pub subscriptions: Vec<SubscriptionLine>,
    /// Newest first.
    pub timeline: Vec<TimelineItem>,
}

/// Stripe dashboard links: `/test/` in front unless the app runs on live keys.
pub fn dashboard_url(live: bool, path: &str) -> String {
    let mode = if live { "" } else { "test/" };
    format!("https://dashboard.stripe.com/{mode}{path}")
}

#[server(endpoint = "admin_customer")]
pub async fn admin_customer(id: String) -> Result<CustomerView, AppError> {
    use crate::server::{admin::customer, config::StripeMode, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let live = ctx.state.stripe.mode == StripeMode::Live;
    customer::view(ctx.state.db.pool(), id.trim(), live)
        .await?
        .ok_or_else(|| AppError::User(format!("There is no customer {}.", id.trim())))
}

#[cfg(test)]
mod tests {
    use super::dashboard_url;

    #[test]
    fn dashboard_links_follow_the_mode() {
        assert_eq!(dashboard_url(false, "customers/cus_1"), "https://dashboard.stripe.com/test/customers/cus_1");
        assert_eq!(dashboard_url(true, "customers/cus_1"), "https://dashboard.stripe.com/customers/cus_1");
    }
}
