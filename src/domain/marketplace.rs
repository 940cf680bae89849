//! The marketplace's rules: what a creator's product may cost, the platform's fee on a sale,
//! where a creator's onboarding stands, and an order's life. Pure: no I/O.

use serde::{Deserialize, Serialize};

use super::money::{Currency, Money, MoneyError};

/// A fee rate in basis points (1/100 of a percent): `1000` is 10%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct FeeRate(u32);

impl FeeRate {
    /// At most 100%.
    pub const MAX_BPS: u32 = 10_000;

    pub fn from_bps(bps: u32) -> Result<Self, String> {
        if bps > Self::MAX_BPS {
            Err(format!("a fee rate is at most 100% (10000 basis points), got {bps}"))
        } else {
            Ok(Self(bps))
        }
    }

    /// Parses a percentage as a person types it: `10`, `7.5`, `12.25%` (two decimals at most),
    /// saying what is wrong otherwise (not a number, below 0, over 100%, too many decimals).
    pub fn parse_percent(text: &str) -> Result<Self, String> {
        let number = text.trim().trim_end_matches('%').trim();
        if number.starts_with('-') {
            return Err(format!("{text:?} is below 0%"));
        }
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) {
            return Err(format!("{text:?} is not a percentage like 10 or 7.5"));
        }
        if fraction.len() > 2 {
            return Err(format!("{text:?} has more than two decimals"));
        }
        let over = || format!("{text:?} is more than 100%");
        // Only digits: a whole part that does not parse is far too large.
        let whole: u64 = whole.parse().map_err(|_| over())?;
        let fraction: u64 = format!("{fraction:0<2}").parse().unwrap_or(0);
        let bps = whole.saturating_mul(100).saturating_add(fraction);
        u32::try_from(bps).ok().filter(|&bps| bps <= Self::MAX_BPS).map(Self).ok_or_else(over)
    }

    pub fn bps(self) -> u32 {
        self.0
    }

    /// The fee on `amount`: `amount × rate`, rounded to the nearest minor unit, halves up (so
    /// 10% of $0.55 is $0.06); in Stripe's three-decimal currencies to the nearest ten, which
    /// Stripe requires of every amount there. Never more than the amount.
    pub fn fee_on(self, amount: Money) -> Money {
        let step: i128 = if amount.currency().exponent() == 3 { 10 } else { 1 };
        let exact_times_10000 = i128::from(amount.minor()) * i128::from(self.0);
        let unit = 10_000 * step;
        let rounded = (exact_times_10000 + unit / 2).div_euclid(unit) * step;
        Money::new(i64::try_from(rounded).unwrap_or(i64::MAX).min(amount.minor()), amount.currency())
    }
}

impl TryFrom<u32> for FeeRate {
    type Error = String;
    fn try_from(bps: u32) -> Result<Self, Self::Error> {
        Self::from_bps(bps)
    }
}

impl From<FeeRate> for u32 {
    fn from(rate: FeeRate) -> Self {
        rate.0
    }
}

impl std::fmt::Display for FeeRate {
    /// `10%`, `7.5%`, `12.25%`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (whole, fraction) = (self.0 / 100, self.0 % 100);
        match fraction {
            0 => write!(f, "{whole}%"),
            n if n % 10 == 0 => write!(f, "{whole}.{}%", n / 10),
            n => write!(f, "{whole}.{n:02}%"),
        }
    }
}

/// A rate that applies once a creator's lifetime sales (gross, in the catalog's currency)
/// reach `from_lifetime_sales` minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeTier {
    pub from_lifetime_sales: i64,
    pub rate: FeeRate,
}

/// The platform's terms for creators (`[marketplace]` in `catalog.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceTerms {
    /// The fee when neither a creator's own rate nor a tier applies.
    pub default_rate: FeeRate,
    /// Lower rates for creators who sold more, by lifetime sales; the highest reached applies.
    pub tiers: Vec<FeeTier>,
    /// The most a product may cost, in minor units of its currency.
    pub max_price: i64,
}

impl Default for MarketplaceTerms {
    fn default() -> Self {
        Self { default_rate: FeeRate(1000), tiers: vec![], max_price: 1_000_000 }
    }
}

