//! Server functions, by feature. Thin: they extract, parse, and call into `server`.

pub mod admin;
pub mod auth;
pub mod billing;
mod error;

pub use error::AppError;
