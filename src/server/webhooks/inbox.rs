//! The webhook inbox: every verified Stripe event is stored once (unique on the event id) before
//! Stripe gets its 2xx; the worker reads the due ones and applies them later, and a replay puts
//! one back in the queue. A duplicate delivery is not an error.

use anyhow::Context;
use serde::Deserialize;
use sqlx::AnyPool;

use crate::server::instances::InstanceId;

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
    /// The connected account the event happened on (Connect events only).
    #[serde(default)]
    pub account: Option<String>,
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
    /// The customer the object belongs to: an id, or the customer object when expanded.
    #[serde(default)]
    customer: Option<CustomerRef>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CustomerRef {
    Id(String),
    Expanded {
        id: String,
    },
    /// `null`, or anything else: no customer.
    Other(serde::de::IgnoredAny),
}

impl Envelope {
    /// The lane the event is applied in: events that must not overlap share one. The customer
    /// the object belongs to, else the object itself (events naming neither share one lane).
    pub fn lane(&self) -> String {
        let object = &self.data.object;
        if object.object == "customer" {
            return format!("cus:{}", object.id.as_deref().unwrap_or_default());
        }
        match (&object.customer, &object.id) {
            (Some(CustomerRef::Id(customer) | CustomerRef::Expanded { id: customer }), _) => format!("cus:{customer}"),
            (_, Some(id)) => format!("obj:{id}"),
            (_, None) => String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("body is not a Stripe event: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("event id {0:?} is not an event id")]
    BadId(String),
    #[error("a {event} mode event, but this app runs in {app} mode")]
    WrongMode { event: &'static str, app: &'static str },
    #[error("account {0:?} is not a connected account id")]
    BadAccount(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

fn mode_name(livemode: bool) -> &'static str {
    if livemode {
        "live"
    } else {
        "test"
    }
}

pub fn parse(body: &[u8]) -> Result<Envelope, InboxError> {
    let envelope: Envelope = serde_json::from_slice(body)?;
    if !envelope.id.starts_with("evt_") || envelope.id.len() > 255 {
        return Err(InboxError::BadId(envelope.id));
    }
    if let Some(account) = &envelope.account {
        if !account.starts_with("acct_") || account.len() > 255 {
            return Err(InboxError::BadAccount(account.clone()));
        }
    }
    Ok(envelope)
}

/// Stores a verified event body. `now` is unix seconds.
pub async fn record(pool: &AnyPool, body: &[u8], source: Source, now: i64) -> Result<Recorded, InboxError> {
    let envelope = parse(body)?;
    let payload = std::str::from_utf8(body).context("event body is not UTF-8")?;
    Ok(insert(pool, &envelope, payload, source, now).await?)
}

async fn insert<'c, E>(
    executor: E,
    envelope: &Envelope,
    payload: &str,
    source: Source,
    now: i64,
) -> anyhow::Result<Recorded>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let stored = insert_rows(executor, &[Row { envelope, payload, source, now }]).await?;
    Ok(if stored.is_empty() { Recorded::Duplicate } else { Recorded::New })
}

/// One event to store.
struct Row<'a> {
    envelope: &'a Envelope,
    payload: &'a str,
    source: Source,
    now: i64,
}

/// Columns bound per row by [`insert_rows`].
const PARAMS_PER_ROW: usize = 11;

/// Inserts events in one statement; returns the ids it stored (a duplicate, of a stored event or
/// of one earlier in `rows`, is skipped by `ON CONFLICT DO NOTHING`).
async fn insert_rows<'c, E>(executor: E, rows: &[Row<'_>]) -> anyhow::Result<Vec<String>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    use std::fmt::Write;
    let mut sql = String::with_capacity(240 + rows.len() * 72);
    sql.push_str(
        "INSERT INTO webhook_events \
           (id, event_type, object_type, object_id, livemode, stripe_created, payload, source, lane, \
            account, status, attempts, next_attempt_at, received_at) VALUES ",
    );
    for i in 0..rows.len() {
        let n = i * PARAMS_PER_ROW;
        let _ = write!(
            sql,
            "{}(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 'pending', 0, ${}, ${})",
            if i == 0 { "" } else { ", " },
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6,
            n + 7,
            n + 8,
            n + 9,
            n + 10,
            n + 11,
            n + 11
        );
    }
    sql.push_str(" ON CONFLICT (id) DO NOTHING RETURNING id");
    let mut query = sqlx::query_scalar::<_, String>(&sql);
    for row in rows {
        let e = row.envelope;
        query = query
            .bind(&e.id)
            .bind(&e.type_)
            .bind(&e.data.object.object)
            .bind(e.data.object.id.as_deref())
            .bind(e.livemode)
            .bind(e.created)
            .bind(row.payload)
            .bind(row.source.as_str())
            .bind(e.lane())
            .bind(e.account.as_deref())
            .bind(row.now);
    }
    match rows {
        [one] => query.fetch_all(executor).await.with_context(|| format!("storing event {}", one.envelope.id)),
        _ => query.fetch_all(executor).await.with_context(|| format!("storing {} events", rows.len())),
    }
}

