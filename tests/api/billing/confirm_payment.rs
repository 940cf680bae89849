//! A renewal the customer's bank wants confirmed (3-D Secure after the fact): the email and the
//! account's banner lead to `/billing/confirm/:payment_intent`, which hands Stripe.js what it
//! needs (and, without JavaScript, the hosted invoice page); only the payment's customer sees it.
//! The page's own script is exercised in Chromium (`end2end/tests/confirm-payment.spec.ts`).

use crate::helpers::*;

/// Stripe's test card that asks for 3-D Secure on every payment, off-session renewals included.
const ALWAYS_AUTHENTICATE: &str = "4000002760003184";

/// A customer (the app's client) subscribed to Pro with `card`, 3-D Secure completed on Checkout.
async fn subscribed_with_authentication(app: &TestApp) -> String {
    let email = unique_email("threeds");
    app.customer(&email).await;
    app.trial_used(&email).await;
    let res = app.submit("/pricing", "Subscribe", &[("plan", "pro"), ("interval", "month")]).await;
    let checkout = location(&res).expect("Checkout");
    let challenge = app
        .client
        .post(&checkout)
        .form(&[("card_number", ALWAYS_AUTHENTICATE), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    let challenge = location(&challenge).expect("the bank's challenge");
    let challenge = if challenge.starts_with('/') { format!("{}{challenge}", app.sandbox_url) } else { challenge };
    let done = app.client.post(&challenge).form(&[("action", "complete")]).send().await.unwrap();
    assert!(location(&done).expect("back to the app").contains("/checkout/success"));
    app.settle().await;
    email
}

#[tokio::test]
async fn a_renewal_waiting_for_the_bank_is_confirmed_on_the_apps_own_page() {
    let app = spawn_app().await;
    let email = subscribed_with_authentication(&app).await;
    app.advance_through_period_end(&email).await;

    // Stripe asked for authentication: the renewal's PaymentIntent waits for the customer.
    let pi: String = sqlx::query_scalar(
        "SELECT l.payment_intent_id FROM invoice_payment_links l JOIN invoices i ON i.id = l.invoice_id \
         WHERE i.status = 'open'",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("the open renewal's payment");
    let stripe = app.stripe_get_json(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(stripe["status"], "requires_action");
    let path = format!("/billing/confirm/{pi}");

    // The email and the banner both lead there.
    let mails = app.mails_to(&email).await;
    assert!(mails.iter().any(|(kind, _)| kind == "action_required"), "{mails:?}");
    let body: String = sqlx::query_scalar("SELECT body FROM emails WHERE kind = 'action_required'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(body.contains(&format!("/billing/confirm/{pi}\n")) && body.contains("http"), "{body}");
    let account = app.page("/account").await;
    assert!(account.contains(&format!(r#"href="{path}""#)), "the banner links the page: {account}");

    // The page: the amount, what Stripe.js needs, the script, and a way without JavaScript.
    let res = app.get(&path).await;
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let page = html_of(res).await;
    assert!(page.contains("$29.00") && page.contains("Your bank asks you to confirm this payment."), "{page}");
    let secret = stripe["client_secret"].as_str().unwrap();
    assert!(page.contains(&format!(r#"data-client-secret="{secret}""#)), "{page}");
    assert!(page.contains(r#"data-publishable-key="pk_test_"#));
    let stripe_js = format!("{}/v3/", app.sandbox_url.trim_end_matches('/'));
    assert!(page.contains(&format!(r#"<script src="{stripe_js}""#)), "Stripe.js from the sandbox: {page}");
    assert!(page.contains(r#"<script src="/confirm-payment.js""#));
    assert!(
        page.contains(r#"id="confirm-payment-without-js""#) && page.contains("Confirm it on the invoice page"),
        "{page}"
    );
    let sandbox_origin = app.sandbox_url.trim_end_matches('/');
    assert!(
        csp.contains("script-src 'self' 'nonce-") && csp.contains(&format!("'wasm-unsafe-eval' {sandbox_origin};")),
        "{csp}"
    );
    assert!(csp.contains(&format!("frame-src {sandbox_origin};")), "{csp}");

    // Confirmed with the bank (as Stripe.js's challenge does): the page says so, and the renewal
    // is paid through the webhook.
    let three_ds = stripe["next_action"]["redirect_to_url"]["url"]
        .as_str()
        .or(stripe["next_action"]["use_stripe_sdk"]["stripe_js"].as_str())
        .expect("the challenge")
        .to_owned();
    let answered = app.client.post(&three_ds).form(&[("action", "complete")]).send().await.unwrap();
    assert!(answered.status().is_success() || answered.status().is_redirection(), "{}", answered.status());
    app.settle().await;
    let page = app.page(&path).await;
    assert!(page.contains("Payment complete. Thank you.") && !page.contains("data-client-secret"), "{page}");
    let status: String = sqlx::query_scalar("SELECT status FROM subscriptions").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(status, "active");
    let account = app.page("/account").await;
    assert!(!account.contains(&path), "no banner once paid: {account}");
}

#[tokio::test]
async fn the_page_shows_a_payment_only_to_its_customer() {
    let app = spawn_app().await;
    let email = subscribed_with_authentication(&app).await;
    app.advance_through_period_end(&email).await;
    let pi: String =
        sqlx::query_scalar("SELECT payment_intent_id FROM invoice_payment_links ORDER BY payment_intent_id")
            .fetch_one(app.db.pool())
            .await
            .unwrap();

    let other = new_client();
    app.customer_with(&other, &unique_email("someone.else")).await;
    for path in [
        format!("/billing/confirm/{pi}"),
        "/billing/confirm/pi_doesnotexist".to_owned(),
        "/billing/confirm/cus_x".to_owned(),
    ] {
        let page = app.page_with(&other, &path).await;
        assert!(page.contains("No such payment.") && !page.contains("data-client-secret"), "{path}: {page}");
    }
    let anonymous = new_client();
    let res = app.get_with(&anonymous, &format!("/billing/confirm/{pi}")).await;
    let page = html_of(res).await;
    assert!(!page.contains("data-client-secret"), "{page}");
}
