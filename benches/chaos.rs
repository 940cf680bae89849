//! The chaos test (`tests/api/webhooks/chaos.rs`) at scale: customers live the same scripted
//! life, in rounds, while the sandbox duplicates, reorders and concurrently delivers webhooks,
//! until the app's inbox holds about `--events` events; then a month and a half passes, every
//! event is applied, and the app's tables are compared with the sandbox's truth. Prints the
//! events, the customers, the times, and the effects lost and duplicated (both must be 0: the
//! exit status is 1 otherwise).
//!
//! `cargo bench -p tollgate --features ssr --bench chaos [--profile dev] -- [--events 100000]
//! [--concurrency 16]` from the repository root (it reads `catalog.toml`). SQLite by default;
//! Postgres when `TOLLGATE_TEST_POSTGRES_URL` is set (a server URL: the bench makes its own
//! database and drops it).

#[allow(dead_code, unused_imports)]
#[path = "../tests/api/helpers/mod.rs"]
mod helpers;

use std::time::{Duration, Instant};

use futures::StreamExt;
use helpers::chaos::{advance_weeks, buyers, compare_with_sandbox, live, set_chaos};
use helpers::{hooks, prices, spawn_app, Api, PinnedStart};

/// The share of a run's events that the month and a half after the script adds (renewals,
/// dunning, cancellations falling due): 17% in a 5,000-event run. The script stops at the rest,
/// so that the inbox ends near `--events`.
const RENEWAL_SHARE: f64 = 0.17;
/// Customers in the first round (it measures events per customer) and at most in any round.
const FIRST_ROUND: usize = 50;
const MAX_ROUND: usize = 500;
const SEED: u64 = 0xc4a0_5bec;
/// How long the deliveries and the inbox may take to drain after the script.
const SETTLE_LIMIT: Duration = Duration::from_secs(3 * 3600);

struct Flags {
    events: usize,
    concurrency: usize,
}

fn flags() -> Flags {
    let mut flags = Flags { events: 100_000, concurrency: 16 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.replace('_', "").parse().ok());
        match arg.as_str() {
            "--events" => flags.events = value().expect("--events N"),
            "--concurrency" => flags.concurrency = value().expect("--concurrency N (customers living at once)"),
            // `cargo bench` passes `--bench` to every bench target.
            "--bench" => {}
            other => panic!("unknown flag {other}: --events N, --concurrency N"),
        }
    }
    flags
}

#[tokio::main]
async fn main() {
    let flags = flags();
    let started = Instant::now();
    let app = spawn_app().await;
    let backend = if app.database.is_postgres() { "Postgres" } else { "SQLite" };
    app.pin_clock(PinnedStart::FirstOfJanuary).await;
    let api = Api { http: reqwest::Client::new(), base: app.sandbox_url.clone() };
    set_chaos(&api).await;
    let prices = prices(&app.stripe).await;
    let pool = app.db.pool();
    let stored = || hooks::count(pool, "SELECT COUNT(*) FROM webhook_events");
    println!("chaos bench: about {} events on {backend}, {} customers at once", flags.events, flags.concurrency);

    let script_events = (flags.events as f64 * (1.0 - RENEWAL_SHARE)) as i64;
    let script_started = Instant::now();
    let mut customers = 0;
    let mut round = FIRST_ROUND;
    loop {
        let range = customers..customers + round;
        let buyers = buyers(pool, range.clone()).await;
        futures::stream::iter(range)
            .for_each_concurrent(flags.concurrency, |i| live(&api, &prices, i, SEED, buyers.get(&i).copied()))
            .await;
        customers += round;
        // Deliveries lag the script (chaos sends 8 at a time): the events still queued at the
        // sandbox will be in the inbox too.
        let (inbox, queued) = (stored().await, queued_deliveries(&api).await);
        let now = inbox + queued;
        let secs = script_started.elapsed().as_secs_f64();
        println!("  {customers:>6} customers, {inbox:>7} events stored, {queued:>7} queued, {secs:>6.0} s");
        if now >= script_events {
            break;
        }
        let per_customer = (now as f64 / customers as f64).max(1.0);
        // At least a lane's worth, so the last rounds keep every lane busy.
        round = (((script_events - now) as f64 / per_customer).ceil() as usize)
            .clamp(flags.concurrency.clamp(1, MAX_ROUND), MAX_ROUND);
    }
    let lives_time = script_started.elapsed();
    // The sandbox runs what falls due holding its state, deliveries waiting: timed on its own.
    advance_weeks(&api).await;
    let script_time = script_started.elapsed();

    let settle_started = Instant::now();
    while !deliveries_idle(&api).await {
        assert!(settle_started.elapsed() < SETTLE_LIMIT, "the sandbox still delivering after {SETTLE_LIMIT:?}");
    }
    hooks::inbox_applied_within(pool, SETTLE_LIMIT.saturating_sub(settle_started.elapsed())).await;
    let settle_time = settle_started.elapsed();

    let compare_started = Instant::now();
    let comparison = compare_with_sandbox(&api, pool).await;
    let compare_time = compare_started.elapsed();
    let deliveries = api.get("/_sandbox/deliveries").await["data"].as_array().cloned().unwrap_or_default();
    let distinct: std::collections::HashSet<&str> =
        deliveries.iter().filter(|a| a["succeeded"] == true).filter_map(|a| a["event_id"].as_str()).collect();

    println!("customers:  {customers}");
    println!(
        "events:     {} delivered ({} deliveries, {} of them duplicates), {} stored",
        distinct.len(),
        deliveries.len(),
        comparison.exercised.duplicate_deliveries,
        stored().await
    );
    println!("exercised:  {:?}", comparison.exercised);
    println!(
        "time:       script {:.0} s (lives {:.0} s, clock advance {:.0} s), settle {:.0} s, compare {:.0} s, total {:.0} s",
        script_time.as_secs_f64(),
        lives_time.as_secs_f64(),
        (script_time - lives_time).as_secs_f64(),
        settle_time.as_secs_f64(),
        compare_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    for (name, effects) in [("lost", &comparison.lost), ("duplicated", &comparison.duplicated)] {
        println!("{name}: {}", effects.len());
        for effect in effects.iter().take(10) {
            println!("  {effect}");
        }
    }
    if !comparison.lost.is_empty() || !comparison.duplicated.is_empty() {
        std::process::exit(1);
    }
}

/// Deliveries the sandbox has queued or is sending (its attempts filtered to none: the count is
/// all that is wanted).
async fn queued_deliveries(api: &Api) -> i64 {
    let deliveries = api.get("/_sandbox/deliveries?event_type=none").await;
    deliveries["in_flight"].as_i64().expect("the sandbox counts deliveries in flight")
}

/// Waits up to a minute (the sandbox's longest wait) for deliveries to go idle.
async fn deliveries_idle(api: &Api) -> bool {
    let res = api
        .http
        .post(format!("{}/_sandbox/deliveries/wait", api.base))
        .json(&serde_json::json!({ "timeout_ms": 60_000 }))
        .send()
        .await
        .expect("the sandbox answers");
    let body: serde_json::Value = res.json().await.expect("a JSON answer");
    body["idle"] == true
}
