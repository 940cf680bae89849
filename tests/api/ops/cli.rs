//! The `tollgate` binary: config errors, `.env` layering, doctor, migrate, admin create.

use std::process::Output;

use tollgate::server::{
    auth::{self, LoginLimiter},
    config::DatabaseUrl,
    db::Db,
};

use crate::helpers::{tollgate, TestDatabase};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn malformed_settings_stop_the_start_with_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("DATABASE_URL", "mysql://nope"),
        ("APP_URL", "not a url"),
        ("LEPTOS_SITE_ADDR", "localhost"),
        ("STRIPE_SECRET_KEY", "sk_nope"),
        ("STRIPE_PUBLISHABLE_KEY", "nope"),
        ("STRIPE_WEBHOOK_SECRET", "nope"),
        ("STRIPE_API_BASE", "nope"),
        ("STRIPE_WEBHOOK_TOLERANCE_SECS", "five minutes"),
        ("SMTP_URL", "nope"),
        ("ADMIN_EMAIL", "nope"),
    ] {
        let out = tollgate(dir.path(), &["serve"], &[(var, value), ("ADMIN_PASSWORD", "long enough")]);
        assert_eq!(out.status.code(), Some(2), "{var}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "{var}: {err}");
        assert!(err.contains(var), "{var}: {err}");
        assert!(!err.contains(value) || value == "nope", "the bad value is not echoed: {err}");
    }
}

#[test]
fn serve_refuses_to_stand_the_sandbox_in_for_stripe_or_send_a_live_key_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    for (vars, named) in [
        (vec![("LEPTOS_ENV", "PROD")], "STRIPE_SECRET_KEY"),
        (vec![("APP_URL", "https://billing.example.com")], "STRIPE_SECRET_KEY"),
        (vec![("STRIPE_SECRET_KEY", "sk_test_abc")], "STRIPE_WEBHOOK_SECRET"),
        (
            vec![
                ("STRIPE_SECRET_KEY", "sk_live_TOPSECRET"),
                ("STRIPE_WEBHOOK_SECRET", "whsec_a"),
                ("STRIPE_API_BASE", "http://stripe-proxy.internal"),
            ],
            "STRIPE_API_BASE",
        ),
    ] {
        let out = tollgate(dir.path(), &["serve"], &vars);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{vars:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{vars:?}: {err}");
        assert!(err.contains(named), "{vars:?}: {err}");
        assert!(!err.contains("TOPSECRET"), "{err}");
    }
}

#[test]
fn admin_email_without_a_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = tollgate(dir.path(), &["serve"], &[("ADMIN_EMAIL", "boss@example.com")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ADMIN_PASSWORD"), "{}", stderr(&out));
}

#[test]
fn dot_env_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "STRIPE_WEBHOOK_TOLERANCE_SECS=not-a-number\n").unwrap();
    let out = tollgate(dir.path(), &["doctor"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("STRIPE_WEBHOOK_TOLERANCE_SECS"), "{}", stderr(&out));

    let db = format!("sqlite://{}/db.sqlite", dir.path().display());
    let out = tollgate(dir.path(), &["doctor"], &[("STRIPE_WEBHOOK_TOLERANCE_SECS", "42"), ("DATABASE_URL", &db)]);
    assert!(stdout(&out).contains("STRIPE_WEBHOOK_TOLERANCE_SECS: 42"), "{}", stdout(&out));
}

#[tokio::test]
async fn doctor_reports_mode_database_and_migrations_and_never_prints_secrets() {
    let database = TestDatabase::new().await;
    let dir = tempfile::tempdir().unwrap();
    let url = database.url.clone();

    let before = tollgate(dir.path(), &["doctor"], &[("DATABASE_URL", &url)]);
    assert!(!before.status.success(), "unmigrated: {}", stdout(&before));
    let text = stdout(&before);
    assert!(text.contains("mode:                          sandbox"), "{text}");
    assert!(text.contains("pending") || text.contains("not created yet"), "{text}");

    for _ in 0..2 {
        let out = tollgate(dir.path(), &["migrate"], &[("DATABASE_URL", &url)]);
        assert!(out.status.success(), "migrate: {}", stderr(&out));
    }

    let secrets = [
        ("STRIPE_SECRET_KEY", "sk_test_TOPSECRETkey"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_PUBLISHABLEkey"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_TOPSECRETone,whsec_TOPSECRETtwo"),
        ("ADMIN_EMAIL", "boss@example.com"),
        ("ADMIN_PASSWORD", "TOPSECRET password"),
        ("SMTP_URL", "smtp://mailer:TOPSECRETsmtp@mail.example.com:587?tls=required"),
        ("MAIL_FROM", "Billing <billing@example.com>"),
    ];
    let mut vars = secrets.to_vec();
    vars.push(("DATABASE_URL", &url));
    let out = tollgate(dir.path(), &["doctor"], &vars);
    let text = stdout(&out) + &stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("mode:                          test"), "{text}");
    assert!(text.contains("database:                      reachable"), "{text}");
    assert!(text.contains("migrations:                    current"), "{text}");
    assert!(text.contains("STRIPE_SECRET_KEY:             present"), "{text}");
    assert!(text.contains("STRIPE_WEBHOOK_SECRET:         present (2 secrets)"), "{text}");
    assert!(text.contains("SMTP_URL:                      present"), "{text}");
    assert!(!text.contains("TOPSECRET"), "a secret leaked: {text}");
    assert!(!text.contains("PUBLISHABLEkey"), "{text}");
    assert!(!text.contains("boss@example.com"), "{text}");

    let live = tollgate(dir.path(), &["doctor"], &[("DATABASE_URL", &url), ("STRIPE_SECRET_KEY", "sk_live_TOPSECRET")]);
    assert!(stdout(&live).contains("mode:                          live"), "{}", stdout(&live));
    assert!(!stdout(&live).contains("TOPSECRET"));
}

