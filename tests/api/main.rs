//! Integration tests: one binary. Each test starts the app (and its embedded sandbox)
//! on port 0 with a fresh database: a SQLite file in a temp dir, or a fresh Postgres
//! database when `TOLLGATE_TEST_POSTGRES_URL` is set.

mod admin;
mod admin_events;
mod admin_pages;
mod admin_payments;
mod admin_plan_change;
mod admin_revenue;
mod auth;
mod billing;
mod billing_clock;
mod billing_ui;
mod chaos;
mod cli;
mod headers;
mod health;
mod helpers;
mod metrics;
mod migrations;
mod revenue;
mod webhooks_healing;
mod webhooks_money;
mod webhooks_support;
