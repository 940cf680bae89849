//! Server-only code (feature `ssr`).

pub mod admin;
pub mod alerts;
pub mod api_keys;
pub mod auth;
pub mod billing;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod entitlements;
pub mod http;
pub mod import;
pub mod instances;
pub mod mail;
pub mod marketplace;
pub mod projects;
pub mod retention;
pub mod startup;
pub mod state;
pub mod stripe;
pub mod telemetry;
pub mod usage;
pub mod webhooks;
