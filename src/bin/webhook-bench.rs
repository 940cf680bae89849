//! `webhook-bench`: prints the webhook pipeline's throughput.
//!
//! - accept: signed POSTs to `/webhooks/stripe` on a running app (signature verified, event
//!   stored, 2xx), from `--concurrency` keep-alive connections, with the app's worker running.
//! - apply: the worker draining `--apply-events` stored `customer.created` events, each re-fetched
//!   from the embedded sandbox and written to the database.
//!
//! SQLite always (a temp file); Postgres too when `TOLLGATE_BENCH_POSTGRES_URL` is set (a fresh
//! database is created on that server and dropped after).
//!
//! cargo run --release --features ssr --bin webhook-bench -- [--accept-events 20000]
//!   [--apply-events 2000] [--concurrency 32] [--runs 3]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tollgate::server::config::{Config, DatabaseUrl, SANDBOX_SECRET_KEY};
use tollgate::server::db::{self, Db};
use tollgate::server::startup::Application;
use tollgate::server::stripe::client::StripeClient;
use tollgate::server::webhooks::handlers::{apply_due, ApplyContext};
use tollgate::server::webhooks::worker::WORKER_BATCH;
use tollgate::server::webhooks::{reconcile, signature};

const SECRET: &str = "whsec_tollgate_bench";

/// Prints the webhook pipeline's accept and apply rates, on SQLite and (with
/// TOLLGATE_BENCH_POSTGRES_URL set) on Postgres.
#[derive(Debug, clap::Parser)]
#[command(name = "webhook-bench")]
struct Args {
    /// Signed deliveries POSTed per accept run.
    #[arg(long, default_value_t = 20_000)]
    accept_events: usize,
    /// Stored customer.created events applied per apply run.
    #[arg(long, default_value_t = 2_000)]
    apply_events: usize,
    /// Keep-alive connections posting at once (and sandbox clients creating the customers).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Runs of each measurement (each on a fresh database); the range is printed.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    runs: u16,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let concurrency = usize::from(args.concurrency);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "webhook-bench: {cores} cores, concurrency {concurrency}, {} run(s) of each measurement, each on a fresh database",
        args.runs
    );
    let dir = tempfile_dir()?;
    let postgres = std::env::var("TOLLGATE_BENCH_POSTGRES_URL").ok().filter(|v| !v.is_empty());
    let mut backends = vec!["sqlite"];
    if postgres.is_some() {
        backends.push("postgres");
    }
    // Databases made on the Postgres server, dropped at the end.
    let mut made = Vec::new();
    let mut n = 0;
    for backend in backends {
        let mut accepts = Vec::new();
        for run in 1..=args.runs {
            n += 1;
            let url = fresh_database(backend, &dir, postgres.as_deref(), n, &mut made).await?;
            let (rate, secs) = bench_accept(&url, args.accept_events, concurrency).await?;
            println!(
                "{backend:8} accept run {run}: {rate:>8.0} events/s  ({} signed POSTs verified + stored + 2xx in {secs:.2} s)",
                args.accept_events
            );
            accepts.push(rate);
        }
        let mut applies = Vec::new();
        for run in 1..=args.runs {
            n += 1;
            let url = fresh_database(backend, &dir, postgres.as_deref(), n, &mut made).await?;
            let (ingest, (rate, secs)) = bench_apply(&url, args.apply_events, concurrency).await?;
            println!(
                "{backend:8} apply  run {run}: {rate:>8.0} events/s  ({} customer.created events re-fetched from the sandbox and stored in {secs:.2} s; reconcile ingest {ingest:.0} events/s)",
                args.apply_events
            );
            applies.push(rate);
        }
        println!("{backend:8} accept: {} events/s", range(&accepts));
        println!("{backend:8} apply:  {} events/s", range(&applies));
    }
    if let Some(server) = postgres {
        for name in made {
            drop_pg_database(&server, &name).await;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A database no run used before: a new SQLite file, or a new database on the Postgres server
/// (its name added to `made`, to be dropped at the end).
async fn fresh_database(
    backend: &str,
    dir: &std::path::Path,
    postgres: Option<&str>,
    n: usize,
    made: &mut Vec<String>,
) -> anyhow::Result<String> {
    if backend == "sqlite" {
        return Ok(format!("sqlite://{}/bench-{n}.db", dir.display()));
    }
    let (url, name) = create_pg_database(postgres.context("TOLLGATE_BENCH_POSTGRES_URL not set")?).await?;
    made.push(name);
    Ok(url)
}

/// "min–max" of the runs' rates (one figure for one run).
fn range(rates: &[f64]) -> String {
    let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = rates.iter().copied().fold(0.0, f64::max);
    if rates.len() == 1 {
        format!("{min:.0}")
    } else {
        format!("{min:.0}–{max:.0}")
    }
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("tollgate-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn create_pg_database(server: &str) -> anyhow::Result<(String, String)> {
    use sqlx::{Connection, Executor};
    let name = format!("tollgate_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(server).await.context("connecting to TOLLGATE_BENCH_POSTGRES_URL")?;
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await?;
    let _ = conn.close().await;
    let mut url = url::Url::parse(server)?;
    url.set_path(&name);
    Ok((url.to_string(), name))
}

async fn drop_pg_database(server: &str, name: &str) {
    use sqlx::{Connection, Executor};
    if let Ok(mut conn) = sqlx::PgConnection::connect(server).await {
        let _ = conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await;
        let _ = conn.close().await;
    }
}

/// Returns (events/s, seconds).
async fn bench_accept(database_url: &str, events: usize, concurrency: usize) -> anyhow::Result<(f64, f64)> {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("DATABASE_URL", database_url),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
        ("RECONCILE_INTERVAL_SECS", "0"),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).map(|v| v.to_string()))?;
    let app = Application::build(config).await?;
    let addr = app.address();
    let pool = app.state().db.pool().clone();
    let server = tokio::spawn(app.run_until_stopped());

    // Bodies and signatures made up front: the client's work is not the server's figure.
    let now = db::now();
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..events)
            .map(|i| {
                let body = format!(
                    r#"{{"id":"evt_bench_{i:08}","object":"event","api_version":"2026-09-30.endive","type":"bench.accepted","created":{now},"livemode":false,"pending_webhooks":1,"data":{{"object":{{"id":"cus_bench_{i}","object":"customer","email":"bench{i}@example.com"}}}}}}"#
                );
                let sig = signature::sign(body.as_bytes(), SECRET, now);
                let mut req = format!(
                    "POST /webhooks/stripe HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nStripe-Signature: {sig}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                req.extend_from_slice(body.as_bytes());
                req
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (requests, next) = (requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move { post_all(addr, &requests, &next).await }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE event_type = 'bench.accepted'")
        .fetch_one(&pool)
        .await?;
    anyhow::ensure!(stored as usize == events, "{stored} of {events} events stored");
    // Let the app's worker mark them (an unhandled type: ignored) before the next run starts:
    // aborting the server leaves its background tasks running, and their work would be counted
    // against the next run.
    let drain = Instant::now();
    loop {
        let due: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE status = 'pending'").fetch_one(&pool).await?;
        if due == 0 {
            break;
        }
        anyhow::ensure!(drain.elapsed().as_secs() < 300, "the worker left {due} events pending");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.abort();
    Ok((events as f64 / secs, secs))
}

/// One keep-alive connection posting requests until none are left; every answer must be 2xx.
async fn post_all(addr: SocketAddr, requests: &[Vec<u8>], next: &AtomicUsize) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(4096);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(request) = requests.get(i) else { return Ok(()) };
        stream.write_all(request).await?;
        buf.clear();
        let (status, body_len, head_len) = loop {
            let mut chunk = [0u8; 2048];
            let n = stream.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "connection closed");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&buf[..head_end])?;
                let status: u16 = head.get(9..12).context("status line")?.parse()?;
                let len = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                    .map(|v| v.parse::<usize>())
                    .transpose()?
                    .unwrap_or(0);
                break (status, len, head_end + 4);
            }
        };
        while buf.len() < head_len + body_len {
            let mut chunk = [0u8; 2048];
            let n = stream.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "connection closed");
            buf.extend_from_slice(&chunk[..n]);
        }
        anyhow::ensure!((200..300).contains(&status), "event {i} answered {status}");
    }
}

