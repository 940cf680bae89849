//! The one place amounts, dates, durations and billing intervals become text, for pages and
//! emails alike. Compiled for the browser too, so no `time` crate here.

use crate::domain::{
    catalog::BillingInterval,
    money::{Currency, Money},
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
    }

    #[test]
    fn formats_durations() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(180), "3 min");
        assert_eq!(duration(7200), "2 h");
    }
}
