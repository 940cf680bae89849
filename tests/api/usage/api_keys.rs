//! `/api/v1` refuses requests without a valid key (401, JSON), and revoked keys; keys are stored
//! hashed, shown once, audited.

use reqwest::StatusCode;

use super::*;

#[tokio::test]
async fn the_api_refuses_no_key_a_wrong_key_and_a_revoked_key() {
    let app = spawn_app().await;
    let (user, _) = customer_with_id(&app, "keys").await;
    let body = report("api-calls", 1, "k-1");

    let (status, error) = app.report_usage(None, body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert_eq!(error["error"]["code"], "unauthorized", "a JSON error: {error}");
    let (status, _) = app.report_usage(Some("tg_test_0123456789abcdef_wrong"), body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let key = app.issue_api_key("backend", Some(user)).await;
    assert!(key.starts_with("tg_test_"), "{key}");
    let stored: String = sqlx::query_scalar("SELECT secret_hash FROM api_keys").fetch_one(app.db.pool()).await.unwrap();
    assert!(!key.contains(&stored) && stored.len() == 64, "only the secret's hash is kept");
    let mut tampered = key.clone();
    tampered.push('x');
    assert_eq!(app.report_usage(Some(&tampered), body.clone()).await.0, StatusCode::UNAUTHORIZED);

    // The key authenticates (the report itself is judged next: this catalog has no such meter).
    let (status, answer) = app.report_usage(Some(&key), report("no-such-meter", 1, "k-2")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("no meter"), "{answer}");
    let used: Option<i64> =
        sqlx::query_scalar("SELECT last_used_at FROM api_keys").fetch_one(app.db.pool()).await.unwrap();
    assert!(used.is_some(), "last use recorded");

    app.revoke_api_key(&key).await;
    let (status, error) = app.report_usage(Some(&key), body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked key is refused: {error}");
    let audited: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE subject_type = 'api_key' ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(audited, ["api_key_issued", "api_key_revoked"]);
}

#[tokio::test]
async fn a_customer_key_reports_for_its_own_customer_only_and_a_platform_key_must_name_one() {
    let app = spawn_app().await;
    let (user, _) = customer_with_id(&app, "own").await;
    let (_, other) = customer_with_id(&app, "other").await;
    let key = app.issue_api_key("theirs", Some(user)).await;
    let mut body = report("api-calls", 1, "o-1");
    body["customer"] = other.clone().into();
    assert_eq!(app.report_usage(Some(&key), body).await.0, StatusCode::FORBIDDEN);

    let platform = app.issue_api_key("platform", None).await;
    let (status, error) = app.report_usage(Some(&platform), report("api-calls", 1, "o-2")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let mut unknown = report("api-calls", 1, "o-3");
    unknown["customer"] = "cus_nobody".into();
    assert_eq!(app.report_usage(Some(&platform), unknown).await.0, StatusCode::NOT_FOUND);
}
