//! What the pipeline does with what it does not expect: unknown types, customers that are not
//! ours, objects Stripe does not have; and healing: `tollgate reconcile` picks up what was never
//! delivered, `tollgate catalog sync` says when there is nothing to do.

use std::time::Duration;

use tollgate::server::config::SANDBOX_SECRET_KEY;
use tollgate::server::webhooks::signature;

use crate::helpers::hooks::{count, eventually, inbox_drained, spawn_hooks_app, HooksApp, TEST_WEBHOOK_SECRET};

/// Signs and posts an event of the test's own making to the app's webhook route.
async fn post_event(h: &HooksApp, id: &str, event_type: &str, object: &str, object_id: &str) -> u16 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let body = format!(
        r#"{{"id":"{id}","object":"event","type":"{event_type}","created":{now},"livemode":false,"data":{{"object":{{"id":"{object_id}","object":"{object}"}}}}}}"#
    );
    h.app
        .client
        .post(h.app.url("/webhooks/stripe"))
        .header("stripe-signature", signature::sign(body.as_bytes(), TEST_WEBHOOK_SECRET, now))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The binary, run off the test's thread: the embedded sandbox it talks to lives on that thread.
async fn tollgate(dir: &std::path::Path, args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        crate::helpers::tollgate(&dir, &args, &vars)
    })
    .await
    .unwrap()
}

async fn event_state(h: &HooksApp, id: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, note FROM webhook_events WHERE id = $1").bind(id).fetch_one(h.pool()).await.unwrap()
}

#[tokio::test]
async fn unknown_types_and_strangers_are_stored_and_marked_never_dead_lettered() {
    let h = spawn_hooks_app(&[]).await;
    let pool = h.pool();

    // A type nobody handles.
    assert_eq!(post_event(&h, "evt_made_up_1", "tollgate.made_up", "thing", "thing_1").await, 200);
    // A handled type whose object Stripe does not have.
    assert_eq!(post_event(&h, "evt_ghost_1", "customer.updated", "customer", "cus_ghost").await, 200);
    // A customer made in Stripe directly, not by the app, paying and changing.
    let stranger = h.stripe_post("/v1/customers", &[("email", "stranger@example.com")]).await;
    let cus = stranger["id"].as_str().unwrap();
    h.stripe_post(&format!("/v1/customers/{cus}"), &[("name", "Not Ours")]).await;
    h.stripe_post(
        "/v1/payment_intents",
        &[
            ("amount", "1234"),
            ("currency", "usd"),
            ("customer", cus),
            ("payment_method", "pm_card_visa"),
            ("confirm", "true"),
        ],
    )
    .await;

    eventually(pool, "SELECT COUNT(*) FROM payments WHERE amount = 1234 AND status = 'succeeded'", 1).await;
    eventually(pool, "SELECT COUNT(*) FROM customers WHERE email = 'stranger@example.com' AND user_id IS NULL", 1)
        .await;
    h.wait_for_deliveries().await;
    inbox_drained(pool).await;

    let (status, note) = event_state(&h, "evt_made_up_1").await;
    assert_eq!((status.as_str(), note.as_deref()), ("ignored", Some("event type not handled")));
    let (status, note) = event_state(&h, "evt_ghost_1").await;
    assert_eq!(status, "ignored");
    assert!(note.unwrap_or_default().contains("cus_ghost not found"));
    // Sandbox-sent types the app does not act on (charge.succeeded) are ignored too, not failed.
    assert!(
        count(pool, "SELECT COUNT(*) FROM webhook_events WHERE event_type = 'charge.succeeded' AND status = 'ignored'")
            .await
            >= 1
    );
    let strangers_events = count(
        pool,
        &format!("SELECT COUNT(*) FROM webhook_events WHERE object_id = '{cus}' AND status = 'ignored' AND note LIKE '%not linked%'"),
    )
    .await;
    assert!(strangers_events >= 1, "customer events for a stranger are noted");
    assert_eq!(
        count(pool, "SELECT COUNT(*) FROM webhook_events WHERE status = 'dead' OR last_error IS NOT NULL").await,
        0
    );
}

