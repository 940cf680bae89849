//! The creator's dashboard on `/creator`: what they sold and kept, per currency; their sales by
//! day over the last 30 days (a chart, with its figures as a table); and their payouts, on the
//! way and past (a failure with Stripe's reason). Only ever read for the signed-in user's own
//! creator row (`creators::page`).

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::AnyPool;

use super::Creator;
use crate::domain::marketplace::PayoutStatus;
use crate::domain::money::{Currency, Money};
use crate::server::admin::charts;
use crate::server::marketplace::payouts::{self, PayoutRow};
use crate::views::format;
use crate::views::marketplace::{CreatorReportView, PayoutView, SalesChartView, SalesDayView, SalesTotalsView};

const DAY: i64 = 86_400;

/// How many days the sales chart covers, today included.
const CHART_DAYS: i64 = 30;

/// How many payouts the dashboard lists (upcoming and past together).
const PAYOUTS_SHOWN: i64 = 20;

/// The orders that count as sales: paid, whatever came after (refunds and disputes are taken
/// off the figures, the sale still counts).
const COUNTED: &str = "status IN ('paid', 'partially_refunded', 'refunded', 'disputed')";

/// What the creator keeps of an order: the amount less the platform's fee (the part of it the
/// platform refunded comes back), less what refunds took from the creator. A destination
/// charge's refund takes it back from the creator's transfer (`transfer_reversed`); a direct
/// charge's is paid from the creator's own balance (`refunded`).
const CREATOR_NET: &str = "amount - (fee - fee_refunded) \
     - CASE charge_type WHEN 'destination' THEN transfer_reversed ELSE refunded END";

#[derive(sqlx::FromRow)]
struct TotalsRow {
    currency: String,
    sales: i64,
    gross: i64,
    fees: i64,
    refunds: i64,
    net: i64,
}

impl TryFrom<TotalsRow> for SalesTotalsView {
    type Error = anyhow::Error;

    fn try_from(row: TotalsRow) -> anyhow::Result<Self> {
        let currency = Currency::parse(&row.currency)?;
        let money = |minor| Money::new(minor, currency);
        Ok(Self {
            sales: row.sales,
            gross: money(row.gross),
            fees: money(row.fees),
            refunds: money(row.refunds),
            net: money(row.net),
        })
    }
}

/// The creator's all-time figures, one row per currency.
async fn totals(pool: &AnyPool, creator_id: i64) -> anyhow::Result<Vec<SalesTotalsView>> {
    let sql = format!(
        "SELECT currency, CAST(COUNT(*) AS BIGINT) AS sales, CAST(SUM(amount) AS BIGINT) AS gross, \
           CAST(SUM(fee - fee_refunded) AS BIGINT) AS fees, CAST(SUM(refunded) AS BIGINT) AS refunds, \
           CAST(SUM({CREATOR_NET}) AS BIGINT) AS net \
         FROM orders WHERE creator_id = $1 AND {COUNTED} GROUP BY currency ORDER BY currency"
    );
    let rows: Vec<TotalsRow> =
        sqlx::query_as(&sql).bind(creator_id).fetch_all(pool).await.context("summing the creator's sales")?;
    rows.into_iter().map(SalesTotalsView::try_from).collect()
}

/// Sales on one day in one currency.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct DayRow {
    currency: String,
    /// Days since 1970-01-01 (UTC).
    day: i64,
    sales: i64,
    gross: i64,
}

/// The creator's sales per currency and day (UTC), from day `first` on.
async fn by_day(pool: &AnyPool, creator_id: i64, first: i64) -> anyhow::Result<Vec<DayRow>> {
    let sql = format!(
        "SELECT currency, day, CAST(COUNT(*) AS BIGINT) AS sales, CAST(SUM(amount) AS BIGINT) AS gross FROM ( \
           SELECT currency, CAST(paid_at / {DAY} AS BIGINT) AS day, amount FROM orders \
           WHERE creator_id = $1 AND {COUNTED} AND paid_at >= $2 \
         ) sold GROUP BY currency, day ORDER BY currency, day"
    );
    sqlx::query_as(&sql)
        .bind(creator_id)
        .bind(first * DAY)
        .fetch_all(pool)
        .await
        .context("summing the creator's sales by day")
}

