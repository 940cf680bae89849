//! Usage-based billing: reports land in a local outbox (`usage_events`, unique `identifier`, so a
//! retried report counts once), a worker sends them to Stripe as meter events under the same
//! identifier (so a resend after a crash counts once there too), and the leader reconciles the
//! local totals with Stripe's meter event summaries.
//!
//! `record` is the Rust entry point; `route` is `POST /api/v1/usage`.

pub mod account;
pub mod admin;
pub mod alerts;
pub mod config;
pub mod health;
pub mod period;
pub mod reconcile;
pub mod record;
pub mod route;
pub mod spend_cap;
pub mod totals;
pub mod worker;

pub use record::{record, Recorded, UsageError, UsageReport};
