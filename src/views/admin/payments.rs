//! `/admin/payments`: failed payments, the dunning queue, refunds (issued after a confirm step),
//! Radar's risk of each payment, early fraud warnings and reviews; `/admin/disputes`: open and
//! closed disputes with their evidence deadlines.

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
    /// Radar's verdict on the charge ([`risk_summary`]), once a charge was seen.
    pub risk: Option<String>,
    /// Stripe's explanation of that verdict.
    pub seller_message: Option<String>,
    /// Radar rated it above normal (elevated or highest): highlighted.
    pub risky: bool,
    /// The issuer sent an early fraud warning, e.g. `made_with_stolen_card`.
    pub fraud_warning: Option<String>,
}

/// Radar's verdict in a few words, e.g. `elevated risk (67), placed in review`.
pub fn risk_summary(level: &str, score: Option<i64>, outcome_type: Option<&str>) -> String {
    let level = if level == "not_assessed" { "not assessed" } else { level };
    let score = score.map(|score| format!(" ({score})")).unwrap_or_default();
    let done = match outcome_type {
        Some("manual_review") => ", placed in review",
        Some("blocked") => ", blocked by Radar",
        _ => "",
    };
    format!("{level} risk{score}{done}")
}

/// Whether Radar's level is above normal.
pub fn is_risky(level: &str) -> bool {
    matches!(level, "elevated" | "highest")
}

/// A Radar review of a payment (`review.opened`, then `review.closed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewLine {
    pub id: String,
    pub payment_intent_id: Option<String>,
    pub open: bool,
    /// Why it opened (`rule`, `manual`) or, closed, why it closed (`approved`, `refunded`…).
    pub reason: String,
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
    /// Radar's reviews, newest first (none when Radar never held a payment).
    pub reviews: Vec<ReviewLine>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_risk_says_the_level_the_score_and_what_radar_did() {
        assert_eq!(risk_summary("elevated", Some(67), Some("manual_review")), "elevated risk (67), placed in review");
        assert_eq!(risk_summary("highest", Some(85), Some("blocked")), "highest risk (85), blocked by Radar");
        assert_eq!(risk_summary("normal", Some(32), Some("authorized")), "normal risk (32)");
        assert_eq!(risk_summary("not_assessed", None, Some("authorized")), "not assessed risk");
        assert!(is_risky("elevated") && is_risky("highest") && !is_risky("normal"));
    }
}
