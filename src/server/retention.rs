//! Retention: webhook payloads and mail bodies carry personal data (names, addresses, amounts);
//! they are kept while they serve (replay, the dev mailbox, a support question) and then emptied.
//! The rows stay, marked `purged_at`, so the event log and the outbox still add up; the audit log
//! is kept whole. Session rows end with their expiry (the session store's sweeper). The purge is
//! a pair of idempotent statements, so every instance may run it.

use std::time::Duration;

use anyhow::Context;
use sqlx::AnyPool;

use crate::server::instances::leader::Leadership;
use tokio::task::JoinHandle;

/// How long each kind of personal data is kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub webhook_payload_days: i64,
    pub mail_body_days: i64,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self { webhook_payload_days: 90, mail_body_days: 90 }
    }
}

/// What one purge emptied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    pub payloads: u64,
    pub bodies: u64,
}

/// Empties the payloads of finished events and the bodies of finished emails older than the
/// policy allows, as of `now` (unix seconds). Pending and retrying ones are never touched.
pub async fn purge(pool: &AnyPool, policy: RetentionPolicy, now: i64) -> anyhow::Result<Purged> {
    let payloads = sqlx::query(
        "UPDATE webhook_events SET payload = '{}', purged_at = $1 \
         WHERE purged_at IS NULL AND status IN ('processed', 'ignored', 'dead') AND received_at < $2",
    )
    .bind(now)
    .bind(now - policy.webhook_payload_days * 86_400)
    .execute(pool)
    .await
    .context("purging old webhook payloads")?
    .rows_affected();
    let bodies = sqlx::query(
        "UPDATE emails SET body = '', html_body = NULL, purged_at = $1 \
         WHERE purged_at IS NULL AND status IN ('sent', 'stored', 'failed') AND created_at < $2",
    )
    .bind(now)
    .bind(now - policy.mail_body_days * 86_400)
    .execute(pool)
    .await
    .context("purging old mail bodies")?
    .rows_affected();
    Ok(Purged { payloads, bodies })
}

/// Purges hourly (from a minute after start) while this instance leads the periodic jobs: a
/// purge finds nothing new most hours, and a new leader does not wait a day.
pub fn spawn_retention_job(pool: AnyPool, policy: RetentionPolicy, leadership: Leadership) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let mut tick = tokio::time::interval(Duration::from_secs(3_600));
        loop {
            tick.tick().await;
            if !leadership.is_leader() {
                continue;
            }
            match purge(&pool, policy, crate::server::db::now()).await {
                Ok(purged) => tracing::info!(payloads = purged.payloads, bodies = purged.bodies, "retention purge"),
                Err(error) => tracing::warn!(error = format!("{error:#}"), "retention purge failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::webhooks::inbox::{self, Source};

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_800_000_000;

    async fn event(pool: &AnyPool, id: &str, received_at: i64, status: &str) {
        let body = format!(
            r#"{{"id":"{id}","object":"event","type":"customer.updated","created":1,"livemode":false,
               "data":{{"object":{{"id":"cus_1","object":"customer","email":"jo@example.com"}}}}}}"#
        );
        inbox::record(pool, body.as_bytes(), Source::Webhook, received_at).await.unwrap();
        sqlx::query("UPDATE webhook_events SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
    }

    async fn email(pool: &AnyPool, key: &str, created_at: i64, status: &str) {
        sqlx::query(
            "INSERT INTO emails (cause_key, kind, to_address, subject, body, status, created_at) \
             VALUES ($1, 'receipt', 'jo@example.com', 'Receipt', 'Dear Jo, …', $2, $3)",
        )
        .bind(key)
        .bind(status)
        .bind(created_at)
        .execute(pool)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn old_finished_payloads_and_bodies_are_emptied_and_nothing_else() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        event(pool, "evt_old", NOW - 91 * DAY, "processed").await;
        event(pool, "evt_old_dead", NOW - 91 * DAY, "dead").await;
        event(pool, "evt_old_pending", NOW - 91 * DAY, "pending").await;
        event(pool, "evt_recent", NOW - 10 * DAY, "processed").await;
        email(pool, "old", NOW - 91 * DAY, "sent").await;
        email(pool, "old_pending", NOW - 91 * DAY, "pending").await;
        email(pool, "recent", NOW - DAY, "sent").await;

        let purged = purge(pool, RetentionPolicy::default(), NOW).await.unwrap();
        assert_eq!(purged, Purged { payloads: 2, bodies: 1 });
        let payloads: Vec<(String, String)> =
            sqlx::query_as("SELECT id, payload FROM webhook_events ORDER BY id").fetch_all(pool).await.unwrap();
        for (id, payload) in &payloads {
            let emptied = id == "evt_old" || id == "evt_old_dead";
            assert_eq!(payload == "{}", emptied, "{id}: {payload}");
        }
        let bodies: Vec<(String, String)> =
            sqlx::query_as("SELECT cause_key, body FROM emails ORDER BY cause_key").fetch_all(pool).await.unwrap();
        assert_eq!(bodies.iter().filter(|(_, body)| body.is_empty()).count(), 1);
        assert!(bodies.iter().any(|(key, body)| key == "old" && body.is_empty()));
        assert_eq!(purge(pool, RetentionPolicy::default(), NOW).await.unwrap(), Purged::default(), "idempotent");
        // A purged event has nothing left to replay.
        assert!(!inbox::replay(pool, "evt_old_dead", NOW).await.unwrap());
        assert!(inbox::replay(pool, "evt_recent", NOW).await.unwrap());
    }
}
