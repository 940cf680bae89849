//! Applies inbox events: oldest Stripe time first. A batch is split into lanes by customer (or by
//! object when the event names no customer); a lane is handled one event at a time, in order,
//! and lanes run concurrently, so a customer's subscription, invoices and sessions never race
//! while different customers' events overlap their Stripe round trips.
//!
//! Most handlers split into a re-fetch (network only) and writes ([`Prepared::Write`]); the
//! writes of many events are made by one committer task in one transaction, each event inside
//! its own savepoint together with its "processed" mark: an event's side effects and its mark
//! commit together, and an event whose writes fail is rolled back alone and retried later, while
//! its neighbours commit. A lane hands its writes to the committer in order, and waits for them
//! before an event whose handler writes by itself, so per-object order holds.
//!
//! Failures retry with exponential backoff; after `RetryPolicy::max_attempts`
//! (`WEBHOOK_MAX_ATTEMPTS`, default 8) the event is dead-lettered with its error, visible (and
//! replayable) in the admin.

use std::future::Future;

use anyhow::Context;
use futures::StreamExt;
use sqlx::{AnyPool, Row};

/// Attempts before an event is dead-lettered, unless `WEBHOOK_MAX_ATTEMPTS` says otherwise.
pub const MAX_ATTEMPTS: i64 = 8;
/// Lanes handled at once. Their re-fetches overlap; their writes go to one committer, so more
/// lanes no longer queue on SQLite's writer lock.
const LANES: usize = 16;
/// Lanes' submissions committed in one transaction at most.
const COMMIT_GROUP_MAX: usize = 64;
/// First retry after this many seconds, doubling each time (30 s … about an hour), unless
/// `WEBHOOK_RETRY_SECS` says otherwise.
pub const FIRST_RETRY_SECS: i64 = 30;

/// How failed events are retried: `max_attempts` tries in all, the first retry after
/// `first_retry_secs`, each wait doubling the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i64,
    pub first_retry_secs: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: MAX_ATTEMPTS, first_retry_secs: FIRST_RETRY_SECS }
    }
}

impl RetryPolicy {
    /// Seconds until the next try after `attempts` failed ones.
    pub fn backoff_secs(&self, attempts: i64) -> i64 {
        self.first_retry_secs.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1))
    }
}

/// A stored event, as the handler sees it.
#[derive(Debug, Clone)]
pub struct InboxEvent {
    pub id: String,
    pub event_type: String,
    pub object_id: Option<String>,
    pub payload: String,
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// A type the app does not act on: stored, marked, never retried.
    Ignored,
    /// A handled type that had nothing to act on (an object Stripe no longer has, a customer
    /// that is not ours…): marked ignored with the reason, never retried.
    Skipped(String),
}

impl Outcome {
    fn status(&self) -> &'static str {
        match self {
            Self::Applied => "processed",
            Self::Ignored | Self::Skipped(_) => "ignored",
        }
    }

    fn note(&self) -> Option<&str> {
        match self {
            Self::Applied => None,
            Self::Ignored => Some("event type not handled"),
            Self::Skipped(reason) => Some(reason),
        }
    }
}

/// The part of an event's handling left for the batch transaction.
pub type WriteFn =
    Box<dyn for<'t> Fn(&'t mut Tx) -> futures::future::BoxFuture<'t, anyhow::Result<Outcome>> + Send + Sync>;
/// The batch transaction a [`WriteFn`] writes in.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// What handling an event (its re-fetch) left to do.
pub enum Prepared {
    /// Nothing left to write: the handler wrote in its own transaction, or had nothing to write.
    Done(Outcome),
    /// The writes, made in the batch transaction with the event's mark. May run more than once
    /// (a failed group is retried submission by submission), so it only writes what it captured.
    Write(WriteFn),
}

impl Prepared {
    /// Writes made inside the batch transaction, as a boxed future over the transaction.
    pub fn write<F>(f: F) -> Self
    where
        F: for<'t> Fn(&'t mut Tx) -> futures::future::BoxFuture<'t, anyhow::Result<Outcome>> + Send + Sync + 'static,
    {
        Self::Write(Box::new(f))
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub applied: usize,
    pub ignored: usize,
    pub retrying: usize,
    pub dead: usize,
}

impl BatchReport {
    pub fn total(&self) -> usize {
        self.applied + self.ignored + self.retrying + self.dead
    }
}