/// Group commit for deliveries: concurrent requests hand their event to one writer task, which
/// stores whatever is waiting in one transaction (a few multi-row INSERTs) and answers each
/// request once it committed. One commit per burst instead of per event, and no writers queueing
/// on SQLite's lock.
///
/// Durability: a request is answered 2xx only after the commit that stored its event returned.
/// On SQLite that commit is made with WAL and `synchronous = NORMAL` (see `db::connect`), the
/// standard setting for WAL: a committed event survives the app being killed (the WAL is
/// written before COMMIT returns), while a power loss may drop the last commits before the next
/// WAL sync; the periodic reconcile reads Stripe's events list and stores any such event again.
/// On Postgres the commit waits for its WAL flush (`synchronous_commit` as the server has it).
#[derive(Clone)]
pub struct InboxWriter {
    queue: tokio::sync::mpsc::Sender<Pending>,
}

struct Pending {
    envelope: Envelope,
    /// The body as received (checked UTF-8 once, in `record`): no copy on the way to the writer.
    payload: axum::body::Bytes,
    now: i64,
    done: tokio::sync::oneshot::Sender<anyhow::Result<Recorded>>,
}

impl Pending {
    fn payload(&self) -> &str {
        // Checked in `InboxWriter::record`; checking again costs a scan, not an allocation.
        std::str::from_utf8(&self.payload).unwrap_or_default()
    }
}

/// Events stored per transaction at most.
const GROUP_MAX: usize = 512;
/// Rows per INSERT statement (`PARAMS_PER_ROW` parameters each: well under SQLite's 32,766).
const ROWS_PER_INSERT: usize = 64;
/// Groups committing at once. SQLite has one writer, so one; Postgres overlaps the WAL flush of
/// one group with the next group's inserts.
const GROUPS_IN_FLIGHT_POSTGRES: usize = 4;

impl InboxWriter {
    /// Starts the writer on the current runtime; it stops when every handle is dropped.
    pub fn spawn(pool: AnyPool) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::channel::<Pending>(GROUP_MAX * 4);
        let in_flight =
            if pool.connect_options().database_url.scheme() == "sqlite" { 1 } else { GROUPS_IN_FLIGHT_POSTGRES };
        tokio::spawn(async move {
            let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
            loop {
                // Wait for a free slot first: while every slot commits, requests pile up in the
                // queue and the next group takes them all.
                let Ok(slot) = slots.clone().acquire_owned().await else { return };
                let mut group = Vec::with_capacity(GROUP_MAX);
                if rx.recv_many(&mut group, GROUP_MAX).await == 0 {
                    return;
                }
                let pool = pool.clone();
                tokio::spawn(async move {
                    write_group(&pool, group).await;
                    drop(slot);
                });
            }
        });
        Self { queue }
    }

    /// Stores a verified delivery of an event of the app's mode (`livemode`); returns once it
    /// is committed.
    pub async fn record(&self, body: axum::body::Bytes, livemode: bool, now: i64) -> Result<Recorded, InboxError> {
        let envelope = parse(&body)?;
        self.record_parsed(envelope, body, livemode, now).await
    }

    /// [`Self::record`] for a body already parsed into `envelope`.
    pub async fn record_parsed(
        &self,
        envelope: Envelope,
        body: axum::body::Bytes,
        livemode: bool,
        now: i64,
    ) -> Result<Recorded, InboxError> {
        if envelope.livemode != livemode {
            return Err(InboxError::WrongMode { event: mode_name(envelope.livemode), app: mode_name(livemode) });
        }
        std::str::from_utf8(&body).context("event body is not UTF-8")?;
        let (done, answer) = tokio::sync::oneshot::channel();
        self.queue
            .send(Pending { envelope, payload: body, now, done })
            .await
            .map_err(|_| anyhow::anyhow!("the inbox writer stopped"))?;
        Ok(answer.await.map_err(|_| anyhow::anyhow!("the inbox writer dropped the event"))??)
    }
}

