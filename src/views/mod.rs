//! What the pages show: the data server functions return, page sizes, and the pure helpers and
//! formatters both halves share. Compiled for the server and the browser alike (no I/O).

pub mod admin;
pub mod auth;
pub mod billing;
pub mod confirm_payment;
pub mod entitlements;
mod error;
pub mod format;
pub mod marketplace;
pub mod payment_element;
pub mod projects;
pub mod usage;

pub use error::AppError;