/// One chart per currency: a bar for every day from `first` to `last` (days with no sales at
/// 0), the days with sales in its table.
fn charts(rows: &[DayRow], first: i64, last: i64) -> anyhow::Result<Vec<SalesChartView>> {
    let mut per_currency: BTreeMap<&str, Vec<&DayRow>> = BTreeMap::new();
    for row in rows {
        per_currency.entry(&row.currency).or_default().push(row);
    }
    per_currency
        .into_iter()
        .map(|(code, days)| {
            let currency = Currency::parse(code)?;
            let gross: BTreeMap<i64, i64> = days.iter().map(|d| (d.day, d.gross)).collect();
            let bars: Vec<(i64, i64)> =
                (first..=last).map(|day| (day * DAY, gross.get(&day).copied().unwrap_or(0))).collect();
            Ok(SalesChartView {
                currency: currency.as_str().to_uppercase(),
                image: charts::daily_bars("Sales", currency, &bars)?,
                days: days
                    .iter()
                    .map(|d| SalesDayView {
                        day: format::day(d.day * DAY),
                        sales: d.sales,
                        gross: Money::new(d.gross, currency),
                    })
                    .collect(),
            })
        })
        .collect()
}

fn payout_view(row: PayoutRow) -> Option<anyhow::Result<PayoutView>> {
    // A status Stripe may add later is left out rather than shown wrong.
    let status = PayoutStatus::parse(&row.status)?;
    Some(Currency::parse(&row.currency).map_err(anyhow::Error::from).map(|currency| PayoutView {
        id: row.id,
        amount: Money::new(row.amount, currency),
        status,
        arrival: row.arrival_date.map(format::day),
        failure_message: row.failure_message,
    }))
}

