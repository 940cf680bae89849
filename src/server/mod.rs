//! Server-only code (feature `ssr`).

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod http;
pub mod startup;
pub mod state;
pub mod telemetry;
