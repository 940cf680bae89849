//! Billing: Stripe customers, Checkout, and the local projections of subscriptions and invoices.

pub mod account;
pub mod actions;
pub mod checkout;
pub mod emails;
pub mod fulfil;
pub mod invoices;
pub mod plan_change;
pub mod price_book;
pub mod subscriptions;
