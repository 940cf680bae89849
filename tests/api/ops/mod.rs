//! Running it: the CLI, health and metrics, security headers, migrations.

mod alerts;
mod cli;
mod headers;
mod health;
mod metrics;
mod migrations;
mod status;
mod stripe_down;
