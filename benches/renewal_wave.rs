//! A renewal wave under Stripe's rate limit: `--subscriptions` monthly subscriptions renew in
//! one clock jump while the sandbox answers at most `--rate` requests per second (Stripe's test
//! mode allows 25) and the app's client is held to the same ceiling. Prints the events, the
//! objects they changed, the Stripe calls the app made for them (goal: at most one per changed
//! object), dead letters (goal: 0) and the wall time against `objects / rate`.
//!
//! `cargo bench -p tollgate --features ssr --bench renewal_wave -- [--subscriptions 10000] [--rate 25]`
//!
//! Set-up (not measured): the subscriptions are made through the sandbox's API with no limit,
//! and the app's tables are filled from the sandbox's events with an unlimited client; only
//! then does a `serve`-equivalent app start, with its webhook endpoint registered, its client
//! ceiling at `--rate` and reconcile off, and the clock jumps a month.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use tollgate::server::config::{Config, SANDBOX_SECRET_KEY};
use tollgate::server::db::{self, Db};
use tollgate::server::instances::InstanceId;
use tollgate::server::startup::Application;
use tollgate::server::stripe::client::StripeClient;
use tollgate::server::webhooks::handlers::apply_all_due;
use tollgate::server::webhooks::reconcile;
use tollgate::server::{catalog, config::DatabaseUrl};

