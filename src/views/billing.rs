//! What the pricing, checkout, account and plan-change pages show, and the one-time notice a
//! billing form post leaves.

use serde::{Deserialize, Serialize};

use crate::domain::catalog::BillingInterval;

/// Parses `month` / `year` (the pricing toggle's query parameter); anything else is monthly.
pub fn parse_interval(raw: Option<&str>) -> BillingInterval {
    match raw {
        Some("year") | Some("yearly") => BillingInterval::Year,
        _ => BillingInterval::Month,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingView {
    pub interval: BillingInterval,
    pub signed_in: bool,
    /// The signed-in user has not opened their verification link yet: paying waits for it.
    pub awaits_verification: bool,
    /// Whether the signed-in user has a subscription that a new one would duplicate.
    pub subscribed: bool,
    pub plans: Vec<PlanCard>,
    pub items: Vec<ItemCard>,
    /// What the Yearly toggle promises: `2 months free` when every plan saves that, else
    /// `save up to 17%`; `None` when no plan is cheaper yearly.
    pub yearly_saving: Option<String>,
    /// Where Subscribe and Buy lead (`CHECKOUT_UI`).
    pub checkout_ui: crate::views::payment_element::CheckoutUi,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCard {
    pub key: String,
    pub name: String,
    pub description: String,
    /// e.g. `$29.00` (`$0.00` for the free plan); `None` for plans not sold at this interval.
    pub price: Option<String>,
    /// What paying yearly saves on this plan (computed from the catalog's two prices).
    pub saving: Option<SavingView>,
    /// Usage billed on top, one line per metered price, e.g. `API calls: 10,000 included, then $0.01 each`.
    pub usage: Vec<String>,
    /// The catalog's recommended plan.
    pub recommended: bool,
    pub features: Vec<String>,
    /// Offered only to users who never had a trial.
    pub trial_days: Option<u32>,
    /// The trial asks for no card.
    pub trial_without_card: bool,
    pub is_free: bool,
    pub is_current: bool,
    /// A per-seat plan: the price is per seat, the buyer picks how many.
    pub seats: Option<SeatRange>,
}

/// A plan's yearly saving, e.g. `2 months free`, 17 (%), `$58.00` a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavingView {
    pub words: String,
    pub percent: u32,
    pub amount: String,
}

/// A per-seat plan's seats: the count (current, or to start with) and its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatRange {
    pub count: i64,
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemCard {
    pub key: String,
    pub name: String,
    pub description: String,
    pub price: String,
    pub owned: bool,
}

/// A one-time message shown at the top of a billing page after a form post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub message: String,
    pub is_error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingOverview {
    pub email: String,
    /// The user has not opened their verification link yet: paying waits for it.
    pub awaits_verification: bool,
    pub plan_name: String,
    /// e.g. `$29.00 / month`.
    pub price: Option<String>,
    pub features: Vec<String>,
    /// The plan's limits, e.g. ("projects", 50), for feature gating.
    pub limits: Vec<(String, u64)>,
    /// Whether paid features are on (the access rule, not just the status).
    pub has_access: bool,
    pub subscription: Option<SubscriptionView>,
    pub banner: Option<Banner>,
    pub invoices: Vec<InvoiceView>,
    /// A Stripe customer exists: the portal can open.
    pub has_customer: bool,
    /// Carried by the page's cancel and resume forms: one submission, one Stripe request.
    pub form_token: String,
}

/// The account page's seats form: a new count on the same plan and interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionSeats {
    pub plan: String,
    pub interval: BillingInterval,
    pub range: SeatRange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionView {
    pub status: String,
    /// The status in words.
    pub status_words: String,
    pub renews_on: Option<String>,
    pub trial_ends_on: Option<String>,
    /// Set when cancellation is pending: access ends on this date.
    pub ends_on: Option<String>,
    pub ended_on: Option<String>,
    /// e.g. `Visa •••• 4242`.
    pub card: Option<String>,
    /// e.g. `Starter (monthly) from 22 December 2026`.
    pub scheduled_change: Option<String>,
    /// On a per-seat plan: the seats, and the plan and interval the seats form previews.
    pub seats: Option<SubscriptionSeats>,
    pub can_change: bool,
    pub can_cancel: bool,
    pub can_resume: bool,
    /// The catalog lets customers pause, and this subscription can be paused now.
    pub can_pause: bool,
    /// Paused (status `paused`): the customer may resume it.
    pub can_unpause: bool,
    /// e.g. `25% off each invoice until 3 March 2027`.
    pub discount: Option<String>,
    /// Payment collection paused by the business, e.g. `Paused until 3 January 2027 (…)`.
    pub payments_paused: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Banner {
    pub kind: BannerKind,
    pub message: String,
    /// The hosted invoice to pay or authenticate.
    pub invoice_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BannerKind {
    /// A renewal failed: update the card.
    PastDue,
    /// A payment waits for the customer's authentication (3-D Secure).
    ActionRequired,
    /// A trial without a card on file: one is needed to go on after it (or, the trial over and
    /// the subscription paused, to resume it).
    CardNeeded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    pub number: String,
    pub date: String,
    pub amount: String,
    pub status: String,
    pub hosted_url: Option<String>,
    pub pdf_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutOutcome {
    /// What the page says, e.g. "Your Pro plan is active."
    pub headline: String,
    /// Still waiting for the payment to complete (e.g. a delayed payment method).
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChangePreview {
    pub plan: String,
    pub interval: BillingInterval,
    /// The seat count asked for (per-seat plans), carried by the confirm form.
    pub seats: Option<i64>,
    pub from_name: String,
    pub to_name: String,
    pub is_upgrade: bool,
    /// Charged now (the proration), e.g. `$20.00`; zero for scheduled downgrades.
    pub due_now: String,
    pub next_amount: String,
    pub next_on: String,
    pub explanation: String,
    /// Carried by the confirm form: one submission, one change in Stripe.
    pub form_token: String,
}
