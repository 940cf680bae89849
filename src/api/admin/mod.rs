//! Admin server functions, beside the data they return. Every one starts with the admin guard.

pub mod coupons;
pub mod customer;
pub mod dispute;
pub mod dunning;
pub mod events;
pub mod mail;
pub mod marketplace;
pub mod migrations;
pub mod order;
pub mod payments;
pub mod revenue;
pub mod status;
pub mod subscriptions;
pub mod usage;
