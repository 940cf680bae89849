//! The webhook inbox for the admin: filtered pages, delivery health, and an audited replay.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_shared::EventId;

use crate::{
    server::db::begin_write,
    views::admin::{
        events::{DeliveryHealth, EventRow, EventSort, EventsPage, InboxStatus, ReplayOutcome, EVENTS_PER_PAGE},
        revenue::Ratio,
        sort::Sort,
    },
};

use super::{
    audit::{self, Actor, Record},
    order_by,
    redact::redact,
    snapshots::DAY,
    Filtered,
};

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<InboxStatus>,
    pub event_type: Option<String>,
    pub sort: Sort<EventSort>,
    pub page: i64,
}

/// The `ORDER BY` of `sort`: each column's expression is fixed here.
fn ordering(sort: Sort<EventSort>) -> String {
    let column = match sort.column {
        EventSort::Type => "event_type",
        EventSort::Status => "status",
        EventSort::Attempts => "attempts",
        EventSort::Received => "received_at",
    };
    order_by(&[column], sort.dir, "id")
}

/// A `webhook_events` row as the admin list reads it ([`EVENT_COLUMNS`]).
#[derive(sqlx::FromRow)]
struct WebhookEventRow {
    id: String,
    event_type: String,
    object_id: Option<String>,
    status: String,
    source: String,
    attempts: i64,
    last_error: Option<String>,
    received_at: i64,
    processed_at: Option<i64>,
    payload: String,
}

impl TryFrom<WebhookEventRow> for EventRow {
    type Error = anyhow::Error;

    fn try_from(row: WebhookEventRow) -> anyhow::Result<Self> {
        let status = InboxStatus::parse(&row.status).with_context(|| format!("inbox status {:?}", row.status))?;
        Ok(EventRow {
            id: row.id,
            event_type: row.event_type,
            object_id: row.object_id,
            status,
            source: row.source,
            attempts: row.attempts,
            last_error: row.last_error,
            received_at: row.received_at,
            processed_at: row.processed_at,
            redacted_payload: redact(&row.payload),
        })
    }
}

const EVENT_COLUMNS: &str = "id, event_type, object_id, status, source, attempts, last_error, \
     received_at, processed_at, payload";

pub async fn page(pool: &AnyPool, filter: &Filter, now: i64) -> anyhow::Result<EventsPage> {
    let mut filtered = Filtered::default();
    if let Some(status) = filter.status {
        filtered.push("status = {}", status.as_str().to_owned());
    }
    if let Some(event_type) = &filter.event_type {
        filtered.push("event_type = {}", event_type.clone());
    }
    let select = format!("SELECT {EVENT_COLUMNS} FROM webhook_events");
    let (rows, has_more) =
        filtered.page::<WebhookEventRow>(pool, &select, &ordering(filter.sort), EVENTS_PER_PAGE, filter.page).await?;
    let events = rows.into_iter().map(EventRow::try_from).collect::<anyhow::Result<Vec<_>>>()?;
    let types = sqlx::query_scalar("SELECT DISTINCT event_type FROM webhook_events ORDER BY event_type")
        .fetch_all(pool)
        .await
        .context("listing event types")?;
    let health = health(pool, now - DAY).await?;
    Ok(EventsPage { events, health, types, sort: filter.sort, page: filter.page, has_more })
}

/// Deliveries received since `since`: how many succeeded and how long processing took.
pub async fn health(pool: &AnyPool, since: i64) -> anyhow::Result<DeliveryHealth> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) AS n FROM webhook_events WHERE received_at >= $1 GROUP BY status")
            .bind(since)
            .fetch_all(pool)
            .await
            .context("counting recent deliveries")?;
    let (mut received, mut pending, mut ok, mut failed) = (0, 0, 0, 0);
    for (status, n) in rows {
        received += n;
        match InboxStatus::parse(&status) {
            Some(InboxStatus::Processed | InboxStatus::Ignored) => ok += n,
            Some(InboxStatus::Retrying | InboxStatus::Dead) => failed += n,
            _ => pending += n,
        }
    }
    Ok(DeliveryHealth {
        received,
        pending,
        success: Ratio { part: ok, whole: ok + failed },
        lag_p50: lag_percentile(pool, since, ok, 50).await?,
        lag_p99: lag_percentile(pool, since, ok, 99).await?,
    })
}

/// Nearest-rank percentile of processing lag over the `n` finished deliveries since `since`.
async fn lag_percentile(pool: &AnyPool, since: i64, n: i64, pct: i64) -> anyhow::Result<Option<i64>> {
    if n == 0 {
        return Ok(None);
    }
    let rank = ((pct * n + 99) / 100).clamp(1, n);
    let lag = sqlx::query_scalar(
        "SELECT processed_at - received_at AS lag FROM webhook_events \
         WHERE received_at >= $1 AND status IN ('processed', 'ignored') AND processed_at IS NOT NULL \
         ORDER BY processed_at - received_at LIMIT 1 OFFSET $2",
    )
    .bind(since)
    .bind(rank - 1)
    .fetch_optional(pool)
    .await
    .context("reading the processing lag")?;
    Ok(lag)
}

/// The customer an event is about, when its object names one.
fn customer_of(payload: &str, object_id: Option<&str>) -> Option<String> {
    if let Some(id) = object_id.filter(|id| id.starts_with("cus_")) {
        return Some(id.to_owned());
    }
    let value: serde_json::Value = serde_json::from_str(payload).ok()?;
    value.pointer("/data/object/customer")?.as_str().map(str::to_owned)
}

/// What a replay reads of the event: its status, and what names its customer.
#[derive(sqlx::FromRow)]
struct EventStateRow {
    status: String,
    object_id: Option<String>,
    payload: String,
}

