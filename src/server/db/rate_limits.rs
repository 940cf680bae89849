//! Rate-limit counters kept in the database, so every instance behind a load balancer gives the
//! same answer: hits per (scope, key) in fixed windows, read as a sliding window by weighting
//! the previous window by how much of it the sliding window still covers.

use anyhow::Context;
use sqlx::AnyPool;

/// How many hits a key may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub window_secs: i64,
}

impl Quota {
    pub const fn per_minute(limit: u32) -> Self {
        Self { limit, window_secs: 60 }
    }

    pub const fn per_hour(limit: u32) -> Self {
        Self { limit, window_secs: 3_600 }
    }
}

/// The longest window in use: counters older than two of them are no longer read.
const LONGEST_WINDOW_SECS: i64 = 3_600;

/// Counts one hit of `key` in `scope` at `now`; true while the hits of the last
/// `quota.window_secs` (this one included) are within `quota.limit`. Refused hits count too: a
/// client that keeps knocking stays refused.
pub async fn hit(pool: &AnyPool, scope: &str, key: &str, quota: Quota, now: i64) -> anyhow::Result<bool> {
    let window = quota.window_secs.max(1);
    let start = now - now.rem_euclid(window);
    let current: i64 = sqlx::query_scalar(
        "INSERT INTO rate_limit_hits (scope, client_key, window_start, hits) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (scope, client_key, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 \
         RETURNING hits",
    )
    .bind(scope)
    .bind(key)
    .bind(start)
    .fetch_one(pool)
    .await
    .with_context(|| format!("counting a {scope} hit"))?;
    let previous: i64 = sqlx::query_scalar(
        "SELECT hits FROM rate_limit_hits WHERE scope = $1 AND client_key = $2 AND window_start = $3",
    )
    .bind(scope)
    .bind(key)
    .bind(start - window)
    .fetch_optional(pool)
    .await
    .with_context(|| format!("reading the previous {scope} window"))?
    .unwrap_or(0);
    // The part of the previous window still inside the sliding window, in whole hits (rounded up).
    let still_covered = window - (now - start);
    let weighted_previous = (previous * still_covered + window - 1) / window;
    Ok(current + weighted_previous <= i64::from(quota.limit))
}

/// Hits of `key` in `scope` counted in windows starting at or after `since` (at most two of
/// the longest windows back: older counters are purged).
pub async fn hits_since(pool: &AnyPool, scope: &str, key: &str, since: i64) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(hits), 0) AS BIGINT) FROM rate_limit_hits \
         WHERE scope = $1 AND client_key = $2 AND window_start >= $3",
    )
    .bind(scope)
    .bind(key)
    .bind(since)
    .fetch_one(pool)
    .await
    .with_context(|| format!("summing {scope} hits"))
}

/// Deletes counters no window reads any more.
pub async fn purge(pool: &AnyPool, now: i64) -> anyhow::Result<u64> {
    let purged = sqlx::query("DELETE FROM rate_limit_hits WHERE window_start < $1")
        .bind(now - 2 * LONGEST_WINDOW_SECS)
        .execute(pool)
        .await
        .context("purging old rate-limit counters")?;
    Ok(purged.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A whole minute, so windows start at T.
    const T: i64 = 1_800_000_000;

    #[tokio::test]
    async fn a_key_gets_its_quota_per_window_and_other_keys_their_own() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        let quota = Quota::per_minute(3);
        for n in 0..3 {
            assert!(hit(pool, "login", "a", quota, T + n).await.unwrap(), "hit {n}");
        }
        assert!(!hit(pool, "login", "a", quota, T + 3).await.unwrap());
        assert!(hit(pool, "login", "b", quota, T + 3).await.unwrap(), "another key");
        assert!(hit(pool, "signup", "a", quota, T + 3).await.unwrap(), "another scope");
    }

    #[tokio::test]
    async fn the_previous_window_counts_for_the_part_still_covered() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        let quota = Quota::per_minute(4);
        for n in 0..4 {
            assert!(hit(pool, "login", "a", quota, T + 50 + n).await.unwrap());
        }
        // 15 s into the next window, 3/4 of the previous one is still covered: 3 + 1 = 4.
        assert!(hit(pool, "login", "a", quota, T + 75).await.unwrap());
        assert!(!hit(pool, "login", "a", quota, T + 76).await.unwrap(), "no window-edge burst");
        // A whole window later the old hits no longer count.
        assert!(hit(pool, "login", "a", quota, T + 180).await.unwrap());
    }

    #[tokio::test]
    async fn two_instances_on_one_database_share_the_count() {
        let (dir, db) = crate::server::db::test_db(true).await;
        let url = format!("sqlite://{}/nested/test.db", dir.path().display());
        let other =
            crate::server::db::Db::connect(&crate::server::config::DatabaseUrl::parse(&url).unwrap()).await.unwrap();
        let quota = Quota::per_hour(2);
        assert!(hit(db.pool(), "signup", "10.0.0.1", quota, T).await.unwrap());
        assert!(hit(other.pool(), "signup", "10.0.0.1", quota, T + 1).await.unwrap());
        assert!(!hit(db.pool(), "signup", "10.0.0.1", quota, T + 2).await.unwrap(), "the other's hit counted");
        assert_eq!(purge(db.pool(), T + 3 * 3_600).await.unwrap(), 1);
    }
}
