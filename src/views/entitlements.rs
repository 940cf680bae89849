//! What `GET /api/v1/entitlements` answers: the one answer to "may they?" that a SaaS's own code
//! reads instead of subscription statuses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementsView {
    /// The catalog key of the plan in force (`free` when no subscription grants access).
    pub plan: Option<String>,
    pub plan_name: String,
    /// Whether a subscription grants its plan now (the access rule, not just the status).
    pub subscribed: bool,
    /// The subscription's Stripe status, if there is one.
    pub status: Option<String>,
    /// Feature keys in force, sorted: the plan's (from Stripe's active entitlements), the free
    /// plan's, and one-time purchases' grants.
    pub features: Vec<String>,
    /// The plan's numeric limits, e.g. `projects: 5`.
    pub limits: BTreeMap<String, u64>,
    /// Seats the plan allows, when it has a `seats` limit.
    pub seats: Option<u64>,
    /// For each limit the app counts: how much is used and how much is left.
    pub usage: BTreeMap<String, UsageView>,
    /// For each meter the plan bills (e.g. `api-calls`): this period's usage and included units.
    pub meters: BTreeMap<String, MeterAllowanceView>,
}

/// A metered allowance: usage beyond `included` is billed as overage, not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterAllowanceView {
    pub used: u64,
    pub included: u64,
    /// Included units still free this period.
    pub included_left: u64,
    /// When the period's count starts again (unix seconds, UTC).
    pub resets_at: i64,
}

impl MeterAllowanceView {
    pub fn new(included: u64, used: u64, resets_at: i64) -> Self {
        Self { used, included, included_left: included.saturating_sub(used), resets_at }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    pub limit: u64,
    pub used: u64,
    /// Never negative: after a downgrade `used` may exceed `limit`.
    pub left: u64,
}

impl UsageView {
    pub fn new(limit: u64, used: u64) -> Self {
        Self { limit, used, left: limit.saturating_sub(used) }
    }
}
