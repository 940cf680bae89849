//! Stripe's rate limit: the app's client stays under a ceiling of its own, and a 429 that still
//! comes (Stripe's limit lower than the ceiling) puts an event back for a moment instead of
//! spending its attempts, so a renewal wave never dead-letters.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

const SUBSCRIBERS: usize = 20;
/// Links in emails written while events are applied outside an app.
const APP_URL: &str = "http://127.0.0.1:3000";

async fn set_sandbox_rate_limit(api: &Api, per_second: Option<u32>) {
    let res = api
        .http
        .post(format!("{}/_sandbox/rate_limit", api.base))
        .json(&json!({ "per_second": per_second }))
        .send()
        .await;
    assert!(res.unwrap().status().is_success());
}

async fn sandbox_requests(api: &Api) -> Value {
    api.http.get(format!("{}/_sandbox/requests", api.base)).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_client_keeps_under_its_ceiling_and_draws_no_429() {
    let sandbox = stripe_sandbox::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let api = Api { http: reqwest::Client::new(), base: sandbox.base_url() };
    set_sandbox_rate_limit(&api, Some(5)).await;
    let stripe = tollgate::server::stripe::client::StripeClient::new(&KEY.to_string().into(), Some(&api.base))
        .unwrap()
        .with_rate_limit(std::num::NonZeroU32::new(4));
    let started = std::time::Instant::now();
    for _ in 0..12 {
        let list = stripe_core::customer::ListCustomer::new().limit(1);
        stripe.send(&list, None).await.expect("every request answered");
    }
    let counts = sandbox_requests(&api).await;
    assert_eq!(counts["rate_limited"], 0, "the ceiling kept the client under Stripe's limit: {counts}");
    // A burst of 4, then 4 a second.
    assert!(started.elapsed() >= Duration::from_millis(1_700), "12 requests at 4/s took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_wave_above_stripes_limit_applies_every_event_and_dead_letters_none() {
    let sandbox = stripe_sandbox::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let api = Api { http: reqwest::Client::new(), base: sandbox.base_url() };
    move_sandbox_clock(&api.base, PinnedStart::FirstOfJanuary.next_instant()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let endpoint = api
        .post("/v1/webhook_endpoints", &[("url", format!("{url}/webhooks/stripe")), ("enabled_events[]", "*".into())])
        .await;
    let stripe = tollgate::server::stripe::client::StripeClient::new(&KEY.to_string().into(), Some(&api.base)).unwrap();
    let prices = prices(&stripe).await;
    let app = spawn_app_with(&[
        ("APP_URL", url.as_str()),
        ("LEPTOS_SITE_ADDR", &format!("127.0.0.1:{port}")),
        ("STRIPE_SECRET_KEY", KEY),
        ("STRIPE_API_BASE", &api.base),
        ("STRIPE_WEBHOOK_SECRET", endpoint["secret"].as_str().unwrap()),
        // The app's ceiling is above what this Stripe allows: 429s will come.
        ("STRIPE_MAX_REQUESTS_PER_SEC", "50"),
    ])
    .await;
    for i in 0..SUBSCRIBERS {
        let customer = api.customer_paying_with(&format!("wave{i}@example.com"), "pm_card_visa").await;
        api.subscribe(&customer, &prices["starter_monthly"]).await;
    }
    assert!(sandbox.wait_for_deliveries(Duration::from_secs(60), true).await);
    app.settle().await;

    set_sandbox_rate_limit(&api, Some(10)).await;
    move_sandbox_clock_by(&api.base, 32 * 86_400).await;
    assert!(sandbox.wait_for_deliveries(Duration::from_secs(120), true).await);
    hooks::inbox_applied_within(app.db.pool(), Duration::from_secs(120)).await;
    let counts = sandbox_requests(&api).await;
    assert!(counts["rate_limited"].as_u64().unwrap() > 0, "Stripe's limit never bit: the test proved nothing");
    let renewed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invoices WHERE status = 'paid'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(renewed, 2 * SUBSCRIBERS as i64, "every first and renewal invoice recorded as paid");
}

/// A renewal wave in small batches: each renewed subscription's invoice, payment and
/// subscription events (several per object) cost one Stripe read per changed object, not one
/// per event.
#[tokio::test]
async fn a_renewal_wave_costs_one_stripe_read_per_changed_object() {
    use tollgate::server::webhooks::{handlers::apply_all_due, reconcile};
    let owner = tollgate::server::instances::InstanceId::named("test");
    let sandbox = stripe_sandbox::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let api = Api { http: reqwest::Client::new(), base: sandbox.base_url() };
    let stripe = tollgate::server::stripe::client::StripeClient::new(&KEY.to_string().into(), Some(&api.base)).unwrap();
    let database = TestDatabase::new().await;
    let db = tollgate::server::db::Db::connect(&tollgate::server::config::DatabaseUrl::parse(&database.url).unwrap())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let pool = db.pool();
    let prices = prices(&stripe).await;
    for i in 0..SUBSCRIBERS {
        let customer = api.customer_paying_with(&format!("renew{i}@example.com"), "pm_card_visa").await;
        api.subscribe(&customer, &prices["pro_monthly"]).await;
    }
    reconcile::reconcile(pool, &stripe, tollgate::server::db::now()).await.unwrap();
    apply_all_due(pool, &stripe, APP_URL, &owner, 500).await.unwrap();

    let before_wave: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(pool).await.unwrap();
    move_sandbox_clock_by(&api.base, 32 * 86_400).await;
    reconcile::reconcile(pool, &stripe, tollgate::server::db::now()).await.unwrap();
    let wave: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT event_type, object_id FROM webhook_events ORDER BY stripe_created, id")
            .fetch_all(pool)
            .await
            .unwrap()
            .split_off(before_wave as usize);
    let objects: std::collections::HashSet<&str> = wave.iter().filter_map(|(_, object)| object.as_deref()).collect();
    assert!(wave.len() >= 3 * SUBSCRIBERS, "a renewal is several events per subscription: {wave:?}");
    assert!(wave.len() > objects.len(), "several events per object, or the test proves nothing: {wave:?}");

    let served_before = sandbox_requests(&api).await["served"].as_u64().unwrap();
    // Batches far smaller than the wave: each claim takes the rest of its customers' events
    // (an invoice's `created` and its `paid` an hour of Stripe time later), so they still share.
    let applied = apply_all_due(pool, &stripe, APP_URL, &owner, 40).await.expect("every event applies");
    let reads = sandbox_requests(&api).await["served"].as_u64().unwrap() - served_before;
    assert_eq!(applied, wave.len(), "every event of the wave applied");
    assert!(
        reads as usize <= objects.len(),
        "{reads} Stripe reads for {} changed objects ({} events)",
        objects.len(),
        wave.len()
    );
    let renewed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM invoices WHERE status = 'paid'").fetch_one(pool).await.unwrap();
    assert_eq!(renewed, 2 * SUBSCRIBERS as i64, "every first and renewal invoice recorded as paid");
    db.close().await;
}

/// A batch's shared read is not served after the app itself changed the object (a customer's
/// upgrade on the account page while the batch runs): the next read fetches the new state.
#[tokio::test]
async fn a_write_elsewhere_in_the_app_is_seen_by_the_next_shared_read() {
    use stripe_core::customer::{RetrieveCustomer, RetrieveCustomerReturned, UpdateCustomer};
    let sandbox = stripe_sandbox::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let api = Api { http: reqwest::Client::new(), base: sandbox.base_url() };
    let app_client =
        tollgate::server::stripe::client::StripeClient::new(&KEY.to_string().into(), Some(&api.base)).unwrap();
    let batch = app_client.sharing_reads();
    let id = api.customer_paying_with("before@example.com", "pm_card_visa").await;
    let email = |answer: RetrieveCustomerReturned| match answer {
        RetrieveCustomerReturned::Customer(customer) => customer.email,
        RetrieveCustomerReturned::DeletedCustomer(_) => None,
    };
    let retrieve = RetrieveCustomer::new(id.as_str());
    let read = || batch.send(&retrieve, None);
    assert_eq!(email(read().await.unwrap()).as_deref(), Some("before@example.com"));
    let served = sandbox_requests(&api).await["served"].as_u64().unwrap();
    assert_eq!(email(read().await.unwrap()).as_deref(), Some("before@example.com"));
    assert_eq!(sandbox_requests(&api).await["served"].as_u64().unwrap(), served, "the second read was shared");

    app_client.send(&UpdateCustomer::new(id.as_str()).email("after@example.com"), None).await.unwrap();
    assert_eq!(email(read().await.unwrap()).as_deref(), Some("after@example.com"), "read again after the write");
}
