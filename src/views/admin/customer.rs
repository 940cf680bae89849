//! `/admin/customers/:id`: one Stripe customer's subscriptions and a timeline of what happened;
//! `/admin/customers/:id/plan?price=…` and `/admin/customers/:id/renewal?action=cancel|resume`:
//! the confirm steps of the admin's plan change and cancel/resume (audited).

use serde::{Deserialize, Serialize};

use super::subscriptions::SubscriptionLine;
use crate::views::{billing::PlanChangePreview, AppError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimelineKind {
    Event,
    Invoice,
    /// A payment attempt, with Radar's risk and any early fraud warning.
    Payment,
    Email,
    Audit,
}

impl TimelineKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Event => "Webhook event",
            Self::Invoice => "Invoice",
            Self::Payment => "Payment",
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
    /// On a per-seat plan: the seat count and its bounds.
    pub seats: Option<SeatControls>,
    pub pause: PauseControls,
}

/// The pause forms: which one applies now, and the token their post carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseControls {
    /// The subscription is paused (status `paused`): it can be resumed.
    pub paused: bool,
    /// Payment collection is paused, e.g. `void until 31 January 2027`.
    pub collection_paused: Option<String>,
    /// Stripe's behaviors with their words, for the pause form.
    pub behaviors: Vec<(String, String)>,
    pub token: String,
}

/// The seats form of a per-seat plan: a new count on the current price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatControls {
    pub lookup_key: String,
    pub seats: i64,
    pub min: u32,
    pub max: u32,
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
    /// The preview carries the seat count asked for (per-seat plans).
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

#[cfg(test)]
mod tests {
    use super::dashboard_url;

    #[test]
    fn dashboard_links_follow_the_mode() {
        assert_eq!(dashboard_url(false, "customers/cus_1"), "https://dashboard.stripe.com/test/customers/cus_1");
        assert_eq!(dashboard_url(true, "customers/cus_1"), "https://dashboard.stripe.com/customers/cus_1");
    }
}
