//! Webhook deliveries refused because no secret matches their signature (a rotated secret
//! that `STRIPE_WEBHOOK_SECRET` does not have yet), counted in the database so every instance
//! adds to one count. Kept in the shared rate-limit counters, per minute, which their purge ends.

use sqlx::AnyPool;

use crate::server::db::rate_limits::{self, Quota};

const SCOPE: &str = "webhook_refused";
const KEY: &str = "signature";

/// Counts one refused delivery at `now`.
pub async fn record(pool: &AnyPool, now: i64) -> anyhow::Result<()> {
    rate_limits::hit(pool, SCOPE, KEY, Quota::per_minute(u32::MAX), now).await?;
    Ok(())
}

/// Refused deliveries in the hour before `now`.
pub async fn in_last_hour(pool: &AnyPool, now: i64) -> anyhow::Result<i64> {
    rate_limits::hits_since(pool, SCOPE, KEY, now - 3_600).await
}