/// The dashboard of `creator`, as of `now`.
pub async fn report(pool: &AnyPool, creator: &Creator, now: i64) -> anyhow::Result<CreatorReportView> {
    let today = now.div_euclid(DAY);
    let first = today - (CHART_DAYS - 1);
    let days = by_day(pool, creator.user_id, first).await?;
    let payouts: Vec<PayoutView> = payouts::of_account(pool, &creator.account_id, PAYOUTS_SHOWN)
        .await?
        .into_iter()
        .filter_map(payout_view)
        .collect::<anyhow::Result<_>>()?;
    let (mut upcoming, past): (Vec<_>, Vec<_>) = payouts.into_iter().partition(|p| p.status.is_upcoming());
    upcoming.reverse();
    Ok(CreatorReportView {
        totals: totals(pool, creator.user_id).await?,
        charts: charts(&days, first, today)?,
        upcoming_payouts: upcoming,
        past_payouts: past,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::test_db;

    /// A creator (user 1, `acct_1`) with one product, in a fresh database.
    async fn creator_with_a_product(pool: &AnyPool) {
        for sql in [
            "INSERT INTO users (email, password_hash, role, had_trial, created_at, updated_at) \
             VALUES ('maker@example.com', 'x', 'customer', FALSE, 0, 0)",
            "INSERT INTO users (email, password_hash, role, had_trial, created_at, updated_at) \
             VALUES ('buyer@example.com', 'x', 'customer', FALSE, 0, 0)",
            "INSERT INTO creators (user_id, account_id, state, created_at, updated_at) VALUES (1, 'acct_1', 'enabled', 0, 0)",
            "INSERT INTO products (creator_id, slug, title, price, currency, content, published, created_at, updated_at) \
             VALUES (1, 'guide', 'Guide', 10000, 'usd', 'x', TRUE, 0, 0)",
        ] {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
    }

    /// An order of `amount` (fee 10%) in `currency`, paid at `paid_at`, with what refunds did.
    struct Sale {
        charge_type: &'static str,
        status: &'static str,
        currency: &'static str,
        amount: i64,
        refunded: i64,
        fee_refunded: i64,
        transfer_reversed: i64,
        paid_at: i64,
    }

    const PAID: Sale = Sale {
        charge_type: "destination",
        status: "paid",
        currency: "usd",
        amount: 10_000,
        refunded: 0,
        fee_refunded: 0,
        transfer_reversed: 0,
        paid_at: 0,
    };

    async fn sell(pool: &AnyPool, n: i64, sale: Sale) {
        sqlx::query(
            "INSERT INTO orders (product_id, buyer_id, creator_id, account_id, charge_type, checkout_session_id, \
               amount, fee, fee_bps, fee_source, currency, status, refunded, fee_refunded, transfer_reversed, \
               created_at, paid_at, updated_at) \
             VALUES (1, 2, 1, 'acct_1', $1, $2, $3, $4, 1000, 'default', $5, $6, $7, $8, $9, 0, $10, 0)",
        )
        .bind(sale.charge_type)
        .bind(format!("cs_{n}"))
        .bind(sale.amount)
        .bind(sale.amount / 10)
        .bind(sale.currency)
        .bind(sale.status)
        .bind(sale.refunded)
        .bind(sale.fee_refunded)
        .bind(sale.transfer_reversed)
        .bind(sale.paid_at)
        .execute(pool)
        .await
        .unwrap();
    }

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::parse("usd").unwrap())
    }

    #[tokio::test]
    async fn the_net_takes_off_the_fee_and_what_refunds_took_from_the_creator() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool();
        creator_with_a_product(pool).await;
        // Destination, refunded in full, transfer reversed and fee refunded: the creator is back at 0.
        let full = Sale { status: "refunded", refunded: 10_000, fee_refunded: 1000, transfer_reversed: 10_000, ..PAID };
        sell(pool, 1, full).await;
        let first = totals(pool, 1).await.unwrap();
        assert_eq!(first[0].net, usd(0));
        // Destination refunded by the platform alone (transfer kept): the creator keeps 90%.
        sell(pool, 2, Sale { status: "refunded", refunded: 10_000, ..PAID }).await;
        // Direct, half refunded from the creator's balance, half the fee back: 10000 - 500 - 5000.
        let half =
            Sale { charge_type: "direct", status: "partially_refunded", refunded: 5000, fee_refunded: 500, ..PAID };
        sell(pool, 3, half).await;
        let all = totals(pool, 1).await.unwrap();
        assert_eq!(all.len(), 1);
        let usd_totals = &all[0];
        assert_eq!(usd_totals.sales, 3);
        assert_eq!(usd_totals.gross, usd(30_000));
        assert_eq!(usd_totals.fees, usd(3000 - 1000 - 500));
        assert_eq!(usd_totals.refunds, usd(25_000));
        assert_eq!(usd_totals.net, usd(9000 + 4500), "the first sale nets 0");
    }

    #[tokio::test]
    async fn only_paid_orders_count_and_each_currency_sums_on_its_own() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool();
        creator_with_a_product(pool).await;
        sell(pool, 1, PAID).await;
        sell(pool, 2, Sale { status: "disputed", ..PAID }).await;
        sell(pool, 3, Sale { status: "pending", ..PAID }).await;
        sell(pool, 4, Sale { currency: "eur", amount: 2000, ..PAID }).await;
        let all = totals(pool, 1).await.unwrap();
        let sales: Vec<(i64, Money, Money)> = all.iter().map(|t| (t.sales, t.gross, t.net)).collect();
        let eur = |minor| Money::new(minor, Currency::parse("eur").unwrap());
        assert_eq!(sales, vec![(1, eur(2000), eur(1800)), (2, usd(20_000), usd(18_000))]);
    }

    #[tokio::test]
    async fn the_chart_has_a_bar_a_day_and_its_table_the_days_with_sales() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool();
        creator_with_a_product(pool).await;
        let today = 20_000;
        sell(pool, 1, Sale { paid_at: today * DAY + 60, ..PAID }).await;
        sell(pool, 2, Sale { paid_at: today * DAY + 3600, amount: 2500, ..PAID }).await;
        sell(pool, 3, Sale { paid_at: (today - 2) * DAY, ..PAID }).await;
        sell(pool, 4, Sale { paid_at: (today - 30) * DAY, ..PAID }).await;
        let first = today - (CHART_DAYS - 1);
        let rows = by_day(pool, 1, first).await.unwrap();
        let drawn = charts(&rows, first, today).unwrap();
        assert_eq!(drawn.len(), 1);
        let days: Vec<(String, i64, Money)> = drawn[0].days.iter().map(|d| (d.day.clone(), d.sales, d.gross)).collect();
        assert_eq!(
            days,
            vec![(format::day((today - 2) * DAY), 1, usd(10_000)), (format::day(today * DAY), 2, usd(12_500)),],
            "30 days back is out of the chart"
        );
        assert!(drawn[0].image.starts_with("data:image/svg+xml;base64,"));
    }
}
