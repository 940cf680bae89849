//! Several `tollgate serve` processes on one database. On Postgres: three instances behind a
//! round-robin proxy (the load balancer), chaos on (duplicates, reordering, concurrent
//! deliveries), 200 customers living a scripted life, one instance SIGKILLed and restarted every
//! second or so, and once the leader of the periodic jobs: afterwards every table equals the
//! sandbox and each email, MRR movement and entitlement exists exactly once. On SQLite (one
//! box): a second `serve` on the same file refuses to start.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
use futures::StreamExt;

use crate::helpers::chaos::{advance_weeks, assert_local_equals_sandbox, buyers, live, set_chaos};
use crate::helpers::*;

const CUSTOMERS: usize = 200;
const INSTANCES: usize = 3;

/// The load balancer: each webhook delivery goes to the next instance; one that does not
/// answer (killed) is skipped, as a proxy with passive health checks does.
struct RoundRobin {
    upstreams: Vec<String>,
    next: AtomicUsize,
    forwarded: Vec<AtomicUsize>,
    http: reqwest::Client,
}

async fn forward(State(proxy): State<Arc<RoundRobin>>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let start = proxy.next.fetch_add(1, Ordering::Relaxed);
    for offset in 0..proxy.upstreams.len() {
        let at = (start + offset) % proxy.upstreams.len();
        let mut request = proxy.http.post(format!("{}/webhooks/stripe", proxy.upstreams[at])).body(body.clone());
        for name in ["stripe-signature", "content-type", "user-agent"] {
            if let Some(value) = headers.get(name) {
                request = request.header(name, value);
            }
        }
        if let Ok(response) = request.send().await {
            proxy.forwarded[at].fetch_add(1, Ordering::Relaxed);
            let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            return (status, response.text().await.unwrap_or_default());
        }
    }
    (StatusCode::BAD_GATEWAY, "no instance answered".into())
}

