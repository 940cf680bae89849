//! The peer: `benches/peers/express-webhook/` (Express, stripe-node's `constructEvent`,
//! better-sqlite3), installed by the bench itself and started as a child process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::load;
use crate::payloads::{self, SECRET};
use crate::servers::{free_addr, Child};

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/express-webhook")
}

/// `npm ci` when the installed packages are not the ones `package-lock.json` pins (a copy of
/// the lock file in `node_modules` says what was installed); nothing otherwise.
pub fn install() -> anyhow::Result<()> {
    let dir = dir();
    let node = Command::new("node").arg("--version").output().context("node is not on PATH (Node.js 20 or later)")?;
    let lock = std::fs::read(dir.join("package-lock.json"))?;
    let stamp = dir.join("node_modules/.installed-lock.json");
    if std::fs::read(&stamp).is_ok_and(|installed| installed == lock) {
        println!("peer: packages installed (node {})", String::from_utf8_lossy(&node.stdout).trim());
        return Ok(());
    }
    println!("peer: npm ci in {} (once; builds better-sqlite3 when no prebuilt binary fits)", dir.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .context("running npm")?;
    anyhow::ensure!(status.success(), "npm ci failed in {}", dir.display());
    std::fs::write(stamp, lock)?;
    Ok(())
}

/// The peer on a free port, storing into `database` (a new SQLite file).
pub async fn start(database: &Path) -> anyhow::Result<Child> {
    let addr = free_addr()?;
    let mut command = Command::new("node");
    command
        .arg("server.js")
        .current_dir(dir())
        .env("PORT", addr.port().to_string())
        .env("DATABASE", database)
        .env("STRIPE_WEBHOOK_SECRET", SECRET)
        .env("NODE_ENV", "production")
        .stdout(Stdio::null());
    Child::start(command, addr, "the peer (node server.js)").await
}

/// Events the peer stored in `database`.
pub async fn stored(database: &Path) -> anyhow::Result<i64> {
    let mut conn = SqliteConnectOptions::new().filename(database).connect().await?;
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(&mut conn).await?;
    conn.close().await?;
    Ok(count)
}

/// Before any figure: the peer refuses a delivery signed with another secret, stores a good one,
/// and stores it once when it comes twice. A peer that skipped the check or the write would be
/// fast for nothing.
pub async fn self_check(dir: &Path) -> anyhow::Result<()> {
    let database = dir.join("peer-check.db");
    let peer = start(&database).await?;
    let now = tollgate::server::db::now();
    let body = payloads::event("evt_bench_check", 0, now);
    let forged = payloads::signed(&body, "whsec_not_the_secret", now);
    let (status, _, _) = load::once(peer.addr, &forged).await?;
    anyhow::ensure!(status == 400, "the peer answered {status} to a bad signature (want 400)");
    for attempt in ["first", "second"] {
        let (status, _, _) = load::once(peer.addr, &payloads::signed(&body, SECRET, now)).await?;
        anyhow::ensure!(status == 200, "the peer answered {status} to the {attempt} good delivery");
    }
    drop(peer);
    let stored = stored(&database).await?;
    anyhow::ensure!(stored == 1, "the peer stored {stored} events for one event delivered twice (want 1)");
    println!("peer: self-check passed (bad signature 400, one event delivered twice stored once)");
    Ok(())
}
