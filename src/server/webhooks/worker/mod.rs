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
//!
//! `lanes` splits and runs a batch, `committer` writes it, `retry` says when a failure is tried
//! again, `run` is the loop; the handlers themselves are in `super::handlers`.

mod committer;
mod lanes;
mod outcome;
mod retry;
mod run;
#[cfg(test)]
mod tests;

pub use lanes::run_batch_prepared;
#[cfg(test)]
pub use lanes::{run_batch, run_batch_with};
pub use outcome::{BatchReport, Outcome, Prepared, Tx, WriteFn};
#[cfg(test)]
pub use retry::backoff_secs;
pub use retry::{RetryPolicy, FIRST_RETRY_SECS, MAX_ATTEMPTS};
pub use run::{spawn_webhook_worker, WORKER_BATCH};
