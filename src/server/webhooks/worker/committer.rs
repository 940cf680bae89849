//! Group commit for the worker: lanes submit their events' writes and marks; one task commits
//! whatever is waiting in one transaction, each event inside its own savepoint together with its
//! mark (processed, ignored, retrying or dead).

use anyhow::Context;
use sqlx::AnyPool;

use super::{Outcome, RetryPolicy, Tx, WriteFn};
use crate::server::instances::InstanceId;

/// Lanes' submissions committed in one transaction at most.
const COMMIT_GROUP_MAX: usize = 64;

/// One event's part of a submission to the committer.
pub(super) struct Item {
    pub(super) id: String,
    pub(super) attempts: i64,
    pub(super) step: Step,
}

pub(super) enum Step {
    Write(WriteFn),
    /// Only the outcome (or the error) to record.
    Mark(Result<Outcome, String>),
    /// Stripe's rate limit stopped the re-fetch: due again shortly, the attempt not counted.
    Defer(String),
}

impl Item {
    pub(super) fn writes(&self) -> bool {
        matches!(self.step, Step::Write(_))
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Marked {
    Applied,
    Ignored,
    Retrying,
    Dead,
    /// Put back for a moment (Stripe's rate limit), its attempts unchanged.
    Deferred,
    /// This instance's claim ran out and another instance took the event: nothing of it was
    /// kept here; the other instance applies it.
    Lost,
}

pub(super) type Answer = tokio::sync::oneshot::Receiver<anyhow::Result<Vec<Marked>>>;

struct Submission {
    items: Vec<Item>,
    done: tokio::sync::oneshot::Sender<anyhow::Result<Vec<Marked>>>,
}

/// Group commit for the worker: lanes submit their events' writes and marks; one task commits
/// whatever is waiting in one transaction (through the SQLite write gate), a savepoint per event.
pub(super) struct Committer {
    queue: tokio::sync::mpsc::UnboundedSender<Submission>,
}

impl Committer {
    pub(super) fn spawn(pool: AnyPool, owner: InstanceId, now: i64, policy: RetryPolicy) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::unbounded_channel::<Submission>();
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(COMMIT_GROUP_MAX);
            let marker = Marker { owner, now, policy };
            while rx.recv_many(&mut group, COMMIT_GROUP_MAX).await > 0 {
                commit_group(&pool, &marker, &mut group).await;
            }
        });
        Self { queue }
    }

    pub(super) fn submit_nowait(&self, items: Vec<Item>) -> anyhow::Result<Answer> {
        let (done, answer) = tokio::sync::oneshot::channel();
        self.queue.send(Submission { items, done }).map_err(|_| anyhow::anyhow!("the apply committer stopped"))?;
        Ok(answer)
    }

    /// Submits and waits for the commit.
    pub(super) async fn submit(&self, items: Vec<Item>) -> anyhow::Result<Vec<Marked>> {
        self.submit_nowait(items)?.await.map_err(|_| anyhow::anyhow!("the apply committer stopped"))?
    }
}

/// What marking an event needs: whose claim it must still be, the batch's time, the retries.
struct Marker {
    owner: InstanceId,
    now: i64,
    policy: RetryPolicy,
}

async fn commit_group(pool: &AnyPool, marker: &Marker, group: &mut Vec<Submission>) {
    let _gate = crate::server::db::write_gate(pool).await;
    let together = async {
        let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
        let mut marks = Vec::with_capacity(group.len());
        for submission in group.iter() {
            marks.push(write_items(&mut tx, marker, &submission.items).await?);
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
                    let marks = write_items(&mut tx, marker, &submission.items).await?;
                    tx.commit().await.context("committing the events")?;
                    anyhow::Ok(marks)
                };
                let _ = submission.done.send(alone.await);
            }
        }
    }
}

