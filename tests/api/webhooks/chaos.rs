//! Chaos: the sandbox duplicates, reorders and concurrently delivers webhooks while 200
//! customers live a scripted life (subscribe, upgrade, downgrade, cancel, resume, fail,
//! refund, and one in ten buys a one-time item through Checkout, half of those refunded in
//! full). Afterwards the local tables must equal the sandbox's truth for every subscription,
//! payment and refund, MRR movements must add up, each purchase must grant exactly one
//! entitlement (revoked exactly when fully refunded), and no email may be written twice.

use std::time::Duration;

use futures::StreamExt;

use crate::helpers::chaos::{
    advance_weeks, assert_local_equals_sandbox, buyers, compare_with_sandbox, live, set_chaos,
};
use crate::helpers::*;

const CUSTOMERS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_customers_under_chaos_end_equal_to_the_sandbox() {
    let app = spawn_app().await;
    app.pin_clock(PinnedStart::FirstOfJanuary).await;
    let api = Api { http: reqwest::Client::new(), base: app.sandbox_url.clone() };
    set_chaos(&api).await;
    let prices = prices(&app.stripe).await;
    let buyers = buyers(app.db.pool(), 0..CUSTOMERS).await;
    futures::stream::iter(0..CUSTOMERS)
        .for_each_concurrent(16, |i| live(&api, &prices, i, 0x7011_6a7e, buyers.get(&i).copied()))
        .await;
    advance_weeks(&api).await;
    app.settle().await;
    assert_local_equals_sandbox(&api, app.db.pool(), CUSTOMERS).await;
}

/// The comparison finds what it is for: a receipt and a refund deleted are lost, an MRR movement
/// inflated and an entitlement granted again are duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_comparison_reports_lost_and_duplicated_effects() {
    const FEW: usize = 20;
    let app = spawn_app().await;
    app.pin_clock(PinnedStart::FirstOfJanuary).await;
    let api = Api { http: reqwest::Client::new(), base: app.sandbox_url.clone() };
    let prices = prices(&app.stripe).await;
    let buyers = buyers(app.db.pool(), 0..FEW).await;
    futures::stream::iter(0..FEW)
        .for_each_concurrent(8, |i| live(&api, &prices, i, 0xc0_ffee, buyers.get(&i).copied()))
        .await;
    app.settle().await;
    let before = compare_with_sandbox(&api, app.db.pool()).await;
    assert_eq!((before.lost.len(), before.duplicated.len()), (0, 0), "{before:?}");

    let pool = app.db.pool();
    for tamper in [
        "DELETE FROM emails WHERE id = (SELECT MIN(id) FROM emails WHERE kind = 'receipt')",
        "DELETE FROM refunds WHERE id = (SELECT MIN(id) FROM refunds)",
        "UPDATE mrr_movements SET delta = delta + 100 WHERE cause_key = (SELECT MIN(cause_key) FROM mrr_movements)",
        "INSERT INTO entitlements (user_id, grant_key, source_id, payment_intent_id, granted_at) \
         SELECT user_id, grant_key, source_id || '-again', payment_intent_id, granted_at FROM entitlements \
         WHERE id = (SELECT MIN(id) FROM entitlements)",
    ] {
        let changed = sqlx::query(tamper).execute(pool).await.unwrap().rows_affected();
        assert_eq!(changed, 1, "{tamper}");
    }
    let after = compare_with_sandbox(&api, pool).await;
    assert_eq!(after.lost.len(), 2, "{:?}", after.lost);
    assert!(after.lost.iter().any(|l| l.starts_with("no receipt for the paid invoice")), "{:?}", after.lost);
    assert!(
        after.lost.iter().any(|l| l.starts_with("refunds: ") && l.ends_with("missing locally")),
        "{:?}",
        after.lost
    );
    assert_eq!(after.duplicated.len(), 2, "{:?}", after.duplicated);
    assert!(after.duplicated.iter().any(|d| d.starts_with("MRR movements of ")), "{:?}", after.duplicated);
    assert!(
        after.duplicated.iter().any(|d| d.starts_with("2 entitlements for the purchase")),
        "{:?}",
        after.duplicated
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_restarted_mid_run_the_app_still_ends_equal_to_the_sandbox() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // The sandbox outlives the app (in this process); it retries for ~50 s, as Stripe would
    // retry for days, so deliveries refused while the app is down arrive later.
    let config = stripe_sandbox::SandboxConfig {
        webhook_retry_schedule: (0..9).map(|i| Duration::from_millis(100 << i)).collect(),
        ..Default::default()
    };
    let sandbox = stripe_sandbox::start_with("127.0.0.1:0".parse().unwrap(), config).await.unwrap();
    let api = Api { http: reqwest::Client::new(), base: sandbox.base_url() };
    move_sandbox_clock(&api.base, PinnedStart::January30.next_instant()).await;
    set_chaos(&api).await;

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let endpoint = api
        .post("/v1/webhook_endpoints", &[("url", format!("{url}/webhooks/stripe")), ("enabled_events[]", "*".into())])
        .await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let stripe = tollgate::server::stripe::client::StripeClient::new(&KEY.to_string().into(), Some(&api.base)).unwrap();
    let prices = prices(&stripe).await;

    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/tollgate.db", dir.path().display());
    let catalog_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog.toml");
    let vars: Vec<(String, String)> = [
        ("DATABASE_URL", database.clone()),
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("APP_URL", url.clone()),
        ("STRIPE_SECRET_KEY", KEY.to_string()),
        ("STRIPE_API_BASE", api.base.clone()),
        ("STRIPE_WEBHOOK_SECRET", secret),
        ("CATALOG_PATH", catalog_path.display().to_string()),
        ("RUST_LOG", "warn".to_string()),
        // A test-mode key would hold the app to Stripe's 25 requests/s; this sandbox has no limit
        // (the limit has its own tests in `rate_limit`).
        ("STRIPE_MAX_REQUESTS_PER_SEC", "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut app = ServeProcess::start(vars, url).await;
    let db = tollgate::server::db::Db::connect(&tollgate::server::config::DatabaseUrl::parse(&database).unwrap())
        .await
        .unwrap();
    let buyers = buyers(db.pool(), 0..CUSTOMERS).await;

    // Kill the app twice while customers live, and once while renewals are delivered.
    let done = AtomicUsize::new(0);
    let script = futures::stream::iter(0..CUSTOMERS).for_each_concurrent(16, |i| {
        let done = &done;
        let api = &api;
        let prices = &prices;
        let buyer = buyers.get(&i).copied();
        async move {
            live(api, prices, i, 0x5191_c111, buyer).await;
            done.fetch_add(1, Ordering::SeqCst);
        }
    });
    let killer = async {
        for at in [CUSTOMERS / 3, 2 * CUSTOMERS / 3] {
            while done.load(Ordering::SeqCst) < at {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            app.kill();
            tokio::time::sleep(Duration::from_millis(300)).await;
            app.restart().await;
        }
    };
    futures::join!(script, killer);
    advance_weeks(&api).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.kill();
    app.restart().await;

    assert!(sandbox.wait_for_deliveries(Duration::from_secs(180), true).await, "the sandbox still delivering");
    hooks::inbox_applied_within(db.pool(), Duration::from_secs(60)).await;
    let refused = sandbox.attempts().iter().filter(|a| !a.succeeded).count();
    assert!(refused > 0, "no delivery was refused while the app was down: the kill proved nothing");
    assert_local_equals_sandbox(&api, db.pool(), CUSTOMERS).await;
}
