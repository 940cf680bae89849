//! A creator's product paid on the app's own page with the Payment Element (issue 15): the same
//! fee and destination as through Checkout, one pending order per attempt, and one paid order and
//! library entry whichever of the return to `/library` and `payment_intent.succeeded` comes
//! first. Stripe.js's half is played by `helpers::stripe_js`.

use super::orders::product_on_sale;
use crate::helpers::*;

const PAGE: &str = "/p/rust-for-founders/pay";
const START: &str = "/api/store/start_payment";
const DECLINED: &str = "4000000000000002";

/// (status, payment intent, checkout session) of the only order.
async fn the_order(app: &TestApp) -> (String, Option<String>, Option<String>) {
    sqlx::query_as("SELECT status, payment_intent_id, checkout_session_id FROM orders")
        .fetch_one(app.db.pool())
        .await
        .expect("one order")
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(app.db.pool()).await.unwrap()
}

/// A verified buyer on their own client, and the attempt token of the pay page they opened.
async fn buyer_on_the_pay_page(app: &TestApp) -> (reqwest::Client, String, String) {
    let buyer = new_client();
    app.customer_with(&buyer, &unique_email("element-buyer")).await;
    let page = app.page_with(&buyer, PAGE).await;
    let attempt = hidden(&page, "attempt");
    (buyer, page, attempt)
}

#[tokio::test]
async fn a_product_is_paid_on_the_apps_page_declined_then_paid_with_the_fee_and_granted_once() {
    let app = spawn_app_with(&[("CHECKOUT_UI", "elements")]).await;
    let account = product_on_sale(&app, "25.00").await;

    // The product page leads to the app's own pay page, which offers Checkout without JavaScript.
    let product = app.page("/p/rust-for-founders").await;
    assert!(product.contains(r#"href="/p/rust-for-founders/pay""#), "{product}");
    let (buyer, page, attempt) = buyer_on_the_pay_page(&app).await;
    assert!(page.contains("Rust for Founders") && page.contains("$25.00"), "{page}");
    assert_eq!(data_attribute(&page, "publishable-key"), PUBLISHABLE_KEY);
    assert_eq!(data_attribute(&page, "amount"), "2500");
    assert_eq!(data_attribute(&page, "start"), START);
    assert!(!page.contains("data-stripe-account"), "a destination charge is confirmed on the platform: {page}");
    assert!(page.contains("Pay on Stripe\u{2019}s page"), "{page}");

    // "Pay", twice: one PaymentIntent and one pending order for the attempt.
    let fields = [("slug", "rust-for-founders"), ("attempt", attempt.as_str())];
    let (status, started) = app.start_intent(&buyer, START, &fields).await;
    assert_eq!(status, 200, "{started}");
    let (_, again) = app.start_intent(&buyer, START, &fields).await;
    assert_eq!(again["client_secret"], started["client_secret"], "{again}");
    let secret = started["client_secret"].as_str().unwrap().to_owned();
    let back = started["return_url"].as_str().unwrap().to_owned();
    assert_eq!(path_of(&back), "/library");
    let pi = secret.split("_secret_").next().unwrap().to_owned();
    assert_eq!(the_order(&app).await, ("pending".into(), Some(pi.clone()), None));

    // In Stripe: the creator is paid, the platform keeps 10%, the buyer is the platform's customer.
    let intent = app.stripe_get_json(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(intent["amount"], 2500);
    assert_eq!(intent["application_fee_amount"], 250);
    assert_eq!(intent["transfer_data"]["destination"], account.as_str());
    assert_eq!(intent["metadata"]["tollgate_product"].as_str().map(str::is_empty), Some(false));
    assert!(intent["customer"].as_str().is_some_and(|c| c.starts_with("cus_")), "{intent}");

    // Declined: nothing granted, and the library says why if the buyer lands there.
    let declined = app.confirm_with_card(&secret, DECLINED, &back).await;
    assert_eq!(declined["error"]["code"], "card_declined", "{declined}");
    let library = app.page_with(&buyer, &format!("/library?payment_intent={pi}")).await;
    assert!(library.contains("Your card was declined.") && library.contains("Nothing was charged"), "{library}");
    assert!(!library.contains("Chapter one: ship it."), "{library}");

    // The retry on the same intent pays; the return grants; the webhook changes nothing.
    let paid = app.confirm_with_card(&secret, "4242424242424242", &back).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let library = app.page_with(&buyer, &format!("/library?payment_intent={pi}&redirect_status=succeeded")).await;
    assert!(library.contains("Thank you: your purchase is in your library."), "{library}");
    assert!(library.contains("Chapter one: ship it."), "{library}");
    app.settle().await;
    assert_eq!(the_order(&app).await.0, "paid");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM library").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.order_paid'").await, 1);
    let applied = count(
        &app,
        "SELECT COUNT(*) FROM webhook_events WHERE event_type = 'payment_intent.succeeded' AND status = 'processed'",
    )
    .await;
    assert_eq!(applied, 1, "the platform endpoint's event was applied (and found the order paid)");

    // A bought product is not paid for twice.
    let page = app.page_with(&buyer, PAGE).await;
    let fresh = hidden(&page, "attempt");
    let (status, refused) =
        app.start_intent(&buyer, START, &[("slug", "rust-for-founders"), ("attempt", fresh.as_str())]).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("You own this product already"), "{refused}");
}

