//! `/admin/orders/:id`: one marketplace order, what Stripe settled on it, its history, and the
//! refund form.

use serde::{Deserialize, Serialize};

use super::audit::AuditEntry;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: i64,
    pub product: String,
    pub buyer: String,
    pub creator: String,
    pub account_id: String,
    /// `destination` or `direct`.
    pub charge_type: String,
    pub status: String,
    /// Formatted money (`$25.00`).
    pub amount: String,
    pub fee: String,
    pub refunded: String,
    pub fee_refunded: String,
    pub transfer_reversed: String,
    pub payment_intent_id: Option<String>,
    pub paid_at: Option<i64>,
    /// Whether the buyer holds the product now.
    pub access: bool,
    pub history: Vec<AuditEntry>,
    /// `None` when the order cannot be refunded (not paid, refunded in full, disputed).
    pub refund: Option<OrderRefundForm>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRefundForm {
    /// What is left to refund, for the amount field (`25.00`).
    pub left_input: String,
    /// The currency code in capitals, for the label.
    pub currency: String,
    /// Whether the transfer can be reversed (destination charges).
    pub can_reverse_transfer: bool,
    pub token: String,
}
