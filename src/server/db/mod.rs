//! Persistence: one code path for SQLite and Postgres through `sqlx::AnyPool`.
//!
//! Integer cents, unix-second UTC timestamps, `$n` placeholders (both backends
//! accept them). Each backend has its own migration set, chosen by URL scheme.

pub mod rate_limits;
pub mod sessions;
pub mod users;

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    any::AnyPoolOptions,
    migrate::{Migrate, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    AnyPool, Executor,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::server::config::{Backend, DatabaseUrl};
pub use sessions::SessionStoreKind;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The database handle shared by the whole app.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    sessions: SessionStoreKind,
}

impl Db {
    /// Connects (creating the SQLite file and its directory if needed). Does not migrate.
    pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = url.backend();
        if let Some(file) = url.sqlite_file() {
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the database directory {}", dir.display()))?;
            }
        }

        let (any_url, sessions) = match backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url.expose())
                    .context("parsing DATABASE_URL")?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(BUSY_TIMEOUT);
                // Create the file (and switch it to WAL) before the Any pool opens it.
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .with_context(|| format!("opening the SQLite database {url}"))?;
                let store = SqliteStore::new(pool).with_table_name("sessions").map_err(anyhow::Error::msg)?;
                (with_mode_rwc(url.expose()), SessionStoreKind::Sqlite(store))
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url.expose()).context("parsing DATABASE_URL")?;
                let pool = PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .with_context(|| format!("connecting to Postgres at {url}"))?;
                let store = PostgresStore::new(pool)
                    .with_schema_name("public")
                    .and_then(|s| s.with_table_name("sessions"))
                    .map_err(anyhow::Error::msg)?;
                (url.expose().to_owned(), SessionStoreKind::Postgres(store))
            }
        };

        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 10 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute(format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis()).as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect(&any_url)
            .await
            .with_context(|| format!("connecting to the database {url}"))?;

        Ok(Self { pool, backend, sessions })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn session_store(&self) -> SessionStoreKind {
        self.sessions.clone()
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations; running it again is a no-op.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.migrator().run(&self.pool).await.context("running database migrations")?;
        Ok(())
    }

    /// Compares applied migrations with the ones compiled in.
    pub async fn migration_status(&self) -> anyhow::Result<MigrationStatus> {
        let mut conn = self.pool.acquire().await.context("acquiring a connection")?;
        let known: Vec<i64> =
            self.migrator().iter().filter(|m| m.migration_type.is_up_migration()).map(|m| m.version).collect();
        // Without the bookkeeping table, nothing is applied yet.
        let applied: Vec<i64> = match conn.list_applied_migrations().await {
            Ok(list) => list.into_iter().map(|m| m.version).collect(),
            Err(_) => Vec::new(),
        };
        let pending = known.iter().filter(|v| !applied.contains(v)).count();
        Ok(MigrationStatus { known: known.len(), applied: applied.len(), pending })
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationStatus {
    pub known: usize,
    pub applied: usize,
    pub pending: usize,
}

impl MigrationStatus {
    pub fn is_current(&self) -> bool {
        self.pending == 0
    }
}

/// Appends `mode=rwc` to a SQLite URL that names no mode, so the file is created if missing.
fn with_mode_rwc(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// The clock `now()` reads instead of the system's, once [`follow_clock`] set one.
type Clock = Box<dyn Fn() -> i64 + Send + Sync>;
static FOLLOWED_CLOCK: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();

/// Now, in unix seconds (UTC).
pub fn now() -> i64 {
    match FOLLOWED_CLOCK.get() {
        Some(clock) => clock(),
        None => system_now(),
    }
}

/// Now on the system clock, whatever clock [`now`] follows: for what is judged against real
/// time elsewhere (a webhook signature's timestamp).
pub fn system_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Makes [`now`] read `clock` for the rest of the process. `tollgate serve` on the embedded
/// sandbox lives in the sandbox's time, so moving the sandbox's clock a month on (renewals,
/// trial ends) moves the app's periods, grace days and usage timestamps with it, as Stripe's
/// time and the app's agree in production. Process-wide, so only for one app per process (the
/// `serve` command; tests run several apps and keep the system clock). A second call is ignored.
pub fn follow_clock(clock: impl Fn() -> i64 + Send + Sync + 'static) {
    let _ = FOLLOWED_CLOCK.set(Box::new(clock));
}

/// A fresh SQLite database in a temp dir (kept alive by the returned guard), for unit tests.
#[cfg(test)]
pub(crate) async fn test_db(migrated: bool) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/nested/test.db", dir.path().display());
    let db = Db::connect(&DatabaseUrl::parse(&url).expect("url")).await.expect("connect");
    if migrated {
        db.migrate().await.expect("migrate");
    }
    (dir, db)
}

/// The in-process write gate of a SQLite database: SQLite has one writer, and a writer that finds
/// the lock taken waits in its busy handler, which sleeps (1 ms, 2 ms, 5 ms … 100 ms) instead of
/// being woken when the lock frees. The app's group committers (the inbox writer, the worker's
/// apply committer) queue here instead, in FIFO order, and are woken at once. One gate per
/// database file; `None` on Postgres, which has row locks and many writers.
pub async fn write_gate(pool: &AnyPool) -> Option<tokio::sync::OwnedMutexGuard<()>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    static GATES: Mutex<Option<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = Mutex::new(None);
    let url = &pool.connect_options().database_url;
    if url.scheme() != "sqlite" {
        return None;
    }
    let gate = {
        let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
        gates.get_or_insert_with(HashMap::new).entry(url.to_string()).or_default().clone()
    };
    Some(gate.lock_owned().await)
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later fails with
/// SQLITE_BUSY_SNAPSHOT when another connection wrote in between, and no busy timeout helps.
pub async fn begin_write(pool: &AnyPool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
    if pool.connect_options().database_url.scheme() == "sqlite" {
        pool.begin_with("BEGIN IMMEDIATE").await
    } else {
        pool.begin().await
    }
}

/// Serialises transactions that change the same thing (`key`) until this one ends. SQLite
/// needs nothing: `begin_write` already holds its only write lock. Postgres takes an advisory
/// transaction lock on the key's hash.
pub async fn lock_key(tx: &mut sqlx::Transaction<'_, sqlx::Any>, key: &str) -> sqlx::Result<()> {
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(key).execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn temp_db() -> (tempfile::TempDir, Db) {
        test_db(false).await
    }

    #[tokio::test]
    async fn sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout() {
        let (_dir, db) = temp_db().await;
        let mut conn = db.pool().acquire().await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await.unwrap();
        assert_eq!(mode.to_lowercase(), "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await.unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&mut *conn).await.unwrap();
        assert_eq!(busy, 5000);
    }

    #[tokio::test]
    async fn migrations_are_idempotent_and_reported() {
        let (_dir, db) = temp_db().await;
        let before = db.migration_status().await.unwrap();
        assert!(before.pending > 0);
        assert!(!before.is_current());
        db.migrate().await.unwrap();
        db.migrate().await.unwrap();
        let after = db.migration_status().await.unwrap();
        assert!(after.is_current());
        assert_eq!(after.applied, after.known);
    }

    #[test]
    fn rwc_mode_is_added_once() {
        assert_eq!(with_mode_rwc("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(with_mode_rwc("sqlite://a.db?x=1"), "sqlite://a.db?x=1&mode=rwc");
        assert_eq!(with_mode_rwc("sqlite://a.db?mode=ro"), "sqlite://a.db?mode=ro");
    }
}
