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
    /// A default Customer Portal configuration in Stripe (None: not checked).
    pub portal_configured: Option<bool>,
    pub checks: Vec<Check>,
}

impl StatusReport {
    /// (passed, total).
    pub fn score(&self) -> (usize, usize) {
        (self.checks.iter().filter(|c| c.ok).count(), self.checks.len())
    }
}
