//! What `catalog migrate` is asked, parsed before anything is read: `--from pro_monthly@2900`
//! (the old amount in minor units) or `--from pro_monthly@price_123` (the old price's id), `--to
//! pro_monthly`, `--at 2027-03-01` (UTC), `--notice-days 30`.

use std::fmt;

/// Which old price of a lookup key: by its amount, or by its Stripe id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    Amount(i64),
    PriceId(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldPrice {
    pub lookup_key: String,
    pub which: Which,
}

impl OldPrice {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (lookup_key, which) = raw
            .split_once('@')
            .ok_or_else(|| format!("--from {raw:?}: say which old price, as <lookup key>@<amount> or @<price id>"))?;
        if lookup_key.is_empty() {
            return Err(format!("--from {raw:?}: the lookup key is missing"));
        }
        let which = if which.starts_with("price_") {
            Which::PriceId(which.to_string())
        } else {
            match which.parse::<i64>() {
                Ok(amount) if amount > 0 => Which::Amount(amount),
                _ => {
                    return Err(format!(
                        "--from {raw:?}: {which:?} is neither a positive amount in minor units nor a price id"
                    ))
                }
            }
        };
        Ok(Self { lookup_key: lookup_key.to_string(), which })
    }

    /// Whether a subscription on `price_id` at `unit_amount` is on this old price.
    pub fn matches(&self, price_id: &str, unit_amount: i64) -> bool {
        match &self.which {
            Which::Amount(amount) => unit_amount == *amount,
            Which::PriceId(id) => price_id == id,
        }
    }
}

impl fmt::Display for OldPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.which {
            Which::Amount(amount) => write!(f, "{}@{amount}", self.lookup_key),
            Which::PriceId(id) => write!(f, "{}@{id}", self.lookup_key),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationRequest {
    pub from: OldPrice,
    /// The lookup key whose current price they move to.
    pub to: String,
    /// No one moves before this (00:00 UTC of `--at`).
    pub not_before: i64,
    pub notice_days: u32,
}

impl MigrationRequest {
    pub fn parse(from: &str, to: &str, at: &str, notice_days: u32) -> Result<Self, String> {
        let from = OldPrice::parse(from)?;
        if to.is_empty() {
            return Err("--to: the lookup key to move to is missing".into());
        }
        let not_before = crate::views::format::utc_midnight(at)
            .ok_or_else(|| format!("--at {at:?}: expected a day as YYYY-MM-DD"))?;
        if notice_days > 365 {
            return Err(format!("--notice-days {notice_days}: at most 365"));
        }
        Ok(Self { from, to: to.to_string(), not_before, notice_days })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_old_price_by_amount_or_id_and_refuses_the_rest() {
        let by_amount = OldPrice::parse("pro_monthly@2900").unwrap();
        assert_eq!(by_amount.which, Which::Amount(2900));
        assert!(by_amount.matches("price_any", 2900) && !by_amount.matches("price_any", 3900));
        let by_id = OldPrice::parse("pro_monthly@price_123").unwrap();
        assert!(by_id.matches("price_123", 1) && !by_id.matches("price_124", 1));
        for bad in ["pro_monthly", "@2900", "pro_monthly@", "pro_monthly@-5", "pro_monthly@29.00"] {
            assert!(OldPrice::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_the_day_and_bounds_the_notice() {
        let request = MigrationRequest::parse("pro_monthly@2900", "pro_monthly", "2027-03-01", 30).unwrap();
        assert_eq!(request.not_before, 1_803_859_200);
        assert!(MigrationRequest::parse("pro_monthly@2900", "pro_monthly", "2027-02-30", 30).is_err());
        assert!(MigrationRequest::parse("pro_monthly@2900", "pro_monthly", "1 March", 30).is_err());
        assert!(MigrationRequest::parse("pro_monthly@2900", "pro_monthly", "2027-03-01", 400).is_err());
        assert!(MigrationRequest::parse("pro_monthly@2900", "", "2027-03-01", 30).is_err());
    }
}