/// Returns (reconcile ingest events/s, (apply events/s, seconds)).
async fn bench_apply(database_url: &str, events: usize, concurrency: usize) -> anyhow::Result<(f64, (f64, f64))> {
    let db = Db::connect(&DatabaseUrl::parse(database_url)?).await?;
    db.migrate().await?;
    let pool = db.pool().clone();
    let sandbox = stripe_sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let stripe = StripeClient::new(&SANDBOX_SECRET_KEY.to_string().into(), Some(&sandbox.base_url()))?;

    // N customers in the sandbox: N customer.created events to list and apply.
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (stripe, next) = (stripe.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < events {
                let create = stripe_core::customer::CreateCustomer::new().email("bench@example.com");
                stripe.send(&create, None).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let started = Instant::now();
    let report = reconcile::reconcile(&pool, &stripe, db::now()).await?;
    let ingest = report.new as f64 / started.elapsed().as_secs_f64();

    let app_url = "http://127.0.0.1:3000";
    let started = Instant::now();
    let mut applied = 0;
    loop {
        let ctx = ApplyContext { pool: &pool, stripe: &stripe, app_url, now: db::now(), retry: Default::default() };
        let batch = apply_due(&ctx, &tollgate::server::instances::InstanceId::named("bench"), WORKER_BATCH).await?;
        if batch.total() == 0 {
            break;
        }
        anyhow::ensure!(batch.retrying + batch.dead == 0, "events failed: {batch:?}");
        applied += batch.total();
    }
    let secs = started.elapsed().as_secs_f64();
    let customers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers").fetch_one(&pool).await?;
    anyhow::ensure!(customers as usize >= events, "{customers} of {events} customers stored");
    sandbox.abort();
    db.close().await;
    Ok((ingest, (applied as f64 / secs, secs)))
}
