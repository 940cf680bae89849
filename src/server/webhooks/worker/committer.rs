//! Group commit for the worker: lanes submit their events' writes and marks; one task commits
//! whatever is waiting in one transaction, each event inside its own savepoint together with its
//! mark (processed, ignored, retrying or dead).

use anyhow::Context;
use sqlx::AnyPool;

use super::{Outcome, RetryPolicy, Tx, WriteFn};

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
    pub(super) fn spawn(pool: AnyPool, now: i64, policy: RetryPolicy) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::unbounded_channel::<Submission>();
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(COMMIT_GROUP_MAX);
            while rx.recv_many(&mut group, COMMIT_GROUP_MAX).await > 0 {
                commit_group(&pool, now, policy, &mut group).await;
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
            Step::Write(write) => with_savepoint(tx, write).await?,
        };
        marks.push(mark(tx, now, policy, &item.id, item.attempts, result).await?);
    }
    Ok(marks)
}

/// Runs an event's writes inside a savepoint: kept when they succeed; rolled back alone when
/// they fail, their error returned for the event's mark.
async fn with_savepoint(tx: &mut Tx, write: &WriteFn) -> anyhow::Result<Result<Outcome, String>> {
    sqlx::query("SAVEPOINT apply_event").execute(&mut **tx).await.context("starting a savepoint")?;
    match write(tx).await {
        Ok(outcome) => {
            sqlx::query("RELEASE SAVEPOINT apply_event").execute(&mut **tx).await.context("releasing a savepoint")?;
            Ok(Ok(outcome))
        }
        Err(err) => {
            sqlx::query("ROLLBACK TO SAVEPOINT apply_event")
                .execute(&mut **tx)
                .await
                .context("rolling back an event's writes")?;
            sqlx::query("RELEASE SAVEPOINT apply_event").execute(&mut **tx).await.context("releasing a savepoint")?;
            Ok(Err(format!("{err:#}")))
        }
    }
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
