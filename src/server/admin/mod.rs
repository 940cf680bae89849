//! Admin queries and metrics, read from local tables only (never Stripe while rendering).

pub mod audit;
pub mod charts;
pub mod counters;
pub mod coupons;
pub mod csv;
pub mod customer;
pub mod dispute;
pub mod dunning;
pub mod events;
pub mod mail;
pub mod marketplace;
pub mod migrations;
pub mod order;
pub mod pause;
pub mod payments;
pub mod plan_change;
pub mod redact;
pub mod revenue;
pub mod seed;
pub mod snapshots;
pub mod status;
pub mod stripe_setup;
pub mod subscriptions;

mod filter;
pub use filter::{like_pattern, order_by, Filtered};
