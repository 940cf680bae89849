//! A coupon and a promotion code as the admin's forms describe them, checked before Stripe is
//! asked: what comes off (a percentage or an amount), for how long, how often, and who may use
//! a code. Pure: no I/O; dates arrive as unix seconds.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::catalog::PlanKey;
use super::marketplace::FeeRate;
use super::money::{Currency, Money};

/// What a coupon takes off each invoice it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Off {
    /// Basis points (`1250` is 12.5%): more than 0, at most 100%.
    Percent(FeeRate),
    /// A fixed amount, more than zero, in the coupon's currency.
    Amount(Money),
}

impl Off {
    /// Exactly one of `percent` (`100`, `12.5%`) and `amount` (`5.00`, in `currency`).
    pub fn parse(percent: &str, amount: &str, currency: Currency) -> Result<Self, String> {
        match (percent.trim(), amount.trim()) {
            ("", "") => Err("Enter a percentage or an amount off.".into()),
            (_, "") => {
                // The same percentages as a fee rate: two decimals at most, 0 to 100.
                let rate = FeeRate::parse_percent(percent).map_err(|why| format!("Percent off: {why}."))?;
                if rate.bps() == 0 {
                    return Err("Percent off: it must be more than 0%.".into());
                }
                Ok(Off::Percent(rate))
            }
            ("", _) => {
                let money = Money::parse_major(amount, currency).map_err(|why| format!("Amount off: {why}."))?;
                if money.minor() <= 0 {
                    return Err("Amount off: it must be more than zero.".into());
                }
                Ok(Off::Amount(money))
            }
            _ => Err("Enter a percentage or an amount off, not both.".into()),
        }
    }
}

impl fmt::Display for Off {
    /// `12.5% off`, `$5.00 off`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Off::Percent(rate) => write!(f, "{rate} off"),
            Off::Amount(money) => write!(f, "{money} off"),
        }
    }
}

/// How long a subscription keeps the discount: its first invoice, a number of months, or for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CouponDuration {
    Once,
    Repeating { months: u32 },
    Forever,
}

impl CouponDuration {
    /// Stripe sets no upper bound; this one keeps a typo (`120` for `12`) from becoming a decade.
    pub const MAX_MONTHS: u32 = 36;

    /// `once`, `forever`, or `repeating` with `months` (1 to [`Self::MAX_MONTHS`]).
    pub fn parse(kind: &str, months: &str) -> Result<Self, String> {
        match kind.trim() {
            "once" => Ok(Self::Once),
            "forever" => Ok(Self::Forever),
            "repeating" => match months.trim().parse::<u32>() {
                Ok(months @ 1..=Self::MAX_MONTHS) => Ok(Self::Repeating { months }),
                _ => Err(format!("Months: a repeating coupon lasts 1 to {} months.", Self::MAX_MONTHS)),
            },
            _ => Err("Choose how long the discount lasts: once, for some months, or forever.".into()),
        }
    }

    /// Stripe's `duration`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Once => "once",
            Self::Repeating { .. } => "repeating",
            Self::Forever => "forever",
        }
    }

    /// Stripe's `duration_in_months`.
    pub fn months(self) -> Option<u32> {
        match self {
            Self::Repeating { months } => Some(months),
            _ => None,
        }
    }
}

impl fmt::Display for CouponDuration {
    /// `on the first invoice`, `for 3 months`, `forever`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Once => f.write_str("on the first invoice"),
            Self::Repeating { months: 1 } => f.write_str("for 1 month"),
            Self::Repeating { months } => write!(f, "for {months} months"),
            Self::Forever => f.write_str("forever"),
        }
    }
}

/// An optional limit on redemptions: empty for none, else a whole number above zero.
pub fn parse_limit(text: &str) -> Result<Option<u32>, String> {
    match text.trim() {
        "" => Ok(None),
        number => match number.parse::<u32>() {
            Ok(limit) if limit > 0 => Ok(Some(limit)),
            _ => Err(format!("Maximum redemptions: {number:?} is not a whole number above zero.")),
        },
    }
}

/// A coupon to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponTerms {
    /// What customers see on invoices and receipts (Stripe allows 40 characters).
    pub name: Option<String>,
    pub off: Off,
    pub duration: CouponDuration,
    pub max_redemptions: Option<u32>,
    /// The last moment it can be redeemed (unix seconds).
    pub redeem_by: Option<i64>,
    /// The plans it applies to; empty: every plan.
    pub plans: Vec<PlanKey>,
}

impl CouponTerms {
    pub const MAX_NAME: usize = 40;