/// Which rule set a sale's fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeSource {
    /// The admin set this creator's rate.
    Creator,
    /// The creator's lifetime sales reached a tier.
    Tier,
    Default,
}

impl FeeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creator => "creator",
            Self::Tier => "tier",
            Self::Default => "default",
        }
    }
}

impl MarketplaceTerms {
    /// The rate for a creator: their own rate when the admin set one, else the highest tier
    /// their lifetime sales reached, else the default.
    pub fn rate_for(&self, creator_rate: Option<FeeRate>, lifetime_sales: i64) -> (FeeRate, FeeSource) {
        if let Some(rate) = creator_rate {
            return (rate, FeeSource::Creator);
        }
        self.tiers
            .iter()
            .filter(|tier| lifetime_sales >= tier.from_lifetime_sales)
            .max_by_key(|tier| tier.from_lifetime_sales)
            .map_or((self.default_rate, FeeSource::Default), |tier| (tier.rate, FeeSource::Tier))
    }

    /// Parses what a creator typed as a product's price, with a message they can act on.
    pub fn parse_price(&self, text: &str, currency: Currency) -> Result<Money, String> {
        let text = text.trim();
        if text.starts_with('-') {
            return Err("A price cannot be negative.".into());
        }
        let at_most = || format!("A product costs at most {}.", Money::new(self.max_price, currency));
        let price = Money::parse_major(text, currency).map_err(|err| match err {
            MoneyError::Overflow => at_most(),
            // Digits too many for any amount: a number, just far too large.
            MoneyError::BadAmount(_) if text.len() > 15 && text.chars().all(|c| c.is_ascii_digit()) => at_most(),
            other => format!("Enter the price as an amount like 12.50 ({other})."),
        })?;
        if price.minor() == 0 {
            return Err("A product must cost something: enter a price above 0.".into());
        }
        let least = minimum_charge(currency);
        if price.minor() < least {
            return Err(format!(
                "Stripe's smallest charge in {} is {}.",
                currency.as_str().to_uppercase(),
                Money::new(least, currency)
            ));
        }
        if price.minor() > self.max_price {
            return Err(at_most());
        }
        Ok(price)
    }
}

/// Stripe's minimum charge amount in `currency`, in minor units (its published table for the
/// common currencies; 50 minor units elsewhere).
pub fn minimum_charge(currency: Currency) -> i64 {
    match currency.as_str() {
        "gbp" => 30,
        "hkd" => 400,
        "jpy" => 50,
        "mxn" => 1000,
        "nok" | "sek" => 300,
        "dkk" => 250,
        "czk" => 1500,
        "huf" => 17_500,
        "pln" => 200,
        "ron" => 200,
        "sgd" | "aud" | "cad" | "nzd" | "chf" | "eur" | "usd" | "brl" => 50,
        "aed" => 200,
        "inr" => 50,
        "thb" => 1000,
        "myr" => 200,
        "bgn" => 100,
        _ => 50,
    }
}

/// Where a creator's Stripe account stands, from the account's own flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CreatorState {
    /// Onboarding not finished (`details_submitted` false).
    Pending,
    /// Details given, but Stripe needs more before money can move: what is due.
    Restricted { due: Vec<String> },
    /// Can take payments and be paid out.
    Enabled,
}

impl CreatorState {
    pub fn of_account(details_submitted: bool, charges_enabled: bool, payouts_enabled: bool, due: Vec<String>) -> Self {
        if !details_submitted {
            Self::Pending
        } else if charges_enabled && payouts_enabled && due.is_empty() {
            Self::Enabled
        } else {
            Self::Restricted { due }
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Restricted { .. } => "restricted",
            Self::Enabled => "enabled",
        }
    }

    /// Only enabled creators may publish (and so sell).
    pub fn may_publish(&self) -> bool {
        matches!(self, Self::Enabled)
    }
}

/// A marketplace order's life. A sale moves `pending → paid`, then maybe to a refund or a
/// dispute; every move is a conditional update from the states it may come from, so a
/// duplicate or late event finds nothing to move and has no side effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    PartiallyRefunded,
    Refunded,
    Disputed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Disputed => "disputed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Paid, Self::PartiallyRefunded, Self::Refunded, Self::Disputed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// The status after refunds totalling `refunded` of `amount`.
    pub fn after_refunds(refunded: i64, amount: i64) -> Self {
        if refunded >= amount {
            Self::Refunded
        } else if refunded > 0 {
            Self::PartiallyRefunded
        } else {
            Self::Paid
        }
    }
}

