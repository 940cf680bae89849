//! Running it: the CLI, health and metrics, security headers, migrations, importing an account.

mod cli;
mod headers;
mod health;
mod import;
mod metrics;
mod migrations;
mod stripe_down;
