//! Stripe webhooks: the route that verifies and stores a delivery, the inbox, the worker that
//! applies events through the handlers, and reconcile, which heals missed deliveries.

pub mod handlers;
pub mod inbox;
pub mod reconcile;
pub mod route;
pub mod signature;
pub mod worker;
