//! Paying on the app's own pages (issue 15): a one-time item with the Payment Element, a plan with
//! the Payment Element or embedded Checkout, a new card through a SetupIntent. Stripe.js's half
//! is played by `helpers::stripe_js` (the real script runs in Chromium, `payment-element.spec.ts`).

use crate::helpers::*;

const DECLINED: &str = "4000000000000002";
const ALWAYS_AUTHENTICATE: &str = "4000002760003184";
/// Attaches, then declines every charge: a renewal that fails.
const ATTACH_THEN_DECLINE: &str = "4000000000000341";

async fn grants_of(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM entitlements e JOIN users u ON u.id = e.user_id \
         WHERE u.email = $1 AND e.grant_key = 'onboarding' AND e.revoked_at IS NULL",
    )
    .bind(email)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_one_time_item_is_paid_on_the_apps_page_declined_then_paid_and_granted_once() {
    let app = spawn_app().await;
    let email = unique_email("element-buyer");
    app.customer(&email).await;

    // The page: what Stripe.js needs, the script, and Stripe's hosted page without JavaScript.
    let page = app.page("/buy/onboarding").await;
    assert!(page.contains("Onboarding session") && page.contains("$199.00"), "{page}");
    assert_eq!(data_attribute(&page, "publishable-key"), PUBLISHABLE_KEY);
    assert_eq!(data_attribute(&page, "kind"), "payment");
    assert_eq!(data_attribute(&page, "amount"), "19900");
    assert_eq!(data_attribute(&page, "currency"), "usd");
    assert_eq!(data_attribute(&page, "start"), "/api/pay/start_item");
    assert!(page.contains(r#"<script src="/payment-element.js""#), "{page}");
    assert!(page.contains(r#"id="payment-without-js""#) && page.contains("Pay on Stripe\u{2019}s page"), "{page}");
    let attempt = hidden(&page, "attempt");

    // "Pay": one PaymentIntent per attempt, however often it is asked for.
    let fields = [("item", "onboarding"), ("attempt", attempt.as_str())];
    let (status, started) = app.start_intent(&app.client, "/api/pay/start_item", &fields).await;
    assert_eq!(status, 200, "{started}");
    let secret = started["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pi_"), "{started}");
    assert_eq!(path_of(started["return_url"].as_str().unwrap()), "/buy/onboarding/complete");
    let (_, again) = app.start_intent(&app.client, "/api/pay/start_item", &fields).await;
    assert_eq!(again["client_secret"], secret.as_str(), "a double click confirms the same intent: {again}");
    let pi = secret.split("_secret_").next().unwrap().to_owned();
    let stripe = app.stripe_get_json(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(stripe["amount"], 19900);
    assert_eq!(stripe["metadata"]["tollgate_item"], "onboarding_once");
    assert_eq!(stripe["automatic_payment_methods"]["enabled"], true);

    // Declined: Stripe.js shows the error; the return page (if reached) says nothing was charged.
    let declined = app.confirm_with_card(&secret, DECLINED, &app.url("/buy/onboarding/complete")).await;
    assert_eq!(declined["error"]["code"], "card_declined", "{declined}");
    let outcome = app.page(&format!("/buy/onboarding/complete?payment_intent={pi}")).await;
    assert!(outcome.contains("Nothing was charged.") && outcome.contains("Try again"), "{outcome}");
    assert_eq!(grants_of(&app, &email).await, 0);

    // The retry, on the same intent, pays; the return page grants; the webhook changes nothing.
    let paid = app.confirm_with_card(&secret, "4242424242424242", &app.url("/buy/onboarding/complete")).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let outcome = app.page(&format!("/buy/onboarding/complete?payment_intent={pi}")).await;
    assert!(outcome.contains("Thank you: your purchase is complete ($199.00)."), "{outcome}");
    assert_eq!(grants_of(&app, &email).await, 1);
    app.settle().await;
    app.page(&format!("/buy/onboarding/complete?payment_intent={pi}")).await;
    assert_eq!(grants_of(&app, &email).await, 1, "one grant, whoever confirms");
    let paid_again = app.start_intent(&app.client, "/api/pay/start_item", &fields).await;
    assert_eq!(paid_again.0, 422, "a paid attempt is not paid twice: {paid_again:?}");

    // Another customer learns nothing of this payment.
    let other = new_client();
    app.customer_with(&other, &unique_email("element-other")).await;
    let theirs = app.page_with(&other, &format!("/buy/onboarding/complete?payment_intent={pi}")).await;
    assert!(theirs.contains("We could not find that payment."), "{theirs}");
}

#[tokio::test]
async fn the_webhook_alone_grants_when_the_buyer_never_returns() {
    let app = spawn_app().await;
    let email = unique_email("element-gone");
    app.customer(&email).await;
    let page = app.page("/buy/onboarding").await;
    let attempt = hidden(&page, "attempt");
    let (_, started) =
        app.start_intent(&app.client, "/api/pay/start_item", &[("item", "onboarding"), ("attempt", &attempt)]).await;
    let secret = started["client_secret"].as_str().unwrap();
    let paid = app.confirm_with_card(secret, "4242424242424242", "https://example.com/").await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    app.settle().await;
    assert_eq!(grants_of(&app, &email).await, 1, "payment_intent.succeeded grants the item");
}

#[tokio::test]
async fn three_d_secure_completed_grants_and_failed_grants_nothing() {
    let app = spawn_app().await;
    for (action, granted) in [("fail", 0), ("complete", 1)] {
        let client = new_client();
        let email = unique_email(&format!("element-3ds-{action}"));
        app.customer_with(&client, &email).await;
        let page = app.page_with(&client, "/buy/onboarding").await;
        let attempt = hidden(&page, "attempt");
        let (_, started) =
            app.start_intent(&client, "/api/pay/start_item", &[("item", "onboarding"), ("attempt", &attempt)]).await;
        let secret = started["client_secret"].as_str().unwrap();
        let back = started["return_url"].as_str().unwrap();
        let challenged = app.confirm_with_card(secret, ALWAYS_AUTHENTICATE, back).await;
        assert_eq!(challenged["status"], "requires_action", "{challenged}");
        let returned = app.answer_challenge(&challenged, action).await;
        assert!(returned.starts_with(back) && returned.contains("payment_intent="), "{returned}");
        let path = path_of(&returned);
        let outcome = app.page_with(&client, &path).await;
        if granted == 1 {
            assert!(outcome.contains("Thank you"), "{outcome}");
        } else {
            assert!(outcome.contains("Payment not completed") && outcome.contains("Nothing was charged."), "{outcome}");
        }
        app.settle().await;
        assert_eq!(grants_of(&app, &email).await, granted, "{action}");
    }
}

#[tokio::test]
async fn bad_requests_are_refused_in_words() {
    let app = spawn_app().await;
    let anonymous = app.get("/buy/onboarding").await;
    assert!(html_of(anonymous).await.contains("/login"), "a visitor is sent to log in");
    app.customer(&unique_email("element-bad")).await;
    assert!(app.page("/buy/nothing").await.contains("There is no item \"nothing\" for sale."));
    let (status, answer) =
        app.start_intent(&app.client, "/api/pay/start_item", &[("item", "onboarding"), ("attempt", "x'; drop")]).await;
    assert_eq!((status, answer["User"].as_str()), (422, Some("The form expired: open the page again.")));
    let unverified = new_client();
    app.unverified_customer_with(&unverified, &unique_email("element-unverified")).await;
    let page = app.page_with(&unverified, "/buy/onboarding").await;
    let attempt = hidden(&page, "attempt");
    let (status, answer) =
        app.start_intent(&unverified, "/api/pay/start_item", &[("item", "onboarding"), ("attempt", &attempt)]).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["User"].as_str().unwrap().contains("verif"), "{answer}");
    assert!(app
        .page("/billing/card/complete?setup_intent=seti_nope")
        .await
        .contains("We could not find that card update."));
    assert!(app
        .page("/subscribe/pro/complete?interval=month&subscription=sub_nope")
        .await
        .contains("We could not find that subscription."));
}

#[tokio::test]
async fn a_plan_is_bought_with_the_payment_element_and_renews_on_that_card() {
    let app = spawn_app().await;
    let email = unique_email("element-sub");
    app.customer(&email).await;
    app.trial_used(&email).await;
    let page = app.page("/subscribe/pro?interval=month&ui=elements").await;
    assert_eq!(data_attribute(&page, "kind"), "payment");
    assert_eq!(data_attribute(&page, "amount"), "2900");
    assert!(page.contains("Subscribe for $29.00"), "{page}");
    let fields = [("plan", "pro"), ("interval", "month"), ("ui", "elements"), ("attempt", &hidden(&page, "attempt"))];
    let (status, started) = app.start_intent(&app.client, "/api/pay/start_subscription", &fields).await;
    assert_eq!(status, 200, "{started}");
    let secret = started["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("pi_"), "the first invoice's payment: {started}");
    let back = started["return_url"].as_str().unwrap().to_owned();
    assert!(path_of(&back).starts_with("/subscribe/pro/complete?interval=month&subscription=sub_"), "{back}");

    let paid = app.confirm_with_card(secret, "4242424242424242", &back).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let pi = paid["id"].as_str().unwrap();
    let outcome = app.page(&format!("{}&payment_intent={pi}", path_of(&back))).await;
    assert!(outcome.contains("Your Pro plan is active."), "{outcome}");
    app.settle().await;
    let stripe = app.stripe_subscription_of(&email).await;
    assert_eq!(stripe["status"], "active");
    assert!(stripe["default_payment_method"].is_string(), "renewals charge the card typed: {stripe}");
    let account = app.page("/account").await;
    assert!(account.contains("Pro"), "{account}");
}

#[tokio::test]
async fn a_trial_starts_with_the_card_saved_through_its_setup_intent() {
    let app = spawn_app().await;
    let email = unique_email("element-trial");
    app.customer(&email).await;
    let page = app.page("/subscribe/pro?interval=month&ui=elements").await;
    assert_eq!(data_attribute(&page, "kind"), "setup");
    assert!(page.contains("14 days free, then $29.00") && page.contains("Start free trial"), "{page}");
    let fields = [("plan", "pro"), ("interval", "month"), ("ui", "elements"), ("attempt", &hidden(&page, "attempt"))];
    let (_, started) = app.start_intent(&app.client, "/api/pay/start_subscription", &fields).await;
    let secret = started["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("seti_"), "{started}");
    assert_eq!(started["kind"], "setup");
    let back = started["return_url"].as_str().unwrap().to_owned();
    let saved = app.confirm_with_card(secret, "4242424242424242", &back).await;
    assert_eq!(saved["status"], "succeeded", "{saved}");
    let outcome = app.page(&path_of(&back)).await;
    assert!(outcome.contains("Your Pro trial has started."), "{outcome}");
    app.settle().await;
    assert!(app.stripe_subscription_of(&email).await["default_payment_method"].is_string());
}

#[tokio::test]
async fn a_plan_is_bought_with_embedded_checkout() {
    let app = spawn_app().await;
    let email = unique_email("embedded");
    app.customer(&email).await;
    app.trial_used(&email).await;
    let page = app.page("/subscribe/pro?interval=month&ui=embedded").await;
    assert_eq!(data_attribute(&page, "kind"), "embedded_checkout");
    let fields = [("plan", "pro"), ("interval", "month"), ("ui", "embedded"), ("attempt", &hidden(&page, "attempt"))];
    let (status, started) = app.start_intent(&app.client, "/api/pay/start_subscription", &fields).await;
    assert_eq!(status, 200, "{started}");
    let secret = started["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("cs_"), "{started}");
    let session_id = secret.split("_secret_").next().unwrap();
    let session = app.stripe_get_json(&format!("/v1/checkout/sessions/{session_id}")).await;
    assert_eq!(session["ui_mode"], "embedded_page");
    assert_eq!(session["url"], serde_json::Value::Null, "embedded sessions have no page of their own");
    assert_eq!(path_of(session["return_url"].as_str().unwrap()), "/checkout/success?session_id={CHECKOUT_SESSION_ID}");

    // The buyer pays in the frame Stripe.js mounts.
    let frame = format!("{}/checkout/{session_id}?client_secret={secret}", app.sandbox_url.trim_end_matches('/'));
    let paid = new_client()
        .post(&frame)
        .form(&[("card_number", "4242 4242 4242 4242"), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_success() || paid.status().is_redirection(), "{}", paid.status());
    let outcome = app.page(&format!("/checkout/success?session_id={session_id}")).await;
    assert!(outcome.contains("Your Pro plan is active."), "{outcome}");
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "active");
}

#[tokio::test]
async fn the_pricing_page_leads_to_the_apps_own_pages_when_set() {
    let app = spawn_app_with(&[("CHECKOUT_UI", "elements")]).await;
    app.customer(&unique_email("element-pricing")).await;
    let pricing = app.page("/pricing").await;
    assert!(pricing.contains(r#"href="/subscribe/pro?interval=month&amp;ui=elements""#), "{pricing}");
    assert!(pricing.contains(r#"href="/buy/onboarding""#), "{pricing}");
    let hosted = spawn_app().await;
    let pricing = hosted.page("/pricing").await;
    assert!(!pricing.contains("/subscribe/pro") && !pricing.contains("/buy/onboarding"), "hosted by default");
}

#[tokio::test]
async fn a_new_card_pays_the_invoice_a_failed_renewal_left_open() {
    let app = spawn_app().await;
    // A trial on a card that attaches, then declines the first renewal.
    let email = app.subscribed_customer("card-update", "pro", ATTACH_THEN_DECLINE, false).await;
    app.advance_through_period_end(&email).await;
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "past_due");

    let page = app.page("/billing/card").await;
    assert!(page.contains("Your new card pays your open invoice of $29.00 now"), "{page}");
    assert_eq!(data_attribute(&page, "kind"), "setup");
    let (status, started) =
        app.start_intent(&app.client, "/api/pay/start_card", &[("attempt", &hidden(&page, "attempt"))]).await;
    assert_eq!(status, 200, "{started}");
    let secret = started["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("seti_"), "{started}");
    let saved = app.confirm_with_card(secret, "4242424242424242", started["return_url"].as_str().unwrap()).await;
    assert_eq!(saved["status"], "succeeded", "{saved}");
    let seti = saved["id"].as_str().unwrap();
    let outcome = app.page(&format!("/billing/card/complete?setup_intent={seti}")).await;
    assert!(outcome.contains("Your card is saved and your open invoice of $29.00 is paid."), "{outcome}");
    app.settle().await;
    let stripe = app.stripe_subscription_of(&email).await;
    assert_eq!(stripe["status"], "active", "the retry paid: {stripe}");
    let invoices = app.stripe_get_json(&format!("/v1/invoices?subscription={}", stripe["id"].as_str().unwrap())).await;
    let paid = invoices["data"].as_array().unwrap().iter().filter(|i| i["status"] == "paid").count();
    // A reload of the return page pays nothing more.
    app.page(&format!("/billing/card/complete?setup_intent={seti}")).await;
    let again = app.stripe_get_json(&format!("/v1/invoices?subscription={}", stripe["id"].as_str().unwrap())).await;
    assert_eq!(again["data"].as_array().unwrap().iter().filter(|i| i["status"] == "paid").count(), paid);
}

#[tokio::test]
async fn a_new_card_is_applied_by_the_webhook_when_the_customer_never_returns() {
    let app = spawn_app().await;
    let email = app.subscribed_customer("card-webhook", "pro", ATTACH_THEN_DECLINE, false).await;
    app.advance_through_period_end(&email).await;
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "past_due");

    let page = app.page("/billing/card").await;
    let (_, started) =
        app.start_intent(&app.client, "/api/pay/start_card", &[("attempt", &hidden(&page, "attempt"))]).await;
    let saved =
        app.confirm_with_card(started["client_secret"].as_str().unwrap(), "4242424242424242", "https://x.test").await;
    assert_eq!(saved["status"], "succeeded", "{saved}");
    // The browser closed before the return page: setup_intent.succeeded does what it would.
    app.settle().await;
    let stripe = app.stripe_subscription_of(&email).await;
    assert_eq!(stripe["status"], "active", "the open invoice was paid with the new card: {stripe}");
    let card = saved["payment_method"].as_str().unwrap();
    assert_eq!(stripe["default_payment_method"], card, "{stripe}");
    let customer = app.stripe_get_json(&format!("/v1/customers/{}", stripe["customer"].as_str().unwrap())).await;
    assert_eq!(customer["invoice_settings"]["default_payment_method"], card, "{customer}");

    // Coming back later says what happened and pays nothing more.
    let seti = saved["id"].as_str().unwrap();
    let outcome = app.page(&format!("/billing/card/complete?setup_intent={seti}")).await;
    assert!(outcome.contains("Your card is saved and your open invoice of $29.00 is paid."), "{outcome}");
    // The trial's invoice cost nothing: the renewal is the one charge that succeeded.
    let charges = app.stripe_get_json(&format!("/v1/charges?customer={}", customer["id"].as_str().unwrap())).await;
    let succeeded = charges["data"].as_array().unwrap().iter().filter(|c| c["status"] == "succeeded").count();
    assert_eq!(succeeded, 1, "the open invoice was paid once: {charges}");
}