async fn start_proxy(upstreams: Vec<String>) -> (String, Arc<RoundRobin>) {
    let forwarded = upstreams.iter().map(|_| AtomicUsize::new(0)).collect();
    let proxy = Arc::new(RoundRobin { upstreams, next: AtomicUsize::new(0), forwarded, http: reqwest::Client::new() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new().route("/webhooks/stripe", post(forward)).with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, proxy)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The environment of one instance: its own port, everything else shared.
fn instance_vars(shared: &[(&str, String)], port: u16) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = shared.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    vars.push(("LEPTOS_SITE_ADDR".into(), format!("127.0.0.1:{port}")));
    vars
}

/// The pid in the jobs lease's holder (`host-pid-suffix`), while someone holds it.
async fn leader_pid(pool: &sqlx::AnyPool) -> Option<u32> {
    let holder: Option<String> = sqlx::query_scalar("SELECT holder FROM leases WHERE name = 'periodic-jobs'")
        .fetch_optional(pool)
        .await
        .unwrap();
    let holder = holder?;
    let mut parts = holder.rsplit('-');
    parts.next()?;
    parts.next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_instances_share_one_postgres_and_a_second_one_on_sqlite_refuses_to_start() {
    let database = TestDatabase::new().await;
    let config = stripe_sandbox::SandboxConfig {
        webhook_retry_schedule: (0..9).map(|i| Duration::from_millis(100 << i)).collect(),
        ..Default::default()
    };
    let sandbox = stripe_sandbox::start_with("127.0.0.1:0".parse().unwrap(), config).await.unwrap();
    let api = Api { http: reqwest::Client::new(), base: sandbox.base_url() };
    let catalog_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog.toml");
    // The catalog synced, as `tollgate catalog sync` would before the first start.
    let stripe = tollgate::server::stripe::client::StripeClient::new(&KEY.to_string().into(), Some(&api.base)).unwrap();
    let prices = prices(&stripe).await;
    let ports: Vec<u16> = (0..INSTANCES).map(|_| free_port()).collect();
    let (proxy_url, proxy) = start_proxy(ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect()).await;
    let endpoint = api
        .post(
            "/v1/webhook_endpoints",
            &[("url", format!("{proxy_url}/webhooks/stripe")), ("enabled_events[]", "*".into())],
        )
        .await;
    let shared = [
        ("DATABASE_URL", database.url.clone()),
        ("APP_URL", proxy_url.clone()),
        ("STRIPE_SECRET_KEY", KEY.to_string()),
        ("STRIPE_API_BASE", api.base.clone()),
        ("STRIPE_WEBHOOK_SECRET", endpoint["secret"].as_str().unwrap().to_string()),
        ("CATALOG_PATH", catalog_path.display().to_string()),
        ("RUST_LOG", "warn".to_string()),
        // A test-mode key would hold the app to Stripe's 25 requests/s; this sandbox has no limit
        // (the limit has its own tests in `rate_limit`).
        ("STRIPE_MAX_REQUESTS_PER_SEC", "1000".to_string()),
    ];

    let first = ServeProcess::start(instance_vars(&shared, ports[0]), format!("http://127.0.0.1:{}", ports[0])).await;
    if !database.is_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let second = instance_vars(&shared, ports[1]);
        let second: Vec<(&str, &str)> = second.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let refused = tollgate(dir.path(), &["serve"], &second);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "a second serve on one SQLite file started");
        assert!(stderr.contains("already running on the SQLite database"), "{stderr}");
        drop(first);
        return;
    }

    let mut instances = vec![first];
    for port in &ports[1..] {
        instances.push(ServeProcess::start(instance_vars(&shared, *port), format!("http://127.0.0.1:{port}")).await);
    }
    set_chaos(&api).await;
    let db = tollgate::server::db::Db::connect(&tollgate::server::config::DatabaseUrl::parse(&database.url).unwrap())
        .await
        .unwrap();
    let buyers = buyers(db.pool(), 0..CUSTOMERS).await;

    // The customers live, then a month and a half passes (renewals, dunning): the killing goes
    // on through both.
    let finished = std::sync::atomic::AtomicBool::new(false);
    let script = async {
        futures::stream::iter(0..CUSTOMERS)
            .for_each_concurrent(16, |i| live(&api, &prices, i, 0x3157_a11c, buyers.get(&i).copied()))
            .await;
        advance_weeks(&api).await;
        finished.store(true, Ordering::SeqCst);
    };
    let instances = tokio::sync::Mutex::new(instances);
    let mut failover_secs = None;
    let mut kills = 0;
    let killer = async {
        while !finished.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut instances = instances.lock().await;
            let victim = kills % INSTANCES;
            kills += 1;
            instances[victim].kill();
            tokio::time::sleep(Duration::from_millis(300)).await;
            instances[victim].restart().await;
        }
        // The leader dies: another instance takes the periodic jobs within a minute.
        let mut instances = instances.lock().await;
        // A killed leader's lease may still be running out: wait for a living leader.
        let waited = std::time::Instant::now();
        let (leader, at) = loop {
            let leader = leader_pid(db.pool()).await;
            if let Some(at) = instances.iter().position(|i| leader.is_some() && i.pid() == leader) {
                break (leader.unwrap_or_default(), at);
            }
            assert!(waited.elapsed() < Duration::from_secs(60), "no living instance leads the periodic jobs");
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        instances[at].kill();
        let killed = std::time::Instant::now();
        while leader_pid(db.pool()).await.is_none_or(|pid| pid == leader) {
            assert!(killed.elapsed() < Duration::from_secs(60), "no failover within a minute");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        failover_secs = Some(killed.elapsed().as_secs());
        instances[at].restart().await;
    };
    futures::join!(script, killer);
    eprintln!("{kills} instances killed and restarted; the periodic jobs failed over in {failover_secs:?} s");
    assert!(kills >= INSTANCES, "each instance killed at least once: {kills} kills");

    assert!(sandbox.wait_for_deliveries(Duration::from_secs(120), true).await, "the sandbox still delivering");
    hooks::inbox_applied_within(db.pool(), Duration::from_secs(90)).await;
    for (at, count) in proxy.forwarded.iter().enumerate() {
        assert!(count.load(Ordering::Relaxed) > 0, "instance {at} got no delivery: the spread proved nothing");
    }
    // MRR movements adding up per subscription, one receipt per paid invoice, no email twice, one
    // entitlement per purchase: each effect once, whichever instance applied its event.
    assert_local_equals_sandbox(&api, db.pool(), CUSTOMERS).await;
    drop(instances);
}