/// Seconds until the next try after `attempts` failed ones, under the default policy.
pub fn backoff_secs(attempts: i64) -> i64 {
    RetryPolicy::default().backoff_secs(attempts)
}

/// Applies up to `limit` due events with `apply`, a handler that writes by itself, recording
/// each outcome (default retries).
pub async fn run_batch<F, Fut>(pool: &AnyPool, now: i64, limit: i64, apply: F) -> anyhow::Result<BatchReport>
where
    F: Fn(InboxEvent) -> Fut,
    Fut: Future<Output = anyhow::Result<Outcome>>,
{
    run_batch_with(pool, now, limit, RetryPolicy::default(), apply).await
}

/// `run_batch` with failures retried under `policy`.
pub async fn run_batch_with<F, Fut>(
    pool: &AnyPool,
    now: i64,
    limit: i64,
    policy: RetryPolicy,
    apply: F,
) -> anyhow::Result<BatchReport>
where
    F: Fn(InboxEvent) -> Fut,
    Fut: Future<Output = anyhow::Result<Outcome>>,
{
    let apply = &apply;
    run_batch_prepared(
        pool,
        now,
        limit,
        policy,
        |_| true,
        |event| async move { apply(event).await.map(Prepared::Done) },
    )
    .await
}

/// Applies up to `limit` due events: `prepare` re-fetches and returns what is left to write;
/// `writes_itself` tells which events' `prepare` writes to the database by itself (those wait
/// until their lane's earlier writes are committed).
pub async fn run_batch_prepared<W, F, Fut>(
    pool: &AnyPool,
    now: i64,
    limit: i64,
    policy: RetryPolicy,
    writes_itself: W,
    prepare: F,
) -> anyhow::Result<BatchReport>
where
    W: Fn(&InboxEvent) -> bool,
    F: Fn(InboxEvent) -> Fut,
    Fut: Future<Output = anyhow::Result<Prepared>>,
{
    let rows = sqlx::query(
        "SELECT id, event_type, object_id, payload, attempts FROM webhook_events \
         WHERE status IN ('pending', 'retrying') AND next_attempt_at <= $1 \
         ORDER BY stripe_created, received_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading due webhook events")?;

    let mut lanes: Vec<(String, Vec<InboxEvent>)> = Vec::new();
    let mut lane_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for row in rows {
        let event = InboxEvent {
            id: row.try_get("id")?,
            event_type: row.try_get("event_type")?,
            object_id: row.try_get("object_id")?,
            payload: row.try_get("payload")?,
            attempts: row.try_get("attempts")?,
        };
        let key = lane_key(&event);
        let at = *lane_of.entry(key.clone()).or_insert_with(|| {
            lanes.push((key, Vec::new()));
            lanes.len() - 1
        });
        lanes[at].1.push(event);
    }
    let committer = Committer::spawn(pool.clone(), now, policy);
    let (prepare, writes_itself, committer) = (&prepare, &writes_itself, &committer);
    let mut lanes = futures::stream::iter(lanes.into_iter().map(|(_, events)| async move {
        let mut marked = Vec::with_capacity(events.len());
        let mut pending: Vec<Item> = Vec::new();
        for event in events {
            // This handler writes by itself: what the lane left to write must be in first.
            if writes_itself(&event) && pending.iter().any(Item::writes) {
                match committer.submit(std::mem::take(&mut pending)).await {
                    Ok(marks) => marked.extend(marks),
                    // Not committed: leave this lane's later events pending too, for order.
                    Err(err) => return (marked, None, Some(err)),
                }
            }
            let (id, attempts) = (event.id.clone(), event.attempts + 1);
            let step = match prepare(event).await {
                Ok(Prepared::Write(write)) => Step::Write(write),
                Ok(Prepared::Done(outcome)) => Step::Mark(Ok(outcome)),
                // `{:#}` keeps the context chain on one line.
                Err(err) => Step::Mark(Err(format!("{err:#}"))),
            };
            pending.push(Item { id, attempts, step });
        }
        // The lane's last writes are committed in the background: its slot goes to the next lane.
        match committer.submit_nowait(pending) {
            Ok(answer) => (marked, Some(answer), None),
            Err(err) => (marked, None, Some(err)),
        }
    }))
    .buffer_unordered(LANES);
    let mut marked = Vec::new();
    let mut answers = Vec::new();
    let mut failure = None;
    while let Some((marks, answer, err)) = lanes.next().await {
        marked.extend(marks);
        answers.extend(answer);
        failure = failure.or(err);
    }
    for answer in answers {
        match answer.await {
            Ok(Ok(marks)) => marked.extend(marks),
            Ok(Err(err)) => failure = failure.or(Some(err)),
            Err(_) => failure = failure.or(Some(anyhow::anyhow!("the apply committer stopped"))),
        }
    }
    let mut report = BatchReport::default();
    for mark in marked {
        match mark {
            Marked::Applied => report.applied += 1,
            Marked::Ignored => report.ignored += 1,
            Marked::Retrying => report.retrying += 1,
            Marked::Dead => report.dead += 1,
        }
    }
    match failure {
        // Whatever was not committed is still due, and is applied again next time.
        Some(err) => Err(err.context("committing the batch's outcomes")),
        None => Ok(report),
    }
}

