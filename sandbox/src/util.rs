//! Small helpers: Stripe-style ids, calendar arithmetic on unix seconds, signatures.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random id with Stripe's prefix, e.g. `new_id("cus")` → `cus_Qx3…` (14 random characters
/// after the prefix, 24 for longer-lived objects as on Stripe).
pub fn new_id(prefix: &str) -> String {
    let len = match prefix {
        "cus" | "prod" | "si" | "ii" | "bpc" | "promo" | "we" => 14,
        "cs_test" => 58,
        _ => 24,
    };
    format!("{prefix}_{}", random_str(len))
}

pub fn random_str(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char).collect()
}

/// HMAC-SHA256 of `"{t}.{payload}"` with `secret`, hex encoded: Stripe's `v1` signature scheme.
pub fn sign(secret: &str, timestamp: i64, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Stripe-Signature` header value for a payload.
pub fn signature_header(secret: &str, timestamp: i64, payload: &str) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, payload))
}

pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 → (year, month 1-12, day 1-31). Howard Hinnant's civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i64 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u64;
    let mp = if m > 2 { m - 3 } else { m + 9 } as u64;
    let doy = (153 * mp + 2) / 5 + d as u64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i64 - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let next = if m == 12 { days_from_civil(y + 1, 1, 1) } else { days_from_civil(y, m + 1, 1) };
    (next - days_from_civil(y, m, 1)) as u32
}

/// Adds `months` calendar months to a unix time, anchored on `anchor_day` (the billing cycle
/// anchor's day of month), clamping to the month's last day as Stripe does (Jan 31 → Feb 28).
pub fn add_months(ts: i64, months: i64, anchor_day: u32) -> i64 {
    let days = ts.div_euclid(DAY);
    let secs = ts.rem_euclid(DAY);
    let (y, m, _) = civil_from_days(days);
    let total = y * 12 + (m as i64 - 1) + months;
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    let nd = anchor_day.min(days_in_month(ny, nm));
    days_from_civil(ny, nm, nd) * DAY + secs
}

pub fn day_of_month(ts: i64) -> u32 {
    civil_from_days(ts.div_euclid(DAY)).2
}

/// `YYYY-MM-DD` for display.
pub fn ymd(ts: i64) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The end of a billing period starting at `start` for `interval` × `count`.
pub fn period_end(start: i64, interval: &str, count: i64, anchor_day: u32) -> i64 {
    let count = count.max(1);
    match interval {
        "day" => start + count * DAY,
        "week" => start + count * 7 * DAY,
        "year" => add_months(start, 12 * count, anchor_day),
        _ => add_months(start, count, anchor_day),
    }
}

/// Formats minor units for display: 1999 usd → "$19.99"; zero-decimal currencies as is.
/// A CSS hex colour as Stripe's branding fields take it (`#` and six hex digits), lower-case.
pub fn hex_color(value: &str) -> Option<String> {
    let ok = value.len() == 7 && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| value.to_ascii_lowercase())
}

pub fn money(amount: i64, currency: &str) -> String {
    let cur = currency.to_ascii_lowercase();
    let zero_decimal = matches!(
        cur.as_str(),
        "jpy"
            | "krw"
            | "vnd"
            | "clp"
            | "isk"
            | "ugx"
            | "xaf"
            | "xof"
            | "pyg"
            | "rwf"
            | "kmf"
            | "gnf"
            | "bif"
            | "djf"
            | "mga"
            | "vuv"
            | "xpf"
    );
    let sign = if amount < 0 { "-" } else { "" };
    let a = amount.abs();
    let sym = match cur.as_str() {
        "usd" => "$",
        "eur" => "€",
        "gbp" => "£",
        "jpy" => "¥",
        _ => "",
    };
    let num = if zero_decimal { a.to_string() } else { format!("{}.{:02}", a / 100, a % 100) };
    if sym.is_empty() {
        format!("{sign}{num} {}", cur.to_uppercase())
    } else {
        format!("{sign}{sym}{num}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_prefix_and_differ() {
        let a = new_id("cus");
        let b = new_id("cus");
        assert!(a.starts_with("cus_") && a.len() == 18, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn signature_matches_known_vector() {
        // Computed independently: HMAC-SHA256(key="whsec_test", msg="1700000000.{}")
        let sig = sign("whsec_test", 1_700_000_000, "{}");
        assert_eq!(sig, "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91");
        assert_ne!(sig, sign("whsec_other", 1_700_000_000, "{}"));
        assert_ne!(sig, sign("whsec_test", 1_700_000_001, "{}"));
        assert!(signature_header("whsec_test", 5, "x").starts_with("t=5,v1="));
    }

    #[test]
    fn months_clamp_to_month_end() {
        // 2024-01-31 12:00:00 UTC
        let jan31 = days_from_civil(2024, 1, 31) * DAY + 43_200;
        let feb = add_months(jan31, 1, 31);
        assert_eq!(ymd(feb), "2024-02-29");
        assert_eq!(feb % DAY, 43_200);
        // The anchor day is kept: Feb 29 + 1 month anchored on 31 → Mar 31.
        assert_eq!(ymd(add_months(feb, 1, 31)), "2024-03-31");
        assert_eq!(ymd(period_end(jan31, "year", 1, 31)), "2025-01-31");
        assert_eq!(period_end(jan31, "week", 2, 31) - jan31, 14 * DAY);
        assert_eq!(ymd(add_months(jan31, -2, 31)), "2023-11-30");
    }

    #[test]
    fn civil_round_trip() {
        for d in [-1000, 0, 1, 19_000, 20_000, 50_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(day_of_month(0), 1);
    }

    #[test]
    fn money_formats() {
        assert_eq!(money(1999, "usd"), "$19.99");
        assert_eq!(money(-500, "eur"), "-€5.00");
        assert_eq!(money(500, "jpy"), "¥500");
        assert_eq!(money(1234, "chf"), "12.34 CHF");
    }
}
