use tollgate::server::{
    config::{Backend, DatabaseUrl},
    db::{users, Db},
};

use crate::helpers::{tables_and_columns, TestDatabase, ADMIN_EMAIL};

#[tokio::test]
async fn migrations_are_idempotent() {
    let database = TestDatabase::new().await;
    let db = Db::connect(&DatabaseUrl::parse(&database.url).unwrap()).await.unwrap();
    let expected = if database.is_postgres() { Backend::Postgres } else { Backend::Sqlite };
    assert_eq!(db.backend(), expected);
    assert!(!db.migration_status().await.unwrap().is_current());
    db.migrate().await.unwrap();
    let first = db.migration_status().await.unwrap();
    db.migrate().await.unwrap();
    let second = db.migration_status().await.unwrap();
    assert!(second.is_current());
    assert_eq!(first, second);
    assert!(second.applied >= 1);
    db.close().await;
}

#[tokio::test]
async fn the_app_restarts_on_an_existing_database() {
    let app = crate::helpers::spawn_app().await;
    let vars = crate::helpers::test_vars(&app.database.url, &[]);
    let config = tollgate::server::config::Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let again = tollgate::server::startup::Application::build(config).await.unwrap();
    let admins = users::find_by_email(again.state().db.pool(), &tollgate::domain::Email::parse(ADMIN_EMAIL).unwrap())
        .await
        .unwrap();
    assert!(admins.is_some());
    assert_eq!(users::count(app.db.pool()).await.unwrap(), 1);
}

#[tokio::test]
async fn users_round_trip_on_this_backend() {
    let database = TestDatabase::new().await;
    let db = Db::connect(&DatabaseUrl::parse(&database.url).unwrap()).await.unwrap();
    db.migrate().await.unwrap();
    let email = tollgate::domain::Email::parse("Round@Trip.io").unwrap();
    let user = users::insert(db.pool(), &email, "hash", tollgate::domain::Role::Customer).await.unwrap();
    assert!(!user.had_trial);
    users::set_stripe_customer_id(db.pool(), user.id, &"cus_1".into()).await.unwrap();
    let found = users::find_by_email(db.pool(), &email).await.unwrap().unwrap();
    assert_eq!(found.stripe_customer_id.as_deref(), Some("cus_1"));
    assert_eq!(found.email.as_str(), "round@trip.io");
    let dup = users::insert(db.pool(), &email, "hash", tollgate::domain::Role::Customer).await;
    assert!(matches!(dup, Err(users::InsertUserError::DuplicateEmail)));
    db.close().await;
}

/// Migration file names in one backend's folder.
fn migration_files(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("reading {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_sqlite_migration_has_its_postgres_twin() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert!(!sqlite.is_empty(), "no SQLite migrations found");
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres hold the same files");
}

/// Run by the Postgres suite (`scripts/test` passes `--include-ignored`): it needs both servers.
#[tokio::test]
#[ignore = "needs TOLLGATE_TEST_POSTGRES_URL (the app-postgres suite runs it)"]
async fn both_backends_end_with_the_same_tables_and_columns() {
    let postgres = TestDatabase::new().await;
    assert!(postgres.is_postgres(), "run with TOLLGATE_TEST_POSTGRES_URL set");
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}/schema.db", sqlite_dir.path().display());
    let mut schemas = Vec::new();
    for url in [sqlite_url.as_str(), postgres.url.as_str()] {
        let db = Db::connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
        db.migrate().await.unwrap();
        schemas.push(tables_and_columns(&db).await);
        db.close().await;
    }
    assert!(schemas[0].len() > 20, "the SQLite schema was read: {:?}", schemas[0]);
    let only_sqlite: Vec<_> = schemas[0].difference(&schemas[1]).collect();
    let only_postgres: Vec<_> = schemas[1].difference(&schemas[0]).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "schemas differ: only in SQLite {only_sqlite:?}, only in Postgres {only_postgres:?}"
    );
}

/// Accounts made before email verification existed count as verified: they were made by the
/// operator or signed up (and may pay) before any link was mailed.
#[tokio::test]
async fn accounts_from_before_verification_count_as_verified() {
    const VERIFICATION: i64 = 20250117000000;
    let database = TestDatabase::new().await;
    let db = Db::connect(&DatabaseUrl::parse(&database.url).unwrap()).await.unwrap();
    let backend = if database.is_postgres() { "postgres" } else { "sqlite" };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut before = sqlx::migrate::Migrator::new(dir).await.unwrap();
    before.migrations = before.migrations.iter().filter(|m| m.version < VERIFICATION).cloned().collect();
    before.run(db.pool()).await.unwrap();
    sqlx::query(
        "INSERT INTO users (email, password_hash, role, had_trial, created_at, updated_at) \
         VALUES ('early@example.com', 'x', 'customer', FALSE, 1000, 1000)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let email = tollgate::domain::Email::parse("early@example.com").unwrap();
    let early = users::find_by_email(db.pool(), &email).await.unwrap().unwrap();
    assert_eq!(early.email_verified_at, Some(1000));
    db.close().await;
}
