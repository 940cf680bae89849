//! The customer's usage on `/account`: per meter this period, included units left, overage so
//! far; the projected next invoice; the spend cap.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterUsage {
    pub meter: String,
    pub name: String,
    pub used: u64,
    pub included: u64,
    /// Minor units of `AccountUsage::currency`.
    pub overage: i64,
}

impl MeterUsage {
    pub fn included_left(&self) -> u64 {
        self.included.saturating_sub(self.used)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountUsage {
    pub currency: String,
    pub period_start: i64,
    pub period_end: i64,
    pub meters: Vec<MeterUsage>,
    /// Stripe's preview of the next invoice's total (minor units), when there is a subscription.
    pub projected_invoice: Option<i64>,
    pub spend_cap: Option<i64>,
}
