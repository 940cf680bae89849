//! `/metrics`: only with METRICS_TOKEN, only for its bearer, and it counts what happened.

use reqwest::StatusCode;

use crate::helpers::*;

const TOKEN: &str = "metrics-token-for-tests-0123";

#[tokio::test]
async fn metrics_are_not_served_without_a_token() {
    let app = spawn_app().await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_need_the_bearer_token_and_count_requests_and_backlogs() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth("metrics-token-for-tests-0124")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(app.get("/pricing").await.status(), StatusCode::OK);
    let unsigned = app.client.post(format!("{}/webhooks/stripe", app.address)).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::BAD_REQUEST);
    let res = app.client.get(format!("{}/metrics", app.address)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let body = res.text().await.unwrap();
    let pricing = body
        .lines()
        .find(|l| {
            l.starts_with("tollgate_http_requests_total{")
                && l.contains(r#"route="/pricing""#)
                && l.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no /pricing count in {body}"));
    let count: f64 = pricing.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1.0, "{pricing}");
    assert!(body.contains("tollgate_http_request_duration_seconds_bucket{"), "latency histogram: {body}");
    assert!(
        body.lines().any(|l| l.starts_with(r#"tollgate_webhooks_received_total{outcome="refused"}"#)),
        "refused webhooks counted: {body}"
    );
    for gauge in [
        r#"tollgate_webhook_events{status="dead"}"#,
        "tollgate_webhook_oldest_waiting_seconds",
        "tollgate_emails_unsent",
    ] {
        assert!(body.lines().any(|l| l.starts_with(gauge)), "no {gauge} in {body}");
    }
    assert!(!body.contains(TOKEN), "the token is never echoed");
}