    /// Checks a name (trimmed; empty is none).
    pub fn parse_name(name: &str) -> Result<Option<String>, String> {
        match name.trim() {
            "" => Ok(None),
            name if name.chars().count() > Self::MAX_NAME => {
                Err(format!("Name: at most {} characters.", Self::MAX_NAME))
            }
            name => Ok(Some(name.to_string())),
        }
    }
}

/// The code a customer types at Checkout: letters and digits only, as Stripe requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionCodeText(String);

impl PromotionCodeText {
    pub const MAX_LEN: usize = 32;

    /// Customers type codes in any case; they are kept in capitals so the list reads alike.
    pub fn parse(code: &str) -> Result<Self, String> {
        let code = code.trim();
        if code.is_empty() || code.len() > Self::MAX_LEN || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "Code: 1 to {} letters and digits (no spaces or dashes), like SPRING25.",
                Self::MAX_LEN
            ));
        }
        Ok(Self(code.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A promotion code to create on a coupon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionCodeTerms {
    pub code: PromotionCodeText,
    pub max_redemptions: Option<u32>,
    /// When it stops working (unix seconds).
    pub expires_at: Option<i64>,
    /// Only for customers who have never paid.
    pub first_time_only: bool,
    /// The order (before discounts) must be at least this much.
    pub minimum: Option<Money>,
}

/// An optional minimum order: empty for none, else an amount above zero in `currency`.
pub fn parse_minimum(text: &str, currency: Currency) -> Result<Option<Money>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    match Money::parse_major(text, currency) {
        Ok(money) if money.minor() > 0 => Ok(Some(money)),
        Ok(_) => Err("Minimum order: it must be more than zero.".into()),
        Err(why) => Err(format!("Minimum order: {why}.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("usd").unwrap()
    }

    #[test]
    fn off_is_a_percentage_or_an_amount() {
        assert_eq!(Off::parse("100", "", usd()).unwrap(), Off::Percent(FeeRate::from_bps(10_000).unwrap()));
        assert_eq!(Off::parse(" 12.5% ", "", usd()).unwrap().to_string(), "12.5% off");
        assert_eq!(Off::parse("", "5", usd()).unwrap(), Off::Amount(Money::new(500, usd())));
        assert_eq!(Off::parse("", "5.25", usd()).unwrap().to_string(), "$5.25 off");
        assert!(Off::parse("", "", usd()).unwrap_err().contains("percentage or an amount"));
        assert!(Off::parse("10", "5", usd()).unwrap_err().contains("not both"));
        assert!(Off::parse("0", "", usd()).unwrap_err().contains("more than 0%"));
        assert!(Off::parse("101", "", usd()).unwrap_err().contains("more than 100%"));
        assert!(Off::parse("", "0", usd()).unwrap_err().contains("more than zero"));
        assert!(Off::parse("", "5.123", usd()).unwrap_err().starts_with("Amount off:"));
    }

    #[test]
    fn durations() {
        assert_eq!(CouponDuration::parse("once", "").unwrap(), CouponDuration::Once);
        assert_eq!(CouponDuration::parse("repeating", "3").unwrap(), CouponDuration::Repeating { months: 3 });
        assert_eq!(CouponDuration::parse("forever", "7").unwrap().months(), None);
        assert!(CouponDuration::parse("repeating", "").is_err());
        assert!(CouponDuration::parse("repeating", "0").is_err());
        assert!(CouponDuration::parse("repeating", "37").is_err());
        assert!(CouponDuration::parse("weekly", "").is_err());
        assert_eq!(CouponDuration::Repeating { months: 1 }.to_string(), "for 1 month");
    }

    #[test]
    fn limits_codes_names_minimums() {
        assert_eq!(parse_limit(" ").unwrap(), None);
        assert_eq!(parse_limit("10").unwrap(), Some(10));
        assert!(parse_limit("0").is_err() && parse_limit("-1").is_err() && parse_limit("ten").is_err());
        assert_eq!(PromotionCodeText::parse(" spring25 ").unwrap().as_str(), "SPRING25");
        for bad in ["", "SPRING-25", "TWO WORDS", &"X".repeat(33)] {
            assert!(PromotionCodeText::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(CouponTerms::parse_name("  ").unwrap(), None);
        assert!(CouponTerms::parse_name(&"n".repeat(41)).is_err());
        assert_eq!(parse_minimum("", usd()).unwrap(), None);
        assert_eq!(parse_minimum("10", usd()).unwrap(), Some(Money::new(1000, usd())));
        assert!(parse_minimum("0", usd()).is_err() && parse_minimum("abc", usd()).is_err());
    }
}