/// Where a creator's payout stands, as Stripe says: `pending` until it is submitted to the bank,
/// `in_transit` until it arrives, then `paid`; `failed` (the money back in the balance) or
/// `canceled` end it too. Stripe may report a paid payout `failed` later, never the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    Pending,
    InTransit,
    Paid,
    Failed,
    Canceled,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InTransit => "in_transit",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::InTransit, Self::Paid, Self::Failed, Self::Canceled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Still on its way to the bank.
    pub fn is_upcoming(self) -> bool {
        matches!(self, Self::Pending | Self::InTransit)
    }
}

/// A product's public address: lowercase ASCII letters, digits and single dashes, from its
/// title (`"Rust for Founders!"` → `rust-for-founders`), at most 60 characters.
pub fn slug_of(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        "product".into()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::parse("usd").unwrap())
    }

    #[test]
    fn fees_round_to_the_nearest_minor_unit_halves_up() {
        let ten = FeeRate::from_bps(1000).unwrap();
        assert_eq!(ten.fee_on(usd(2500)).minor(), 250);
        assert_eq!(ten.fee_on(usd(55)).minor(), 6, "5.5 cents rounds up");
        assert_eq!(ten.fee_on(usd(54)).minor(), 5, "5.4 cents rounds down");
        let odd = FeeRate::from_bps(725).unwrap(); // 7.25%
        assert_eq!(odd.fee_on(usd(1999)).minor(), 145, "144.9275 → 145");
        assert_eq!(FeeRate::from_bps(0).unwrap().fee_on(usd(1000)).minor(), 0);
        assert_eq!(FeeRate::from_bps(10_000).unwrap().fee_on(usd(1000)).minor(), 1000, "never above the amount");
        let kwd = Money::new(12_340, Currency::parse("kwd").unwrap());
        assert_eq!(ten.fee_on(kwd).minor(), 1230, "three-decimal currencies: whole tens (1234 → 1230)");
        let jpy = Money::new(999, Currency::parse("jpy").unwrap());
        assert_eq!(ten.fee_on(jpy).minor(), 100, "99.9 yen → 100");
    }

    #[test]
    fn percentages_parse_exactly_and_print_back() {
        assert_eq!(FeeRate::parse_percent("10").unwrap().bps(), 1000);
        assert_eq!(FeeRate::parse_percent("7.5%").unwrap().bps(), 750);
        assert_eq!(FeeRate::parse_percent(" 12.25 ").unwrap().bps(), 1225);
        assert_eq!(FeeRate::parse_percent("100").unwrap().bps(), 10_000);
        assert_eq!(FeeRate::parse_percent("0").unwrap().bps(), 0);
        assert_eq!(FeeRate::parse_percent("101").unwrap_err(), r#""101" is more than 100%"#);
        assert_eq!(FeeRate::parse_percent("100.01").unwrap_err(), r#""100.01" is more than 100%"#);
        assert!(FeeRate::parse_percent("99999999999999999999999").unwrap_err().contains("more than 100%"));
        assert_eq!(FeeRate::parse_percent("-1").unwrap_err(), r#""-1" is below 0%"#);
        assert_eq!(FeeRate::parse_percent("1.234").unwrap_err(), r#""1.234" has more than two decimals"#);
        assert_eq!(FeeRate::parse_percent("ten").unwrap_err(), r#""ten" is not a percentage like 10 or 7.5"#);
        assert!(FeeRate::parse_percent("").is_err());
        assert!(FeeRate::parse_percent("1,5").is_err());
        assert_eq!(FeeRate::from_bps(750).unwrap().to_string(), "7.5%");
        assert_eq!(FeeRate::from_bps(1000).unwrap().to_string(), "10%");
        assert_eq!(FeeRate::from_bps(1225).unwrap().to_string(), "12.25%");
        assert_eq!(FeeRate::from_bps(5).unwrap().to_string(), "0.05%");
    }

    #[test]
    fn a_creators_own_rate_beats_tiers_which_beat_the_default() {
        let terms = MarketplaceTerms {
            default_rate: FeeRate(1000),
            tiers: vec![
                FeeTier { from_lifetime_sales: 100_000, rate: FeeRate(800) },
                FeeTier { from_lifetime_sales: 1_000_000, rate: FeeRate(500) },
            ],
            max_price: 1_000_000,
        };
        assert_eq!(terms.rate_for(None, 0), (FeeRate(1000), FeeSource::Default));
        assert_eq!(terms.rate_for(None, 99_999), (FeeRate(1000), FeeSource::Default));
        assert_eq!(terms.rate_for(None, 100_000), (FeeRate(800), FeeSource::Tier));
        assert_eq!(terms.rate_for(None, 5_000_000), (FeeRate(500), FeeSource::Tier));
        assert_eq!(terms.rate_for(Some(FeeRate(1500)), 5_000_000), (FeeRate(1500), FeeSource::Creator));
    }

    #[test]
    fn prices_of_zero_negative_too_small_or_too_large_are_refused_clearly() {
        let terms = MarketplaceTerms::default();
        let usd_c = Currency::parse("usd").unwrap();
        assert_eq!(terms.parse_price("12.50", usd_c).unwrap().minor(), 1250);
        assert_eq!(terms.parse_price("$10,000", usd_c).unwrap().minor(), 1_000_000);
        assert_eq!(terms.parse_price("0", usd_c).unwrap_err(), "A product must cost something: enter a price above 0.");
        assert_eq!(
            terms.parse_price("0.00", usd_c).unwrap_err(),
            "A product must cost something: enter a price above 0."
        );
        assert_eq!(terms.parse_price("-5", usd_c).unwrap_err(), "A price cannot be negative.");
        assert_eq!(terms.parse_price("0.49", usd_c).unwrap_err(), "Stripe's smallest charge in USD is $0.50.");
        assert_eq!(terms.parse_price("10000.01", usd_c).unwrap_err(), "A product costs at most $10000.00.");
        assert_eq!(terms.parse_price("99999999999999999999", usd_c).unwrap_err(), "A product costs at most $10000.00.");
        assert!(terms.parse_price("twelve", usd_c).unwrap_err().starts_with("Enter the price as an amount like 12.50"));
    }

    #[test]
    fn a_creator_is_enabled_only_when_stripe_lets_money_in_and_out() {
        assert_eq!(CreatorState::of_account(false, false, false, vec!["business_type".into()]), CreatorState::Pending);
        let due = vec!["individual.verification.document".to_string()];
        assert_eq!(
            CreatorState::of_account(true, true, false, due.clone()),
            CreatorState::Restricted { due: due.clone() }
        );
        assert!(!CreatorState::of_account(true, true, false, due).may_publish());
        assert_eq!(CreatorState::of_account(true, true, true, vec![]), CreatorState::Enabled);
        assert!(CreatorState::Enabled.may_publish());
    }

    #[test]
    fn refunds_move_an_order_to_partially_or_fully_refunded() {
        assert_eq!(OrderStatus::after_refunds(0, 1000), OrderStatus::Paid);
        assert_eq!(OrderStatus::after_refunds(1, 1000), OrderStatus::PartiallyRefunded);
        assert_eq!(OrderStatus::after_refunds(1000, 1000), OrderStatus::Refunded);
        for s in ["pending", "paid", "partially_refunded", "refunded", "disputed"] {
            assert_eq!(OrderStatus::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(OrderStatus::parse("lost"), None);
    }

    #[test]
    fn payout_statuses_read_as_stripe_writes_them() {
        for s in ["pending", "in_transit", "paid", "failed", "canceled"] {
            assert_eq!(PayoutStatus::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(PayoutStatus::parse("lost"), None);
        assert!(PayoutStatus::InTransit.is_upcoming() && PayoutStatus::Pending.is_upcoming());
        assert!(!PayoutStatus::Paid.is_upcoming() && !PayoutStatus::Failed.is_upcoming());
    }

    #[test]
    fn slugs_keep_letters_and_digits_joined_by_single_dashes() {
        assert_eq!(slug_of("Rust for Founders!"), "rust-for-founders");
        assert_eq!(slug_of("  --Über  Guide 2  "), "ber-guide-2");
        assert_eq!(slug_of("!!!"), "product");
        assert!(slug_of(&"a".repeat(200)).len() <= 60);
    }
}
