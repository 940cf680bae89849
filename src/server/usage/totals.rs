//! Local usage totals: what the outbox holds per customer, meter and period.

use anyhow::Context;

/// The sum of `meter`'s values reported for `customer_id` with times in `[start, end)`.
pub async fn total<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    customer_id: &str,
    meter: &str,
    start: i64,
    end: i64,
) -> anyhow::Result<u64> {
    let sum: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM usage_events \
         WHERE customer_id = $1 AND meter = $2 AND occurred_at >= $3 AND occurred_at < $4",
    )
    .bind(customer_id)
    .bind(meter)
    .bind(start)
    .bind(end)
    .fetch_one(db)
    .await
    .context("summing usage")?;
    Ok(sum.max(0) as u64)
}
