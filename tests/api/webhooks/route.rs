//! `POST /webhooks/stripe` refuses what it cannot trust, stores nothing it refused, and cannot
//! be made to burn CPU by a crafted `Stripe-Signature` header.

use tollgate::server::webhooks::signature;

use crate::helpers::{spawn_app, TestApp};

#[tokio::test]
async fn the_webhook_route_refuses_what_it_cannot_trust_and_stores_nothing() {
    let app = spawn_app().await;
    let url = format!("{}/webhooks/stripe", app.address);
    let body = br#"{"id":"evt_forged","object":"event","type":"customer.created","created":1,"data":{"object":{"id":"cus_1","object":"customer"}}}"#;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;

    let unsigned = app.client.post(&url).body(body.to_vec()).send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 400);
    let wrong_secret = app
        .client
        .post(&url)
        .header("stripe-signature", signature::sign(body, "whsec_not_ours", now))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status().as_u16(), 400);
    let oversized = app
        .client
        .post(&url)
        .header("stripe-signature", format!("t={now},v1=00"))
        .body(vec![b' '; 600 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status().as_u16(), 413);
    // Signed with the app's real secret, but stale (older than the 300 s tolerance), or not an
    // event at all: refused too.
    let secret = endpoint_secret(&app, "/webhooks/stripe").await;
    let stale = app
        .client
        .post(&url)
        .header("stripe-signature", signature::sign(body, &secret, now - 301))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 400, "stale timestamp");
    let garbage = b"{not json";
    let malformed = app
        .client
        .post(&url)
        .header("stripe-signature", signature::sign(garbage, &secret, now))
        .body(garbage.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400, "malformed body");
    assert_eq!(forged_rows(&app).await, 0, "nothing refused was stored");
    let fresh = app
        .client
        .post(&url)
        .header("stripe-signature", signature::sign(body, &secret, now))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        fresh.status().as_u16(),
        200,
        "the same body, fresh and signed, is accepted: the refusals above were for cause"
    );
    assert_eq!(forged_rows(&app).await, 1, "the accepted delivery was stored");
}

/// The signing secret the embedded sandbox issued for the app's endpoint at `path`.
pub async fn endpoint_secret(app: &TestApp, path: &str) -> String {
    let endpoints = app.stripe_get_json("/v1/webhook_endpoints").await;
    let endpoint = endpoints["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["url"].as_str().is_some_and(|url| url.ends_with(path)))
        .unwrap_or_else(|| panic!("an endpoint at {path} in {endpoints}"));
    let id = endpoint["id"].as_str().unwrap();
    let secret = app.stripe_get_json(&format!("/_sandbox/webhook_endpoints/{id}/secret")).await;
    secret["secret"].as_str().or(secret.as_str()).expect("the endpoint's secret").to_string()
}

async fn forged_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE id = 'evt_forged'")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// A `Stripe-Signature` header built to make the route hash a maximal body thousands of times.
fn flood_header(now: i64) -> String {
    format!("t={now},{}", "v1=00,".repeat(10_000))
}

#[tokio::test]
async fn a_signature_flood_is_refused_and_the_server_stays_responsive() {
    let app = spawn_app().await;
    let url = format!("{}/webhooks/stripe", app.address);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let body = vec![b' '; 512 * 1024 - 1];
    // Several at once, on the test's single runtime thread that the app shares: a route that
    // hashed the body once per candidate would hold that thread for minutes.
    let floods =
        (0..4).map(|_| app.client.post(&url).header("stripe-signature", flood_header(now)).body(body.clone()).send());
    let health = async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            app.client.get(format!("{}/healthz", app.address)).send(),
        )
        .await
    };
    let (answers, health) = tokio::join!(futures::future::join_all(floods), health);
    for answer in answers {
        assert_eq!(answer.unwrap().status().as_u16(), 400, "a flood of candidates is a bad request");
    }
    let health = health.expect("/healthz answers while floods arrive").unwrap();
    assert_eq!(health.status().as_u16(), 200);
}
