//! `/admin/payments`: failed payments, the dunning queue, refunds (issued after a confirm step);
//! `/admin/disputes`: open and closed disputes with their evidence deadlines.

use serde::{Deserialize, Serialize};

use super::sort::{Direction, Sort, SortKey};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLine {
    pub id: String,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub amount: String,
    pub status: String,
    pub failure: Option<String>,
    /// What has been refunded so far (from refund webhooks), e.g. `$5.00`.
    pub refunded: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DunningLine {
    pub invoice_id: String,
    pub customer_id: String,
    pub email: Option<String>,
    pub amount_due: String,
    pub attempts: i64,
    pub next_attempt: Option<i64>,
    pub hosted_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    pub id: String,
    pub payment_intent_id: Option<String>,
    pub amount: String,
    pub reason: Option<String>,
    pub status: String,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentsOverview {
    pub failed: Vec<PaymentLine>,
    pub dunning: Vec<DunningLine>,
    pub succeeded: Vec<PaymentLine>,
    pub refunds: Vec<RefundLine>,
}

/// The refund confirm step: what was paid, what is left to refund, and a one-time token that
/// makes a double submit one refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundForm {
    pub payment_intent_id: String,
    pub email: Option<String>,
    pub paid: String,
    pub refundable: String,
    /// The refundable amount as typed into the form, e.g. `29.00`.
    pub refundable_input: String,
    pub currency: String,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeLine {
    pub id: String,
    pub charge_id: String,
    pub customer_id: Option<String>,
    pub amount: String,
    pub reason: String,
    pub status: String,
    pub evidence_due_by: Option<i64>,
    /// Whole days until the evidence is due (negative once past).
    pub days_left: Option<i64>,
    pub dashboard_url: String,
}

/// `/admin/disputes`: the disputes in the order asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputesPage {
    pub lines: Vec<DisputeLine>,
    pub sort: Sort<DisputeSort>,
}

/// The disputes list's sortable columns. By default open disputes come first, the nearest
/// deadline on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DisputeSort {
    Amount,
    Reason,
    Status,
    Due,
}

impl SortKey for DisputeSort {
    const COLUMNS: &'static [(Self, &'static str, Direction)] = &[
        (Self::Amount, "amount", Direction::Desc),
        (Self::Reason, "reason", Direction::Asc),
        (Self::Status, "status", Direction::Asc),
        (Self::Due, "due", Direction::Asc),
    ];
    const DEFAULT: Sort<Self> = Sort { column: Self::Due, dir: Direction::Asc };
}

pub const REFUND_REASONS: [(&str, &str); 3] = [
    ("requested_by_customer", "Requested by the customer"),
    ("duplicate", "Duplicate payment"),
    ("fraudulent", "Fraudulent"),
];
