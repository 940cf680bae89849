//! Sends the usage outbox to Stripe as meter events. Each row is claimed with a lease (as the
//! mail outbox is), sent with its own identifier and an idempotency key derived from it, so a
//! resend after a crash between Stripe's answer and the local mark is counted once by Stripe;
//! then marked `sent`. A transient failure (Stripe down, 429, 5xx) waits and retries forever —
//! nothing is lost; a refusal is retried a few times, then left `failed` for a person.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use sqlx::AnyPool;
use stripe_billing::billing_meter_event::CreateBillingMeterEvent;
use tokio::task::JoinHandle;

use crate::server::{
    db::now,
    instances::InstanceId,
    state::AppState,
    stripe::client::{is_transient, short, StripeClient},
};

/// How long an instance's claim on a row lasts (renewed by nothing: a batch takes far less).
const CLAIM_SECS: i64 = 120;
/// Refusals (Stripe answered 4xx) before a row is left `failed`.
const MAX_REFUSALS: i64 = 5;
/// Rows per claim, and Stripe requests in flight at once (the client's rate limit still holds).
const BATCH: i64 = 200;
const IN_FLIGHT: usize = 8;
/// The wait after a failure: 2 s doubling up to 5 minutes.
fn retry_wait_secs(attempts: i64) -> i64 {
    2i64.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1)).min(300)
}

#[derive(sqlx::FromRow, Clone)]
struct OutboxRow {
    id: i64,
    identifier: String,
    user_id: i64,
    customer_id: String,
    meter: String,
    event_name: String,
    value: i64,
    occurred_at: i64,
    attempts: i64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

async fn claim(pool: &AnyPool, owner: &InstanceId, now: i64, limit: i64) -> anyhow::Result<Vec<OutboxRow>> {
    let postgres = pool.connect_options().database_url.scheme() != "sqlite";
    let skip_locked = if postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let mut rows = sqlx::query_as::<_, OutboxRow>(&format!(
        "UPDATE usage_events SET claimed_by = $1, claimed_until = $2 WHERE id IN ( \
           SELECT id FROM usage_events WHERE status = 'pending' AND next_attempt_at <= $3 \
             AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_until <= $3) \
           ORDER BY id LIMIT $4 {skip_locked}) \
         RETURNING id, identifier, user_id, customer_id, meter, event_name, value, occurred_at, attempts"
    ))
    .bind(owner.as_str())
    .bind(now + CLAIM_SECS)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("claiming usage events")?;
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

/// The meter event a row becomes.
fn meter_event(row: &OutboxRow) -> CreateBillingMeterEvent {
    let payload = HashMap::from([
        ("stripe_customer_id".to_owned(), row.customer_id.clone()),
        ("value".to_owned(), row.value.to_string()),
    ]);
    CreateBillingMeterEvent::new(row.event_name.clone(), payload)
        .identifier(row.identifier.clone())
        .timestamp(row.occurred_at)
}

/// Stripe's refusal of an identifier it has seen ("An event already exists with identifier …").
fn already_counted(err: &stripe::StripeError) -> bool {
    matches!(err, stripe::StripeError::Stripe(api, 400)
        if api.message.as_deref().is_some_and(|m| m.starts_with("An event already exists with identifier")))
}

/// Claims and sends up to `limit` due rows as `owner`. Answers the report and the
/// (user, customer, meter) triples whose totals grew, for the usage alerts.
pub async fn drain(
    pool: &AnyPool,
    stripe: &StripeClient,
    owner: &InstanceId,
    now: i64,
    limit: i64,
) -> anyhow::Result<(DrainReport, BTreeSet<(i64, String, String)>)> {
    let rows = claim(pool, owner, now, limit).await?;
    let results: Vec<(OutboxRow, Result<(), stripe::StripeError>)> = futures::stream::iter(rows)
        .map(|row| async move {
            let key = format!("meter-event-{}", row.identifier);
            let sent = match stripe.send(&meter_event(&row), Some(&key)).await {
                Ok(_) => Ok(()),
                // Stripe has the event already (a resend after its answer was lost): it counted once.
                Err(err) if already_counted(&err) => Ok(()),
                Err(err) => Err(err),
            };
            (row, sent)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut report = DrainReport::default();
    let mut grown = BTreeSet::new();
    let mut sent = Vec::new();
    for (row, result) in results {
        match result {
            Ok(()) => {
                grown.insert((row.user_id, row.customer_id.clone(), row.meter.clone()));
                sent.push(row.id);
            }
            Err(err) => {
                let attempts = row.attempts + 1;
                let transient = is_transient(&err);
                let status = if !transient && attempts >= MAX_REFUSALS { "failed" } else { "pending" };
                tracing::warn!(usage_event = row.id, attempts, transient, error = %short(&err), "sending a meter event failed");
                sqlx::query(
                    "UPDATE usage_events SET status = $1, attempts = $2, last_error = $3, next_attempt_at = $4, \
                     claimed_by = NULL, claimed_until = NULL WHERE id = $5 AND claimed_by = $6",
                )
                .bind(status)
                .bind(attempts)
                .bind(short(&err))
                .bind(now + retry_wait_secs(attempts))
                .bind(row.id)
                .bind(owner.as_str())
                .execute(pool)
                .await
                .with_context(|| format!("recording the failure of usage event {}", row.id))?;
                if status == "failed" {
                    report.failed += 1;
                } else {
                    report.retrying += 1;
                }
            }
        }
    }
    report.sent = mark_sent(pool, owner, &sent, now).await?;
    Ok((report, grown))
}

/// Marks the rows Stripe took as sent, in one statement per hundred; a row whose claim another
/// instance took over meanwhile is left to it (it will find Stripe has the event: counted once).
async fn mark_sent(pool: &AnyPool, owner: &InstanceId, ids: &[i64], now: i64) -> anyhow::Result<usize> {
    let mut marked = 0;
    for chunk in ids.chunks(100) {
        let list = super::record::placeholders(3, chunk.len());
        let sql = format!(
            "UPDATE usage_events SET status = 'sent', sent_at = $1, attempts = attempts + 1, last_error = NULL, \
             claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $2 AND id IN ({list})"
        );
        let mut query = sqlx::query(&sql).bind(now).bind(owner.as_str());
        for id in chunk {
            query = query.bind(*id);
        }
        marked += query.execute(pool).await.context("marking usage events sent")?.rows_affected() as usize;
    }
    Ok(marked)
}

/// Every instance drains the outbox (each row claimed by one of them), then mails the usage
/// alerts the sent rows crossed.
pub fn spawn_usage_worker(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let pool = state.db.pool();
            let batch = drain(pool, &state.stripe_client, &state.instance, now(), BATCH).await;
            let busy = match batch {
                Ok((report, grown)) => {
                    if let Err(err) = super::alerts::mail_crossed(&state, &grown, now()).await {
                        tracing::warn!(error = %format!("{err:#}"), "usage alerts failed");
                    }
                    report.sent + report.retrying + report.failed > 0
                }
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "draining the usage outbox failed");
                    false
                }
            };
            if !busy {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_two_seconds_up_to_five_minutes() {
        let waits: Vec<i64> = (1..=10).map(retry_wait_secs).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }
}