#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    subscriptions: usize,
    /// Requests per second the sandbox serves during the wave (and the app's client ceiling).
    #[arg(long, default_value_t = 25)]
    rate: u32,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; it means nothing here.
    let args = <Args as clap::Parser>::parse_from(std::env::args().filter(|a| a != "--bench"));
    let sandbox = stripe_sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let base = sandbox.base_url();
    let http = reqwest::Client::new();
    let stripe = StripeClient::new(&SANDBOX_SECRET_KEY.to_string().into(), Some(&base))?;
    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}/wave.db", dir.path().display());
    let db = Db::connect(&DatabaseUrl::parse(&database_url)?).await?;
    db.migrate().await?;

    let started = Instant::now();
    let price = monthly_price(&stripe).await?;
    subscribe_many(&stripe, &price, args.subscriptions, args.concurrency).await?;
    fill_from_events(&db, &stripe).await?;
    println!(
        "set-up: {} subscriptions made and stored in {:.0} s",
        args.subscriptions,
        started.elapsed().as_secs_f64()
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let app_url = format!("http://127.0.0.1:{port}");
    let endpoint: Value = http
        .post(format!("{base}/v1/webhook_endpoints"))
        .bearer_auth(SANDBOX_SECRET_KEY)
        .form(&[("url", format!("{app_url}/webhooks/stripe")), ("enabled_events[]", "*".into())])
        .send()
        .await?
        .json()
        .await?;
    let secret = endpoint["secret"].as_str().context("the endpoint's secret")?.to_string();
    let rate = args.rate.to_string();
    let vars: Vec<(&str, &str)> = vec![
        ("DATABASE_URL", &database_url),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("APP_URL", &app_url),
        ("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY),
        ("STRIPE_API_BASE", &base),
        ("STRIPE_WEBHOOK_SECRET", &secret),
        ("STRIPE_MAX_REQUESTS_PER_SEC", &rate),
        ("RECONCILE_INTERVAL_SECS", "0"),
    ];
    let listen = format!("127.0.0.1:{port}");
    let config = Config::from_lookup(|name| {
        if name == "LEPTOS_SITE_ADDR" {
            return Some(listen.clone());
        }
        vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    })?;
    let app = Application::build(config).await?;
    tokio::spawn(app.run_until_stopped());

    let before_wave: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(db.pool()).await?;
    control(&http, &base, "/_sandbox/rate_limit", json!({ "per_second": args.rate })).await?;
    let counted_before = requests(&http, &base).await?;
    let clock: Value = http.get(format!("{base}/_sandbox/clock")).send().await?.json().await?;
    let now = clock["now"].as_i64().context("the sandbox clock")?;
    let wave_started = Instant::now();
    control(&http, &base, "/_sandbox/clock/advance", json!({ "to": now + 32 * 86_400 })).await?;
    anyhow::ensure!(sandbox.wait_for_deliveries(Duration::from_secs(3_600), true).await, "deliveries never finished");
    wait_until_applied(&db).await?;
    let wall = wave_started.elapsed().as_secs_f64();
    let counted_after = requests(&http, &base).await?;

    let wave: Vec<(Option<String>, String)> =
        sqlx::query_as("SELECT object_id, status FROM webhook_events ORDER BY stripe_created, id")
            .fetch_all(db.pool())
            .await?
            .split_off(before_wave as usize);
    let objects: HashSet<&str> = wave.iter().filter_map(|(object, _)| object.as_deref()).collect();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for object in &objects {
        *by_kind.entry(object.split('_').next().unwrap_or("?")).or_default() += 1;
    }
    let dead = wave.iter().filter(|(_, status)| status == "dead").count();
    let calls = counted_after.served - counted_before.served;
    let refused = counted_after.refused - counted_before.refused;
    let by_resource: BTreeMap<&str, u64> = counted_after
        .by_resource
        .iter()
        .map(|(resource, n)| (resource.as_str(), n - counted_before.by_resource.get(resource).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let ideal = objects.len() as f64 / f64::from(args.rate);
    println!("renewal wave: {} subscriptions, sandbox and client at {} requests/s", args.subscriptions, args.rate);
    println!("  events applied:     {} ({dead} dead letters)", wave.len());
    println!("  objects changed:    {} {by_kind:?}", objects.len());
    println!(
        "  Stripe calls:       {calls} ({:.2} per changed object; {refused} refused with 429)",
        calls as f64 / objects.len().max(1) as f64
    );
    println!("  calls by resource:  {by_resource:?}");
    println!("  wall time:          {wall:.0} s (objects / rate = {ideal:.0} s; ratio {:.2})", wall / ideal.max(1.0));
    anyhow::ensure!(dead == 0, "{dead} events dead-lettered");
    Ok(())
}

/// The catalog in the sandbox; the id of its `pro_monthly` price.
async fn monthly_price(stripe: &StripeClient) -> anyhow::Result<String> {
    let cat = catalog::load(std::path::Path::new(catalog::DEFAULT_PATH))?;
    catalog::sync::sync(stripe, &cat).await?;
    let prices = catalog::sync::resolve(stripe, &cat).await?;
    Ok(prices.get("pro_monthly").context("catalog.toml has pro_monthly")?.as_str().to_string())
}

async fn subscribe_many(stripe: &StripeClient, price: &str, n: usize, concurrency: usize) -> anyhow::Result<()> {
    use stripe_billing::subscription::{CreateSubscription, CreateSubscriptionItems};
    use stripe_core::customer::{CreateCustomer, CreateCustomerInvoiceSettings};
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (stripe, next, price) = (stripe.clone(), next.clone(), price.to_string());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                let mut settings = CreateCustomerInvoiceSettings::new();
                settings.default_payment_method = Some("pm_card_visa".into());
                let customer = CreateCustomer::new()
                    .email(format!("wave{i}@example.com"))
                    .payment_method("pm_card_visa")
                    .invoice_settings(settings);
                let customer = stripe.send(&customer, None).await?;
                let mut item = CreateSubscriptionItems::new();
                item.price = Some(price.clone());
                stripe.send(&CreateSubscription::new().customer(customer.id.as_str()).items(vec![item]), None).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// The app's tables as they were before the wave: every event so far, applied.
async fn fill_from_events(db: &Db, stripe: &StripeClient) -> anyhow::Result<()> {
    reconcile::reconcile(db.pool(), stripe, db::now()).await?;
    apply_all_due(db.pool(), stripe, "http://127.0.0.1", &InstanceId::named("set-up"), 500).await?;
    Ok(())
}

async fn wait_until_applied(db: &Db) -> anyhow::Result<()> {
    loop {
        let waiting: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE status IN ('pending', 'retrying')")
                .fetch_one(db.pool())
                .await?;
        if waiting == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn control(http: &reqwest::Client, base: &str, path: &str, body: Value) -> anyhow::Result<()> {
    let res = http.post(format!("{base}{path}")).json(&body).send().await?;
    anyhow::ensure!(res.status().is_success(), "{path}: {}", res.status());
    Ok(())
}

/// What the sandbox's API served and refused (429) since it started, and served by resource.
struct Requests {
    served: u64,
    refused: u64,
    by_resource: BTreeMap<String, u64>,
}

async fn requests(http: &reqwest::Client, base: &str) -> anyhow::Result<Requests> {
    let counts: Value = http.get(format!("{base}/_sandbox/requests")).send().await?.json().await?;
    let by_resource = serde_json::from_value(counts["by_resource"].clone()).context("requests by resource")?;
    Ok(Requests {
        served: counts["served"].as_u64().unwrap_or(0),
        refused: counts["rate_limited"].as_u64().unwrap_or(0),
        by_resource,
    })
}
