//! The operator's brand (BRAND_*, SUPPORT_EMAIL) on the pages, in the emails, on the sandbox's
//! hosted Checkout page (through Checkout's `branding_settings`) and on its Customer Portal (the
//! account's branding, which the app hands the sandbox at start-up).

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

    // The Customer Portal shows the account's branding: name, logo and colour.
    let form = [("card_number", "4242 4242 4242 4242"), ("expiry", "12 / 34"), ("cvc", "123")];
    let paid = app.client.post(&checkout).form(&form).send().await.unwrap();
    assert_eq!(paid.status().as_u16(), 303, "paid on Checkout");
    app.settle().await;
    let res = app.submit("/account", "Manage billing", &[]).await;
    let portal = location(&res).expect("a redirect to the portal");
    let page = app.client.get(&portal).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<strong>Acme Cloud</strong>"), "{page}");
    assert!(page.contains(&format!("<img src=\"{public}/favicon.svg\"")), "{page}");
    assert!(page.contains("button:not(.secondary){background:#0b6e4f;color:#ffffff}"), "{page}");
}

#[tokio::test]
async fn without_a_brand_checkout_keeps_the_accounts_own() {
    let app = spawn_app().await;
    app.customer(&unique_email("plain")).await;
    let res = app.submit("/pricing", "Subscribe", &[("plan", "business"), ("interval", "month")]).await;
    let page = app.client.get(location(&res).unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("class=\"seller\""), "no branding_settings sent: {page}");
    let account = app.client.get(format!("{}/_sandbox/branding", app.sandbox_url)).send().await.unwrap();
    assert_eq!(
        account.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"business_name": null, "logo_url": null, "primary_color": null, "secondary_color": null}),
        "nor a brand for the portal"
    );
    assert!(app.page("/pricing").await.contains("<title>Pricing · tollgate</title>"));
}
