//! Daily revenue snapshots: each past UTC day's movements by kind and the running MRR and paying
//! count at its end, so the revenue page reads a few hundred rows instead of every movement.
//! A trigger on `mrr_movements` deletes the snapshots a late movement makes stale; `refresh`
//! fills in whatever is missing up to yesterday.

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};

use crate::server::db::begin_write;

pub const DAY: i64 = 86_400;

/// The UTC midnight starting the day `t` falls in.
pub fn day_start(t: i64) -> i64 {
    t - t.rem_euclid(DAY)
}

/// One day's figures in one currency (a snapshot row's columns).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DayTotals {
    pub mrr: i64,
    pub paying: i64,
    pub new_mrr: i64,
    pub expansion_mrr: i64,
    pub contraction_mrr: i64,
    pub churn_mrr: i64,
    pub reactivation_mrr: i64,
    pub new_count: i64,
    pub churn_count: i64,
    pub reactivation_count: i64,
    /// Churn whose subscription ended unpaid (see [`movements_by_day`]).
    pub involuntary_churn_count: i64,
}

impl DayTotals {
    /// Adds `count` movements of `kind` summing to `delta`.
    pub fn add(&mut self, kind: &str, delta: i64, count: i64) {
        self.mrr += delta;
        match kind {
            "new" => {
                self.new_mrr += delta;
                self.new_count += count;
                self.paying += count;
            }
            "reactivation" => {
                self.reactivation_mrr += delta;
                self.reactivation_count += count;
                self.paying += count;
            }
            "churn" => {
                self.churn_mrr += delta;
                self.churn_count += count;
                self.paying -= count;
            }
            "expansion" => self.expansion_mrr += delta,
            _ => self.contraction_mrr += delta,
        }
    }

    pub fn net_new(&self) -> i64 {
        self.new_mrr + self.expansion_mrr + self.contraction_mrr + self.churn_mrr + self.reactivation_mrr
    }
}

/// One day's movements of one kind in one currency.
#[derive(sqlx::FromRow)]
struct DayMovementsRow {
    day: i64,
    currency: String,
    kind: String,
    delta: i64,
    n: i64,
}