async fn write_group(pool: &AnyPool, mut group: Vec<Pending>) {
    let _gate = crate::server::db::write_gate(pool).await;
    let together = async {
        let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
        let mut stored = std::collections::HashSet::with_capacity(group.len());
        for chunk in group.chunks(ROWS_PER_INSERT) {
            let rows: Vec<Row> = chunk
                .iter()
                .map(|p| Row { envelope: &p.envelope, payload: p.payload(), source: Source::Webhook, now: p.now })
                .collect();
            stored.extend(insert_rows(&mut *tx, &rows).await?);
        }
        tx.commit().await.context("committing the inbox")?;
        anyhow::Ok(stored)
    };
    match together.await {
        Ok(mut stored) => {
            for p in group.drain(..) {
                // The first delivery of an id in the group stored it; a second one is a duplicate.
                let recorded = if stored.remove(&p.envelope.id) { Recorded::New } else { Recorded::Duplicate };
                let _ = p.done.send(Ok(recorded));
            }
        }
        // One bad event must not fail its neighbours: store each alone.
        Err(_) => {
            for p in group.drain(..) {
                let result = insert(pool, &p.envelope, p.payload(), Source::Webhook, p.now).await;
                let _ = p.done.send(result);
            }
        }
    }
}

/// A stored event, as the handler sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboxEvent {
    pub id: String,
    pub event_type: String,
    pub object_id: Option<String>,
    pub payload: String,
    pub attempts: i64,
    /// Its lane ([`Envelope::lane`]); `None` for events stored before lanes were kept.
    pub lane: Option<String>,
    /// The connected account it happened on (Connect events): its object is read there.
    pub account: Option<String>,
}

/// How long an instance's claim on an event lasts; the worker renews it while a batch runs, so
/// it runs out only when the instance died.
pub const CLAIM_SECS: i64 = 30;

/// How many more events than its limit a claim may take to finish the lanes it started.
const LANE_REST_SHARE: i64 = 4;

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    event: InboxEvent,
    stripe_created: i64,
    received_at: i64,
}

/// Claims up to `limit` events due at `now` for `owner`, oldest Stripe time first (and the rest
/// of their lanes, see below), until
/// `now + CLAIM_SECS`: events no other instance holds (or whose holder's claim ran out), in
/// lanes no other instance holds, so one customer's events are applied by one instance at a
/// time, in order. Claimers take turns (an advisory lock on Postgres, the write lock on
/// SQLite), so two never see the same lane free at once.
pub async fn claim(pool: &AnyPool, owner: &InstanceId, now: i64, limit: i64) -> anyhow::Result<Vec<InboxEvent>> {
    let _gate = crate::server::db::write_gate(pool).await;
    let mut tx = crate::server::db::begin_write(pool).await.context("starting the claim")?;
    crate::server::db::lock_key(&mut tx, "webhook-inbox-claim").await.context("waiting for the claim turn")?;
    // Postgres: rows being marked by another instance's committer are skipped, not waited for.
    let skip_locked = if tx.backend_name() == "PostgreSQL" { "FOR UPDATE OF e SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE webhook_events SET claimed_by = $1, claimed_until = $2 WHERE id IN ( \
           SELECT e.id FROM webhook_events e \
           WHERE e.status IN ('pending', 'retrying') AND e.next_attempt_at <= $3 \
             AND (e.claimed_by IS NULL OR e.claimed_by = $1 OR e.claimed_until <= $3) \
             AND NOT EXISTS (SELECT 1 FROM webhook_events held \
               WHERE held.lane = e.lane AND held.claimed_by <> $1 AND held.claimed_until > $3 \
                 AND held.status IN ('pending', 'retrying')) \
           ORDER BY e.stripe_created, e.received_at, e.id LIMIT $4 {skip_locked}) \
         RETURNING id, event_type, object_id, payload, attempts, lane, account, stripe_created, received_at"
    );
    let mut rows = sqlx::query_as::<_, ClaimedRow>(&sql)
        .bind(owner.as_str())
        .bind(now + CLAIM_SECS)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .context("claiming due webhook events")?;
    // The rest of each claimed lane comes too (up to `LANE_REST_SHARE` × `limit`): a renewal's
    // `invoice.created` and its `invoice.paid` an hour of Stripe time later land in one batch,
    // where they share one re-fetch of the invoice.
    let rest = format!(
        "UPDATE webhook_events SET claimed_by = $1, claimed_until = $2 WHERE id IN ( \
           SELECT e.id FROM webhook_events e \
           WHERE e.status IN ('pending', 'retrying') AND e.next_attempt_at <= $3 \
             AND (e.claimed_by IS NULL OR e.claimed_until <= $3) \
             AND e.lane IN (SELECT c.lane FROM webhook_events c \
               WHERE c.claimed_by = $1 AND c.claimed_until = $2 AND c.status IN ('pending', 'retrying')) \
           ORDER BY e.stripe_created, e.received_at, e.id LIMIT $4 {skip_locked}) \
         RETURNING id, event_type, object_id, payload, attempts, lane, account, stripe_created, received_at"
    );
    if !rows.is_empty() {
        let rest = sqlx::query_as::<_, ClaimedRow>(&rest)
            .bind(owner.as_str())
            .bind(now + CLAIM_SECS)
            .bind(now)
            .bind(limit * LANE_REST_SHARE)
            .fetch_all(&mut *tx)
            .await
            .context("claiming the rest of the claimed lanes")?;
        rows.extend(rest);
    }
    tx.commit().await.context("committing the claim")?;
    // RETURNING keeps no order.
    rows.sort_by(|a, b| {
        (a.stripe_created, a.received_at, &a.event.id).cmp(&(b.stripe_created, b.received_at, &b.event.id))
    });
    Ok(rows.into_iter().map(|row| row.event).collect())
}