#[test]
fn doctor_hides_the_database_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = tollgate(dir.path(), &["doctor"], &[("DATABASE_URL", "postgres://app:TOPSECRETdb@127.0.0.1:1/tollgate")]);
    let text = stdout(&out) + &stderr(&out);
    assert!(!out.status.success(), "nothing listens on port 1: {text}");
    assert!(text.contains("NOT reachable"), "{text}");
    assert!(!text.contains("TOPSECRETdb"), "{text}");
}

#[tokio::test]
async fn admin_create_makes_an_admin_who_can_log_in() {
    let database = TestDatabase::new().await;
    let dir = tempfile::tempdir().unwrap();
    let url = database.url.clone();
    let out = tollgate(
        dir.path(),
        &["admin", "create", "--email", "Boss@Example.com"],
        &[("DATABASE_URL", &url), ("ADMIN_PASSWORD", "from the environment")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("boss@example.com"));
    assert!(!stdout(&out).contains("from the environment"));

    // The flag wins over the environment, and running it again resets the password.
    let out = tollgate(
        dir.path(),
        &["admin", "create", "--email", "boss@example.com", "--password", "from the flag!"],
        &[("DATABASE_URL", &url), ("ADMIN_PASSWORD", "from the environment")],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let db = Db::connect(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
    let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
    let ip = std::net::IpAddr::from([127, 0, 0, 1]);
    let admin = auth::log_in(&db, &limiter, ip, "boss@example.com", "from the flag!").await.unwrap();
    assert!(admin.role.is_admin());
    assert!(auth::log_in(&db, &limiter, ip, "boss@example.com", "from the environment").await.is_err());
    db.close().await;
}

#[tokio::test]
async fn admin_create_promotes_a_customer_only_when_asked() {
    let database = TestDatabase::new().await;
    let dir = tempfile::tempdir().unwrap();
    let url = database.url.clone();
    let db = Db::connect(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
    db.migrate().await.unwrap();
    let links = tollgate::server::http::app_url::AppUrl::new("http://127.0.0.1:3000");
    let signed_up = auth::sign_up(&db, &links, "cara@example.com", "customer password").await.unwrap();
    let auth::SignUp::Created(customer) = signed_up else { panic!("the address was free") };
    assert!(!customer.email_verified());
    let vars = [("DATABASE_URL", url.as_str()), ("ADMIN_PASSWORD", "an admin password")];
    let refused = tollgate(dir.path(), &["admin", "create", "--email", "cara@example.com"], &vars);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--promote"), "{}", stderr(&refused));
    let promoted = tollgate(dir.path(), &["admin", "create", "--email", "cara@example.com", "--promote"], &vars);
    assert!(promoted.status.success(), "{}", stderr(&promoted));
    let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
    let ip = std::net::IpAddr::from([127, 0, 0, 1]);
    let admin = auth::log_in(&db, &limiter, ip, "cara@example.com", "an admin password").await.unwrap();
    assert!(admin.role.is_admin());
    assert!(admin.email_verified(), "the operator vouches for an admin's address");
    db.close().await;
}

#[test]
fn admin_create_refuses_a_short_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/db.sqlite", dir.path().display());
    let out = tollgate(
        dir.path(),
        &["admin", "create", "--email", "boss@example.com", "--password", "short"],
        &[("DATABASE_URL", &db)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--password"), "{}", stderr(&out));
    assert!(!dir.path().join("db.sqlite").exists(), "nothing was written");
}
