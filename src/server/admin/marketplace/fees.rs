//! The platform's fee revenue: per UTC month and currency from the orders paid that month (fees
//! earned less fees refunded, with the orders' count and gross), and the revenue page's figures
//! (this month, the last 30 days). An order counts in the month it was paid, whatever happened
//! to it since; its refunded fees are taken off there.

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::AnyPool;

use crate::domain::money::{Currency, Money};
use crate::server::admin::snapshots::{day_start, DAY};
use crate::views::admin::marketplace::{FeeRevenueMonth, MarketplaceFees};

/// The first second (UTC) of the month `t` falls in.
pub fn month_start(t: i64) -> anyhow::Result<i64> {
    let date = time::OffsetDateTime::from_unix_timestamp(t).context("a time out of range")?.date();
    let first = date.replace_day(1).context("every month has a first day")?;
    Ok(first.midnight().assume_utc().unix_timestamp())
}

/// One UTC day's paid orders in one currency (SQL groups by day, which both databases can;
/// months are folded from days here).
#[derive(sqlx::FromRow)]
struct DayRow {
    currency: String,
    paid_day: i64,
    orders: i64,
    gross: i64,
    fees: i64,
    fees_refunded: i64,
}

#[derive(Default)]
struct Totals {
    orders: i64,
    gross: i64,
    fees: i64,
    fees_refunded: i64,
}

/// Every month with a paid order, newest first (currencies in code order within a month).
pub async fn by_month(pool: &AnyPool) -> anyhow::Result<Vec<FeeRevenueMonth>> {
    let days = sqlx::query_as::<_, DayRow>(
        "SELECT currency, paid_at / 86400 AS paid_day, COUNT(*) AS orders, CAST(SUM(amount) AS BIGINT) AS gross, \
           CAST(SUM(fee) AS BIGINT) AS fees, CAST(SUM(fee_refunded) AS BIGINT) AS fees_refunded \
         FROM orders WHERE status <> 'pending' AND paid_at IS NOT NULL \
         GROUP BY currency, paid_at / 86400",
    )
    .fetch_all(pool)
    .await
    .context("summing fees by day")?;
    let mut months: BTreeMap<(i64, String), Totals> = BTreeMap::new();
    for day in days {
        let month = month_start(day.paid_day * DAY)?;
        let totals = months.entry((month, day.currency)).or_default();
        totals.orders += day.orders;
        totals.gross += day.gross;
        totals.fees += day.fees;
        totals.fees_refunded += day.fees_refunded;
    }
    let mut lines = Vec::with_capacity(months.len());
    for ((month_start, code), t) in months {
        let currency = Currency::parse(&code).context("an order's currency")?;
        let money = |minor| Money::new(minor, currency);
        lines.push(FeeRevenueMonth {
            month_start,
            orders: t.orders,
            gross: money(t.gross),
            fees: money(t.fees),
            fees_refunded: money(t.fees_refunded),
            net_fees: money(t.fees - t.fees_refunded),
        });
    }
    // Newest month first; within a month the currencies stay in code order.
    lines.sort_by_key(|line| std::cmp::Reverse(line.month_start));
    Ok(lines)
}

/// Fees less fees refunded on orders paid this UTC month and in the last 30 UTC days (today
/// included, as the revenue page counts its 30 days), per currency.
pub async fn recent(pool: &AnyPool, now: i64) -> anyhow::Result<Vec<MarketplaceFees>> {
    let month = month_start(now)?;
    let thirty_days = day_start(now) - 29 * DAY;
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT currency, \
           CAST(SUM(CASE WHEN paid_at >= $1 THEN fee - fee_refunded ELSE 0 END) AS BIGINT) AS this_month, \
           CAST(SUM(CASE WHEN paid_at >= $2 THEN fee - fee_refunded ELSE 0 END) AS BIGINT) AS last_30_days \
         FROM orders WHERE status <> 'pending' AND paid_at >= $3 GROUP BY currency ORDER BY currency",
    )
    .bind(month)
    .bind(thirty_days)
    .bind(month.min(thirty_days))
    .fetch_all(pool)
    .await
    .context("summing recent marketplace fees")?;
    rows.into_iter()
        .map(|(code, this_month, last_30_days)| {
            let currency = Currency::parse(&code).context("an order's currency")?;
            Ok(MarketplaceFees {
                this_month: Money::new(this_month, currency),
                last_30_days: Money::new(last_30_days, currency),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::month_start;

    #[test]
    fn months_start_on_the_first_at_midnight_utc() {
        // 2026-11-22 21:05 UTC → 2026-11-01 00:00 UTC.
        assert_eq!(month_start(1_795_381_500).unwrap(), 1_793_491_200);
        assert_eq!(month_start(1_793_491_200).unwrap(), 1_793_491_200, "the first second is its own month");
        assert_eq!(month_start(1_793_491_199).unwrap(), 1_790_812_800, "the second before is October's");
    }
}