/// Re-queues a dead or processed event and audits it, in one transaction. A second call while
/// it waits changes nothing.
pub async fn replay(pool: &AnyPool, event_id: &EventId, actor: &Actor, now: i64) -> anyhow::Result<ReplayOutcome> {
    let mut tx = begin_write(pool).await.context("starting a replay")?;
    let row = sqlx::query_as::<_, EventStateRow>("SELECT status, object_id, payload FROM webhook_events WHERE id = $1")
        .bind(event_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .with_context(|| format!("reading event {event_id}"))?;
    let Some(row) = row else { return Ok(ReplayOutcome::NotFound) };
    let status = InboxStatus::parse(&row.status).with_context(|| format!("inbox status {:?}", row.status))?;
    if matches!(status, InboxStatus::Pending | InboxStatus::Retrying) {
        return Ok(ReplayOutcome::AlreadyQueued);
    }
    if !status.replayable() {
        return Ok(ReplayOutcome::NotReplayable(status));
    }
    sqlx::query(
        "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = $1 \
         WHERE id = $2",
    )
    .bind(now)
    .bind(event_id.as_str())
    .execute(&mut *tx)
    .await
    .with_context(|| format!("re-queueing event {event_id}"))?;
    let customer = customer_of(&row.payload, row.object_id.as_deref());
    let record = Record {
        action: "webhook_event.replay",
        subject_type: "webhook_event",
        subject_id: event_id,
        customer_id: customer.as_deref(),
        before: Some(status.as_str()),
        after: Some(InboxStatus::Pending.as_str()),
    };
    audit::write(&mut tx, actor, record, now).await?;
    tx.commit().await.context("committing a replay")?;
    Ok(ReplayOutcome::Queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{
        db::test_db,
        webhooks::{
            inbox::{record, Source},
            worker::{run_batch, Outcome},
        },
    };

    fn actor() -> Actor {
        Actor { user_id: Some(1), email: "admin@x.test".into(), ip: Some("127.0.0.1".into()) }
    }

    fn event(id: &str) -> Vec<u8> {
        event_of(id, "cus_9")
    }

    fn event_of(id: &str, customer: &str) -> Vec<u8> {
        format!(
            r#"{{"id":"{id}","object":"event","type":"invoice.paid","created":10,"livemode":false,"data":{{"object":{{"id":"in_1","object":"invoice","customer":"{customer}","customer_email":"x@y.z"}}}}}}"#
        )
        .into_bytes()
    }

    #[tokio::test]
    async fn replay_requeues_once_and_audits_with_the_customer() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        record(&pool, &event("evt_1"), Source::Webhook, 100).await.unwrap();
        assert_eq!(replay(&pool, &"evt_1".into(), &actor(), 101).await.unwrap(), ReplayOutcome::AlreadyQueued);
        run_batch(&pool, 100, 10, |_| async { Ok(Outcome::Applied) }).await.unwrap();

        assert_eq!(replay(&pool, &"evt_1".into(), &actor(), 200).await.unwrap(), ReplayOutcome::Queued);
        assert_eq!(replay(&pool, &"evt_1".into(), &actor(), 201).await.unwrap(), ReplayOutcome::AlreadyQueued);
        assert_eq!(replay(&pool, &"evt_nope".into(), &actor(), 201).await.unwrap(), ReplayOutcome::NotFound);

        let rows = audit::for_customer(&pool, &"cus_9".into()).await.unwrap();
        assert_eq!(rows.len(), 1, "one audit row for one state change");
        assert_eq!(rows[0].action, "webhook_event.replay");
        assert_eq!((rows[0].before.as_deref(), rows[0].after.as_deref()), (Some("processed"), Some("pending")));
        let again = run_batch(&pool, 200, 10, |_| async { Ok(Outcome::Applied) }).await.unwrap();
        assert_eq!(again.applied, 1);
    }

    #[tokio::test]
    async fn the_page_filters_redacts_and_reports_health() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        // Three customers: a claim takes the rest of its customers' lanes, and this test takes
        // one event per batch.
        for (i, id) in ["evt_a", "evt_b", "evt_c"].iter().enumerate() {
            record(&pool, &event_of(id, &format!("cus_{id}")), Source::Webhook, 1_000 + i as i64).await.unwrap();
        }
        // Processed 10 s and 30 s after receipt; evt_c fails once.
        let n = std::sync::atomic::AtomicUsize::new(0);
        run_batch(&pool, 1_010, 1, |_| async { Ok(Outcome::Applied) }).await.unwrap();
        run_batch(&pool, 1_031, 1, |_| async { Ok(Outcome::Applied) }).await.unwrap();
        run_batch(&pool, 1_040, 1, |_| {
            n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { anyhow::bail!("boom") }
        })
        .await
        .unwrap();
        assert_eq!(n.into_inner(), 1);

        let all = page(&pool, &Filter::default(), 2_000).await.unwrap();
        assert_eq!(all.events.len(), 3);
        assert!(all.events.iter().all(|e| !e.redacted_payload.contains("x@y.z")));
        assert_eq!(all.types, ["invoice.paid"]);
        assert_eq!(all.health.success, Ratio { part: 2, whole: 3 });
        assert_eq!((all.health.lag_p50, all.health.lag_p99), (Some(10), Some(30)));

        let retrying = Filter { status: Some(InboxStatus::Retrying), ..Filter::default() };
        let only = page(&pool, &retrying, 2_000).await.unwrap();
        assert_eq!(only.events.len(), 1);
        assert_eq!(only.events[0].last_error.as_deref(), Some("boom"));
        let none = Filter { event_type: Some("charge.refunded".into()), ..Filter::default() };
        assert!(page(&pool, &none, 2_000).await.unwrap().events.is_empty());
    }
}
