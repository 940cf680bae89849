//! Refunds and disputes of marketplace orders: the admin refunds from the order's page (by
//! default the creator's share is taken back and the platform's fee returned to them), the order
//! follows what Stripe settled, a full refund or a lost dispute takes the product back, and each
//! step is audited once.

use super::orders::{buyer_pays, buyer_pays_with_card, product_on_sale};
use crate::helpers::*;

/// A client logged in as the admin.
async fn admin(app: &TestApp) -> reqwest::Client {
    let admin = new_client();
    let res = app.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_redirect(&res, "/account");
    admin
}

/// Whether `GET /api/v1/entitlements`, asked in the buyer's session, names the product.
async fn holds(app: &TestApp, buyer: &reqwest::Client) -> bool {
    let res = buyer.get(app.url("/api/v1/entitlements")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let features = answer["features"].as_array().expect("features");
    features.iter().any(|f| f == "product:rust-for-founders")
}

#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct Settled {
    status: String,
    refunded: i64,
    fee_refunded: i64,
    transfer_reversed: i64,
}

async fn settled(app: &TestApp) -> Settled {
    sqlx::query_as("SELECT status, refunded, fee_refunded, transfer_reversed FROM orders")
        .fetch_one(app.db.pool())
        .await
        .expect("one order")
}

