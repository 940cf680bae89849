//! `/admin/dunning`: past-due subscriptions, where Stripe's retries stand, and "retry now".

use serde::{Deserialize, Serialize};

/// A past-due subscription's open invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DunningItem {
    pub customer_id: String,
    pub email: Option<String>,
    pub subscription_id: String,
    pub invoice_id: String,
    /// Attempts so far (Stripe's `attempt_count`).
    pub attempts: i64,
    /// Stripe's `next_payment_attempt`; none once it stopped retrying.
    pub next_attempt: Option<i64>,
    /// What is still owed, in minor units.
    pub amount_due: i64,
    pub currency: String,
    /// Emails queued about this invoice (dunning steps, action required).
    pub emails_sent: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DunningList {
    pub items: Vec<DunningItem>,
    /// The "retry now" forms' one-time token.
    pub token: String,
}
