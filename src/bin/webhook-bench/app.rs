//! tollgate as each target runs it: in process on SQLite (`Application::build`), as `tollgate
//! serve` processes on one Postgres database, and logged in for `/account`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;
use tollgate::server::config::{Config, DatabaseUrl};
use tollgate::server::db::Db;

use crate::load;
use crate::payloads::{EVENT_TYPE, SECRET};
use crate::servers::{free_addr, Child, InProcess};

/// The settings every tollgate target runs with (the embedded sandbox stands in for Stripe; the
/// periodic reconcile is off: it is not the request's work).
fn vars(database_url: &str, addr: &str) -> Vec<(&'static str, String)> {
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog.toml");
    vec![
        ("DATABASE_URL", database_url.to_owned()),
        ("LEPTOS_SITE_ADDR", addr.to_owned()),
        ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
        ("RECONCILE_INTERVAL_SECS", "0".to_owned()),
        ("CATALOG_PATH", catalog.display().to_string()),
    ]
}

/// The app in process, on its own runtime, on port 0.
pub async fn in_process(database_url: &str) -> anyhow::Result<InProcess> {
    let vars: HashMap<&str, String> = vars(database_url, "127.0.0.1:0").into_iter().collect();
    InProcess::app(Config::from_lookup(|name| vars.get(name).cloned())?).await
}

/// `count` `tollgate serve` processes on one database, each on a port of its own. The first
/// starts alone (it runs the migrations).
pub async fn instances(database_url: &str, count: usize) -> anyhow::Result<Vec<Child>> {
    let binary = std::env::current_exe()?.with_file_name("tollgate");
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: cargo build --release --features ssr --bins (scripts/bench does)",
        binary.display()
    );
    let mut children = Vec::with_capacity(count);
    for n in 1..=count {
        let addr = free_addr()?;
        let mut command = Command::new(&binary);
        command
            .arg("serve")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .envs(vars(database_url, &addr.to_string()))
            .env("RUST_LOG", "error")
            .stdout(Stdio::null());
        children.push(Child::start(command, addr, &format!("tollgate serve #{n}")).await?);
    }
    Ok(children)
}

/// The bench's events in the database's inbox.
pub async fn stored(database_url: &str) -> anyhow::Result<i64> {
    let db = Db::connect(&DatabaseUrl::parse(database_url)?).await?;
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE event_type = $1")
        .bind(EVENT_TYPE)
        .fetch_one(db.pool())
        .await?;
    db.close().await;
    Ok(count)
}

/// Signs up a customer through the app's own forms and logs in; returns the `Cookie` header
/// value of the session.
pub async fn logged_in(addr: SocketAddr) -> anyhow::Result<String> {
    let form = format!("email=bench-{}%40example.com&password=bench-password-1234", uuid::Uuid::new_v4().simple());
    let post = |path: &str| {
        load::request(
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "text/html")],
            form.as_bytes(),
        )
    };
    let (status, head, _) = load::once(addr, &post("/api/signup")).await?;
    anyhow::ensure!(status < 400, "sign-up answered {status}: {head}");
    let (status, head, _) = load::once(addr, &post("/api/login")).await?;
    anyhow::ensure!(status < 400, "log-in answered {status}: {head}");
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, value)| value.trim().strip_prefix("tollgate_session=").map(|rest| rest.split(';').next()))
        .flatten()
        .map(|id| format!("tollgate_session={id}"))
        .context("log-in set no session cookie")
}
