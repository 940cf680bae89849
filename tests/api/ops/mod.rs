//! Running it: the CLI, health and metrics, security headers, migrations, importing an account.

mod alerts;
mod cli;
mod headers;
mod health;
mod import;
mod metrics;
mod migrations;
mod status;
mod stripe_down;
