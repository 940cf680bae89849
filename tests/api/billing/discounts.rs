//! Discounts through Checkout: a purchase that a promotion code pays entirely (nothing charged:
//! Stripe reports `no_payment_required` and makes no PaymentIntent) is fulfilled like a paid one,
//! by the success page and by the webhook, once; a subscription free for good starts with no MRR.

use crate::helpers::*;

impl TestApp {
    /// A promotion code `code` for a coupon made of `coupon` (Stripe's coupon parameters).
    async fn promotion_code(&self, code: &str, coupon: &[(&str, &str)]) {
        let api = self.stripe_api();
        let coupon: Vec<(&str, String)> = coupon.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let coupon = api.post("/v1/coupons", &coupon).await["id"].as_str().unwrap().to_string();
        let form =
            [("promotion[type]", "coupon".to_string()), ("promotion[coupon]", coupon), ("code", code.to_string())];
        api.post("/v1/promotion_codes", &form).await;
    }

    /// Pays the hosted Checkout page at `checkout` with `code` entered; returns where it sends
    /// the browser (the app's success page) as a path.
    async fn pay_with_code(&self, checkout: &str, code: &str) -> String {
        let form =
            [("promotion_code", code), ("card_number", "4242 4242 4242 4242"), ("expiry", "12 / 34"), ("cvc", "123")];
        let paid = self.client.post(checkout).form(&form).send().await.unwrap();
        assert_eq!(paid.status().as_u16(), 303, "Checkout accepted the code");
        let back = url::Url::parse(&location(&paid).unwrap()).unwrap();
        format!("{}?{}", back.path(), back.query().unwrap_or_default())
    }
}

#[tokio::test]
async fn a_purchase_paid_entirely_by_a_promotion_code_is_granted_once() {
    let app = spawn_app().await;
    app.promotion_code("ONBOARDFREE", &[("percent_off", "100"), ("duration", "once")]).await;
    let email = unique_email("free-buyer");
    app.customer(&email).await;
    let res = app.submit("/pricing", "Buy", &[("item", "onboarding")]).await;
    let checkout = location(&res).expect("Buy goes to Checkout");
    let back = app.pay_with_code(&checkout, "ONBOARDFREE").await;
    assert!(back.starts_with("/checkout/success?session_id=cs_"), "{back}");
    let session_id = back.rsplit('=').next().unwrap();
    let session = app.stripe_get_json(&format!("/v1/checkout/sessions/{session_id}")).await;
    assert_eq!(
        (session["payment_status"].as_str(), session["amount_total"].as_i64(), session["payment_intent"].as_str()),
        (Some("no_payment_required"), Some(0), None),
        "{session}"
    );

    // The success page grants it (whichever of it and the webhook comes first)...
    let success = app.page(&back).await;
    assert!(success.contains("Thank you: your purchase is complete."), "{success}");
    app.settle().await;
    // ...and the webhook, applied too, grants nothing more.
    let granted = "SELECT COUNT(*) FROM entitlements e JOIN users u ON u.id = e.user_id \
                   WHERE u.email = $1 AND e.grant_key = 'onboarding' AND e.revoked_at IS NULL";
    let count: i64 = sqlx::query_scalar(granted).bind(&email).fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(count, 1);
    let success_again = app.page(&back).await;
    assert!(success_again.contains("Thank you: your purchase is complete."));
    let count: i64 = sqlx::query_scalar(granted).bind(&email).fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(count, 1, "granted once");
    let payments: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(payments, 0, "nothing was charged");
}

#[tokio::test]
async fn a_subscription_free_for_good_is_active_with_no_mrr() {
    let app = spawn_app().await;
    app.promotion_code("FRIENDS", &[("percent_off", "100"), ("duration", "forever")]).await;
    let email = unique_email("free-subscriber");
    app.customer(&email).await;
    app.trial_used(&email).await;
    let res = app.submit("/pricing", "Subscribe", &[("plan", "pro"), ("interval", "month")]).await;
    let checkout = location(&res).expect("Subscribe goes to Checkout");
    let back = app.pay_with_code(&checkout, "FRIENDS").await;
    let success = app.page(&back).await;
    assert!(success.contains("Your Pro plan is active."), "{success}");
    app.settle().await;
    let (status, mrr): (String, i64) = sqlx::query_as(
        "SELECT s.status, s.mrr FROM subscriptions s JOIN users u ON u.stripe_customer_id = s.customer_id WHERE u.email = $1",
    )
    .bind(&email)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!((status.as_str(), mrr), ("active", 0));
    let movements: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM mrr_movements").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(movements, 0, "no revenue, no movement");
    let account = app.page("/account").await;
    assert!(account.contains(">Active</dd>"), "{account}");
}

#[tokio::test]
async fn the_account_shows_the_discount_and_when_it_ends() {
    let app = spawn_app().await;
    app.promotion_code("HALFOFF", &[("percent_off", "12.5"), ("duration", "repeating"), ("duration_in_months", "3")])
        .await;
    let email = unique_email("discounted");
    app.customer(&email).await;
    app.trial_used(&email).await;
    let res = app.submit("/pricing", "Subscribe", &[("plan", "pro"), ("interval", "month")]).await;
    let back = app.pay_with_code(&location(&res).unwrap(), "HALFOFF").await;
    app.page(&back).await;
    app.settle().await;
    let end = app
        .stripe_get_json(&format!(
            "/v1/subscriptions/{}?expand[]=discounts",
            app.stripe_subscription_of(&email).await["id"].as_str().unwrap()
        ))
        .await["discounts"][0]["end"]
        .as_i64()
        .expect("a repeating discount ends");
    let account = app.page("/account").await;
    let until = tollgate::views::format::day(end);
    assert!(account.contains(&format!("12.5% off each invoice until {until}")), "{account}");
    let mrr: i64 = sqlx::query_scalar(
        "SELECT s.mrr FROM subscriptions s JOIN users u ON u.stripe_customer_id = s.customer_id WHERE u.email = $1",
    )
    .bind(&email)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(mrr, 2538, "2,900 less 12.5% (2,537.5, rounded half up)");

    // Once it has ended, the account says nothing of it.
    app.advance_to(end + 3600).await;
    let account = app.page("/account").await;
    assert!(account.contains(">Active</dd>") && !account.contains(">Discount</dt>"), "{account}");
}
