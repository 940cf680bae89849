//! Revenue math: monthly recurring revenue (MRR) of a subscription, and how a change in it is
//! classified as a movement. Integer minor units throughout; rounding is half-up, once, at the end.

use serde::{Deserialize, Serialize};

use super::catalog::BillingInterval;

/// MRR in minor units of `unit_amount × quantity` billed every `interval_count` intervals, less a
/// percentage discount given in basis points (1% = 100).
pub fn monthly_recurring(
    unit_amount: i64,
    quantity: i64,
    interval: BillingInterval,
    interval_count: i64,
    percent_off_bp: i64,
) -> i64 {
    let months = match interval {
        BillingInterval::Month => 1,
        BillingInterval::Year => 12,
    } * interval_count.max(1);
    // Scale by 10_000 for the basis points, divide once.
    let gross = i128::from(unit_amount) * i128::from(quantity);
    let kept_bp = 10_000 - i128::from(percent_off_bp.clamp(0, 10_000));
    let numerator = gross * kept_bp;
    let denominator = i128::from(months) * 10_000;
    let rounded = (numerator * 2 + denominator) / (denominator * 2);
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// The kind of change in a customer's MRR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    New,
    Expansion,
    Contraction,
    Churn,
    Reactivation,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Expansion => "expansion",
            Self::Contraction => "contraction",
            Self::Churn => "churn",
            Self::Reactivation => "reactivation",
        }
    }
}

/// Classifies a customer's MRR going from `before` to `after`. `had_revenue_before` says whether
/// the customer ever paid before (a return from zero is a reactivation, not new). `None` when
/// nothing moved.
pub fn classify(before: i64, after: i64, had_revenue_before: bool) -> Option<MovementKind> {
    match (before, after) {
        (b, a) if b == a => None,
        (0, _) if had_revenue_before => Some(MovementKind::Reactivation),
        (0, _) => Some(MovementKind::New),
        (_, 0) => Some(MovementKind::Churn),
        (b, a) if a > b => Some(MovementKind::Expansion),
        _ => Some(MovementKind::Contraction),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BillingInterval::*;

    #[test]
    fn yearly_prices_are_normalised_to_months() {
        assert_eq!(monthly_recurring(2900, 1, Month, 1, 0), 2900);
        assert_eq!(monthly_recurring(29000, 1, Year, 1, 0), 2417); // 2416.67 rounds up
        assert_eq!(monthly_recurring(9000, 1, Month, 3, 0), 3000);
    }

    #[test]
    fn quantity_and_discount_apply() {
        assert_eq!(monthly_recurring(1000, 3, Month, 1, 0), 3000);
        assert_eq!(monthly_recurring(1000, 1, Month, 1, 2500), 750);
        assert_eq!(monthly_recurring(1000, 1, Month, 1, 10_000), 0);
        assert_eq!(monthly_recurring(999, 1, Month, 1, 5000), 500); // 499.5 → 500
    }

    #[test]
    fn movements_are_classified() {
        assert_eq!(classify(0, 2900, false), Some(MovementKind::New));
        assert_eq!(classify(0, 2900, true), Some(MovementKind::Reactivation));
        assert_eq!(classify(900, 2900, true), Some(MovementKind::Expansion));
        assert_eq!(classify(2900, 900, true), Some(MovementKind::Contraction));
        assert_eq!(classify(2900, 0, true), Some(MovementKind::Churn));
        assert_eq!(classify(2900, 2900, true), None);
    }
}
