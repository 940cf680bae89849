//! Counters kept by database triggers (migration `admin_counters`): subscriptions per status and,
//! per UTC day, invoices Stripe tried to charge and how many got paid. Triggers append signed
//! deltas; a read adds the folded totals and the deltas not folded yet, and `fold` moves deltas
//! into the totals once enough have piled up. So the revenue page reads a few hundred rows
//! whether there are ten thousand subscriptions or a million.

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::AnyPool;

use crate::server::db::begin_write;

/// Deltas left unfolded before a read folds them (a read sums them, so keep this small).
const FOLD_AFTER: i64 = 2_000;

/// Counter totals for names starting with `prefix` and buckets `>= from_bucket`.
pub async fn read(pool: &AnyPool, prefix: &str, from_bucket: i64) -> anyhow::Result<BTreeMap<(String, i64), i64>> {
    // Both tables stay small (a few hundred totals, at most a fold's worth of deltas).
    let pattern = format!("{prefix}%");
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT name, bucket, CAST(SUM(v) AS BIGINT) AS v FROM ( \
           SELECT name, bucket, value AS v FROM admin_counters \
             WHERE name LIKE $1 AND bucket >= $2 \
           UNION ALL \
           SELECT name, bucket, delta AS v FROM admin_counter_deltas \
             WHERE name LIKE $1 AND bucket >= $2) c \
         GROUP BY name, bucket",
    )
    .bind(&pattern)
    .bind(from_bucket)
    .fetch_all(pool)
    .await
    .with_context(|| format!("reading the {prefix} counters"))?;
    Ok(rows.into_iter().map(|(name, bucket, v)| ((name, bucket), v)).collect())
}

/// Folds the deltas once more than [`FOLD_AFTER`] are waiting; a page calls it once before its
/// reads.
pub async fn fold_if_due(pool: &AnyPool) -> anyhow::Result<()> {
    let waiting: Option<i64> = sqlx::query_scalar("SELECT MAX(id) - MIN(id) + 1 FROM admin_counter_deltas")
        .fetch_one(pool)
        .await
        .context("sizing the counter deltas")?;
    if waiting.unwrap_or(0) > FOLD_AFTER {
        fold(pool).await?;
    }
    Ok(())
}

/// Moves every delta into the totals. Deltas are summed and deleted in one step, so a delta
/// committed meanwhile is either folded or left for next time, never lost or counted twice.
pub async fn fold(pool: &AnyPool) -> anyhow::Result<()> {
    let mut tx = begin_write(pool).await.context("starting a counter fold")?;
    if pool.connect_options().database_url.scheme() == "sqlite" {
        // BEGIN IMMEDIATE holds the only write lock: nothing lands between the two statements.
        sqlx::query(
            "INSERT INTO admin_counters (name, bucket, value) \
             SELECT name, bucket, SUM(delta) FROM admin_counter_deltas WHERE true GROUP BY name, bucket \
             ON CONFLICT (name, bucket) DO UPDATE SET value = admin_counters.value + excluded.value",
        )
        .execute(&mut *tx)
        .await
        .context("folding counter deltas")?;
        sqlx::query("DELETE FROM admin_counter_deltas").execute(&mut *tx).await.context("clearing folded deltas")?;
    } else {
        // One folder at a time (a second one just skips); rows deleted are exactly rows summed.
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(7413001)")
            .fetch_one(&mut *tx)
            .await
            .context("taking the fold lock")?;
        if !got {
            return Ok(());
        }
        sqlx::query(
            "WITH moved AS (DELETE FROM admin_counter_deltas RETURNING name, bucket, delta) \
             INSERT INTO admin_counters (name, bucket, value) \
             SELECT name, bucket, SUM(delta) FROM moved GROUP BY name, bucket ORDER BY name, bucket \
             ON CONFLICT (name, bucket) DO UPDATE SET value = admin_counters.value + excluded.value",
        )
        .execute(&mut *tx)
        .await
        .context("folding counter deltas")?;
    }
    tx.commit().await.context("committing the counter fold")?;
    Ok(())
}

/// Subscriptions per status (statuses with none are absent).
pub async fn subscription_statuses(pool: &AnyPool) -> anyhow::Result<BTreeMap<String, i64>> {
    let counts = read(pool, "subscriptions.", 0).await?;
    Ok(counts
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((name, _), n)| (name.trim_start_matches("subscriptions.").to_owned(), n))
        .collect())
}

/// Invoices created on UTC days from `from_day` on that Stripe tried to charge: (paid, attempted).
pub async fn invoice_attempts(pool: &AnyPool, from_day: i64) -> anyhow::Result<(i64, i64)> {
    let counts = read(pool, "invoices.", from_day).await?;
    let total = |name: &str| counts.iter().filter(|((n, _), _)| n == name).map(|(_, v)| v).sum::<i64>();
    Ok((total("invoices.paid"), total("invoices.attempted")))
}
