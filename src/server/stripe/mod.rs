//! Everything that talks to Stripe goes through [`client::StripeClient`].

pub mod account;
pub mod browser;
pub mod client;
pub mod idempotency;
pub mod sandbox_brand;
pub mod shared_reads;
