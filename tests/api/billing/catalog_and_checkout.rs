//! Billing through the embedded sandbox: catalog sync, Checkout on the hosted page, signed
//! webhooks into the inbox, the worker's projections.

use tollgate::server::billing::price_book::PriceBook;
use tollgate::server::billing::{checkout, fulfil};
use tollgate::server::catalog;

use crate::helpers::{eventually, insert_user, spawn_app, Api, TestApp};

#[tokio::test]
async fn serve_syncs_the_catalog_into_the_sandbox_and_a_second_sync_changes_nothing() {
    let app = spawn_app().await;
    let cat = catalog::load(std::path::Path::new(catalog::DEFAULT_PATH)).unwrap();
    let report = catalog::sync::sync(&app.stripe, &cat).await.unwrap();
    assert!(!report.changed_anything(), "{report}");
    assert_eq!(report.prices_unchanged.len(), cat.prices().count() + cat.usage.prices.len(), "metered prices too");
    let prices = catalog::sync::resolve(&app.stripe, &cat).await.unwrap();
    assert!(prices.contains_key("pro_monthly"));
}

#[tokio::test]
async fn a_changed_amount_makes_a_new_price_and_moves_the_lookup_key() {
    let app = spawn_app().await;
    let text = std::fs::read_to_string(catalog::DEFAULT_PATH).unwrap();
    let before = catalog::sync::resolve(&app.stripe, &catalog::parse(&text).unwrap()).await.unwrap();
    let changed = catalog::parse(&text.replace("monthly = 2900", "monthly = 3900")).unwrap();
    let report = catalog::sync::sync(&app.stripe, &changed).await.unwrap();
    let replaced: Vec<_> = report.prices_replaced.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(replaced, ["pro_monthly"]);
    let after = catalog::sync::resolve(&app.stripe, &changed).await.unwrap();
    assert_ne!(before["pro_monthly"], after["pro_monthly"]);
    assert_eq!(before["pro_yearly"], after["pro_yearly"]);
    assert!(!catalog::sync::sync(&app.stripe, &changed).await.unwrap().changed_anything());
}

