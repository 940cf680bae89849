//! Money as integer minor units plus an ISO currency code. Never floats.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A lowercase three-letter ISO 4217 code, as Stripe writes it (`usd`, `eur`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO code, got {0:?}")]
    BadCurrency(String),
    #[error("amounts in different currencies ({0} and {1}) cannot be combined")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount overflow")]
    Overflow,
    #[error("{0:?} is not an amount like 12.50")]
    BadAmount(String),
    #[error("{0:?} is not a multiple of 0.010: Stripe takes {1} in whole hundredths")]
    NotWholeHundredths(String, Currency),
}

impl Currency {
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let lower = code.trim().to_ascii_lowercase();
        let bytes = lower.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_lowercase) {
            return Err(MoneyError::BadCurrency(code.to_string()));
        }
        Ok(Self([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).expect("ascii")
    }

    /// Digits after the decimal point, as Stripe counts them: none for its zero-decimal
    /// currencies, three for its three-decimal ones, two for the rest.
    pub fn exponent(&self) -> u32 {
        const ZERO_DECIMAL: [&str; 16] = [
            "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof",
            "xpf",
        ];
        if ZERO_DECIMAL.contains(&self.as_str()) {
            0
        } else if self.is_three_decimal() {
            3
        } else {
            2
        }
    }

    /// Stripe's three-decimal currencies, whose amounts must end in 0 (whole hundredths).
    fn is_three_decimal(&self) -> bool {
        ["bhd", "jod", "kwd", "omr", "tnd"].contains(&self.as_str())
    }

    fn symbol(&self) -> Option<&'static str> {
        match self.as_str() {
            "usd" => Some("$"),
            "eur" => Some("€"),
            "gbp" => Some("£"),
            "jpy" => Some("¥"),
            _ => None,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units (cents for USD) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    #[cfg(test)]
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }
}

