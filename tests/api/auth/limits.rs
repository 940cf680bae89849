//! Inputs are capped before anything stores them, and a client network's sign-ups, Checkout
//! Sessions and portal sessions are limited.

use reqwest::header;

use crate::helpers::*;

#[tokio::test]
async fn an_oversized_form_is_refused_before_anything_is_stored() {
    let app = spawn_app().await;
    let huge = format!("{}@example.com", "a".repeat(20 * 1024));
    for path in ["/api/signup", "/api/login"] {
        let res = app
            .client
            .post(app.url(path))
            .header(header::ACCEPT, BROWSER_ACCEPT)
            .form(&[("email", huge.as_str()), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413, "{path}");
    }
    let longest: Option<i64> = sqlx::query_scalar("SELECT CAST(MAX(LENGTH(data)) AS BIGINT) FROM sessions")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(longest.unwrap_or(0) < 4096, "no session holds the oversized input: {longest:?}");
}

#[tokio::test]
async fn a_refused_form_keeps_at_most_an_address_worth_of_input() {
    let app = spawn_app().await;
    // Under the body limit, but longer than any address: the flash keeps 254 characters.
    let long = format!("{}@example.com", "b".repeat(5000));
    let res = app.sign_up(&long, PASSWORD).await;
    assert_redirect(&res, "/signup");
    let page = app.page("/signup").await;
    assert!(page.contains(&"b".repeat(200)), "the address is shown back");
    assert!(!page.contains(&"b".repeat(300)), "but no more than an address can be");
}

#[tokio::test]
async fn sign_ups_from_one_network_are_limited() {
    let app = spawn_app_with(&[("RATE_LIMIT_SIGNUP_PER_HOUR", "2")]).await;
    for n in 0..2 {
        let email = unique_email(&format!("limited{n}"));
        let res =
            app.submit_with(&new_client(), "/signup", "Sign up", &[("email", &email), ("password", PASSWORD)]).await;
        assert_redirect(&res, "/login");
    }
    let email = unique_email("third");
    let res = app.sign_up(&email, PASSWORD).await;
    assert_redirect(&res, "/signup");
    let page = app.page("/signup").await;
    assert!(alerts(&page).iter().any(|a| a == "Too many sign-ups from your network. Try again later."), "{page}");
    let created: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(created, 0);
}

#[tokio::test]
async fn checkout_and_portal_sessions_from_one_network_are_limited() {
    let app = spawn_app_with(&[("RATE_LIMIT_CHECKOUT_PER_HOUR", "1"), ("RATE_LIMIT_PORTAL_PER_HOUR", "1")]).await;
    app.customer(&unique_email("limited-buyer")).await;
    let subscribe = || app.submit("/pricing", "Subscribe", &[("plan", "business"), ("interval", "month")]);
    let first = subscribe().await;
    assert!(location(&first).is_some_and(|to| to.starts_with(&app.sandbox_url)), "to Checkout");
    let second = subscribe().await;
    assert_redirect(&second, "/pricing");
    let pricing = app.page("/pricing").await;
    assert!(pricing.contains("Too many checkouts started from your network. Try again later."), "{pricing}");

    let portal = app.submit("/account", "Manage billing", &[]).await;
    assert!(location(&portal).is_some_and(|to| to.starts_with(&app.sandbox_url)), "to the portal");
    let again = app.submit("/account", "Manage billing", &[]).await;
    assert_redirect(&again, "/account");
    let account = app.page("/account").await;
    assert!(account.contains("Too many billing portal visits from your network. Try again later."), "{account}");
}