/// (day, currency) → that day's movements grouped by kind, for `from <= occurred_at < to`
/// (`to` None: no upper bound). Churn counts as involuntary when Stripe gave up collecting
/// (status unpaid/past_due/incomplete_expired) or an attempted invoice stayed open/uncollectible.
pub async fn movements_by_day(
    conn: &mut sqlx::AnyConnection,
    from: i64,
    to: Option<i64>,
) -> anyhow::Result<BTreeMap<(i64, String), DayTotals>> {
    let rows = sqlx::query_as::<_, DayMovementsRow>(
        "SELECT occurred_at - (occurred_at % 86400) AS day, currency, kind, \
                CAST(SUM(delta) AS BIGINT) AS delta, COUNT(*) AS n \
         FROM mrr_movements WHERE occurred_at >= $1 AND occurred_at < $2 \
         GROUP BY occurred_at - (occurred_at % 86400), currency, kind",
    )
    .bind(from)
    .bind(to.unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await
    .context("grouping MRR movements by day")?;
    let mut days: BTreeMap<(i64, String), DayTotals> = BTreeMap::new();
    for row in rows {
        days.entry((row.day, row.currency)).or_default().add(&row.kind, row.delta, row.n);
    }
    // (day, currency, involuntary churn count)
    let involuntary: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT m.occurred_at - (m.occurred_at % 86400) AS day, m.currency, COUNT(*) AS n \
         FROM mrr_movements m LEFT JOIN subscriptions s ON s.id = m.subscription_id \
         WHERE m.kind = 'churn' AND m.occurred_at >= $1 AND m.occurred_at < $2 \
           AND (s.status IN ('unpaid', 'past_due', 'incomplete_expired') OR EXISTS ( \
             SELECT 1 FROM invoices i WHERE i.subscription_id = m.subscription_id \
             AND i.status IN ('open', 'uncollectible') AND i.attempt_count > 0)) \
         GROUP BY m.occurred_at - (m.occurred_at % 86400), m.currency",
    )
    .bind(from)
    .bind(to.unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await
    .context("classifying churn by day")?;
    for (day, currency, n) in involuntary {
        days.entry((day, currency)).or_default().involuntary_churn_count += n;
    }
    Ok(days)
}

/// Writes the snapshots missing between the last one and yesterday (relative to `now`).
pub async fn refresh(pool: &AnyPool, now: i64) -> anyhow::Result<()> {
    let today = day_start(now);
    // Cheap check first, without the write lock: most renders find nothing to do.
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(day) FROM mrr_daily_snapshots")
        .fetch_one(pool)
        .await
        .context("reading the last snapshot day")?;
    if last.is_some_and(|d| d + DAY >= today) {
        return Ok(());
    }
    let mut tx = begin_write(pool).await.context("starting the snapshot refresh")?;
    write_missing(&mut tx, today, now).await?;
    tx.commit().await.context("committing snapshots")?;
    Ok(())
}

async fn write_missing(tx: &mut Transaction<'static, Any>, today: i64, now: i64) -> anyhow::Result<()> {
    // Re-read under the write lock: another render may have just refreshed.
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(day) FROM mrr_daily_snapshots")
        .fetch_one(&mut **tx)
        .await
        .context("reading the last snapshot day")?;
    let first: Option<i64> = sqlx::query_scalar("SELECT MIN(occurred_at) FROM mrr_movements")
        .fetch_one(&mut **tx)
        .await
        .context("reading the first movement")?;
    let Some(first) = first else { return Ok(()) };
    let from = last.map_or(day_start(first), |d| d + DAY);
    if from >= today {
        return Ok(());
    }
    // Running totals per currency at the end of the last snapshotted day.
    let mut running: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    if let Some(last) = last {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT currency, mrr, paying FROM mrr_daily_snapshots WHERE day = $1")
                .bind(last)
                .fetch_all(&mut **tx)
                .await
                .context("reading the last snapshots")?;
        running.extend(rows.into_iter().map(|(currency, mrr, paying)| (currency, (mrr, paying))));
    }
    let moved = movements_by_day(tx, from, Some(today)).await?;
    for (_, currency) in moved.keys() {
        running.entry(currency.clone()).or_insert((0, 0));
    }
    let mut day = from;
    while day < today {
        for (currency, (mrr, paying)) in running.iter_mut() {
            let mut totals = moved.get(&(day, currency.clone())).cloned().unwrap_or_default();
            *mrr += totals.mrr;
            *paying += totals.paying;
            totals.mrr = *mrr;
            totals.paying = *paying;
            insert(tx, day, currency, &totals, now).await?;
        }
        day += DAY;
    }
    Ok(())
}

async fn insert(
    tx: &mut Transaction<'static, Any>,
    day: i64,
    currency: &str,
    t: &DayTotals,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO mrr_daily_snapshots (day, currency, mrr, paying, new_mrr, expansion_mrr, \
           contraction_mrr, churn_mrr, reactivation_mrr, new_count, churn_count, \
           reactivation_count, involuntary_churn_count, computed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (day, currency) DO NOTHING",
    )
    .bind(day)
    .bind(currency)
    .bind(t.mrr)
    .bind(t.paying)
    .bind(t.new_mrr)
    .bind(t.expansion_mrr)
    .bind(t.contraction_mrr)
    .bind(t.churn_mrr)
    .bind(t.reactivation_mrr)
    .bind(t.new_count)
    .bind(t.churn_count)
    .bind(t.reactivation_count)
    .bind(t.involuntary_churn_count)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("writing the {currency} snapshot of day {day}"))?;
    Ok(())
}

/// A snapshot row: its day and currency, and the figures.
#[derive(sqlx::FromRow)]
struct SnapshotRow {
    day: i64,
    currency: String,
    #[sqlx(flatten)]
    totals: DayTotals,
}

/// Snapshots of `from <= day < to`, oldest first.
pub async fn read(pool: &AnyPool, from: i64, to: i64) -> anyhow::Result<Vec<(i64, String, DayTotals)>> {
    let rows = sqlx::query_as::<_, SnapshotRow>(
        "SELECT day, currency, mrr, paying, new_mrr, expansion_mrr, contraction_mrr, churn_mrr, \
                reactivation_mrr, new_count, churn_count, reactivation_count, involuntary_churn_count \
         FROM mrr_daily_snapshots WHERE day >= $1 AND day < $2 ORDER BY day, currency",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .context("reading snapshots")?;
    Ok(rows.into_iter().map(|row| (row.day, row.currency, row.totals)).collect())
}

/// The latest snapshot per currency before `before` (totals at the end of that day).
pub async fn latest_before(pool: &AnyPool, before: i64) -> anyhow::Result<BTreeMap<String, (i64, i64)>> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT s.currency, s.mrr, s.paying FROM mrr_daily_snapshots s \
         WHERE s.day = (SELECT MAX(day) FROM mrr_daily_snapshots WHERE day < $1)",
    )
    .bind(before)
    .fetch_all(pool)
    .await
    .context("reading the snapshot before a day")?;
    Ok(rows.into_iter().map(|(currency, mrr, paying)| (currency, (mrr, paying))).collect())
}