/// One event's part of a submission to the committer.
struct Item {
    id: String,
    attempts: i64,
    step: Step,
}

enum Step {
    Write(WriteFn),
    /// Only the outcome (or the error) to record.
    Mark(Result<Outcome, String>),
}

impl Item {
    fn writes(&self) -> bool {
        matches!(self.step, Step::Write(_))
    }
}

#[derive(Debug, Clone, Copy)]
enum Marked {
    Applied,
    Ignored,
    Retrying,
    Dead,
}

type Answer = tokio::sync::oneshot::Receiver<anyhow::Result<Vec<Marked>>>;

struct Submission {
    items: Vec<Item>,
    done: tokio::sync::oneshot::Sender<anyhow::Result<Vec<Marked>>>,
}

/// Group commit for the worker: lanes submit their events' writes and marks; one task commits
/// whatever is waiting in one transaction (through the SQLite write gate), a savepoint per event.
struct Committer {
    queue: tokio::sync::mpsc::UnboundedSender<Submission>,
}

impl Committer {
    fn spawn(pool: AnyPool, now: i64, policy: RetryPolicy) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::unbounded_channel::<Submission>();
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(COMMIT_GROUP_MAX);
            while rx.recv_many(&mut group, COMMIT_GROUP_MAX).await > 0 {
                commit_group(&pool, now, policy, &mut group).await;
            }
        });
        Self { queue }
    }

    fn submit_nowait(&self, items: Vec<Item>) -> anyhow::Result<Answer> {
        let (done, answer) = tokio::sync::oneshot::channel();
        self.queue.send(Submission { items, done }).map_err(|_| anyhow::anyhow!("the apply committer stopped"))?;
        Ok(answer)
    }

    /// Submits and waits for the commit.
    async fn submit(&self, items: Vec<Item>) -> anyhow::Result<Vec<Marked>> {
        self.submit_nowait(items)?.await.map_err(|_| anyhow::anyhow!("the apply committer stopped"))?
    }
}

async fn commit_group(pool: &AnyPool, now: i64, policy: RetryPolicy, group: &mut Vec<Submission>) {
    let _gate = crate::server::db::write_gate(pool).await;
    let together = async {
        let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
        let mut marks = Vec::with_capacity(group.len());
        for submission in group.iter() {
            marks.push(write_items(&mut tx, now, policy, &submission.items).await?);
        }
        tx.commit().await.context("committing the batch")?;
        anyhow::Ok(marks)
    };
    match together.await {
        Ok(marks) => {
            for (submission, marks) in group.drain(..).zip(marks) {
                let _ = submission.done.send(Ok(marks));
            }
        }
        // Not an event's own failure (those roll back to their savepoint): commit each lane's
        // submission alone, so one cannot hold back the others.
        Err(_) => {
            for submission in group.drain(..) {
                let alone = async {
                    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
                    let marks = write_items(&mut tx, now, policy, &submission.items).await?;
                    tx.commit().await.context("committing the events")?;
                    anyhow::Ok(marks)
                };
                let _ = submission.done.send(alone.await);
            }
        }
    }
}

