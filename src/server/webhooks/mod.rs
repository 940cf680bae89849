//! Stripe webhooks: signature check, the inbox, the worker that applies events, reconcile.

pub mod apply;
pub mod inbox;
pub mod jobs;
pub mod receive;
pub mod reconcile;
pub mod signature;
pub mod worker;