/// Writes a submission's events in order, each in a savepoint with its mark: an event whose
/// writes fail is rolled back to its savepoint and marked for a retry; an event whose claim
/// this instance lost is rolled back whole (its new holder applies it).
async fn write_items(tx: &mut Tx, marker: &Marker, items: &[Item]) -> anyhow::Result<Vec<Marked>> {
    let mut marks = Vec::with_capacity(items.len());
    for item in items {
        if let Step::Defer(message) = &item.step {
            marks.push(defer(tx, marker, &item.id, message).await?);
            continue;
        }
        savepoint(tx, "SAVEPOINT apply_event").await?;
        let result = match &item.step {
            Step::Mark(result) => result.clone(),
            Step::Defer(_) => unreachable!("deferred above"),
            Step::Write(write) => match write(tx).await {
                Ok(outcome) => Ok(outcome),
                Err(err) => {
                    // Undo the failed writes; the failure itself is marked below.
                    savepoint(tx, "ROLLBACK TO SAVEPOINT apply_event").await?;
                    Err(format!("{err:#}"))
                }
            },
        };
        let marked = mark(tx, marker, &item.id, item.attempts, result).await?;
        if matches!(marked, Marked::Lost) {
            savepoint(tx, "ROLLBACK TO SAVEPOINT apply_event").await?;
        }
        savepoint(tx, "RELEASE SAVEPOINT apply_event").await?;
        marks.push(marked);
    }
    Ok(marks)
}

/// How long a rate-limited event waits before it is due again.
const RATE_LIMITED_WAIT_SECS: i64 = 2;

/// Puts an event Stripe's rate limit stopped back in the queue (pending: nothing failed),
/// without counting the attempt.
async fn defer(tx: &mut Tx, marker: &Marker, id: &str, message: &str) -> anyhow::Result<Marked> {
    let updated = sqlx::query(
        "UPDATE webhook_events SET status = 'pending', last_error = $1, next_attempt_at = $2, \
         claimed_by = NULL, claimed_until = NULL WHERE id = $3 AND claimed_by = $4",
    )
    .bind(message)
    .bind(marker.now + RATE_LIMITED_WAIT_SECS)
    .bind(id)
    .bind(marker.owner.as_str())
    .execute(&mut **tx)
    .await
    .with_context(|| format!("deferring event {id}"))?
    .rows_affected();
    Ok(if updated == 0 { Marked::Lost } else { Marked::Deferred })
}

async fn savepoint(tx: &mut Tx, statement: &'static str) -> anyhow::Result<()> {
    sqlx::query(statement).execute(&mut **tx).await.with_context(|| format!("{statement} failed"))?;
    Ok(())
}

/// Records an event's outcome (processed or ignored) or its failure (retrying with backoff, or
/// dead after `max_attempts`), and lets go of its claim; `Lost` when the claim is no longer
/// this instance's.
async fn mark(
    tx: &mut Tx,
    marker: &Marker,
    id: &str,
    attempts: i64,
    result: Result<Outcome, String>,
) -> anyhow::Result<Marked> {
    let Marker { owner, now, policy } = marker;
    let (query, marked) = match result {
        Ok(outcome) => (
            sqlx::query(
                "UPDATE webhook_events SET status = $1, attempts = $2, last_error = NULL, processed_at = $3, \
                 note = $4, claimed_by = NULL, claimed_until = NULL WHERE id = $5 AND claimed_by = $6",
            )
            .bind(outcome.status())
            .bind(attempts)
            .bind(*now)
            .bind(outcome.note().map(str::to_owned)),
            match outcome {
                Outcome::Applied => Marked::Applied,
                Outcome::Ignored | Outcome::Skipped(_) => Marked::Ignored,
            },
        ),
        Err(message) => {
            let dead = attempts >= policy.max_attempts;
            let status = if dead { "dead" } else { "retrying" };
            tracing::warn!(event_id = %id, attempts, status, error = %message, "webhook event failed");
            (
                sqlx::query(
                    "UPDATE webhook_events SET status = $1, attempts = $2, last_error = $3, next_attempt_at = $4, \
                     claimed_by = NULL, claimed_until = NULL WHERE id = $5 AND claimed_by = $6",
                )
                .bind(status)
                .bind(attempts)
                .bind(message)
                .bind(now + policy.backoff_secs(attempts)),
                if dead { Marked::Dead } else { Marked::Retrying },
            )
        }
    };
    let updated = query
        .bind(id)
        .bind(owner.as_str())
        .execute(&mut **tx)
        .await
        .with_context(|| format!("marking event {id}"))?
        .rows_affected();
    if updated == 0 {
        tracing::warn!(event_id = %id, instance = %owner, "claim lost to another instance; its writes here were undone");
        return Ok(Marked::Lost);
    }
    Ok(marked)
}
