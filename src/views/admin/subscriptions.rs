//! `/admin/subscriptions`: filter by status and plan, search by email, paginate.

use serde::{Deserialize, Serialize};

use super::sort::{Direction, Sort, SortKey};
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
    /// The order the lines are in (the URL's, or the default).
    pub sort: Sort<SubscriptionSort>,
    pub page: i64,
    pub has_more: bool,
}

pub const SUBSCRIPTIONS_PER_PAGE: i64 = 50;

/// The subscriptions list's sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubscriptionSort {
    Customer,
    Plan,
    Status,
    Mrr,
    PeriodEnd,
    Created,
}

impl SortKey for SubscriptionSort {
    const COLUMNS: &'static [(Self, &'static str, Direction)] = &[
        (Self::Customer, "customer", Direction::Asc),
        (Self::Plan, "plan", Direction::Asc),
        (Self::Status, "status", Direction::Asc),
        (Self::Mrr, "mrr", Direction::Desc),
        (Self::PeriodEnd, "renews", Direction::Asc),
        (Self::Created, "created", Direction::Desc),
    ];
    const DEFAULT: Sort<Self> = Sort { column: Self::Created, dir: Direction::Desc };
}
