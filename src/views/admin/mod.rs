//! What the admin pages show, one module per page.

pub mod audit;
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
pub mod sort;
pub mod status;
pub mod subscriptions;
pub mod usage;
