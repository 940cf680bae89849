//! Billing-cycle arithmetic as Stripe does it: a period ends on the anchor's day of the month at
//! the anchor's time of day, or on the month's last day when that month is shorter (an anchor on
//! the 31st renews on 28 February, then on 31 March).

use anyhow::Context;
use time::{Date, Month, OffsetDateTime};

use crate::domain::catalog::BillingInterval;

/// `ts` moved by `months` calendar months, on `anchor_day` (clamped to the month's length).
pub fn add_months(ts: i64, months: i32, anchor_day: u8) -> anyhow::Result<i64> {
    let at = OffsetDateTime::from_unix_timestamp(ts).context("a time out of range")?;
    let index = at.year() * 12 + i32::from(u8::from(at.month())) - 1 + months;
    let year = index.div_euclid(12);
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1)?)?;
    let day = anchor_day.min(month.length(year));
    Ok(Date::from_calendar_date(year, month, day)?.with_time(at.time()).assume_utc().unix_timestamp())
}

/// The first period end at or after `threshold`, stepping from `period_end` (a period end of
/// the subscription) by its billing period; `anchor` is its `billing_cycle_anchor`.
pub fn first_renewal_from(
    period_end: i64,
    anchor: i64,
    interval: BillingInterval,
    interval_count: i64,
    threshold: i64,
) -> anyhow::Result<i64> {
    let anchor_day = OffsetDateTime::from_unix_timestamp(anchor).context("an anchor out of range")?.day();
    let months_per_period = match interval {
        BillingInterval::Month => 1,
        BillingInterval::Year => 12,
    } * i32::try_from(interval_count.max(1))?;
    let mut end = period_end;
    // Bounded: a notice of years on a monthly plan is still a few dozen steps.
    for _ in 0..1200 {
        if end >= threshold {
            return Ok(end);
        }
        end = add_months(end, months_per_period, anchor_day)?;
    }
    anyhow::bail!("no renewal within a century of {period_end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2027-01-31 09:30:00 UTC.
    const JAN_31: i64 = 1_801_387_800;

    fn ymd_hm(ts: i64) -> String {
        let at = OffsetDateTime::from_unix_timestamp(ts).unwrap();
        format!("{}-{:02}-{:02} {:02}:{:02}", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute())
    }

    #[test]
    fn months_keep_the_anchor_day_and_clamp_to_short_months() {
        assert_eq!(ymd_hm(JAN_31), "2027-01-31 09:30");
        assert_eq!(ymd_hm(add_months(JAN_31, 1, 31).unwrap()), "2027-02-28 09:30");
        let feb = add_months(JAN_31, 1, 31).unwrap();
        assert_eq!(ymd_hm(add_months(feb, 1, 31).unwrap()), "2027-03-31 09:30", "back on the anchor day");
        assert_eq!(ymd_hm(add_months(JAN_31, 13, 31).unwrap()), "2028-02-29 09:30", "a leap year");
        assert_eq!(ymd_hm(add_months(JAN_31, 12, 31).unwrap()), "2028-01-31 09:30");
    }

    #[test]
    fn the_first_renewal_at_or_after_a_day_steps_whole_periods() {
        let day = 86_400;
        // Already there: the period end itself.
        assert_eq!(first_renewal_from(JAN_31, JAN_31, BillingInterval::Month, 1, JAN_31).unwrap(), JAN_31);
        let after = first_renewal_from(JAN_31, JAN_31, BillingInterval::Month, 1, JAN_31 + 40 * day).unwrap();
        assert_eq!(ymd_hm(after), "2027-03-31 09:30");
        let yearly = first_renewal_from(JAN_31, JAN_31, BillingInterval::Year, 1, JAN_31 + day).unwrap();
        assert_eq!(ymd_hm(yearly), "2028-01-31 09:30");
        let quarterly = first_renewal_from(JAN_31, JAN_31, BillingInterval::Month, 3, JAN_31 + day).unwrap();
        assert_eq!(ymd_hm(quarterly), "2027-04-30 09:30");
    }
}