#[tokio::test]
async fn reconcile_heals_events_the_sandbox_never_delivered() {
    // No periodic reconcile: only the command may heal.
    let h = spawn_hooks_app(&[("RECONCILE_INTERVAL_SECS", "0")]).await;
    let pool = h.pool();
    let user = h.insert_user("healed@example.com").await;
    let (_session, status) = h.buy_one_time(user, "healed@example.com", "4242 4242 4242 4242").await;
    assert_eq!(status, 303);
    eventually(pool, "SELECT COUNT(*) FROM entitlements WHERE revoked_at IS NULL", 1).await;
    h.wait_for_deliveries().await;
    inbox_drained(pool).await;

    // The endpoint goes dark, then the purchase is refunded.
    let endpoints = h.stripe_get("/v1/webhook_endpoints").await;
    for ep in endpoints["data"].as_array().unwrap() {
        let id = ep["id"].as_str().unwrap();
        h.stripe_post(&format!("/v1/webhook_endpoints/{id}"), &[("disabled", "true")]).await;
    }
    let pi: String = sqlx::query_scalar("SELECT payment_intent_id FROM entitlements").fetch_one(pool).await.unwrap();
    h.stripe_post("/v1/refunds", &[("payment_intent", &pi)]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(count(pool, "SELECT COUNT(*) FROM refunds").await, 0, "nothing was delivered");

    let dir = tempfile::tempdir().unwrap();
    let vars = [
        ("DATABASE_URL", h.app.database.url.as_str()),
        ("STRIPE_API_BASE", h.sandbox.as_str()),
        ("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY),
    ];
    let out = tollgate(dir.path(), &["reconcile"], &vars).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("new in the inbox"), "{stdout}");
    assert!(!stdout.contains(" 0 new"), "reconcile found the missed events: {stdout}");

    // The running app's worker applies what reconcile stored.
    eventually(pool, "SELECT COUNT(*) FROM refunds WHERE amount = 19900", 1).await;
    eventually(pool, "SELECT COUNT(*) FROM entitlements WHERE revoked_at IS NOT NULL", 1).await;
    assert!(
        count(
            pool,
            "SELECT COUNT(*) FROM webhook_events WHERE source = 'reconcile' AND event_type = 'charge.refunded'"
        )
        .await
            == 1
    );

    // A second pass finds nothing new.
    let again = tollgate(dir.path(), &["reconcile"], &vars).await;
    assert!(String::from_utf8_lossy(&again.stdout).contains(" 0 new"), "{}", String::from_utf8_lossy(&again.stdout));
}

#[tokio::test]
async fn catalog_sync_reports_changes_then_nothing_to_do() {
    let h = spawn_hooks_app(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(tollgate::server::catalog::DEFAULT_PATH).unwrap();
    // serve synced the shipped catalog; a raised price is a change.
    std::fs::write(dir.path().join("catalog.toml"), text.replace("monthly = 9900", "monthly = 12900")).unwrap();
    let vars = [("STRIPE_API_BASE", h.sandbox.as_str()), ("STRIPE_SECRET_KEY", SANDBOX_SECRET_KEY)];

    let first = tollgate(dir.path(), &["catalog", "sync"], &vars).await;
    let first_out = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{first_out}\n{}", String::from_utf8_lossy(&first.stderr));
    assert!(first_out.contains("~ price business_monthly"), "{first_out}");
    assert!(!first_out.contains("nothing to do"), "{first_out}");

    let second = tollgate(dir.path(), &["catalog", "sync"], &vars).await;
    let second_out = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success());
    assert!(second_out.contains("nothing to do"), "{second_out}");

    // Without any Stripe to talk to, the command says so instead of guessing.
    let lost = tollgate(dir.path(), &["catalog", "sync"], &[]).await;
    assert!(!lost.status.success());
    assert!(String::from_utf8_lossy(&lost.stderr).contains("STRIPE_API_BASE"));
}
