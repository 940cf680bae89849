//! Several `tollgate serve` processes on one database: who this instance is, the lease that
//! makes one of them the leader for the periodic jobs, and the lock that keeps a SQLite file to
//! one instance.
//!
//! Work rows (inbox events, emails) are claimed where they are read: `webhooks::inbox::claim`
//! and `mail::drain`.

pub mod leader;
pub mod sqlite_lock;

use std::sync::Arc;

use anyhow::Context;

/// This process's name in claims and leases: host, process id and a random suffix, so a
/// restarted process on the same host (same pid reused) is a new instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceId(Arc<str>);

impl InstanceId {
    pub fn generate() -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect::<String>())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Self(format!("{host}-{}-{}", std::process::id(), &suffix[..8]).into())
    }

    /// A fixed name, for tests that play several instances in one process.
    pub fn named(name: &str) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for InstanceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Releases every claim on inbox events and emails. Only for a SQLite database served under
/// its serve lock: no other instance can exist, so what a killed predecessor claimed is free at
/// once instead of when its claims run out.
pub async fn release_claims_of_the_dead(pool: &sqlx::AnyPool) -> anyhow::Result<u64> {
    let mut released = 0;
    for table in ["webhook_events", "emails"] {
        let sql = format!("UPDATE {table} SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by IS NOT NULL");
        released +=
            sqlx::query(&sql).execute(pool).await.with_context(|| format!("releasing {table} claims"))?.rows_affected();
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_generated_ids_differ_even_in_one_process() {
        let (a, b) = (InstanceId::generate(), InstanceId::generate());
        assert_ne!(a, b);
        assert!(a.as_str().contains(&format!("-{}-", std::process::id())), "{a}");
    }
}
