//! The one place amounts, dates, durations and billing intervals become text, for pages and
//! emails alike. Compiled for the browser too, so no `time` crate here.

use crate::domain::{
    catalog::BillingInterval,
    money::{Currency, Money},
    usage::{MeteredPrice, UsagePricing},
};

/// An amount in minor units of a currency code, e.g. `$29.00`; the bare numbers when the code does not parse.
pub fn money(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// A billing interval as an adjective: `monthly`, `yearly`.
pub fn interval_words(interval: BillingInterval) -> &'static str {
    match interval {
        BillingInterval::Month => "monthly",
        BillingInterval::Year => "yearly",
    }
}

/// A seat count: `1 seat`, `3 seats`.
pub fn seats(count: i64) -> String {
    if count == 1 {
        "1 seat".to_string()
    } else {
        format!("{count} seats")
    }
}

/// The colour (a CSS class) for a Stripe status (subscription, invoice, payment, payout): `ok`
/// when all is well, `warn` when it waits on someone, `danger` when it failed, `neutral` when over.
pub fn status_tone(status: &str) -> &'static str {
    const OK: [&str; 6] = ["active", "trialing", "paid", "succeeded", "won", "complete"];
    const WAITING: [&str; 9] = [
        "open",
        "incomplete",
        "paused",
        "pending",
        "processing",
        "requires_action",
        "in_transit",
        "needs_response",
        "under_review",
    ];
    const FAILED: [&str; 6] = ["past_due", "unpaid", "uncollectible", "failed", "lost", "dead"];
    if OK.contains(&status) {
        "ok"
    } else if WAITING.contains(&status) {
        "warn"
    } else if FAILED.contains(&status) {
        "danger"
    } else {
        "neutral"
    }
}

/// A count with thousands separators: `10,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A metered price for the pricing page, e.g. `API calls: 10,000 a month included, then $0.01 each`.
pub fn usage_price(price: &MeteredPrice, meter_name: &str) -> String {
    let each = |minor: i64| Money::new(minor, price.currency).to_string();
    let terms = match &price.pricing {
        UsagePricing::PerUnit { unit_amount } => format!("{} each", each(*unit_amount)),
        UsagePricing::Package { size, amount } => format!("{} per {}", each(*amount), count(*size)),
        UsagePricing::Graduated { tiers } => match (price.included(), tiers.as_slice()) {
            (included, [_, rest]) if included > 0 && rest.flat_amount == 0 => {
                format!("{} a month included, then {} each", count(included), each(rest.unit_amount))
            }
            _ => {
                let lowest = tiers.iter().map(|t| t.unit_amount).filter(|a| *a > 0).min().unwrap_or(0);
                format!("tiered, from {} each", each(lowest))
            }
        },
    };
    format!("{meter_name}: {terms}")
}

/// Unix seconds → `22 November 2026` (UTC); the number itself outside years ±9999.
pub fn day(ts: i64) -> String {
    // The range the `time` crate, which formatted these before, accepts.
    if !(-377_705_116_800..=253_402_300_799).contains(&ts) {
        return ts.to_string();
    }
    let (y, m, d) = civil_from_days(ts.div_euclid(86_400));
    format!("{d} {} {y}", MONTHS[m as usize - 1])
}

/// Unix seconds → the UTC month, `November 2026`.
pub fn month(ts: i64) -> String {
    let (y, m, _) = civil_from_days(ts.div_euclid(86_400));
    format!("{} {y}", MONTHS[m as usize - 1])
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Unix seconds → `2026-11-22 21:05 UTC`.
pub fn utc(ts: i64) -> String {
    let (days, secs) = (ts.div_euclid(86_400), ts.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

/// Seconds → `45 s`, `3 min`, `2 h`.
pub fn duration(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

/// `YYYY-MM-DD` → unix seconds at 00:00 UTC that day; `None` unless it is a real day.
pub fn utc_midnight(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    let days = days_from_civil(year, month, day);
    // A day that does not exist (30 February) comes back as another one.
    (civil_from_days(days) == (year, month, day)).then_some(days * 86_400)
}

/// (year, month, day) → days since 1970-01-01, the inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_days_and_refuses_ones_that_do_not_exist() {
        assert_eq!(utc_midnight("1970-01-01"), Some(0));
        assert_eq!(utc_midnight("2027-03-01"), Some(1_803_859_200));
        assert_eq!(utc_midnight("2028-02-29"), Some(1_835_395_200));
        for bad in ["2027-02-29", "2027-13-01", "2027-00-10", "2027-04-31", "March", "2027-3", ""] {
            assert_eq!(utc_midnight(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_795_381_500), "2026-11-22 21:05 UTC");
    }

    #[test]
    fn days_and_money_read_as_people_write_them() {
        assert_eq!(day(1_795_305_600), "22 November 2026");
        assert_eq!(day(951_782_400), "29 February 2000");
        assert_eq!(day(-1), "31 December 1969");
        assert_eq!(month(1_795_305_600), "November 2026");
        assert_eq!(day(i64::MAX), i64::MAX.to_string());
        assert_eq!(money(2900, "usd"), "$29.00");
        assert_eq!(interval_words(BillingInterval::Year), "yearly");
        assert_eq!(status_tone("paid"), "ok");
        assert_eq!(status_tone("past_due"), "danger");
        assert_eq!(status_tone("open"), "warn");
        assert_eq!(status_tone("canceled"), "neutral");
    }

    #[test]
    fn counts_and_usage_prices_read_plainly() {
        use crate::domain::catalog::PlanKey;
        use crate::domain::usage::Tier;
        assert_eq!(
            (count(0), count(999), count(10_000), count(1_234_567)),
            ("0".into(), "999".into(), "10,000".into(), "1,234,567".into())
        );
        let key = PlanKey::parse("scale").unwrap();
        let usd = Currency::parse("usd").unwrap();
        let price = |pricing| MeteredPrice {
            plan: key.clone(),
            meter: key.clone(),
            lookup_key: String::new(),
            currency: usd,
            pricing,
        };
        let graduated = price(UsagePricing::Graduated {
            tiers: vec![
                Tier { up_to: Some(10_000), unit_amount: 0, flat_amount: 0 },
                Tier { up_to: None, unit_amount: 1, flat_amount: 0 },
            ],
        });
        assert_eq!(usage_price(&graduated, "API calls"), "API calls: 10,000 a month included, then $0.01 each");
        assert_eq!(usage_price(&price(UsagePricing::PerUnit { unit_amount: 5 }), "Emails"), "Emails: $0.05 each");
        assert_eq!(
            usage_price(&price(UsagePricing::Package { size: 1000, amount: 250 }), "Calls"),
            "Calls: $2.50 per 1,000"
        );
    }

    #[test]
    fn formats_durations() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(180), "3 min");
        assert_eq!(duration(7200), "2 h");
    }
}
