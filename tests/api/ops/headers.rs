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

#[tokio::test]
async fn personal_pages_are_never_stored_and_public_ones_may_be() {
    let app = spawn_app().await;
    app.customer(&unique_email("no-store")).await;
    for path in ["/account", "/account/plan"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store", "{path}");
    }
    let admin = spawn_app().await;
    admin.log_in_as_admin().await;
    let res = admin.get("/admin/payments").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let res = app.get("/pricing").await;
    assert!(res.headers().get(header::CACHE_CONTROL).is_none_or(|v| v != "no-store"), "public pages may be cached");
}

#[tokio::test]
async fn hsts_only_when_the_app_is_served_over_https() {
    let plain = spawn_app().await;
    assert!(plain.get("/healthz").await.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none());
    let secure = spawn_public_app().await;
    for path in ["/healthz", "/"] {
        let res = secure.get(path).await;
        assert_eq!(res.headers()[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000; includeSubDomains", "{path}");
    }
}

#[tokio::test]
async fn forms_may_only_post_here_and_to_stripes_hosted_pages() {
    let app = spawn_app().await;
    let res = app.get("/pricing").await;
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    let sandbox_origin = app.sandbox_url.trim_end_matches('/');
    assert!(csp.contains(&format!("form-action 'self' {sandbox_origin}")), "{csp}");
}

/// Sends `GET path` exactly as written (reqwest would tidy `..` away) and returns the status and
/// the `Location` header.
async fn raw_get(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, Option<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let location = response.lines().find_map(|l| {
        l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.trim().to_owned())
    });
    (status, location)
}

#[tokio::test]
async fn other_spellings_of_a_guarded_path_are_redirected_to_the_one_the_guard_checks() {
    let app = spawn_app().await;
    let email = unique_email("paths");
    app.customer(&email).await;
    app.submit("/account", "Log out", &[]).await;
    let res = app.log_in(&email, PASSWORD).await;
    let cookie = format!("tollgate_session={}", cookie_value(&session_set_cookie(&res).expect("a session")));
    for (sent, canonical) in [
        ("//admin", "/admin"),
        ("/admin/../admin", "/admin"),
        ("/account/../admin/payments", "/admin/payments"),
        ("/%61dmin", "/admin"),
        ("/./admin//events?page=2", "/admin/events?page=2"),
    ] {
        let (status, location) = raw_get(&app, sent, Some(&cookie)).await;
        assert_eq!((status, location.as_deref()), (308, Some(canonical)), "{sent}");
    }
    // Where the redirect leads, the guard answers as for the canonical spelling: a customer
    // gets 403 on /admin.
    assert_eq!(raw_get(&app, "/admin", Some(&cookie)).await.0, 403);
}