/// Writes a submission's events in order, each in a savepoint with its mark: an event whose
/// writes fail is rolled back to its savepoint and marked for a retry.
async fn write_items(tx: &mut Tx, now: i64, policy: RetryPolicy, items: &[Item]) -> anyhow::Result<Vec<Marked>> {
    let mut marks = Vec::with_capacity(items.len());
    for item in items {
        let result = match &item.step {
            Step::Mark(result) => result.clone(),
            Step::Write(write) => {
                sqlx::query("SAVEPOINT apply_event").execute(&mut **tx).await.context("starting a savepoint")?;
                match write(tx).await {
                    Ok(outcome) => {
                        sqlx::query("RELEASE SAVEPOINT apply_event")
                            .execute(&mut **tx)
                            .await
                            .context("releasing a savepoint")?;
                        Ok(outcome)
                    }
                    Err(err) => {
                        sqlx::query("ROLLBACK TO SAVEPOINT apply_event")
                            .execute(&mut **tx)
                            .await
                            .context("rolling back an event's writes")?;
                        sqlx::query("RELEASE SAVEPOINT apply_event")
                            .execute(&mut **tx)
                            .await
                            .context("releasing a savepoint")?;
                        Err(format!("{err:#}"))
                    }
                }
            }
        };
        marks.push(mark(tx, now, policy, &item.id, item.attempts, result).await?);
    }
    Ok(marks)
}

/// Records an event's outcome (processed or ignored) or its failure (retrying with backoff, or
/// dead after `MAX_ATTEMPTS`).
async fn mark(
    tx: &mut Tx,
    now: i64,
    policy: RetryPolicy,
    id: &str,
    attempts: i64,
    result: Result<Outcome, String>,
) -> anyhow::Result<Marked> {
    match result {
        Ok(outcome) => {
            sqlx::query(
                "UPDATE webhook_events SET status = $1, attempts = $2, last_error = NULL, \
                 processed_at = $3, note = $4 WHERE id = $5",
            )
            .bind(outcome.status())
            .bind(attempts)
            .bind(now)
            .bind(outcome.note())
            .bind(id)
            .execute(&mut **tx)
            .await
            .with_context(|| format!("marking event {id} {}", outcome.status()))?;
            Ok(match outcome {
                Outcome::Applied => Marked::Applied,
                Outcome::Ignored | Outcome::Skipped(_) => Marked::Ignored,
            })
        }
        Err(message) => {
            let dead = attempts >= policy.max_attempts;
            let status = if dead { "dead" } else { "retrying" };
            tracing::warn!(event_id = %id, attempts, status, error = %message, "webhook event failed");
            sqlx::query(
                "UPDATE webhook_events SET status = $1, attempts = $2, last_error = $3, \
                 next_attempt_at = $4 WHERE id = $5",
            )
            .bind(status)
            .bind(attempts)
            .bind(&message)
            .bind(now + policy.backoff_secs(attempts))
            .bind(id)
            .execute(&mut **tx)
            .await
            .with_context(|| format!("recording the failure of event {id}"))?;
            Ok(if dead { Marked::Dead } else { Marked::Retrying })
        }
    }
}

/// Events that must not overlap share a lane: the customer the object belongs to, else the
/// object itself (events without either share one lane).
fn lane_key(event: &InboxEvent) -> String {
    #[derive(serde::Deserialize)]
    struct Payload {
        data: Data,
    }
    #[derive(serde::Deserialize)]
    struct Data {
        object: Object,
    }
    #[derive(serde::Deserialize)]
    struct Object {
        object: Option<String>,
        customer: Option<serde_json::Value>,
    }
    let parsed = serde_json::from_str::<Payload>(&event.payload).ok();
    let object = parsed.as_ref().map(|p| &p.data.object);
    if object.and_then(|o| o.object.as_deref()) == Some("customer") {
        return format!("cus:{}", event.object_id.as_deref().unwrap_or_default());
    }
    let customer = object.and_then(|o| o.customer.as_ref()).and_then(|c| match c {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Object(o) => o.get("id").and_then(|id| id.as_str()).map(str::to_string),
        _ => None,
    });
    match (customer, &event.object_id) {
        (Some(customer), _) => format!("cus:{customer}"),
        (None, Some(object)) => format!("obj:{object}"),
        (None, None) => String::new(),
    }
}

