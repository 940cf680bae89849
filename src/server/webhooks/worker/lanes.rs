//! A batch of due events, split into lanes by customer (or by object when the event names no
//! customer). A lane is handled one event at a time, in order; lanes run concurrently.

use std::future::Future;

use futures::StreamExt;
use sqlx::AnyPool;

use super::committer::{Committer, Item, Marked, Step};
#[cfg(test)]
use super::Outcome;
use super::{BatchReport, Prepared, RetryPolicy};
use crate::server::instances::InstanceId;
use crate::server::stripe::client;
use crate::server::webhooks::inbox::{self, InboxEvent};

/// Lanes handled at once. Their re-fetches overlap; their writes go to one committer, so more
/// lanes no longer queue on SQLite's writer lock.
const LANES: usize = 16;

/// Applies up to `limit` due events with `apply`, a handler that writes by itself, recording
/// each outcome (default retries).
#[cfg(test)]
pub async fn run_batch<F, Fut>(pool: &AnyPool, now: i64, limit: i64, apply: F) -> anyhow::Result<BatchReport>
where
    F: Fn(InboxEvent) -> Fut,
    Fut: Future<Output = anyhow::Result<Outcome>>,
{
    run_batch_with(pool, now, limit, RetryPolicy::default(), apply).await
}

/// `run_batch` with failures retried under `policy`.
#[cfg(test)]
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
        &InstanceId::named("test-instance"),
        now,
        limit,
        policy,
        |_| true,
        |event| async move { apply(event).await.map(Prepared::Done) },
    )
    .await
}

/// Claims up to `limit` due events for `owner` and applies them: `prepare` re-fetches and
/// returns what is left to write; `writes_itself` tells which events' `prepare` writes to the
/// database by itself (those wait until their lane's earlier writes are committed).
pub async fn run_batch_prepared<W, F, Fut>(
    pool: &AnyPool,
    owner: &InstanceId,
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
    let mut lanes: Vec<(String, Vec<InboxEvent>)> = Vec::new();
    let mut lane_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for event in inbox::claim(pool, owner, now, limit).await? {
        let key = lane_key(&event);
        let at = *lane_of.entry(key.clone()).or_insert_with(|| {
            lanes.push((key, Vec::new()));
            lanes.len() - 1
        });
        lanes[at].1.push(event);
    }
    let committer = Committer::spawn(pool.clone(), owner.clone(), now, policy);
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
                // Stripe's rate limit is not the event's fault: try again soon, without
                // spending one of its attempts (a renewal wave must not dead-letter).
                Err(err) if client::stripe_cause(&err).is_some_and(client::is_rate_limited) => {
                    Step::Defer(format!("{err:#}"))
                }
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
            Marked::Deferred => report.deferred += 1,
            Marked::Lost => report.lost += 1,
        }
    }
    match failure {
        // Whatever was not committed is still due, and is applied again next time.
        Some(err) => Err(err.context("committing the batch's outcomes")),
        None => Ok(report),
    }
}

/// Events that must not overlap share a lane ([`inbox::Envelope::lane`], kept with the event;
/// read from the payload for events stored before lanes were kept).
pub(super) fn lane_key(event: &InboxEvent) -> String {
    match &event.lane {
        Some(lane) => lane.clone(),
        None => inbox::parse(event.payload.as_bytes()).map(|envelope| envelope.lane()).unwrap_or_default(),
    }
}
