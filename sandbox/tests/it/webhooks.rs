//! Signed webhook deliveries: signature, event shape, order, retries, chaos.

use super::*;

#[tokio::test]
async fn signed_deliveries_verify_and_keep_order() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    let secret = register(&raw, &rx.url).await;
    let cus = raw.ok("/v1/customers", &[("email", "w@x.com")]).await;
    let id = cus["id"].as_str().unwrap();
    raw.ok(&format!("/v1/customers/{id}"), &[("name", "W")]).await;
    settle(&sb).await;
    let got = rx.got.lock().await.clone();
    assert_eq!(got.len(), 2);
    for (sig, body) in &got {
        // async-stripe's own verification accepts the delivery.
        let ev = stripe_webhook::Webhook::construct_event(body, sig, &secret).expect("signature verifies");
        assert!(ev.id.as_str().starts_with("evt_"));
        assert!(stripe_webhook::Webhook::construct_event(body, sig, "whsec_wrong").is_err());
    }
    let events = rx.events().await;
    assert_eq!(events[0]["type"], "customer.created");
    assert_eq!(events[1]["type"], "customer.updated");
    assert_eq!(events[1]["data"]["previous_attributes"]["name"], Value::Null);
    assert_eq!(events[1]["data"]["object"]["name"], "W");
    assert_eq!(events[0]["object"], "event");
    assert_eq!(events[0]["api_version"], "2026-09-30.endive");
    assert!(events[0]["request"]["id"].as_str().unwrap().starts_with("req_"));
    // Once delivered, the event has no pending webhooks.
    let (_, ev) = raw.get(&format!("/v1/events/{}", events[0]["id"].as_str().unwrap())).await;
    assert_eq!(ev["pending_webhooks"], 0);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    rx.status.store(500, std::sync::atomic::Ordering::SeqCst);
    register(&raw, &rx.url).await;
    raw.ok("/v1/customers", &[]).await;
    // Fail the first two attempts, then accept.
    for _ in 0..200 {
        if rx.got.lock().await.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    rx.status.store(200, std::sync::atomic::Ordering::SeqCst);
    assert!(sb.wait_for_deliveries(std::time::Duration::from_secs(10), true).await);
    let attempts = sb.attempts();
    assert!(attempts.len() >= 3, "{attempts:?}");
    assert!(!attempts[0].succeeded && attempts[0].status == Some(500));
    assert_eq!(attempts[1].attempt, 2);
    assert!(attempts.last().unwrap().succeeded);
    assert!(attempts.iter().all(|a| a.event_id == attempts[0].event_id));
    assert!(attempts[1].at >= attempts[0].at);
}

#[tokio::test]
async fn chaos_duplicates_every_delivery_when_asked() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    register(&raw, &rx.url).await;
    let r = raw
        .http
        .post(format!("{}/_sandbox/chaos", sb.base_url()))
        .json(&serde_json::json!({"duplicate_share": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    raw.ok("/v1/customers", &[]).await;
    settle(&sb).await;
    let events = rx.events().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["id"], events[1]["id"]);
    let (_, d) = raw.get("/_sandbox/deliveries").await;
    assert_eq!(d["data"].as_array().unwrap().iter().filter(|a| a["duplicate"] == true).count(), 1);
}

#[tokio::test]
async fn each_endpoint_gets_events_in_its_own_api_version() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let (current, pinned) = (receiver().await, receiver().await);
    register(&raw, &current.url).await;
    let form =
        [("url", pinned.url.as_str()), ("enabled_events[]", "customer.created"), ("api_version", "2025-03-31.basil")];
    let endpoint = raw.ok("/v1/webhook_endpoints", &form).await;
    assert_eq!(endpoint["api_version"], "2025-03-31.basil");
    raw.ok("/v1/customers", &[("email", "versions@x.com")]).await;
    settle(&sb).await;
    assert_eq!(current.events().await[0]["api_version"], "2026-09-30.endive");
    let pinned_events = pinned.events().await;
    assert_eq!(pinned_events[0]["api_version"], "2025-03-31.basil");
    assert_eq!(pinned_events[0]["id"], current.events().await[0]["id"], "one event, two versions of it");
}

#[tokio::test]
async fn unknown_event_types_are_refused() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let form = [
        ("url", "http://127.0.0.1:9/hook"),
        ("enabled_events[0]", "invoice.paid"),
        ("enabled_events[1]", "invoice.payed"),
    ];
    let (status, error) = raw.post("/v1/webhook_endpoints", &form).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["param"], "enabled_events[1]");
    assert!(error["error"]["message"].as_str().unwrap().starts_with("Invalid enabled_events[1]: must be one of"));
    let endpoint = raw.ok("/v1/webhook_endpoints", &form[..2]).await;
    let (status, _) = raw
        .post(&format!("/v1/webhook_endpoints/{}", endpoint["id"].as_str().unwrap()), &[("enabled_events[0]", "nope")])
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn deleted_and_disabled_endpoints_get_no_more_retries() {
    let sb = stripe_sandbox::start_with(
        ([127, 0, 0, 1], 0).into(),
        SandboxConfig {
            webhook_retry_schedule: vec![std::time::Duration::from_millis(1500); 3],
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap();
    let raw = Raw::new(&sb);
    let (deleted, disabled) = (receiver().await, receiver().await);
    for rx in [&deleted, &disabled] {
        rx.status.store(500, std::sync::atomic::Ordering::SeqCst);
        register(&raw, &rx.url).await;
    }
    raw.ok("/v1/customers", &[]).await;
    settle(&sb).await;
    let (_, endpoints) = raw.get("/v1/webhook_endpoints").await;
    for endpoint in endpoints["data"].as_array().unwrap() {
        let id = endpoint["id"].as_str().unwrap();
        if endpoint["url"] == deleted.url.as_str() {
            let r = raw.http.delete(format!("{}/v1/webhook_endpoints/{id}", raw.base)).bearer_auth(KEY).send().await;
            assert_eq!(r.unwrap().status(), 200);
        } else {
            raw.ok(&format!("/v1/webhook_endpoints/{id}"), &[("disabled", "true")]).await;
        }
    }
    assert!(sb.wait_for_deliveries(std::time::Duration::from_secs(10), true).await);
    assert_eq!(deleted.got.lock().await.len(), 1, "one attempt, then the endpoint was deleted");
    assert_eq!(disabled.got.lock().await.len(), 1, "one attempt, then the endpoint was disabled");
}
