//! What `/admin/usage` reads: top consumers per meter, the outbox's health, the differences the
//! reconciliation found, and the keys.

use anyhow::Context;
use sqlx::AnyPool;

use crate::domain::usage::LATE_WINDOW_SECS;
use crate::views::admin::usage::{AdminUsage, CustomerUsage, Difference};

#[derive(sqlx::FromRow)]
struct UsageRow {
    email: String,
    customer_id: String,
    meter: String,
    total: i64,
    events: i64,
    unsent: i64,
}

#[derive(sqlx::FromRow)]
struct DifferenceRow {
    customer_id: String,
    meter: String,
    period_start: i64,
    local_total: i64,
    stripe_total: i64,
    difference: i64,
    checked_at: i64,
}

pub async fn page(pool: &AnyPool, now: i64) -> anyhow::Result<AdminUsage> {
    let usage: Vec<UsageRow> = sqlx::query_as(
        "SELECT u.email AS email, e.customer_id AS customer_id, e.meter AS meter, \
           CAST(SUM(e.value) AS BIGINT) AS total, CAST(COUNT(*) AS BIGINT) AS events, \
           CAST(SUM(CASE WHEN e.status = 'sent' THEN 0 ELSE 1 END) AS BIGINT) AS unsent \
         FROM usage_events e JOIN users u ON u.id = e.user_id WHERE e.occurred_at >= $1 \
         GROUP BY u.email, e.customer_id, e.meter ORDER BY total DESC, email LIMIT 100",
    )
    .bind(now - LATE_WINDOW_SECS)
    .fetch_all(pool)
    .await
    .context("reading usage per customer")?;
    let differences: Vec<DifferenceRow> = sqlx::query_as(
        "SELECT customer_id, meter, period_start, local_total, stripe_total, difference, checked_at \
         FROM usage_reconciliation WHERE difference <> 0 ORDER BY checked_at DESC LIMIT 100",
    )
    .fetch_all(pool)
    .await
    .context("reading reconciliation differences")?;
    let customers: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, email FROM users WHERE stripe_customer_id IS NOT NULL ORDER BY email LIMIT 1000")
            .fetch_all(pool)
            .await
            .context("listing customers")?;
    Ok(AdminUsage {
        keys: crate::server::api_keys::list::all(pool).await?,
        health: super::health::outbox(pool, now).await?,
        usage: usage
            .into_iter()
            .map(|r| CustomerUsage {
                email: r.email,
                customer_id: r.customer_id,
                meter: r.meter,
                total: r.total,
                events: r.events,
                unsent: r.unsent,
            })
            .collect(),
        differences: differences
            .into_iter()
            .map(|r| Difference {
                customer_id: r.customer_id,
                meter: r.meter,
                period_start: r.period_start,
                local_total: r.local_total,
                stripe_total: r.stripe_total,
                difference: r.difference,
                checked_at: r.checked_at,
            })
            .collect(),
        customers,
    })
}
