//! The usage outbox's health: rows waiting, rows failed, the oldest waiting row's age; and the
//! reconciliation's open differences. Read by `/metrics`, the alerts and the admin usage page.

use anyhow::Context;
use sqlx::AnyPool;

use crate::views::admin::usage::OutboxHealth;

/// Seconds since the oldest row still waiting for Stripe was recorded; 0 when none waits.
pub async fn lag_secs(pool: &AnyPool, now: i64) -> anyhow::Result<i64> {
    let oldest: Option<i64> = sqlx::query_scalar("SELECT MIN(recorded_at) FROM usage_events WHERE status = 'pending'")
        .fetch_one(pool)
        .await
        .context("reading the oldest waiting usage event")?;
    Ok(oldest.map_or(0, |t| (now - t).max(0)))
}

pub async fn outbox(pool: &AnyPool, now: i64) -> anyhow::Result<OutboxHealth> {
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM usage_events WHERE status IN ('pending', 'failed') GROUP BY status",
    )
    .fetch_all(pool)
    .await
    .context("counting the usage outbox")?;
    let count = |status: &str| counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
    let differences: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_reconciliation WHERE difference <> 0")
        .fetch_one(pool)
        .await
        .context("counting reconciliation differences")?;
    Ok(OutboxHealth {
        pending: count("pending"),
        failed: count("failed"),
        lag_secs: lag_secs(pool, now).await?,
        differences,
    })
}

/// The gauges `/metrics` shows.
pub async fn record_gauges(pool: &AnyPool, now: i64) -> anyhow::Result<()> {
    let health = outbox(pool, now).await?;
    metrics::gauge!("tollgate_usage_events", "status" => "pending").set(health.pending as f64);
    metrics::gauge!("tollgate_usage_events", "status" => "failed").set(health.failed as f64);
    metrics::gauge!("tollgate_usage_oldest_waiting_seconds").set(health.lag_secs as f64);
    metrics::gauge!("tollgate_usage_reconciliation_differences").set(health.differences as f64);
    Ok(())
}