/// Puts a dead or processed event back in the queue (the admin's "Replay"). Handlers are
/// idempotent, so replaying an applied event changes nothing that was right.
pub async fn replay(pool: &AnyPool, event_id: &str, now: i64) -> anyhow::Result<bool> {
    let result = sqlx::query(
        "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = $1 \
         WHERE id = $2 AND status IN ('dead', 'processed', 'ignored')",
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
    use crate::server::db::test_db;
    use crate::server::webhooks::inbox::{record, Recorded, Source};

    fn event(id: &str, created: i64, object: &str) -> Vec<u8> {
        format!(
            r#"{{"id":"{id}","object":"event","type":"customer.subscription.updated","created":{created},"livemode":false,"data":{{"object":{{"id":"{object}","object":"subscription"}}}}}}"#
        )
        .into_bytes()
    }

    async fn status_of(pool: &AnyPool, id: &str) -> (String, i64, Option<String>) {
        let row = sqlx::query("SELECT status, attempts, last_error FROM webhook_events WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap();
        (row.get("status"), row.get("attempts"), row.get("last_error"))
    }

    #[tokio::test]
    async fn a_duplicate_delivery_is_stored_once() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        assert_eq!(record(&pool, &event("evt_1", 10, "sub_1"), Source::Webhook, 100).await.unwrap(), Recorded::New);
        assert_eq!(
            record(&pool, &event("evt_1", 10, "sub_1"), Source::Reconcile, 101).await.unwrap(),
            Recorded::Duplicate
        );
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(&pool).await.unwrap();
        assert_eq!(count, 1);
    }

    #[tokio::test]
    async fn events_are_applied_oldest_stripe_time_first() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        for (id, created) in [("evt_c", 30), ("evt_a", 10), ("evt_b", 20)] {
            record(&pool, &event(id, created, "sub_1"), Source::Webhook, 100).await.unwrap();
        }
        let seen = std::sync::Mutex::new(Vec::new());
        let report = run_batch(&pool, 100, 10, |e| {
            seen.lock().unwrap().push(e.id.clone());
            async { Ok(Outcome::Applied) }
        })
        .await
        .unwrap();
        assert_eq!(*seen.lock().unwrap(), ["evt_a", "evt_b", "evt_c"]);
        assert_eq!(report.applied, 3);
        assert_eq!(status_of(&pool, "evt_a").await.0, "processed");
        // Nothing is due any more.
        let again = run_batch(&pool, 1_000, 10, |_| async { Ok(Outcome::Applied) }).await.unwrap();
        assert_eq!(again.total(), 0);
    }

    #[tokio::test]
    async fn a_configured_policy_dead_letters_sooner_after_shorter_waits() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        let policy = RetryPolicy { max_attempts: 2, first_retry_secs: 1 };
        record(&pool, &event("evt_q", 1, "sub_1"), Source::Webhook, 0).await.unwrap();
        let fail = |_: InboxEvent| async { Err::<Outcome, _>(anyhow::anyhow!("stripe down")) };
        let first = run_batch_with(&pool, 0, 10, policy, fail).await.unwrap();
        assert_eq!(first.retrying, 1);
        assert_eq!(run_batch_with(&pool, 0, 10, policy, fail).await.unwrap().total(), 0, "not due before 1 s");
        let second = run_batch_with(&pool, 1, 10, policy, fail).await.unwrap();
        assert_eq!(second.dead, 1, "dead after the second attempt");
        assert_eq!(status_of(&pool, "evt_q").await.0, "dead");
        assert_eq!(policy.backoff_secs(3), 4);
    }

    #[tokio::test]
    async fn failures_retry_with_backoff_then_go_dead_and_can_be_replayed() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        record(&pool, &event("evt_x", 1, "sub_1"), Source::Webhook, 0).await.unwrap();
        let mut now = 0;
        for attempt in 1..=MAX_ATTEMPTS {
            let report = run_batch(&pool, now, 10, |_| async { anyhow::bail!("stripe down") }).await.unwrap();
            let (status, attempts, error) = status_of(&pool, "evt_x").await;
            assert_eq!(attempts, attempt);
            assert_eq!(error.as_deref(), Some("stripe down"));
            if attempt < MAX_ATTEMPTS {
                assert_eq!((status.as_str(), report.retrying), ("retrying", 1));
                // Not due before its backoff has passed.
                let early = run_batch(&pool, now + backoff_secs(attempt) - 1, 10, |_| async { Ok(Outcome::Applied) })
                    .await
                    .unwrap();
                assert_eq!(early.total(), 0);
                now += backoff_secs(attempt);
            } else {
                assert_eq!((status.as_str(), report.dead), ("dead", 1));
            }
        }
        // Dead events are not picked up again…
        let later = run_batch(&pool, now + 1_000_000, 10, |_| async { Ok(Outcome::Applied) }).await.unwrap();
        assert_eq!(later.total(), 0);
        // …until replayed.
        assert!(replay(&pool, "evt_x", now).await.unwrap());
        let replayed = run_batch(&pool, now, 10, |_| async { Ok(Outcome::Applied) }).await.unwrap();
        assert_eq!(replayed.applied, 1);
        assert_eq!(status_of(&pool, "evt_x").await, ("processed".to_string(), 1, None));
        assert!(!replay(&pool, "evt_missing", now).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_types_are_marked_ignored() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        record(&pool, &event("evt_i", 1, "x_1"), Source::Webhook, 0).await.unwrap();
        let report = run_batch(&pool, 0, 10, |_| async { Ok(Outcome::Ignored) }).await.unwrap();
        assert_eq!(report.ignored, 1);
        assert_eq!(status_of(&pool, "evt_i").await.0, "ignored");
    }

    #[tokio::test]
    async fn skipped_events_are_ignored_with_their_reason() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        record(&pool, &event("evt_s", 1, "cus_gone"), Source::Webhook, 0).await.unwrap();
        let report =
            run_batch(&pool, 0, 10, |_| async { Ok(Outcome::Skipped("customer cus_gone is not ours".into())) })
                .await
                .unwrap();
        assert_eq!(report.ignored, 1);
        let note: Option<String> =
            sqlx::query_scalar("SELECT note FROM webhook_events WHERE id = 'evt_s'").fetch_one(&pool).await.unwrap();
        assert_eq!(note.as_deref(), Some("customer cus_gone is not ours"));
        assert_eq!(status_of(&pool, "evt_s").await.0, "ignored");
    }

    #[test]
    fn lanes_follow_the_customer_then_the_object() {
        let ev = |payload: &str, object: Option<&str>| InboxEvent {
            id: "evt".into(),
            event_type: "x".into(),
            object_id: object.map(str::to_string),
            payload: payload.into(),
            attempts: 0,
        };
        let sub = r#"{"data":{"object":{"id":"sub_1","object":"subscription","customer":"cus_9"}}}"#;
        let inv = r#"{"data":{"object":{"id":"in_1","object":"invoice","customer":"cus_9"}}}"#;
        let cus = r#"{"data":{"object":{"id":"cus_9","object":"customer"}}}"#;
        let dispute = r#"{"data":{"object":{"id":"du_1","object":"dispute"}}}"#;
        assert_eq!(lane_key(&ev(sub, Some("sub_1"))), "cus:cus_9");
        assert_eq!(lane_key(&ev(inv, Some("in_1"))), "cus:cus_9");
        assert_eq!(lane_key(&ev(cus, Some("cus_9"))), "cus:cus_9");
        assert_eq!(lane_key(&ev(dispute, Some("du_1"))), "obj:du_1");
        assert_eq!(lane_key(&ev("not json", None)), "");
    }

    #[tokio::test]
    async fn a_lane_keeps_its_order_while_lanes_overlap() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        let body = |id: &str, created: i64, customer: &str| {
            format!(
                r#"{{"id":"{id}","object":"event","type":"invoice.paid","created":{created},"livemode":false,"data":{{"object":{{"id":"in_{id}","object":"invoice","customer":"{customer}"}}}}}}"#
            )
            .into_bytes()
        };
        for (id, created, customer) in
            [("evt_1", 1, "cus_a"), ("evt_2", 2, "cus_b"), ("evt_3", 3, "cus_a"), ("evt_4", 4, "cus_a")]
        {
            record(&pool, &body(id, created, customer), Source::Webhook, 0).await.unwrap();
        }
        let seen = std::sync::Mutex::new(Vec::new());
        let report = run_batch(&pool, 0, 10, |e| {
            let seen = &seen;
            async move {
                // The first event of a lane is slow: the other lane may finish meanwhile.
                if e.id == "evt_1" {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                seen.lock().unwrap().push(e.id);
                Ok(Outcome::Applied)
            }
        })
        .await
        .unwrap();
        assert_eq!(report.applied, 4);
        let seen = seen.into_inner().unwrap();
        let lane_a: Vec<_> = seen.iter().filter(|id| *id != "evt_2").cloned().collect();
        assert_eq!(lane_a, ["evt_1", "evt_3", "evt_4"]);
        assert_eq!(seen[0], "evt_2", "the other customer's lane did not wait: {seen:?}");
    }

    /// A deferred write that stores a customer row named after the event's object.
    fn store_customer(fail: bool) -> Prepared {
        Prepared::write(move |tx| {
            Box::pin(async move {
                let id: String =
                    sqlx::query_scalar("SELECT 'cus_written_' || COUNT(*) FROM customers").fetch_one(&mut **tx).await?;
                sqlx::query("INSERT INTO customers (id, deleted, synced_at) VALUES ($1, FALSE, 0)")
                    .bind(&id)
                    .execute(&mut **tx)
                    .await?;
                if fail {
                    anyhow::bail!("write failed after storing {id}");
                }
                Ok(Outcome::Applied)
            })
        })
    }

    async fn customer_ids(pool: &AnyPool) -> Vec<String> {
        sqlx::query_scalar("SELECT id FROM customers ORDER BY id").fetch_all(pool).await.unwrap()
    }

    #[tokio::test]
    async fn a_failed_write_is_rolled_back_alone_and_retried_while_its_neighbours_commit() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        for (id, created, object) in [("evt_1", 1, "sub_1"), ("evt_2", 2, "sub_2"), ("evt_3", 3, "sub_3")] {
            record(&pool, &event(id, created, object), Source::Webhook, 0).await.unwrap();
        }
        let report = run_batch_prepared(
            &pool,
            0,
            10,
            RetryPolicy::default(),
            |_| false,
            |e| async move { Ok(store_customer(e.id == "evt_2")) },
        )
        .await
        .unwrap();
        assert_eq!((report.applied, report.retrying), (2, 1));
        // evt_2's row was rolled back with its savepoint; the other two rows are in.
        assert_eq!(customer_ids(&pool).await.len(), 2);
        assert_eq!(status_of(&pool, "evt_1").await.0, "processed");
        assert_eq!(status_of(&pool, "evt_3").await.0, "processed");
        let (status, attempts, error) = status_of(&pool, "evt_2").await;
        assert_eq!((status.as_str(), attempts), ("retrying", 1));
        assert!(error.unwrap().starts_with("write failed after storing cus_written_"));
        // Retried alone once due: it stores its row this time.
        let retry = run_batch_prepared(
            &pool,
            backoff_secs(1),
            10,
            RetryPolicy::default(),
            |_| false,
            |_| async { Ok(store_customer(false)) },
        )
        .await
        .unwrap();
        assert_eq!((retry.applied, retry.total()), (1, 1));
        assert_eq!(customer_ids(&pool).await.len(), 3);
        assert_eq!(status_of(&pool, "evt_2").await.0, "processed");
    }

    #[tokio::test]
    async fn a_handler_that_writes_itself_sees_its_lanes_earlier_writes() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        // One object, so one lane: the deferred write of evt_1 comes before evt_2's own work.
        for (id, created) in [("evt_1", 1), ("evt_2", 2)] {
            record(&pool, &event(id, created, "sub_1"), Source::Webhook, 0).await.unwrap();
        }
        let seen = std::sync::Mutex::new(None);
        let report = run_batch_prepared(
            &pool,
            0,
            10,
            RetryPolicy::default(),
            |e| e.id == "evt_2",
            |e| {
                let (pool, seen) = (&pool, &seen);
                async move {
                    if e.id == "evt_1" {
                        return Ok(store_customer(false));
                    }
                    *seen.lock().unwrap() = Some(customer_ids(pool).await);
                    Ok(Prepared::Done(Outcome::Applied))
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(report.applied, 2);
        assert_eq!(seen.into_inner().unwrap(), Some(vec!["cus_written_0".to_string()]));
        assert_eq!(status_of(&pool, "evt_1").await.0, "processed");
        assert_eq!(status_of(&pool, "evt_2").await.0, "processed");
    }

    #[test]
    fn backoff_doubles_from_thirty_seconds() {
        assert_eq!(backoff_secs(1), 30);
        assert_eq!(backoff_secs(2), 60);
        assert_eq!(backoff_secs(3), 120);
        assert_eq!(backoff_secs(MAX_ATTEMPTS), 30 * 128);
        assert_eq!(backoff_secs(0), 30);
    }
}