#[tokio::test]
async fn checkout_on_the_hosted_page_becomes_an_active_subscription_through_webhooks_alone() {
    let app = spawn_app().await;
    let pool = app.db.pool().clone();
    let user_id = insert_user(&pool, "buyer@example.com").await;
    let cat = catalog::load(std::path::Path::new(catalog::DEFAULT_PATH)).unwrap();
    let prices = catalog::sync::resolve(&app.stripe, &cat).await.unwrap();

    let customer = checkout::ensure_customer(&pool, &app.stripe, user_id, "buyer@example.com", 0).await.unwrap();
    let again = checkout::ensure_customer(&pool, &app.stripe, user_id, "buyer@example.com", 0).await.unwrap();
    assert_eq!(customer, again, "one Stripe customer per user");
    let session = checkout::create_session(
        &app.stripe,
        &checkout::CheckoutRequest {
            user_id,
            customer_id: &customer,
            price_id: prices["pro_monthly"].as_str(),
            lookup_key: "pro_monthly",
            recurring: true,
            quantity: checkout::Quantity::One,
            trial: None,
            app_url: &app.address,
            now: 0,
            brand: None,
            ui: checkout::SessionUi::Hosted,
        },
    )
    .await
    .unwrap();

    // The buyer pays on the hosted page and never comes back to the success page.
    let paid = app
        .client
        .post(session.url.clone().unwrap())
        .form(&[("card_number", "4242 4242 4242 4242"), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 303);
    let location = paid.headers()["location"].to_str().unwrap();
    assert!(location.contains(&format!("session_id={}", session.id.as_str())), "{location}");

    eventually(&pool, "SELECT COUNT(*) FROM subscriptions WHERE status = 'active' AND mrr = 2900", 1).await;
    eventually(&pool, "SELECT COUNT(*) FROM invoices WHERE status = 'paid' AND amount_paid = 2900", 1).await;
    eventually(&pool, "SELECT COUNT(*) FROM emails WHERE kind = 'receipt' AND to_address = 'buyer@example.com'", 1)
        .await;
    eventually(&pool, "SELECT COUNT(*) FROM mrr_movements WHERE kind = 'new' AND delta = 2900", 1).await;
    eventually(&pool, "SELECT COUNT(*) FROM webhook_events WHERE status IN ('pending', 'retrying', 'dead')", 0).await;

    // Dual confirmation: the success page's fulfilment, run now, changes nothing more.
    let cs = fulfil::retrieve_session(&app.stripe, &session.id).await.unwrap();
    fulfil::fulfil_checkout_session(&pool, &app.stripe, &cs, "success-page", 0).await.unwrap();
    let movements: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mrr_movements").fetch_one(&pool).await.unwrap();
    assert_eq!(movements, 1);
    let receipts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM emails").fetch_one(&pool).await.unwrap();
    assert_eq!(receipts, 1);
}

/// The stored subscription of `email`: its id, price and plan lookup key.
async fn stored_subscription(app: &TestApp, email: &str) -> (String, String, Option<String>) {
    sqlx::query_as(
        "SELECT s.id, s.price_id, s.lookup_key FROM subscriptions s \
         JOIN users u ON u.stripe_customer_id = s.customer_id WHERE u.email = $1",
    )
    .bind(email)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_subscriber_keeps_their_plan_when_catalog_sync_replaces_its_price() {
    let app = spawn_app().await;
    let email = app.paying_customer("replaced", "business", "4242 4242 4242 4242").await;
    let (id, old_price, _) = stored_subscription(&app, &email).await;
    let text = std::fs::read_to_string(catalog::DEFAULT_PATH).unwrap();
    let changed = catalog::parse(&text.replace("monthly = 9900", "monthly = 10900")).unwrap();
    catalog::sync::sync(&app.stripe, &changed).await.unwrap();
    let api = Api { http: reqwest::Client::new(), base: app.sandbox_url.clone() };
    // Any change has the worker re-read the subscription from Stripe.
    api.post(&format!("/v1/subscriptions/{id}"), &[("metadata[note]", "after sync".into())]).await;
    app.settle().await;
    let stripe_subscription = app.stripe_get_json(&format!("/v1/subscriptions/{id}")).await;
    let price = &stripe_subscription["items"]["data"][0]["price"];
    assert_eq!((price["id"].as_str(), &price["lookup_key"]), (Some(old_price.as_str()), &serde_json::Value::Null));

    // Known by the metadata catalog sync gave the price.
    let (_, price_id, lookup_key) = stored_subscription(&app, &email).await;
    assert_eq!((price_id.as_str(), lookup_key.as_deref()), (old_price.as_str(), Some("business_monthly")));
    // A price book resolved after the sync (a restart) no longer lists the old price's id, and
    // still names the plan.
    let book = PriceBook::resolve(&app.stripe, changed).await.unwrap();
    let (plan, _) = book.plan_of(lookup_key.as_deref(), &price_id).expect("the subscriber's plan");
    assert_eq!(plan.key.as_str(), "business");
    app.log_in_as_admin().await;
    let listed = app.page("/admin/subscriptions?plan=business_monthly").await;
    assert!(listed.contains(&email), "the admin's plan filter finds the subscriber");

    // Known by the local price table when the metadata is gone too.
    api.post(&format!("/v1/prices/{old_price}"), &[("metadata[tollgate_lookup_key]", String::new())]).await;
    api.post(&format!("/v1/subscriptions/{id}"), &[("metadata[note]", "metadata gone".into())]).await;
    app.settle().await;
    let (_, _, lookup_key) = stored_subscription(&app, &email).await;
    assert_eq!(lookup_key.as_deref(), Some("business_monthly"));
}