#[tokio::test]
async fn the_webhook_alone_grants_when_the_buyer_never_comes_back() {
    let app = spawn_app_with(&[]).await;
    product_on_sale(&app, "25.00").await;
    let (buyer, _, attempt) = buyer_on_the_pay_page(&app).await;
    let (_, started) = app.start_intent(&buyer, START, &[("slug", "rust-for-founders"), ("attempt", &attempt)]).await;
    let paid =
        app.confirm_with_card(started["client_secret"].as_str().unwrap(), "4242424242424242", "https://x.test").await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    app.settle().await;
    assert_eq!(the_order(&app).await.0, "paid");
    let library = app.page_with(&buyer, "/library").await;
    assert!(library.contains("Chapter one: ship it."), "{library}");
}

#[tokio::test]
async fn a_direct_charge_is_confirmed_on_the_creators_account_and_granted_from_the_connect_endpoint() {
    let app = spawn_app_with(&[("CONNECT_CHARGES", "direct")]).await;
    let account = product_on_sale(&app, "25.00").await;
    let (buyer, page, attempt) = buyer_on_the_pay_page(&app).await;
    assert_eq!(data_attribute(&page, "stripe-account"), account, "Stripe.js is made with stripeAccount");
    let (status, started) =
        app.start_intent(&buyer, START, &[("slug", "rust-for-founders"), ("attempt", &attempt)]).await;
    assert_eq!(status, 200, "{started}");
    let secret = started["client_secret"].as_str().unwrap();

    // The intent lives on the creator's account: the platform's key alone does not find it.
    let pi = secret.split("_secret_").next().unwrap();
    let on_platform = reqwest::Client::new()
        .get(format!("{}/v1/payment_intents/{pi}", app.sandbox_url))
        .bearer_auth("sk_test_tollgate_sandbox")
        .send()
        .await
        .unwrap();
    assert_eq!(on_platform.status().as_u16(), 404);

    let paid = app.confirm_on_account(Some(&account), secret, "4242424242424242", "https://x.test").await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    app.settle().await;
    assert_eq!(the_order(&app).await.0, "paid");
    let from_connect = super::processed_on_account(&app, "payment_intent.succeeded", &account).await;
    assert_eq!(from_connect, 1, "fulfilled by the Connect endpoint's event");
    let fee: i64 = count(&app, "SELECT fee FROM orders").await;
    assert_eq!(fee, 250);
    let library = app.page_with(&buyer, "/library").await;
    assert!(library.contains("Chapter one: ship it."), "{library}");
}

#[tokio::test]
async fn another_buyers_payment_confirms_nothing() {
    let app = spawn_app_with(&[]).await;
    product_on_sale(&app, "25.00").await;
    let (buyer, _, attempt) = buyer_on_the_pay_page(&app).await;
    let (_, started) = app.start_intent(&buyer, START, &[("slug", "rust-for-founders"), ("attempt", &attempt)]).await;
    let secret = started["client_secret"].as_str().unwrap();
    let pi = secret.split("_secret_").next().unwrap();
    app.confirm_with_card(secret, "4242424242424242", "https://x.test").await;

    let stranger = new_client();
    app.customer_with(&stranger, &unique_email("stranger")).await;
    let library = app.page_with(&stranger, &format!("/library?payment_intent={pi}")).await;
    assert!(library.contains("This purchase belongs to another account."), "{library}");
    assert!(!library.contains("Chapter one: ship it."), "{library}");
    let nonsense = app.page_with(&stranger, "/library?payment_intent=pi_nope").await;
    assert!(nonsense.contains("We could not find that purchase."), "{nonsense}");
}
