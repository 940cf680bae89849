//! `/admin/status`: the integration at a glance and the go-live checklist (`tollgate doctor`
//! prints the same checklist).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// What to do when it is not ok.
    pub fix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub mode: String,
    pub api_version: String,
    pub products: usize,
    pub prices: usize,
    pub webhook_endpoint: String,
    pub last_delivery: Option<i64>,
    pub dead_events: i64,
    /// A default Customer Portal configuration in Stripe with the features the app uses (None:
    /// Stripe not read).
    pub portal_configured: Option<bool>,
    /// The Stripe account the key belongs to (None: Stripe not read).
    pub stripe_account: Option<String>,
    pub checks: Vec<Check>,
}

impl StatusReport {
    /// (passed, total).
    pub fn score(&self) -> (usize, usize) {
        (self.checks.iter().filter(|c| c.ok).count(), self.checks.len())
    }

    /// The share of checks done, in whole percent (rounded down: 100 only when all are done).
    pub fn percent(&self) -> usize {
        let (passed, total) = self.score();
        (passed * 100).checked_div(total).unwrap_or(0)
    }
}
