//! `/admin/disputes/:id`: one dispute, its deadline and outcome, and the evidence form — each
//! field prefilled from what tollgate knows about the payment and its customer unless Stripe
//! already holds a saved answer.

use serde::{Deserialize, Serialize};

use super::audit::AuditEntry;

/// The evidence fields the form offers, in order: Stripe's parameter name, the label, and what
/// belongs in it. All are text; Stripe caps their total length ([`EVIDENCE_TOTAL_LIMIT`]).
/// (Stripe's `customer_communication`, `receipt` and other documents are files, not text.)
pub const EVIDENCE_FIELDS: [(&str, &str, &str); 8] = [
    ("product_description", "Product description", "What the customer bought."),
    ("customer_name", "Customer name", "As on the account."),
    ("customer_email_address", "Customer email", "The address of the account that paid."),
    ("customer_purchase_ip", "Purchase IP address", "Where the customer last acted from."),
    ("service_date", "Service date", "When the product or service was provided (YYYY-MM-DD)."),
    ("access_activity_log", "Access activity", "The customer's use of the product, from tollgate's records."),
    ("refund_policy_disclosure", "Refund policy disclosure", "How the refund policy was shown to the customer."),
    ("uncategorized_text", "Anything else", "Any other argument, and what tollgate emailed the customer."),
];

/// Stripe's limit on the evidence's text, all fields together (characters).
pub const EVIDENCE_TOTAL_LIMIT: usize = 150_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeView {
    pub id: String,
    pub charge_id: String,
    pub payment_intent_id: Option<String>,
    /// Formatted money (`$29.00`).
    pub amount: String,
    pub reason: String,
    /// Stripe's status: `needs_response`, `under_review`, `won`, `lost`, `warning_*`.
    pub status: String,
    pub evidence_due_by: Option<i64>,
    /// Times evidence was submitted to Stripe.
    pub submission_count: i64,
    pub customer_email: Option<String>,
    /// The marketplace order the payment made, if any.
    pub order_id: Option<i64>,
    pub dashboard_url: String,
    pub history: Vec<AuditEntry>,
    /// `None` once the dispute takes no more evidence (closed, under review, past due), with
    /// the reason in `closed_because`.
    pub form: Option<EvidenceForm>,
    pub closed_because: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceForm {
    /// (field, value) for each of [`EVIDENCE_FIELDS`], in that order.
    pub values: Vec<(String, String)>,
    pub token: String,
}
