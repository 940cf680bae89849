//! `/admin/customers/:id`: one Stripe customer's subscriptions and a timeline of what happened;
//! `/admin/customers/:id/plan?price=…` and `/admin/customers/:id/renewal?action=cancel|resume`:
//! the confirm steps of the admin's plan change and cancel/resume (audited).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::subscriptions::SubscriptionLine;
use crate::api::{billing::PlanChangePreview, AppError};

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
    /// What the admin can do to the customer's live subscription (none: nothing to change).
    pub controls: Option<SubscriptionControls>,
    /// Newest first.
    pub timeline: Vec<TimelineItem>,
}

/// The customer's live subscription and the catalog prices it can move to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionControls {
    pub subscription_id: String,
    /// e.g. `Pro (monthly)`.
    pub plan: String,
    /// e.g. `renews on 22 December 2026`, `ends on …`, `then Starter (monthly) from …`.
    pub state: String,
    pub cancel_at_period_end: bool,
    pub prices: Vec<PriceChoice>,
}

/// A catalog price, by lookup key, as the plan-change select offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceChoice {
    pub lookup_key: String,
    /// e.g. `Business (monthly) — $99.00`.
    pub label: String,
    pub current: bool,
}

/// The plan change's confirm step: what it costs (Stripe's proration preview), and a one-time
/// token that makes a double submit one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChangeStep {
    pub customer_id: String,
    pub email: Option<String>,
    pub subscription_id: String,
    /// The lookup key of the price to move to.
    pub price: String,
    pub preview: PlanChangePreview,
    pub token: String,
}

/// Cancel at period end, or resume: the confirm step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalStep {
    pub customer_id: String,
    pub email: Option<String>,
    pub subscription_id: String,
    pub plan: String,
    /// `true`: cancel at period end; `false`: resume.
    pub cancel: bool,
    /// The end of the current period, e.g. `22 December 2026`.
    pub period_end: String,
    pub token: String,
}

/// `cancel` or `resume`, the renewal forms' `action` field.
pub fn parse_renewal_action(action: &str) -> Result<bool, AppError> {
    match action.trim() {
        "cancel" => Ok(true),
        "resume" => Ok(false),
        _ => Err(AppError::User("Choose cancel or resume.".into())),
    }
}

/// Stripe dashboard links: `/test/` in front unless the app runs on live keys.
pub fn dashboard_url(live: bool, path: &str) -> String {
    let mode = if live { "" } else { "test/" };
    format!("https://dashboard.stripe.com/{mode}{path}")
}

#[server(endpoint = "admin_customer")]
pub async fn admin_customer(id: String) -> Result<CustomerView, AppError> {
    use crate::server::{
        admin::{customer, plan_change},
        config::StripeMode,
        http::context::RequestCtx,
    };
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let live = ctx.state.stripe.mode == StripeMode::Live;
    let mut view = customer::view(ctx.state.db.pool(), id.trim(), live)
        .await?
        .ok_or_else(|| AppError::User(format!("There is no customer {}.", id.trim())))?;
    view.controls = plan_change::controls(&ctx.state, &view.id).await?;
    Ok(view)
}

#[server(endpoint = "admin_plan_change_form")]
pub async fn admin_plan_change_form(customer: String, price: String) -> Result<PlanChangeStep, AppError> {
    use crate::server::{admin::plan_change, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    plan_change::change_form(&ctx.state, customer.trim(), price.trim()).await.map_err(AppError::from)
}

#[server(endpoint = "admin_change_plan")]
pub async fn admin_change_plan(
    customer: String,
    subscription: String,
    price: String,
    token: String,
) -> Result<(), AppError> {
    use super::events::url_safe;
    use crate::server::{admin::plan_change, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let (customer, price) = (customer.trim(), price.trim());
    let outcome = plan_change::change_plan(&ctx.state, &actor, customer, subscription.trim(), price, &token).await;
    // Done: back to the customer (and the timeline's new audit row); refused: the confirm step.
    let back = match &outcome {
        Ok(_) => format!("/admin/customers/{}", url_safe(customer)),
        Err(_) => format!("/admin/customers/{}/plan?price={}", url_safe(customer), url_safe(price)),
    };
    ctx.finish(outcome, &back).await
}

#[server(endpoint = "admin_renewal_form")]
pub async fn admin_renewal_form(customer: String, action: String) -> Result<RenewalStep, AppError> {
    use crate::server::{admin::plan_change, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let cancel = parse_renewal_action(&action)?;
    plan_change::renewal_form(&ctx.state, customer.trim(), cancel).await.map_err(AppError::from)
}

#[server(endpoint = "admin_set_renewal")]
pub async fn admin_set_renewal(
    customer: String,
    subscription: String,
    action: String,
    token: String,
) -> Result<(), AppError> {
    use super::events::url_safe;
    use crate::server::{admin::plan_change, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let customer = customer.trim();
    let cancel = parse_renewal_action(&action)?;
    let outcome = plan_change::set_renewal(&ctx.state, &actor, customer, subscription.trim(), cancel, &token).await;
    let back = match &outcome {
        Ok(_) => format!("/admin/customers/{}", url_safe(customer)),
        Err(_) => format!("/admin/customers/{}/renewal?action={}", url_safe(customer), action.trim()),
    };
    ctx.finish(outcome, &back).await
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
