use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_is_ok_when_the_database_answers() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn healthz_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.close().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = spawn_app().await;
    let res = app.get("/no-such-page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(crate::helpers::html_of(res).await.contains("Page not found"));
}
