//! The webhook inbox: every verified Stripe event is stored once (unique on the event id) before
//! Stripe gets its 2xx; the worker applies it later. A duplicate delivery is not an error.

use anyhow::Context;
use serde::Deserialize;
use sqlx::AnyPool;

/// Where an event came from: a delivery, the reconcile job reading `/v1/events`, or a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Webhook,
    Reconcile,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Reconcile => "reconcile",
        }
    }
}

/// The part of Stripe's event envelope the inbox needs; the rest stays in the stored payload.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub created: i64,
    #[serde(default)]
    pub livemode: bool,
    pub data: EnvelopeData,
}

#[derive(Debug, Deserialize)]
pub struct EnvelopeData {
    pub object: EnvelopeObject,
}

#[derive(Debug, Deserialize)]
pub struct EnvelopeObject {
    pub id: Option<String>,
    pub object: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("body is not a Stripe event: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("event id {0:?} is not an event id")]
    BadId(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

pub fn parse(body: &[u8]) -> Result<Envelope, InboxError> {
    let envelope: Envelope = serde_json::from_slice(body)?;
    if !envelope.id.starts_with("evt_") || envelope.id.len() > 255 {
        return Err(InboxError::BadId(envelope.id));
    }
    Ok(envelope)
}

/// Stores a verified event body. `now` is unix seconds.
pub async fn record(
    pool: &AnyPool,
    body: &[u8],
    source: Source,
    now: i64,
) -> Result<Recorded, InboxError> {
    let envelope = parse(body)?;
    let payload = std::str::from_utf8(body).context("event body is not UTF-8")?;
    Ok(insert(pool, &envelope, payload, source, now).await?)
}

async fn insert<'c, E>(executor: E, envelope: &Envelope, payload: &str, source: Source, now: i64) -> anyhow::Result<Recorded>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let result = sqlx::query(
        "INSERT INTO webhook_events \
           (id, event_type, object_type, object_id, livemode, stripe_created, payload, source, \
            status, attempts, next_attempt_at, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&envelope.id)
    .bind(&envelope.type_)
    .bind(&envelope.data.object.object)
    .bind(envelope.data.object.id.as_deref())
    .bind(envelope.livemode)
    .bind(envelope.created)
    .bind(payload)
    .bind(source.as_str())
    .bind(now)
    .execute(executor)
    .await
    .with_context(|| format!("storing event {}", envelope.id))?;
    Ok(if result.rows_affected() == 1 { Recorded::New } else { Recorded::Duplicate })
}

/// Group commit for deliveries: concurrent requests hand their event to one writer task, which
/// stores whatever is waiting in one transaction and answers each request once it committed.
/// One commit per burst instead of per event, and no writers queueing on SQLite's lock.
#[derive(Clone)]
pub struct InboxWriter {
    queue: tokio::sync::mpsc::Sender<Pending>,
}

struct Pending {
    envelope: Envelope,
    payload: String,
    now: i64,
    done: tokio::sync::oneshot::Sender<anyhow::Result<Recorded>>,
}

/// Events stored per transaction at most.
const GROUP_MAX: usize = 512;

impl InboxWriter {
    /// Starts the writer on the current runtime; it stops when every handle is dropped.
    pub fn spawn(pool: AnyPool) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::channel::<Pending>(GROUP_MAX * 4);
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(GROUP_MAX);
            while rx.recv_many(&mut group, GROUP_MAX).await > 0 {
                write_group(&pool, &mut group).await;
            }
        });
        Self { queue }
    }

    /// Stores a verified delivery; returns once it is committed.
    pub async fn record(&self, body: &[u8], now: i64) -> Result<Recorded, InboxError> {
        let envelope = parse(body)?;
        let payload = std::str::from_utf8(body).context("event body is not UTF-8")?.to_string();
        let (done, answer) = tokio::sync::oneshot::channel();
        self.queue
            .send(Pending { envelope, payload, now, done })
            .await
            .map_err(|_| anyhow::anyhow!("the inbox writer stopped"))?;
        Ok(answer.await.map_err(|_| anyhow::anyhow!("the inbox writer dropped the event"))??)
    }
}

async fn write_group(pool: &AnyPool, group: &mut Vec<Pending>) {
    let together = async {
        let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
        let mut results = Vec::with_capacity(group.len());
        for p in group.iter() {
            results.push(insert(&mut *tx, &p.envelope, &p.payload, Source::Webhook, p.now).await?);
        }
        tx.commit().await.context("committing the inbox")?;
        anyhow::Ok(results)
    };
    match together.await {
        Ok(results) => {
            for (p, result) in group.drain(..).zip(results) {
                let _ = p.done.send(Ok(result));
            }
        }
        // One bad event must not fail its neighbours: store each alone.
        Err(_) => {
            for p in group.drain(..) {
                let result = insert(pool, &p.envelope, &p.payload, Source::Webhook, p.now).await;
                let _ = p.done.send(result);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_stores_concurrent_deliveries_once_each() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let writer = InboxWriter::spawn(db.pool().clone());
        let body = |i: usize| {
            format!(r#"{{"id":"evt_{i}","object":"event","type":"x.y","created":1,"data":{{"object":{{"id":"o_{i}","object":"o"}}}}}}"#)
        };
        let results = futures::future::join_all((0..50).map(|i| {
            let (writer, body) = (writer.clone(), body(i % 40));
            async move { writer.record(body.as_bytes(), 7).await.unwrap() }
        }))
        .await;
        assert_eq!(results.iter().filter(|r| **r == Recorded::New).count(), 40);
        assert_eq!(results.iter().filter(|r| **r == Recorded::Duplicate).count(), 10);
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(db.pool()).await.unwrap();
        assert_eq!(stored, 40);
        assert!(matches!(writer.record(b"nope", 7).await, Err(InboxError::Malformed(_))));
    }

    #[test]
    fn parses_the_envelope_and_refuses_what_is_not_an_event() {
        let body = br#"{"id":"evt_1","object":"event","type":"customer.created","created":5,
            "livemode":false,"data":{"object":{"id":"cus_1","object":"customer"}}}"#;
        let e = parse(body).unwrap();
        assert_eq!((e.id.as_str(), e.type_.as_str(), e.created), ("evt_1", "customer.created", 5));
        assert_eq!(e.data.object.id.as_deref(), Some("cus_1"));
        assert!(matches!(parse(b"not json"), Err(InboxError::Malformed(_))));
        assert!(matches!(parse(br#"{"id":"evt_1"}"#), Err(InboxError::Malformed(_))));
        let wrong_id = br#"{"id":"cus_1","type":"x","created":1,"data":{"object":{"object":"x"}}}"#;
        assert!(matches!(parse(wrong_id), Err(InboxError::BadId(_))));
    }
}