async fn the_order(app: &TestApp) -> (i64, String) {
    sqlx::query_as("SELECT id, payment_intent_id FROM orders WHERE payment_intent_id IS NOT NULL")
        .fetch_one(app.db.pool())
        .await
        .expect("one paid order")
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Posts the refund form of order `id` as a browser without JavaScript does, with `token`.
async fn post_refund(
    app: &TestApp,
    admin: &reqwest::Client,
    id: i64,
    fields: &[(&str, &str)],
    token: &str,
) -> reqwest::Response {
    let mut form: Vec<(&str, String)> = vec![("order", id.to_string()), ("token", token.to_owned())];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    admin.post(app.url("/api/admin_order_refund")).header("accept", BROWSER_ACCEPT).form(&form).send().await.unwrap()
}

#[tokio::test]
async fn a_full_refund_reverses_the_transfer_returns_the_fee_and_takes_the_product_back_once() {
    let app = spawn_app().await;
    let account = product_on_sale(&app, "25.00").await;
    let (buyer, _) = buyer_pays(&app).await;
    app.settle().await;
    let (id, payment_intent) = the_order(&app).await;
    let admin = admin(&app).await;
    assert!(holds(&app, &buyer).await, "the entitlements API names the product");

    let page = app.page_with(&admin, &format!("/admin/orders/{id}")).await;
    assert!(page.contains("Rust for Founders") && page.contains("$25.00") && page.contains("$2.50"), "{page}");
    assert!(page.contains("Take the creator&#x27;s share back") || page.contains("Take the creator's share back"));
    let token = hidden(&page, "token");
    assert_eq!(hidden(&page, "order"), id.to_string());

    // The defaults: everything left, transfer reversed, fee returned; a double submit is one refund.
    let defaults = [
        ("amount", "25.00"),
        ("reason", "requested_by_customer"),
        ("reverse_transfer", "on"),
        ("refund_application_fee", "on"),
    ];
    for _ in 0..2 {
        let res = post_refund(&app, &admin, id, &defaults, &token).await;
        assert_redirect(&res, &format!("/admin/orders/{id}"));
    }
    app.settle().await;
    let refunds = app.stripe_get_json(&format!("/v1/refunds?payment_intent={payment_intent}")).await;
    assert_eq!(refunds["data"].as_array().map(Vec::len), Some(1), "one refund: {refunds}");

    assert_eq!(
        settled(&app).await,
        Settled { status: "refunded".into(), refunded: 2500, fee_refunded: 250, transfer_reversed: 2500 }
    );
    // Stripe's side: the creator's transfer reversed, the platform's fee refunded.
    let charge = &app.stripe_get_json(&format!("/v1/charges?payment_intent={payment_intent}")).await["data"][0];
    let transfer = app.stripe_get_json(&format!("/v1/transfers/{}", charge["transfer"].as_str().unwrap())).await;
    assert_eq!((transfer["amount_reversed"].as_i64(), transfer["destination"].as_str()), (Some(2500), Some(&*account)));
    let fee =
        app.stripe_get_json(&format!("/v1/application_fees/{}", charge["application_fee"].as_str().unwrap())).await;
    assert_eq!(fee["amount_refunded"], 250);

    // The buyer no longer holds it; the order page says so, with its history.
    let library = html_of(buyer.get(app.url("/library")).send().await.unwrap()).await;
    assert!(!library.contains("Chapter one: ship it."), "{library}");
    assert!(!holds(&app, &buyer).await, "the entitlement is gone");
    let page = app.page_with(&admin, &format!("/admin/orders/{id}")).await;
    assert!(!page.contains("Refund order"), "nothing left to refund: {page}");
    for action in ["marketplace.refund", "marketplace.order_refunded", "marketplace.access_revoked"] {
        assert_eq!(audit_count(&app, action).await, 1, "{action} audited once");
        assert!(page.contains(action), "{action} in the order's history");
    }
    let (actor, ip): (String, Option<String>) =
        sqlx::query_as("SELECT actor_email, ip FROM audit_log WHERE action = 'marketplace.refund'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((actor.as_str(), ip.is_some()), (ADMIN_EMAIL, true));
}

#[tokio::test]
async fn a_partial_refund_keeps_the_fee_when_unticked_and_leaves_the_product_with_the_buyer() {
    let app = spawn_app().await;
    product_on_sale(&app, "25.00").await;
    let (buyer, _) = buyer_pays(&app).await;
    app.settle().await;
    let (id, _) = the_order(&app).await;
    let admin = admin(&app).await;
    let token = hidden(&app.page_with(&admin, &format!("/admin/orders/{id}")).await, "token");

    // Too much, or nothing, is refused with the range.
    let res = post_refund(&app, &admin, id, &[("amount", "30.00"), ("reason", "duplicate")], &token).await;
    assert_redirect(&res, &format!("/admin/orders/{id}"));
    let refused = app.page_with(&admin, &format!("/admin/orders/{id}")).await;
    assert!(alerts(&refused).iter().any(|a| a == "Refund between $0.01 and $25.00."), "{:?}", alerts(&refused));

    // Ten dollars back, the transfer reversed in proportion, the fee kept (checkbox unticked).
    let fields = [("amount", "10.00"), ("reason", "requested_by_customer"), ("reverse_transfer", "on")];
    post_refund(&app, &admin, id, &fields, &token).await;
    app.settle().await;
    assert_eq!(
        settled(&app).await,
        Settled { status: "partially_refunded".into(), refunded: 1000, fee_refunded: 0, transfer_reversed: 1000 }
    );
    let library = html_of(buyer.get(app.url("/library")).send().await.unwrap()).await;
    assert!(library.contains("Chapter one: ship it."), "a partial refund is goodwill: {library}");
    assert_eq!(audit_count(&app, "marketplace.access_revoked").await, 0);

    // The rest is still refundable, and the payments page sends the admin here for it.
    let page = app.page_with(&admin, &format!("/admin/orders/{id}")).await;
    assert!(page.contains(r#"value="15.00""#), "{page}");
}

#[tokio::test]
async fn the_generic_refund_form_sends_a_marketplace_payment_to_its_order() {
    let app = spawn_app().await;
    product_on_sale(&app, "25.00").await;
    buyer_pays(&app).await;
    app.settle().await;
    let (id, payment_intent) = the_order(&app).await;
    let admin = admin(&app).await;
    let form = [
        ("payment", payment_intent.as_str()),
        ("amount", "25.00"),
        ("reason", "duplicate"),
        ("token", "0123456789abcdef0123"),
    ];
    let res = admin.post(app.url("/api/admin_refund")).header("accept", "application/json").form(&form).send().await;
    let text = res.unwrap().text().await.unwrap();
    assert!(text.contains(&format!("refund it from /admin/orders/{id}")), "{text}");
    let refunds = app.stripe_get_json(&format!("/v1/refunds?payment_intent={payment_intent}")).await;
    assert_eq!(refunds["data"].as_array().map(Vec::len), Some(0), "nothing refunded: {refunds}");
}

#[tokio::test]
async fn a_direct_charge_is_refunded_on_the_creators_account_and_settled_from_the_connect_endpoint() {
    let app = spawn_app_with(&[("CONNECT_CHARGES", "direct")]).await;
    let account = product_on_sale(&app, "25.00").await;
    let (buyer, _) = buyer_pays(&app).await;
    app.settle().await;
    let (id, _) = the_order(&app).await;
    let admin = admin(&app).await;
    let page = app.page_with(&admin, &format!("/admin/orders/{id}")).await;
    assert!(!page.contains("reverse the transfer"), "no transfer on a direct charge: {page}");
    let token = hidden(&page, "token");
    let fields = [("amount", "25.00"), ("reason", "requested_by_customer"), ("refund_application_fee", "on")];
    post_refund(&app, &admin, id, &fields, &token).await;
    app.settle().await;
    assert_eq!(
        settled(&app).await,
        Settled { status: "refunded".into(), refunded: 2500, fee_refunded: 250, transfer_reversed: 0 }
    );
    let from_connect: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_events WHERE event_type = 'charge.refunded' AND account = $1 \
         AND status = 'processed' AND note IS NULL",
    )
    .bind(&account)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(from_connect, 1, "settled by the Connect endpoint's event");
    let library = html_of(buyer.get(app.url("/library")).send().await.unwrap()).await;
    assert!(!library.contains("Chapter one: ship it."), "{library}");
}

#[tokio::test]
async fn a_disputed_order_cannot_be_refunded_and_a_lost_dispute_takes_the_product_back() {
    let app = spawn_app().await;
    product_on_sale(&app, "25.00").await;
    let (buyer, _) = buyer_pays_with_card(&app, "4000 0000 0000 0259").await;
    app.settle().await;
    assert_eq!(settled(&app).await.status, "disputed");
    assert_eq!(audit_count(&app, "marketplace.order_disputed").await, 1);
    let library = html_of(buyer.get(app.url("/library")).send().await.unwrap()).await;
    assert!(library.contains("Chapter one: ship it."), "access holds while the dispute is open: {library}");

    let (id, payment_intent) = the_order(&app).await;
    let admin = admin(&app).await;
    let page = app.page_with(&admin, &format!("/admin/orders/{id}")).await;
    assert!(!page.contains("Refund order"), "no refund form while disputed: {page}");

    let disputes = app.stripe_get_json(&format!("/v1/disputes?payment_intent={payment_intent}")).await;
    let dispute = disputes["data"][0]["id"].as_str().expect("the dispute").to_owned();
    let closed = app
        .client
        .post(format!("{}/v1/disputes/{dispute}/close", app.sandbox_url))
        .bearer_auth("sk_test_tollgate_sandbox")
        .send()
        .await
        .unwrap();
    assert!(closed.status().is_success());
    app.settle().await;
    let library = html_of(buyer.get(app.url("/library")).send().await.unwrap()).await;
    assert!(!library.contains("Chapter one: ship it."), "a lost dispute takes it back: {library}");
    let reason: String =
        sqlx::query_scalar("SELECT revoke_reason FROM library").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(reason, "dispute_lost");
    assert_eq!(audit_count(&app, "marketplace.access_revoked").await, 1);
}

#[tokio::test]
async fn a_won_dispute_gives_the_order_back_its_paid_state_once_and_keeps_the_buyers_access() {
    let app = spawn_app().await;
    product_on_sale(&app, "25.00").await;
    let (buyer, _) = buyer_pays_with_card(&app, "4000 0000 0000 0259").await;
    app.settle().await;
    assert_eq!(settled(&app).await.status, "disputed");

    // Stripe's test-mode evidence that wins; the verdict's events are delivered twice.
    let (_, payment_intent) = the_order(&app).await;
    let disputes = app.stripe_get_json(&format!("/v1/disputes?payment_intent={payment_intent}")).await;
    let dispute = disputes["data"][0]["id"].as_str().expect("the dispute").to_owned();
    let chaos = serde_json::json!({"duplicate_share": 1.0, "reorder_window": 0, "delay_ms": 0, "concurrency": 2});
    let set = app.client.post(format!("{}/_sandbox/chaos", app.sandbox_url)).json(&chaos).send().await.unwrap();
    assert!(set.status().is_success());
    let answered = app
        .client
        .post(format!("{}/v1/disputes/{dispute}", app.sandbox_url))
        .bearer_auth("sk_test_tollgate_sandbox")
        .form(&[("evidence[uncategorized_text]", "winning_evidence")])
        .send()
        .await
        .unwrap();
    assert!(answered.status().is_success());
    app.settle().await;

    let order = settled(&app).await;
    assert_eq!(order, Settled { status: "paid".into(), refunded: 0, fee_refunded: 0, transfer_reversed: 0 });
    assert_eq!(audit_count(&app, "marketplace.dispute_won").await, 1);
    assert_eq!(audit_count(&app, "marketplace.access_revoked").await, 0);
    let library = html_of(buyer.get(app.url("/library")).send().await.unwrap()).await;
    assert!(library.contains("Chapter one: ship it."), "the buyer keeps the product: {library}");
    assert!(holds(&app, &buyer).await);
    let stored: String = sqlx::query_scalar("SELECT status FROM disputes").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(stored, "won");
}
