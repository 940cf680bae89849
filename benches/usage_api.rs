//! Usage ingestion: `POST /api/v1/usage` with a customer key, `--events` reports with unique
//! identifiers from `--concurrency` clients, against a fresh SQLite database. Prints accepted
//! events per second beside the same client's figure against a bare axum handler that reads the
//! body and answers 202 (the HTTP stack's ceiling on this machine); then the same number of events
//! again in batches of `--batch` (one request, one transaction each). Goal: ≥ 10,000 events/s.
//!
//! `cargo bench -p tollgate --features ssr --bench usage_api -- [--events 20000] [--concurrency 64] [--batch 100]`
//!
//! The usage worker runs meanwhile (sending to the embedded sandbox), as in production.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use tollgate::server::admin::audit::Actor;
use tollgate::server::api_keys::{issue::issue, KeyScope};
use tollgate::server::config::Config;
use tollgate::server::startup::Application;

#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Events per request in the batched run.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// The Stripe client's ceiling (requests/s) while the outbox drains.
    #[arg(long, default_value_t = 100)]
    stripe_rate: u32,
    /// How long the drain is watched after the ingestion runs.
    #[arg(long, default_value_t = 15)]
    drain_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse_from(std::env::args().filter(|a| a != "--bench"));
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?;

    let bare = bare_handler().await?;
    let bare_rate = blast(&http, &format!("http://{bare}/api/v1/usage"), None, &args).await?;

    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}/usage.db", dir.path().display());
    let rate = args.stripe_rate.to_string();
    let vars = [
        ("DATABASE_URL", database_url.as_str()),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("STRIPE_MAX_REQUESTS_PER_SEC", rate.as_str()),
    ];
    let config = Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))?;
    let app = Application::build(config).await?;
    let pool = app.state().db.pool().clone();
    // A customer Stripe (the embedded sandbox) knows, so the meter events the worker sends count.
    let customer = app
        .state()
        .stripe_client
        .send(&stripe_core::customer::CreateCustomer::new().email("bench@example.com"), None)
        .await?;
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, role, had_trial, stripe_customer_id, created_at, updated_at) \
         VALUES ('bench@example.com', 'x', 'customer', FALSE, $1, 0, 0) RETURNING id",
    )
    .bind(customer.id.as_str())
    .fetch_one(&pool)
    .await?;
    let actor = Actor { user_id: Some(user), email: "bench@example.com".into(), ip: Some("127.0.0.1".into()) };
    let key = issue(&pool, &actor, KeyScope::Customer(user), "bench", "test", 0).await?.key;
    let meter =
        app.state().prices.current().catalog.usage.meters.first().context("the catalog has no meter")?.key.to_string();
    let url = format!("http://{}/api/v1/usage", app.address());
    tokio::spawn(app.run_until_stopped());
    let app_rate = blast(&http, &url, Some((&key, &meter)), &args).await?;
    let batched_rate = blast_batches(&http, &url, &key, &meter, &args).await?;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_events").fetch_one(&pool).await?;
    anyhow::ensure!(stored as usize == 2 * args.events, "stored {stored} of {} events", 2 * args.events);

    println!("events: {} per run, concurrency: {}, batch: {}", args.events, args.concurrency, args.batch);
    println!("bare handler:             {bare_rate:>8.0} requests/s");
    println!(
        "POST /api/v1/usage, one:  {app_rate:>8.0} events/s accepted ({:.0}% of bare)",
        100.0 * app_rate / bare_rate
    );
    println!(
        "POST /api/v1/usage, batch:{batched_rate:>8.0} events/s accepted ({:.0} requests/s, {:.0}% of bare)",
        batched_rate / args.batch as f64,
        100.0 * batched_rate / args.batch as f64 / bare_rate
    );
    let best = app_rate.max(batched_rate);
    let verdict = if best >= 10_000.0 { "met" } else { "NOT met" };
    println!("goal ≥ 10,000 events/s into the outbox: {verdict} (best {best:.0})");

    // The drain: the worker has been sending all along; watch it for a while at the ceiling.
    let sent =
        || sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM usage_events WHERE status = 'sent'").fetch_one(&pool);
    let (before, started) = (sent().await?, Instant::now());
    tokio::time::sleep(std::time::Duration::from_secs(args.drain_secs)).await;
    let drained = sent().await? - before;
    let drain_rate = drained as f64 / started.elapsed().as_secs_f64();
    let failed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM usage_events WHERE status = 'failed' OR last_error IS NOT NULL")
            .fetch_one(&pool)
            .await?;
    println!(
        "outbox drain:             {drain_rate:>8.1} events/s sent to Stripe over {} s ({:.0}% of the client's ceiling of {} requests/s); rows failed or erring: {failed}",
        args.drain_secs,
        100.0 * drain_rate / f64::from(args.stripe_rate),
        args.stripe_rate
    );
    anyhow::ensure!(failed == 0, "{failed} outbox rows failed or erred while draining");
    Ok(())
}

/// A handler that reads the body and answers 202 with a small JSON, on port 0.
async fn bare_handler() -> anyhow::Result<SocketAddr> {
    use axum::{body::Bytes, http::StatusCode, routing::post, Json, Router};
    let router = Router::new().route(
        "/api/v1/usage",
        post(|body: Bytes| async move {
            (StatusCode::ACCEPTED, Json(serde_json::json!({ "status": "created", "bytes": body.len() })))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(addr)
}

/// Posts `--events` reports; answers the accepted ones per second.
async fn blast(http: &reqwest::Client, url: &str, auth: Option<(&str, &str)>, args: &Args) -> anyhow::Result<f64> {
    let meter = auth.map_or("api-calls", |(_, m)| m);
    let started = Instant::now();
    let accepted = futures::stream::iter(0..args.events)
        .map(|n| {
            let mut req = http
                .post(url)
                .json(&serde_json::json!({ "meter": meter, "value": 1, "identifier": format!("bench-{n}") }));
            if let Some((key, _)) = auth {
                req = req.bearer_auth(key);
            }
            async move { req.send().await.map(|res| res.status().as_u16() == 202) }
        })
        .buffer_unordered(args.concurrency)
        .filter(|r| std::future::ready(matches!(r, Ok(true))))
        .count()
        .await;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(accepted == args.events, "only {accepted} of {} accepted", args.events);
    Ok(accepted as f64 / secs)
}

/// Posts `--events` reports in batches of `--batch`; answers the accepted events per second.
async fn blast_batches(http: &reqwest::Client, url: &str, key: &str, meter: &str, args: &Args) -> anyhow::Result<f64> {
    let batches: Vec<Vec<usize>> =
        (0..args.events).collect::<Vec<_>>().chunks(args.batch.max(1)).map(<[usize]>::to_vec).collect();
    let started = Instant::now();
    let created: Vec<anyhow::Result<u64>> = futures::stream::iter(batches)
        .map(|batch| {
            let events: Vec<_> = batch
                .iter()
                .map(|n| serde_json::json!({ "meter": meter, "value": 1, "identifier": format!("batch-{n}") }))
                .collect();
            let req = http.post(url).bearer_auth(key).json(&serde_json::json!({ "events": events }));
            async move {
                let answer: serde_json::Value = req.send().await?.error_for_status()?.json().await?;
                answer["created"].as_u64().context("a batch answer without `created`")
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();
    let accepted: u64 = created.into_iter().collect::<anyhow::Result<Vec<_>>>()?.into_iter().sum();
    anyhow::ensure!(accepted as usize == args.events, "only {accepted} of {} accepted", args.events);
    Ok(accepted as f64 / secs)
}
