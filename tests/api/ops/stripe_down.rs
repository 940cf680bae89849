//! Stripe unreachable at start: the app starts anyway, serves its pages from the local tables,
//! says so on `/healthz` and `/admin/status`, refuses payments with a clear message, and sells
//! again once Stripe answers (the prices resolve in the background).

use std::time::Duration;

use crate::helpers::*;

async fn health(app: &TestApp) -> (u16, String) {
    let res = app.get("/healthz").await;
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_app_starts_while_stripe_is_unreachable_and_sells_once_it_answers() {
    // Stripe's address, with nothing listening there yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let app = spawn_app_with(&[
        ("STRIPE_SECRET_KEY", KEY),
        ("STRIPE_API_BASE", &base),
        ("STRIPE_WEBHOOK_SECRET", "whsec_stripe_down_tests"),
        ("RECONCILE_INTERVAL_SECS", "0"),
        ("ALERT_CHECK_INTERVAL_SECS", "1"),
        ("ALERT_STRIPE_UNREACHABLE_SECS", "1"),
    ])
    .await;

    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "the app serves: {body}");
    assert!(body.contains("prices not loaded"), "{body}");
    let pricing = app.page("/pricing").await;
    assert!(pricing.contains("Pro") && pricing.contains("Starter"), "the plans show from the catalog");
    let email = unique_email("early");
    app.customer(&email).await;
    let refused = app.submit("/pricing", "Subscribe", &[("plan", "pro"), ("interval", "month")]).await;
    let back = location(&refused).unwrap_or_default();
    assert!(!back.starts_with(&base), "no Checkout while Stripe is down: {back}");
    let page = app.page(&back).await;
    assert!(page.contains("Payments are not available right now"), "{page}");
    app.log_in_as_admin().await;
    let status_page = app.page("/admin/status").await;
    assert!(status_page.contains("Stripe reachable, prices loaded"), "the checklist names it");
    let alerted = format!(
        "SELECT COUNT(*) FROM emails WHERE kind = 'ops_alert' AND to_address = '{ADMIN_EMAIL}' \
         AND subject LIKE 'Alert: Stripe unreachable%'"
    );
    eventually(app.db.pool(), &alerted, 1).await;

    // Stripe comes back, its catalog synced; the retry (1 s, 2 s, 4 s…) picks the prices up.
    let sandbox = stripe_sandbox::start(std::net::SocketAddr::from(([127, 0, 0, 1], port))).await.unwrap();
    let stripe = tollgate::server::stripe::client::StripeClient::new(&KEY.to_string().into(), Some(&base)).unwrap();
    prices(&stripe).await;
    let mut body = String::new();
    for _ in 0..200 {
        body = health(&app).await.1;
        if body == "ok" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(body, "ok", "the prices resolved once Stripe answered");
    let recovered =
        "SELECT COUNT(*) FROM emails WHERE kind = 'ops_recovered' AND subject LIKE 'Recovered: Stripe unreachable%'";
    eventually(app.db.pool(), recovered, 1).await;
    assert_eq!(sqlx::query_scalar::<_, i64>(&alerted).fetch_one(app.db.pool()).await.unwrap(), 1, "alerted once");
    app.log_in(&email, PASSWORD).await;
    let res = app.submit("/pricing", "Subscribe", &[("plan", "pro"), ("interval", "month")]).await;
    let to = location(&res).unwrap_or_default();
    assert!(to.starts_with(&sandbox.base_url()), "Subscribe goes to Checkout now: {to}");
}
