//! Server functions, by feature. Thin: they extract, parse, and call into `server`; what they
//! return is defined in `crate::views`.

pub mod admin;
pub mod auth;
pub mod billing;
pub mod brand;
pub mod marketplace;
pub mod password_reset;
pub mod pay;
pub mod projects;
pub mod usage;
pub mod verification;
