//! `webhook-bench` (run by `scripts/bench`): tollgate's speed side by side with a floor and a
//! peer, in one run, with one load generator (`load.rs`), the same signed deliveries, the same
//! concurrency and the same number of requests for every target:
//!
//! - a bare Axum handler answering 200 to the same requests (the floor);
//! - tollgate's `POST /webhooks/stripe` on SQLite (signature verified over the raw body, event
//!   stored durably in the inbox, 2xx): the app built in process on port 0;
//! - the peer, `benches/peers/express-webhook/` (Express + stripe-node's `constructEvent` +
//!   better-sqlite3, WAL, `synchronous = NORMAL` as tollgate), installed by the bench, checked
//!   first (it must refuse a bad signature and store a twice-delivered event once);
//! - with `TOLLGATE_BENCH_POSTGRES_URL`: 1, 2 and 3 `tollgate serve` processes on one Postgres
//!   database, the load generator's connections spread over them;
//! - `GET /pricing` and a logged-in `GET /account`, server-rendered.
//!
//! Runs are interleaved (each run measures every target once), every count is checked after its
//! run (each 2xx delivery stored), and ratios are taken within a run. Then the apply rate: the
//! worker draining stored `customer.created` events against the embedded sandbox.
//!
//! cargo run --release --features ssr --bin webhook-bench -- [--requests 20000]
//!   [--concurrency 32] [--runs 3] [--apply-events 2000]

mod app;
mod apply;
mod databases;
mod load;
mod payloads;
mod peer;
mod report;
mod servers;

use std::sync::Arc;

use databases::Databases;
use report::{Goal, Table};
use servers::InProcess;

/// Prints tollgate's requests/s next to a bare handler's and a Node peer's, and the ratios.
#[derive(Debug, clap::Parser)]
#[command(name = "webhook-bench")]
struct Args {
    /// Requests per target per run (deliveries, and page loads).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Keep-alive connections sending at once, for every target.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Runs; each measures every target once, the ranges are over runs.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    runs: u16,
    /// Stored customer.created events applied per apply run (0: no apply runs).
    #[arg(long, default_value_t = 2_000)]
    apply_events: usize,
    /// Measure only the targets whose name contains this text (case-insensitive), e.g. "sqlite"
    /// or "postgres" (for profiling one of them).
    #[arg(long)]
    only: Option<String>,
}

const BARE_WEBHOOK: &str = "bare Axum 200: POST /webhooks/stripe";
const SQLITE: &str = "tollgate accept, SQLite";
const PEER: &str = "peer accept (Express+stripe-node+better-sqlite3)";
const BARE_PRICING: &str = "bare Axum 200: GET /pricing";
const PRICING: &str = "tollgate GET /pricing";
const BARE_ACCOUNT: &str = "bare Axum 200: GET /account (cookie)";
const ACCOUNT: &str = "tollgate GET /account (logged in)";
const POSTGRES_INSTANCES: usize = 3;

fn postgres(instances: usize) -> String {
    format!("tollgate accept, Postgres, {instances} instance{}", if instances == 1 { "" } else { "s" })
}

const GOALS: &[Goal] = &[
    Goal { name: "accept SQLite / peer", numerator: SQLITE, denominator: PEER, at_least: 3.0 },
    Goal { name: "accept SQLite / bare", numerator: SQLITE, denominator: BARE_WEBHOOK, at_least: 0.5 },
    Goal { name: "/pricing / bare", numerator: PRICING, denominator: BARE_PRICING, at_least: 0.5 },
    Goal { name: "/account / bare", numerator: ACCOUNT, denominator: BARE_ACCOUNT, at_least: 0.5 },
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let (requests, concurrency, runs) = (args.requests, usize::from(args.concurrency), usize::from(args.runs));
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "webhook-bench: {cores} cores, load average {}, {requests} requests per target per run, concurrency {concurrency}, {runs} runs",
        load_average()
    );
    peer::install()?;
    let postgres = std::env::var("TOLLGATE_BENCH_POSTGRES_URL").ok().filter(|v| !v.is_empty());
    let mut dbs = Databases::new(postgres)?;
    let only = args.only.as_deref().unwrap_or_default().to_lowercase();
    let chosen = |target: &str| target.to_lowercase().contains(&only);
    let outcome = side_by_side(&mut dbs, requests, concurrency, runs, &chosen).await;
    let outcome = match (outcome, args.apply_events) {
        (Ok(()), 0) => Ok(()),
        (Ok(()), events) => apply_runs(&mut dbs, events, concurrency, runs).await,
        (error, _) => error,
    };
    println!("load average at the end: {}", load_average());
    dbs.clean_up().await;
    outcome
}

