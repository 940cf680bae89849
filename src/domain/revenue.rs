//! Revenue math: monthly recurring revenue (MRR) of a subscription, and how a change in it is
//! classified as a movement. Integer minor units throughout; rounding is half-up, once, at the end.

use serde::{Deserialize, Serialize};

use super::catalog::BillingInterval;

/// What a subscription's discounts take off each invoice: percentages (basis points, 1% = 100,
/// summed) and amounts off in the price's currency (minor units, summed), in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Discount {
    pub percent_off_bp: i64,
    pub amount_off: i64,
}

impl Discount {
    pub const NONE: Discount = Discount { percent_off_bp: 0, amount_off: 0 };
}

/// MRR in minor units of `unit_amount × quantity` billed every `interval_count` intervals, less
/// `discount` (never below zero).
pub fn monthly_recurring(
    unit_amount: i64,
    quantity: i64,
    interval: BillingInterval,
    interval_count: i64,
    discount: Discount,
) -> i64 {
    let months = match interval {
        BillingInterval::Month => 1,
        BillingInterval::Year => 12,
    } * interval_count.max(1);
    // Per invoice, in ten-thousandths of a minor unit (the basis points' scale); divide once.
    let gross = i128::from(unit_amount) * i128::from(quantity);
    let kept_bp = 10_000 - i128::from(discount.percent_off_bp.clamp(0, 10_000));
    let numerator = (gross * kept_bp - i128::from(discount.amount_off.max(0)) * 10_000).max(0);
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
        assert_eq!(monthly_recurring(2900, 1, Month, 1, Discount::NONE), 2900);
        assert_eq!(monthly_recurring(29000, 1, Year, 1, Discount::NONE), 2417); // 2416.67 rounds up
        assert_eq!(monthly_recurring(9000, 1, Month, 3, Discount::NONE), 3000);
    }

    fn percent(bp: i64) -> Discount {
        Discount { percent_off_bp: bp, amount_off: 0 }
    }

    fn amount(off: i64) -> Discount {
        Discount { percent_off_bp: 0, amount_off: off }
    }

    #[test]
    fn quantity_and_discount_apply() {
        assert_eq!(monthly_recurring(1000, 3, Month, 1, Discount::NONE), 3000);
        assert_eq!(monthly_recurring(1000, 1, Month, 1, percent(2500)), 750);
        assert_eq!(monthly_recurring(1000, 1, Month, 1, percent(10_000)), 0);
        assert_eq!(monthly_recurring(999, 1, Month, 1, percent(5000)), 500); // 499.5 → 500
    }

    #[test]
    fn an_amount_off_comes_off_each_invoice_after_the_percentage() {
        assert_eq!(monthly_recurring(2900, 1, Month, 1, amount(500)), 2400);
        assert_eq!(monthly_recurring(29000, 1, Year, 1, amount(5000)), 2000, "5,000 off a yearly invoice");
        assert_eq!(monthly_recurring(1200, 3, Month, 1, amount(600)), 3000, "off the invoice, not per seat");
        assert_eq!(monthly_recurring(1000, 1, Month, 1, Discount { percent_off_bp: 5000, amount_off: 100 }), 400);
        assert_eq!(monthly_recurring(2900, 1, Month, 1, amount(5000)), 0, "never below zero");
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
