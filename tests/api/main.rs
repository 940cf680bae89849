//! Integration tests: one binary, grouped by area. Each test starts the app (and its embedded
//! sandbox) on port 0 with a fresh database: a SQLite file in a temp dir, or a fresh Postgres
//! database when `TOLLGATE_TEST_POSTGRES_URL` is set. Shared helpers live in `helpers/`.

mod admin;
mod auth;
mod billing;
mod helpers;
mod marketplace;
mod ops;
mod usage;
mod webhooks;
