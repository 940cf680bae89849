//! Usage ingestion: `POST /api/v1/usage` with a customer key, `--events` reports with unique
//! identifiers from `--concurrency` clients, against a fresh SQLite database. Prints accepted
//! events per second beside the same client's figure against a bare axum handler that reads the
//! body and answers 202 (the HTTP stack's ceiling on this machine). Goal: ≥ 10,000 events/s.
//!
//! `cargo bench -p tollgate --features ssr --bench usage_api -- [--events 50000] [--concurrency 64]`
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
    #[arg(long, default_value_t = 50_000)]
    events: usize,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse_from(std::env::args().filter(|a| a != "--bench"));
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?;

    let bare = bare_handler().await?;
    let bare_rate = blast(&http, &format!("http://{bare}/api/v1/usage"), None, &args).await?;

    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}/usage.db", dir.path().display());
    let vars = [("DATABASE_URL", database_url.as_str()), ("LEPTOS_SITE_ADDR", "127.0.0.1:0")];
    let config = Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))?;
    let app = Application::build(config).await?;
    let pool = app.state().db.pool().clone();
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, role, had_trial, stripe_customer_id, created_at, updated_at) \
         VALUES ('bench@example.com', 'x', 'customer', FALSE, 'cus_bench', 0, 0) RETURNING id",
    )
    .fetch_one(&pool)
    .await?;
    let actor = Actor { user_id: user, email: "bench@example.com".into(), ip: "127.0.0.1".into() };
    let key = issue(&pool, &actor, KeyScope::Customer(user), "bench", "test", 0).await?.key;
    let meter =
        app.state().prices.current().catalog.usage.meters.first().context("the catalog has no meter")?.key.to_string();
    let url = format!("http://{}/api/v1/usage", app.address());
    tokio::spawn(app.run_until_stopped());
    let app_rate = blast(&http, &url, Some((&key, &meter)), &args).await?;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_events").fetch_one(&pool).await?;
    anyhow::ensure!(stored as usize == args.events, "stored {stored} of {} events", args.events);

    println!("events: {}, concurrency: {}", args.events, args.concurrency);
    println!("bare handler:        {bare_rate:>8.0} requests/s");
    println!("POST /api/v1/usage:  {app_rate:>8.0} events/s accepted ({:.0}% of bare)", 100.0 * app_rate / bare_rate);
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
