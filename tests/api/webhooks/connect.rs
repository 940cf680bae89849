//! `POST /webhooks/stripe/connect`: connected accounts' events, signed with the Connect
//! endpoint's own secret. Each endpoint refuses the other's secret and the other's events, and
//! a Connect event is stored with its account.

use std::time::Duration;

use tollgate::server::webhooks::signature;

use super::route::endpoint_secret;
use crate::helpers::{hooks::inbox_applied_within, spawn_app, TestApp};

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn event(id: &str, account: Option<&str>) -> Vec<u8> {
    let account = account.map(|a| format!(r#""account":"{a}","#)).unwrap_or_default();
    format!(
        r#"{{"id":"{id}","object":"event",{account}"type":"account.updated","created":{},"livemode":false,"data":{{"object":{{"id":"acct_1TgUnknown","object":"account"}}}}}}"#,
        unix_now()
    )
    .into_bytes()
}

async fn post(app: &TestApp, path: &str, body: &[u8], secret: &str) -> u16 {
    app.client
        .post(format!("{}{path}", app.address))
        .header("stripe-signature", signature::sign(body, secret, unix_now()))
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn stored(app: &TestApp, id: &str) -> Option<(Option<String>, String, Option<String>)> {
    sqlx::query_as("SELECT account, status, note FROM webhook_events WHERE id = $1")
        .bind(id)
        .fetch_optional(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn each_endpoint_refuses_the_other_endpoints_secret_and_events() {
    let app = spawn_app().await;
    let platform = endpoint_secret(&app, "/webhooks/stripe").await;
    let connect = endpoint_secret(&app, "/webhooks/stripe/connect").await;
    assert_ne!(platform, connect, "two endpoints, two secrets");

    let of_account = event("evt_connect_1", Some("acct_1TgUnknown"));
    let of_platform = event("evt_platform_1", None);
    assert_eq!(post(&app, "/webhooks/stripe/connect", &of_account, &platform).await, 400, "platform secret at Connect");
    assert_eq!(post(&app, "/webhooks/stripe", &of_platform, &connect).await, 400, "Connect secret at the platform");
    assert_eq!(post(&app, "/webhooks/stripe", &of_account, &platform).await, 400, "an account's event at the platform");
    assert_eq!(
        post(&app, "/webhooks/stripe/connect", &of_platform, &connect).await,
        400,
        "a platform event at Connect"
    );
    let bad_account = br#"{"id":"evt_connect_bad","object":"event","account":"cus_1","type":"account.updated","created":1,"data":{"object":{"id":"x","object":"account"}}}"#;
    assert_eq!(post(&app, "/webhooks/stripe/connect", bad_account, &connect).await, 400, "an account id that is none");
    assert!(stored(&app, "evt_connect_1").await.is_none() && stored(&app, "evt_platform_1").await.is_none());

    // Each, at its own endpoint with its own secret: stored; the Connect one with its account.
    assert_eq!(post(&app, "/webhooks/stripe/connect", &of_account, &connect).await, 200);
    assert_eq!(post(&app, "/webhooks/stripe", &of_platform, &platform).await, 200);
    inbox_applied_within(app.db.pool(), Duration::from_secs(20)).await;
    let (account, status, note) = stored(&app, "evt_connect_1").await.expect("stored");
    assert_eq!(account.as_deref(), Some("acct_1TgUnknown"));
    // No creator has that account: stored, and set aside with the reason.
    assert_eq!(status, "ignored");
    assert_eq!(note.as_deref(), Some("account acct_1TgUnknown is no creator's"), "the reason is kept");
    let (account, _, _) = stored(&app, "evt_platform_1").await.expect("stored");
    assert_eq!(account, None);
}

#[tokio::test]
async fn without_a_connect_secret_the_connect_endpoint_refuses_everything() {
    // An app against "Stripe" (its own sandbox) with only the platform secret set.
    let app = crate::helpers::spawn_public_app().await;
    let body = event("evt_connect_unconfigured", Some("acct_1TgUnknown"));
    assert_eq!(post(&app, "/webhooks/stripe/connect", &body, "whsec_anything").await, 400);
    assert!(stored(&app, "evt_connect_unconfigured").await.is_none());
}
