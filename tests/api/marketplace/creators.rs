//! Becoming a creator: an Express account, Stripe's hosted onboarding, the way back, and the
//! account's state kept from Stripe (on return and from `account.updated` on the Connect
//! endpoint).

use super::{finish_onboarding, path_of};
use crate::helpers::{location, move_sandbox_clock_by, spawn_app, TestApp};

async fn creator_state(app: &TestApp) -> (String, String, String) {
    sqlx::query_as("SELECT account_id, state, requirements_due FROM creators")
        .fetch_one(app.db.pool())
        .await
        .expect("one creator")
}

#[tokio::test]
async fn a_user_becomes_a_creator_through_stripes_onboarding_and_the_app_keeps_the_accounts_state() {
    let app = spawn_app().await;
    app.customer("maker@example.com").await;
    assert!(app.page("/creator").await.contains("Become a creator"));

    let start = app.submit("/creator", "Become a creator", &[]).await;
    let link = location(&start).expect("to Stripe's onboarding");
    assert!(link.starts_with(&app.sandbox_url), "Stripe's hosted page: {link}");
    let (account, state, _) = creator_state(&app).await;
    assert!(account.starts_with("acct_"));
    assert_eq!(state, "pending");
    let stripe_account = app.stripe_get_json(&format!("/v1/accounts/{account}")).await;
    assert_eq!(stripe_account["type"], "express");
    assert_eq!(stripe_account["metadata"]["user_id"].as_str().map(str::is_empty), Some(false));

    // Stripe's test values, without the ID document: charges work, payouts wait for it.
    let back = finish_onboarding(&app, &link, "skip_document", "000123456789").await;
    assert_eq!(location(&back).as_deref(), Some("/creator"));
    let (_, state, due) = creator_state(&app).await;
    assert_eq!(state, "restricted");
    assert!(due.contains("individual.verification.document"), "{due}");
    let page = app.page("/creator").await;
    assert!(page.contains("Stripe needs more before you can sell"), "{page}");
    assert!(page.contains("Individual verification document"), "{page}");

    // Continuing: a fresh link (the first was used), completed this time.
    let again = app.submit("/creator", "Continue onboarding", &[]).await;
    let second = location(&again).expect("a fresh link");
    assert_ne!(second, link, "links are single-use");
    finish_onboarding(&app, &second, "complete", "000123456789").await;
    assert_eq!(creator_state(&app).await.1, "enabled");
    assert!(app.page("/creator").await.contains("Open Stripe dashboard"));

    // Stripe told the Connect endpoint too, and the app read the account on that account.
    let applied = format!(
        "SELECT COUNT(*) FROM webhook_events WHERE event_type = 'account.updated' AND account = '{account}' \
         AND status = 'processed' AND note IS NULL"
    );
    let processed = count_reaching(&app, &applied, 2).await;
    assert!(processed >= 2, "both onboarding steps' events applied, got {processed}");

    // "Open Stripe dashboard": a login link to the Express dashboard.
    let open = app.submit("/creator", "Open Stripe dashboard", &[]).await;
    let dashboard = location(&open).expect("to the Express dashboard");
    let html = app.client.get(&dashboard).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Express Dashboard"), "{html}");
}

/// Waits (up to 20 s) until `query` counts at least `wanted` rows (the Connect endpoint's
/// deliveries are applied by the background worker); returns the last count.
async fn count_reaching(app: &TestApp, query: &str, wanted: i64) -> i64 {
    let mut n = 0;
    for _ in 0..100 {
        n = sqlx::query_scalar(query).fetch_one(app.db.pool()).await.unwrap();
        if n >= wanted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    n
}

#[tokio::test]
async fn an_expired_onboarding_link_sends_the_creator_to_a_fresh_one() {
    let app = spawn_app().await;
    app.customer("late@example.com").await;
    let start = app.submit("/creator", "Become a creator", &[]).await;
    let link = location(&start).expect("to Stripe's onboarding");
    move_sandbox_clock_by(&app.sandbox_url, 600).await;

    let expired = app.client.get(&link).send().await.unwrap();
    let refresh = location(&expired).expect("Stripe sends an expired link to refresh_url");
    assert!(refresh.ends_with("/creator/onboarding/refresh"), "{refresh}");
    let fresh = app.client.get(app.url(&path_of(&refresh))).send().await.unwrap();
    let next = location(&fresh).expect("the app makes a fresh link");
    assert_ne!(next, link);
    let page = app.client.get(&next).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Set up payouts"));
}

#[tokio::test]
async fn selling_waits_for_a_confirmed_email_and_a_login() {
    let app = spawn_app().await;
    let anonymous = app.client.get(app.url("/creator")).send().await.unwrap();
    assert_eq!(location(&anonymous).as_deref(), Some("/login"));
    app.unverified_customer_with(&app.client, "unconfirmed@example.com").await;
    let refused = app.submit("/creator", "Become a creator", &[]).await;
    let html =
        crate::helpers::html_of(app.client.get(app.url(&location(&refused).unwrap())).send().await.unwrap()).await;
    assert!(html.contains("Confirm your email address before selling"), "{html}");
    let creators: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM creators").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(creators, 0, "no Stripe account for an unconfirmed address");
}
