//! The operator's brand (BRAND_*, SUPPORT_EMAIL) on the pages, in the emails and on the
//! sandbox's hosted Checkout page (through Checkout's `branding_settings`).

use crate::helpers::*;

#[tokio::test]
async fn the_brand_shows_on_pages_emails_and_checkout() {
    let app = spawn_app_with(&[
        ("BRAND_NAME", "Acme Cloud"),
        ("BRAND_ACCENT", "#0B6E4F"),
        ("BRAND_LOGO_URL", "/favicon.svg"),
        ("SUPPORT_EMAIL", "help@acme.test"),
    ])
    .await;
    let css = app.get("/brand.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains("--accent: #0b6e4f;"));

    let pricing = app.page("/pricing").await;
    assert!(pricing.contains("<title>Pricing · Acme Cloud</title>"), "{pricing}");
    assert!(pricing.contains(r#"<img src="/favicon.svg" alt="" width="28" height="28">Acme Cloud</a>"#), "{pricing}");
    assert!(pricing.contains(r#"<a href="mailto:help@acme.test">help@acme.test</a>"#), "the footer");
    assert!(pricing.contains(r#"<link rel="stylesheet" href="/brand.css">"#));
    assert!(!pricing.contains("tollgate —"), "no default name left: {pricing}");

    // Every email is signed (the verification link's mail, once the sender has drained it).
    let email = unique_email("branded");
    app.customer(&email).await;
    let signed = format!(
        "SELECT COUNT(*) FROM emails WHERE to_address = '{email}' AND kind = 'verify_email' \
         AND body LIKE '%Acme Cloud%Questions? Write to help@acme.test%'"
    );
    eventually(app.db.pool(), &signed, 1).await;

    // Checkout's page carries the brand: the app sends it as `branding_settings`.
    let res = app.submit("/pricing", "Subscribe", &[("plan", "business"), ("interval", "month")]).await;
    let checkout = location(&res).expect("Subscribe redirects to Checkout");
    assert!(checkout.starts_with(&app.sandbox_url), "{checkout}");
    let page = app.client.get(&checkout).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<strong>Acme Cloud</strong>") && page.contains("button{background:#0b6e4f}"), "{page}");
    let public = app.state.config.app_url.as_str().trim_end_matches('/');
    assert!(page.contains(&format!("src=\"{public}/favicon.svg\"")), "the logo, by its public URL: {page}");
}

#[tokio::test]
async fn without_a_brand_checkout_keeps_the_accounts_own() {
    let app = spawn_app().await;
    app.customer(&unique_email("plain")).await;
    let res = app.submit("/pricing", "Subscribe", &[("plan", "business"), ("interval", "month")]).await;
    let page = app.client.get(location(&res).unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("class=\"seller\""), "no branding_settings sent: {page}");
    assert!(app.page("/pricing").await.contains("<title>Pricing · tollgate</title>"));
}
