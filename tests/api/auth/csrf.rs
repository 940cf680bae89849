//! Cross-site posts are refused for every kind of form, JS (server function calls) and no-JS
//! (plain form posts) alike, and change nothing; the same posts from this site go through.

use reqwest::header;

use crate::helpers::*;

const SITE: &str = "http://tollgate.test";

/// Every state-changing endpoint, one per kind of form: accounts, billing, admin.
const FORMS: [&str; 15] = [
    "/api/login",
    "/api/signup",
    "/api/logout",
    "/api/change_password",
    "/api/billing/subscribe",
    "/api/billing/buy",
    "/api/billing/change_plan",
    "/api/billing/cancel",
    "/api/billing/resume",
    "/api/billing/portal",
    "/api/admin_refund",
    "/api/admin_replay_event",
    "/api/admin_change_plan",
    "/api/admin_set_renewal",
    "/api/billing/confirm_checkout",
];

/// The ways a browser marks a request from another site.
fn cross_site_markers() -> [(&'static str, &'static str); 4] {
    [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ]
}

#[tokio::test]
async fn cross_site_posts_to_any_form_are_refused() {
    let app = spawn_app_with(&[("APP_URL", SITE)]).await;
    app.customer(&unique_email("csrf")).await;
    for path in FORMS {
        for (name, value) in cross_site_markers() {
            for accept in [BROWSER_ACCEPT, "application/json"] {
                let res = app
                    .client
                    .post(app.url(path))
                    .header(name, value)
                    .header(header::ACCEPT, accept)
                    .form(&[("email", "x@example.com")])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 403, "{path} with {name}: {value} ({accept})");
            }
        }
    }
    // Still logged in: the cross-site log-out changed nothing.
    assert_eq!(app.get("/account").await.status(), 200);
}

#[tokio::test]
async fn a_cross_site_log_in_does_not_log_anyone_in() {
    let app = spawn_app_with(&[("APP_URL", SITE)]).await;
    let email = unique_email("csrf-login");
    app.customer(&email).await;
    app.submit("/account", "Log out", &[]).await;
    let res = app
        .client
        .post(app.url("/api/login"))
        .header("origin", "https://evil.example")
        .header(header::ACCEPT, BROWSER_ACCEPT)
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(session_set_cookie(&res).is_none(), "no session was started");
    assert_redirect(&app.get("/account").await, "/login");
}

#[tokio::test]
async fn posts_from_this_site_go_through() {
    let app = spawn_app_with(&[("APP_URL", SITE)]).await;
    let email = unique_email("same-site");
    app.customer(&email).await;
    app.submit("/account", "Log out", &[]).await;
    for (name, value) in [("origin", SITE), ("sec-fetch-site", "same-origin")] {
        let res = app
            .client
            .post(app.url("/api/login"))
            .header(name, value)
            .header(header::ACCEPT, BROWSER_ACCEPT)
            .form(&[("email", email.as_str()), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_redirect(&res, "/account");
        app.submit("/account", "Log out", &[]).await;
    }
}