async fn side_by_side(
    dbs: &mut Databases,
    requests: usize,
    concurrency: usize,
    runs: usize,
    chosen: &dyn Fn(&str) -> bool,
) -> anyhow::Result<()> {
    peer::self_check(&dbs.dir).await?;
    let bare = InProcess::bare().await?;
    let pages = app::in_process(&dbs.sqlite_url()).await?;
    let cookie = app::logged_in(pages.addr).await?;
    let deliveries = payloads::deliveries(requests, tollgate::server::db::now());
    let page = |path: &str, headers: &[(&str, &str)]| -> load::Requests {
        Arc::new(vec![load::request("GET", path, headers, b""); requests])
    };
    let pricing = page("/pricing", &[("Accept", "text/html")]);
    let account = page("/account", &[("Accept", "text/html"), ("Cookie", &cookie)]);

    let mut table = Table::new(runs);
    for run in 1..=runs {
        let mut measure = async |name: &str, addrs: &[std::net::SocketAddr], requests: &load::Requests| {
            let rate = load::run(addrs, requests, concurrency).await?;
            println!("run {run}: {name:52} {rate:>8.0} requests/s");
            table.add(name, rate);
            anyhow::Ok(())
        };
        if chosen(BARE_WEBHOOK) {
            measure(BARE_WEBHOOK, &[bare.addr], &deliveries).await?;
        }
        if chosen(SQLITE) {
            let url = dbs.sqlite_url();
            let served = app::in_process(&url).await?;
            measure(SQLITE, &[served.addr], &deliveries).await?;
            drop(served);
            expect_stored(SQLITE, app::stored(&url).await?, requests)?;
        }
        if chosen(PEER) {
            let file = dbs.sqlite_file("peer");
            let node = peer::start(&file).await?;
            measure(PEER, &[node.addr], &deliveries).await?;
            drop(node);
            expect_stored(PEER, peer::stored(&file).await?, requests)?;
        }
        if dbs.has_postgres() {
            for instances in (1..=POSTGRES_INSTANCES).filter(|n| chosen(&postgres(*n))) {
                let url = dbs.postgres_url().await?;
                let serving = app::instances(&url, instances).await?;
                let addrs: Vec<_> = serving.iter().map(|child| child.addr).collect();
                measure(&postgres(instances), &addrs, &deliveries).await?;
                drop(serving);
                expect_stored(&postgres(instances), app::stored(&url).await?, requests)?;
            }
        }

        for (name, addr, requests) in [
            (BARE_PRICING, bare.addr, &pricing),
            (PRICING, pages.addr, &pricing),
            (BARE_ACCOUNT, bare.addr, &account),
            (ACCOUNT, pages.addr, &account),
        ] {
            if chosen(name) {
                measure(name, &[addr], requests).await?;
            }
        }
    }
    table.print(GOALS);
    Ok(())
}

/// Every 2xx must be a stored event: a target that answered before storing fails the bench.
fn expect_stored(target: &str, stored: i64, sent: usize) -> anyhow::Result<()> {
    anyhow::ensure!(stored as usize == sent, "{target}: {stored} of {sent} acknowledged events stored");
    Ok(())
}

async fn apply_runs(dbs: &mut Databases, events: usize, concurrency: usize, runs: usize) -> anyhow::Result<()> {
    let mut backends = vec!["sqlite"];
    if dbs.has_postgres() {
        backends.push("postgres");
    }
    println!();
    for backend in backends {
        let mut rates = Vec::new();
        for run in 1..=runs {
            let url = dbs.url(backend).await?;
            let (ingest, (rate, secs)) = apply::bench_apply(&url, events, concurrency).await?;
            println!(
                "{backend:8} apply run {run}: {rate:>8.0} events/s  ({events} customer.created events re-fetched from the sandbox and stored in {secs:.2} s; reconcile ingest {ingest:.0} events/s)"
            );
            rates.push(rate);
        }
        println!("{backend:8} apply: {} events/s", report::range(&rates, 0));
    }
    Ok(())
}

/// The machine's 1, 5 and 15 minute load averages (other engineers' builds share it).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
