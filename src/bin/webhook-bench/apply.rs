//! The apply rate: the worker draining stored `customer.created` events, each re-fetched from
//! the embedded sandbox and written to the database.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tollgate::server::config::{DatabaseUrl, SANDBOX_SECRET_KEY};
use tollgate::server::db::{self, Db};
use tollgate::server::stripe::client::StripeClient;
use tollgate::server::webhooks::handlers::apply_all_due;
use tollgate::server::webhooks::reconcile;
use tollgate::server::webhooks::worker::WORKER_BATCH;

/// Returns (reconcile ingest events/s, (apply events/s, seconds)).
pub async fn bench_apply(database_url: &str, events: usize, concurrency: usize) -> anyhow::Result<(f64, (f64, f64))> {
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
    let owner = tollgate::server::instances::InstanceId::named("bench");
    let applied = apply_all_due(&pool, &stripe, app_url, &owner, WORKER_BATCH).await?;
    let secs = started.elapsed().as_secs_f64();
    let customers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers").fetch_one(&pool).await?;
    anyhow::ensure!(customers as usize >= events, "{customers} of {events} customers stored");
    sandbox.abort();
    db.close().await;
    Ok((ingest, (applied as f64 / secs, secs)))
}
