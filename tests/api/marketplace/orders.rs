//! Buying from a creator: a destination charge (or, with `CONNECT_CHARGES=direct`, a charge on
//! the creator's account) with the platform's fee; one paid order and one library entry
//! whichever of the success page and the webhook comes first.

use super::{enabled_creator_banking_at, path_of, PAYING_BANK};
use crate::helpers::{html_of, location, new_client, spawn_app_with, unique_email, TestApp};

/// An enabled creator (on `app.client`) with "Rust for Founders" on sale at `price`; returns
/// the creator's account id.
pub async fn product_on_sale(app: &TestApp, price: &str) -> String {
    product_on_sale_banking_at(app, price, PAYING_BANK).await
}

/// [`product_on_sale`] by a creator who gave `account_number` for their payouts.
pub async fn product_on_sale_banking_at(app: &TestApp, price: &str, account_number: &str) -> String {
    app.customer(&unique_email("author")).await;
    let account = enabled_creator_banking_at(app, account_number).await;
    app.submit(
        "/creator",
        "Save draft",
        &[
            ("title", "Rust for Founders"),
            ("description", "A guide."),
            ("price", price),
            ("content", "Chapter one: ship it."),
        ],
    )
    .await;
    let page = super::products::set_published(app, "rust-for-founders", true).await;
    assert!(page.contains("is on sale at /p/rust-for-founders"), "{page}");
    account
}

/// A buyer (own client) who pays for the product on the hosted Checkout page; returns the
/// client and the Checkout return URL (not yet visited).
pub async fn buyer_pays(app: &TestApp) -> (reqwest::Client, String) {
    buyer_pays_with_card(app, "4242 4242 4242 4242").await
}

/// As [`buyer_pays`], with a test `card` (e.g. one that is disputed after paying).
pub async fn buyer_pays_with_card(app: &TestApp, card: &str) -> (reqwest::Client, String) {
    let buyer = new_client();
    app.customer_with(&buyer, &unique_email("buyer")).await;
    let res = app.submit_with(&buyer, "/p/rust-for-founders", "Buy for $25.00", &[]).await;
    let checkout = location(&res).expect("to Checkout");
    assert!(checkout.starts_with(&app.sandbox_url), "{checkout}");
    let paid = buyer
        .post(&checkout)
        .form(&[("card_number", card), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 303);
    (buyer, location(&paid).expect("back to the app"))
}

async fn order_row(app: &TestApp) -> (String, i64, i64, String, Option<String>) {
    sqlx::query_as("SELECT status, amount, fee, charge_type, payment_intent_id FROM orders")
        .fetch_one(app.db.pool())
        .await
        .expect("one order")
}

#[tokio::test]
async fn a_destination_charge_pays_the_creator_keeps_the_fee_and_grants_the_product_once() {
    let app = spawn_app_with(&[]).await;
    let account = product_on_sale(&app, "25.00").await;
    let (buyer, back) = buyer_pays(&app).await;

    // The success page confirms at once and delivers the content.
    let library = html_of(buyer.get(app.url(&path_of(&back))).send().await.unwrap()).await;
    assert!(library.contains("Thank you: your purchase is in your library."), "{library}");
    assert!(library.contains("Chapter one: ship it."), "{library}");
    let (status, amount, fee, charge_type, payment_intent) = order_row(&app).await;
    assert_eq!((status.as_str(), amount, fee, charge_type.as_str()), ("paid", 2500, 250, "destination"));

    // In Stripe: the charge went to the creator, the platform kept 10%.
    let pi = payment_intent.expect("the payment intent is kept");
    let intent = app.stripe_get_json(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(intent["application_fee_amount"], 250);
    assert_eq!(intent["transfer_data"]["destination"], account.as_str());

    // The webhook came too: it found the order paid and changed nothing.
    app.settle().await;
    let granted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM library").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(granted, 1, "one library entry");
    let audits: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.order_paid'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(audits, 1, "one audit row, by Stripe");

    // Buying again goes straight to the library.
    let again = app.submit_with(&buyer, "/p/rust-for-founders", "Buy for $25.00", &[]).await;
    assert_eq!(location(&again).as_deref(), Some("/library"));
}

#[tokio::test]
async fn the_webhook_alone_grants_when_the_buyer_never_comes_back() {
    let app = spawn_app_with(&[]).await;
    product_on_sale(&app, "25.00").await;
    let (buyer, _never_visited) = buyer_pays(&app).await;
    app.settle().await;
    assert_eq!(order_row(&app).await.0, "paid");
    let library = html_of(buyer.get(app.url("/library")).send().await.unwrap()).await;
    assert!(library.contains("Chapter one: ship it."), "{library}");
}

#[tokio::test]
async fn a_direct_charge_is_granted_from_the_connect_endpoint_alone() {
    let app = spawn_app_with(&[("CONNECT_CHARGES", "direct")]).await;
    let account = product_on_sale(&app, "25.00").await;
    let (buyer, _success_page_blocked) = buyer_pays(&app).await;
    app.settle().await;
    let (status, _, fee, charge_type, _) = order_row(&app).await;
    assert_eq!((status.as_str(), fee, charge_type.as_str()), ("paid", 250, "direct"));
    let from_connect = super::processed_on_account(&app, "checkout.session.completed", &account).await;
    assert_eq!(from_connect, 1, "fulfilled by the Connect endpoint's event");
    let library = html_of(buyer.get(app.url("/library")).send().await.unwrap()).await;
    assert!(library.contains("Chapter one: ship it."), "{library}");
}

#[tokio::test]
async fn creators_cannot_buy_their_own_product_and_nobody_buys_a_draft() {
    let app = spawn_app_with(&[]).await;
    product_on_sale(&app, "25.00").await;
    let own = app.submit("/p/rust-for-founders", "Buy for $25.00", &[]).await;
    let back = location(&own).unwrap();
    assert!(html_of(app.client.get(app.url(&back)).send().await.unwrap()).await.contains("This is your own product."));
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(orders, 0);
}
