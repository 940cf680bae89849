//! `/admin/subscriptions`: filter by status and plan, search by email, paginate.

use serde::{Deserialize, Serialize};

use crate::domain::{money::Money, subscription::SubscriptionStatus};

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
