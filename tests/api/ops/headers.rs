use reqwest::header;

use crate::helpers::*;

fn csp_nonce(csp: &str) -> String {
    let start = csp.find("'nonce-").expect("a nonce in the CSP") + "'nonce-".len();
    let end = start + csp[start..].find('\'').unwrap();
    csp[start..end].to_owned()
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_per_request_nonce() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    let headers = res.headers().clone();
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("'unsafe-inline'"), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::REFERRER_POLICY], "strict-origin-when-cross-origin");

    let nonce = csp_nonce(&csp);
    let html = html_of(res).await;
    assert!(html.contains(&format!(r#"nonce="{nonce}""#)), "the hydration script carries it");

    let again = app.get("/").await;
    let next = csp_nonce(again.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap());
    assert_ne!(nonce, next, "a fresh nonce per response");
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = spawn_app().await;
    app.customer(&unique_email("headers")).await;
    let form_post = app.log_in("x@example.com", "not the password").await;
    for res in [app.get("/healthz").await, app.get("/nope").await, app.get("/admin").await, form_post] {
        let h = res.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{}: {csp}", res.url());
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert!(h.contains_key(header::REFERRER_POLICY));
    }
}

#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!id.is_empty());
    let other = app.get("/healthz").await;
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);

    let res = app.client.get(app.url("/healthz")).header("x-request-id", "from-the-proxy").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "from-the-proxy");
}
