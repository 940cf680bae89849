use tollgate::server::{
    config::{Backend, DatabaseUrl},
    db::{users, Db},
};

use crate::helpers::{TestDatabase, ADMIN_EMAIL};

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
    users::set_stripe_customer_id(db.pool(), user.id, "cus_1").await.unwrap();
    let found = users::find_by_email(db.pool(), &email).await.unwrap().unwrap();
    assert_eq!(found.stripe_customer_id.as_deref(), Some("cus_1"));
    assert_eq!(found.email.as_str(), "round@trip.io");
    let dup = users::insert(db.pool(), &email, "hash", tollgate::domain::Role::Customer).await;
    assert!(matches!(dup, Err(users::InsertUserError::DuplicateEmail)));
    db.close().await;
}