/// Extends `owner`'s live claims to `now + CLAIM_SECS` (a long batch keeps its events).
pub async fn renew_claims(pool: &AnyPool, owner: &InstanceId, now: i64) -> anyhow::Result<u64> {
    let renewed = sqlx::query(
        "UPDATE webhook_events SET claimed_until = $1 \
         WHERE claimed_by = $2 AND claimed_until > $3 AND status IN ('pending', 'retrying')",
    )
    .bind(now + CLAIM_SECS)
    .bind(owner.as_str())
    .bind(now)
    .execute(pool)
    .await
    .context("renewing webhook event claims")?;
    Ok(renewed.rows_affected())
}

/// Puts a dead or processed event back in the queue, as the admin's "Replay" does (with its
/// audit row, in `admin::events`). Handlers are idempotent, so replaying an applied event
/// changes nothing that was right.
#[cfg(test)]
pub async fn replay(pool: &AnyPool, event_id: &str, now: i64) -> anyhow::Result<bool> {
    let result = sqlx::query(
        "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = $1 \
         WHERE id = $2 AND status IN ('dead', 'processed', 'ignored') AND purged_at IS NULL",
    )
    .bind(now)
    .bind(event_id)
    .execute(pool)
    .await
    .with_context(|| format!("replaying event {event_id}"))?;
    Ok(result.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_stores_concurrent_deliveries_once_each() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let writer = InboxWriter::spawn(db.pool().clone());
        let body = |i: usize| {
            format!(
                r#"{{"id":"evt_{i}","object":"event","type":"x.y","created":1,"data":{{"object":{{"id":"o_{i}","object":"o"}}}}}}"#
            )
        };
        let results = futures::future::join_all((0..50).map(|i| {
            let (writer, body) = (writer.clone(), body(i % 40));
            async move { writer.record(body.into(), false, 7).await.unwrap() }
        }))
        .await;
        assert_eq!(results.iter().filter(|r| **r == Recorded::New).count(), 40);
        assert_eq!(results.iter().filter(|r| **r == Recorded::Duplicate).count(), 10);
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(db.pool()).await.unwrap();
        assert_eq!(stored, 40);
        assert!(matches!(writer.record("nope".into(), false, 7).await, Err(InboxError::Malformed(_))));
    }

    #[tokio::test]
    async fn an_event_of_the_other_mode_is_refused_and_not_stored() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let writer = InboxWriter::spawn(db.pool().clone());
        let event = |id: &str, livemode: bool| {
            format!(
                r#"{{"id":"{id}","object":"event","type":"x.y","created":1,"livemode":{livemode},"data":{{"object":{{"id":"o_1","object":"o"}}}}}}"#
            )
        };
        let live_in_test = writer.record(event("evt_live", true).into(), false, 7).await;
        assert!(matches!(live_in_test, Err(InboxError::WrongMode { event: "live", app: "test" })), "{live_in_test:?}");
        let test_in_live = writer.record(event("evt_test", false).into(), true, 7).await;
        assert!(matches!(test_in_live, Err(InboxError::WrongMode { event: "test", app: "live" })), "{test_in_live:?}");
        assert_eq!(writer.record(event("evt_ok", true).into(), true, 7).await.unwrap(), Recorded::New);
        let stored: Vec<String> =
            sqlx::query_scalar("SELECT id FROM webhook_events").fetch_all(db.pool()).await.unwrap();
        assert_eq!(stored, ["evt_ok"]);
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
