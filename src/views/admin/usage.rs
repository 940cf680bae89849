//! `/admin/usage`: API keys, usage per customer and meter, the outbox's health and the
//! reconciliation's differences.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyItem {
    pub id: i64,
    /// `tg_test_<key id>`: enough to recognise a key, never its secret.
    pub prefix: String,
    pub label: String,
    /// `None` for a platform key.
    pub customer_email: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxHealth {
    pub pending: i64,
    pub failed: i64,
    /// Age of the oldest row waiting for Stripe, in seconds.
    pub lag_secs: i64,
    /// Customer-meter-periods whose local total differs from Stripe's.
    pub differences: i64,
}

/// One customer's usage of one meter over the last 35 days, biggest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerUsage {
    pub email: String,
    pub customer_id: String,
    pub meter: String,
    pub total: i64,
    pub events: i64,
    pub unsent: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub customer_id: String,
    pub meter: String,
    pub period_start: i64,
    pub local_total: i64,
    pub stripe_total: i64,
    pub difference: i64,
    pub checked_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUsage {
    pub keys: Vec<ApiKeyItem>,
    pub health: OutboxHealth,
    pub usage: Vec<CustomerUsage>,
    pub differences: Vec<Difference>,
    /// For the "new customer key" form: (user id, email) of customers with a Stripe customer.
    pub customers: Vec<(i64, String)>,
}