impl Money {
    /// Parses what a person types (`12.50`, `12`, `$12.5`, `1,250.00`) into minor units, exactly:
    /// no floats, no more decimals than the currency has, and commas only where they group
    /// thousands (`12,50` is refused, never read as 1,250).
    pub fn parse_major(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let bad = || MoneyError::BadAmount(text.to_string());
        // A currency sign or code in front is fine; a minus sign is not.
        let number = text.trim().trim_start_matches(|c: char| c.is_alphabetic() || "$€£¥ ".contains(c));
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let whole = ungroup_thousands(whole).ok_or_else(bad)?;
        let exp = currency.exponent() as usize;
        let digits_only = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits_only(&whole) || !digits_only(fraction) || fraction.len() > exp {
            return Err(bad());
        }
        if exp == 0 && number.contains('.') {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fraction: i64 = if exp == 0 { 0 } else { format!("{fraction:0<exp$}").parse().map_err(|_| bad())? };
        let minor = whole
            .checked_mul(10i64.pow(exp as u32))
            .and_then(|m| m.checked_add(fraction))
            .ok_or(MoneyError::Overflow)?;
        if currency.is_three_decimal() && minor % 10 != 0 {
            return Err(MoneyError::NotWholeHundredths(text.to_string(), currency));
        }
        Ok(Money::new(minor, currency))
    }
}

/// `1,250,000` → `1250000`; digits without commas unchanged; `None` when a comma is anywhere but
/// between groups of three digits.
fn ungroup_thousands(whole: &str) -> Option<String> {
    if !whole.contains(',') {
        return Some(whole.to_string());
    }
    let mut groups = whole.split(',');
    let first = groups.next()?;
    let well_grouped = (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3);
    well_grouped.then(|| whole.replace(',', ""))
}

impl Money {
    /// The amount in major units without sign or symbol, as a form field shows it (`12.50`,
    /// `500` for yen): what [`Money::parse_major`] reads back.
    pub fn major_digits(&self) -> String {
        let abs = self.minor.unsigned_abs();
        let exp = self.currency.exponent();
        if exp == 0 {
            abs.to_string()
        } else {
            let unit = 10u64.pow(exp);
            format!("{}.{:0width$}", abs / unit, abs % unit, width = exp as usize)
        }
    }
}

impl fmt::Display for Money {
    /// `$12.50`, `-€3.00`, `¥500`, `12.50 CHF`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let number = self.major_digits();
        match self.currency.symbol() {
            Some(symbol) => write!(f, "{sign}{symbol}{number}"),
            None => write!(f, "{sign}{number} {}", self.currency.as_str().to_uppercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("usd").unwrap()
    }

    #[test]
    fn currency_parses_and_normalises() {
        assert_eq!(Currency::parse("USD").unwrap().as_str(), "usd");
        assert_eq!(Currency::parse(" eur ").unwrap().as_str(), "eur");
        assert!(Currency::parse("us").is_err());
        assert!(Currency::parse("usdd").is_err());
        assert!(Currency::parse("u$d").is_err());
    }

    #[test]
    fn formats_two_decimal_currencies() {
        assert_eq!(Money::new(1250, usd()).to_string(), "$12.50");
        assert_eq!(Money::new(5, usd()).to_string(), "$0.05");
        assert_eq!(Money::new(-300, Currency::parse("eur").unwrap()).to_string(), "-€3.00");
        assert_eq!(Money::new(1999, Currency::parse("chf").unwrap()).to_string(), "19.99 CHF");
    }

    #[test]
    fn formats_zero_decimal_currencies() {
        assert_eq!(Money::new(500, Currency::parse("jpy").unwrap()).to_string(), "¥500");
    }

    #[test]
    fn major_digits_are_what_a_form_field_shows_and_parse_back() {
        let jpy = Currency::parse("jpy").unwrap();
        let kwd = Currency::parse("kwd").unwrap();
        for (money, digits) in
            [(Money::new(1250, usd()), "12.50"), (Money::new(500, jpy), "500"), (Money::new(1230, kwd), "1.230")]
        {
            assert_eq!(money.major_digits(), digits);
            assert_eq!(Money::parse_major(digits, money.currency()), Ok(money));
        }
    }

    #[test]
    fn adding_refuses_mixed_currencies_and_overflow() {
        let eur = Currency::parse("eur").unwrap();
        assert_eq!(Money::new(1, usd()).checked_add(Money::new(2, usd())), Ok(Money::new(3, usd())));
        assert!(matches!(Money::new(1, usd()).checked_add(Money::new(2, eur)), Err(MoneyError::CurrencyMismatch(..))));
        assert_eq!(Money::new(i64::MAX, usd()).checked_add(Money::new(1, usd())), Err(MoneyError::Overflow));
    }

    #[test]
    fn typed_amounts_parse_exactly_into_minor_units() {
        let parse = |t: &str| Money::parse_major(t, usd()).map(|m| m.minor());
        assert_eq!(parse("12.50"), Ok(1250));
        assert_eq!(parse("12.5"), Ok(1250));
        assert_eq!(parse(" $1,250 "), Ok(125_000));
        assert_eq!(parse("0.07"), Ok(7));
        for bad in ["", "abc", "1.234", "-5", "1.2.3", "."] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let yen = Currency::parse("jpy").unwrap();
        assert_eq!(Money::parse_major("500", yen).map(|m| m.minor()), Ok(500));
        assert!(Money::parse_major("500.5", yen).is_err());
    }

    #[test]
    fn a_comma_is_a_thousands_separator_or_an_error() {
        let parse = |t: &str| Money::parse_major(t, usd()).map(|m| m.minor());
        // A decimal comma is refused, never read as 1,250.00.
        assert!(parse("12,50").is_err());
        assert!(parse("1.250,00").is_err());
        assert!(parse("1,25").is_err());
        assert!(parse("1,2345.00").is_err());
        assert!(parse(",250").is_err());
        assert!(parse("1,,250").is_err());
        assert_eq!(parse("1,250.50"), Ok(125_050));
        assert_eq!(parse("12,345,678"), Ok(1_234_567_800));
        assert_eq!(parse("999,000.1"), Ok(99_900_010));
    }

    #[test]
    fn zero_decimal_currencies_take_whole_units() {
        let yen = Currency::parse("jpy").unwrap();
        let parse = |t: &str| Money::parse_major(t, yen).map(|m| m.minor());
        assert_eq!(parse("¥1,500"), Ok(1500));
        assert!(parse("1500.").is_err());
        assert!(parse("1500.0").is_err());
        assert_eq!(Money::new(1500, yen).to_string(), "¥1500");
    }

    #[test]
    fn three_decimal_currencies_take_three_digits_in_steps_of_ten() {
        let kwd = Currency::parse("kwd").unwrap();
        assert_eq!(kwd.exponent(), 3);
        let parse = |t: &str| Money::parse_major(t, kwd).map(|m| m.minor());
        assert_eq!(parse("12.5"), Ok(12_500));
        assert_eq!(parse("12.340"), Ok(12_340));
        assert_eq!(parse("12.34"), Ok(12_340));
        // Stripe refuses three-decimal amounts that do not end in 0.
        assert!(parse("12.345").is_err());
        assert!(parse("12.3456").is_err());
        assert_eq!(Money::new(12_340, kwd).to_string(), "12.340 KWD");
    }

    #[test]
    fn serde_round_trip_keeps_integer_minor_units() {
        let m = Money::new(1250, usd());
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"minor":1250,"currency":"usd"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        assert!(serde_json::from_str::<Money>(r#"{"minor":1,"currency":"xx"}"#).is_err());
    }
}
