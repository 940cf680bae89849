//! One leader among the instances for the periodic jobs (reconcile, retention purge, session
//! sweep): the holder of a named lease row. The leader renews it every `RENEW_EVERY`; when it
//! dies the lease runs out after `LEASE_SECS` and another instance takes it, so the jobs fail
//! over within a minute. Instances' clocks must agree to within a few seconds (NTP).

use std::{
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::Duration,
};

use anyhow::Context;
use sqlx::AnyPool;
use tokio::task::JoinHandle;

use super::InstanceId;
use crate::server::db::now;

/// The lease the periodic jobs run under.
pub const JOBS_LEASE: &str = "periodic-jobs";
/// How long a taken or renewed lease lasts.
pub const LEASE_SECS: i64 = 30;
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// A leader stops counting itself leader this long before its lease runs out, so two
/// instances never both believe it (a renewal that failed is not retried in time).
const SAFETY_SECS: i64 = 5;

/// Takes the lease `name` for `holder` until `now + ttl_secs`, or renews it; true when
/// `holder` holds it afterwards (it was free, expired, or already its own).
pub async fn try_hold(
    pool: &AnyPool,
    name: &str,
    holder: &InstanceId,
    now: i64,
    ttl_secs: i64,
) -> anyhow::Result<bool> {
    let held: Option<String> = sqlx::query_scalar(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at <= $4 \
         RETURNING holder",
    )
    .bind(name)
    .bind(holder.as_str())
    .bind(now + ttl_secs)
    .bind(now)
    .fetch_optional(pool)
    .await
    .with_context(|| format!("taking the lease {name}"))?;
    Ok(held.as_deref() == Some(holder.as_str()))
}

/// Gives the lease up (a clean shutdown), so another instance takes it at once.
pub async fn release(pool: &AnyPool, name: &str, holder: &InstanceId) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder.as_str())
        .execute(pool)
        .await
        .with_context(|| format!("releasing the lease {name}"))?;
    Ok(())
}

/// Whether this instance leads the periodic jobs now. Cheap to ask: the renewing task keeps
/// the answer.
#[derive(Clone, Debug, Default)]
pub struct Leadership {
    /// Until when (unix seconds) this instance is the leader; 0 when it is not.
    held_until: Arc<AtomicI64>,
}

impl Leadership {
    pub fn is_leader(&self) -> bool {
        now() < self.held_until.load(Ordering::Relaxed)
    }

    /// Takes and renews the jobs lease for `holder` until the task is aborted; `self` (and
    /// its clones) say whether it is held.
    pub fn spawn_renewal(&self, pool: AnyPool, holder: InstanceId) -> JoinHandle<()> {
        let held_until = self.held_until.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RENEW_EVERY);
            let mut was_leader = false;
            loop {
                tick.tick().await;
                let at = now();
                let leader = match try_hold(&pool, JOBS_LEASE, &holder, at, LEASE_SECS).await {
                    Ok(held) => held,
                    Err(err) => {
                        tracing::warn!(error = %format!("{err:#}"), "renewing the jobs lease failed");
                        // Keep what is still safely held; it runs out on its own.
                        continue;
                    }
                };
                held_until.store(if leader { at + LEASE_SECS - SAFETY_SECS } else { 0 }, Ordering::Relaxed);
                if leader != was_leader {
                    tracing::info!(instance = %holder, leader, "periodic jobs leadership changed");
                    metrics::gauge!("tollgate_jobs_leader").set(if leader { 1.0 } else { 0.0 });
                    was_leader = leader;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_and_another_takes_over_when_it_runs_out() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        let (a, b) = (InstanceId::named("a"), InstanceId::named("b"));
        assert!(try_hold(pool, JOBS_LEASE, &a, 100, 30).await.unwrap());
        assert!(!try_hold(pool, JOBS_LEASE, &b, 110, 30).await.unwrap(), "a holds it until 130");
        assert!(try_hold(pool, JOBS_LEASE, &a, 120, 30).await.unwrap(), "a renews until 150");
        assert!(!try_hold(pool, JOBS_LEASE, &b, 149, 30).await.unwrap(), "renewed: still a's");
        assert!(try_hold(pool, JOBS_LEASE, &b, 150, 30).await.unwrap(), "a died: b takes it when it runs out");
        assert!(!try_hold(pool, JOBS_LEASE, &a, 151, 30).await.unwrap(), "a came back: b keeps it");
        assert!(try_hold(pool, "another-lease", &a, 151, 30).await.unwrap(), "leases are by name");
    }

    #[tokio::test]
    async fn a_released_lease_is_free_at_once() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let (a, b) = (InstanceId::named("a"), InstanceId::named("b"));
        assert!(try_hold(db.pool(), JOBS_LEASE, &a, 100, 30).await.unwrap());
        release(db.pool(), JOBS_LEASE, &b).await.unwrap();
        assert!(!try_hold(db.pool(), JOBS_LEASE, &b, 101, 30).await.unwrap(), "only the holder releases");
        release(db.pool(), JOBS_LEASE, &a).await.unwrap();
        assert!(try_hold(db.pool(), JOBS_LEASE, &b, 101, 30).await.unwrap());
    }

    #[tokio::test]
    async fn the_renewing_task_makes_the_first_instance_leader_and_not_the_second() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let first = Leadership::default();
        let task_a = first.spawn_renewal(db.pool().clone(), InstanceId::named("a"));
        for _ in 0..100 {
            if first.is_leader() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(first.is_leader());
        let second = Leadership::default();
        let task_b = second.spawn_renewal(db.pool().clone(), InstanceId::named("b"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!second.is_leader());
        task_a.abort();
        task_b.abort();
    }
}
