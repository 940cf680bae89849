//! Billing: Stripe customers, Checkout, and the local projections of subscriptions and invoices.

pub mod checkout;
pub mod emails;
pub mod fulfil;
pub mod invoices;
pub mod subscriptions;
