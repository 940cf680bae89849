//! /admin/payments and /admin/disputes through the sandbox: a customer pays on the hosted
//! Checkout page, the admin refunds part of it after the confirm step (a double submit is one
//! refund), sees it once the webhook arrives, and sees a dispute with its deadline; Radar's risk
//! of a payment on the page and the customer's timeline.

use crate::helpers::*;

/// A new customer tries to pay Business monthly with `card` on the hosted Checkout page; the
/// webhooks are applied.
async fn tries_to_subscribe(app: &TestApp, prefix: &str, card: &str) {
    let customer = new_client();
    app.customer_with(&customer, &unique_email(prefix)).await;
    let res = app.submit_with(&customer, "/pricing", "Subscribe", &[("plan", "business"), ("interval", "month")]).await;
    let checkout = location(&res).unwrap();
    customer
        .post(&checkout)
        .form(&[("card_number", card), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    app.settle().await;
}

#[tokio::test]
async fn the_admin_refunds_part_of_a_payment_after_confirming_and_sees_it_after_the_webhook() {
    let app = spawn_app().await;
    let email = app.paying_customer("refunded", "business", "4242424242424242").await;
    app.log_in_as_admin().await;

    let payments = app.page("/admin/payments").await;
    assert!(payments.contains(&email) && payments.contains("$99.00"), "the payment is listed: {payments}");
    let payment_id: String = sqlx::query_scalar("SELECT id FROM payments WHERE status = 'succeeded'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let confirm_path = format!("/admin/payments/refund?payment={payment_id}");
    let confirm = app.page(&confirm_path).await;
    assert!(confirm.contains("Left to refund") && confirm.contains("$99.00"), "{confirm}");
    let token = hidden(&confirm, "token");

    // Too much is refused with the reason, nothing is sent to Stripe.
    let form = |amount: &'static str| {
        vec![
            ("payment", payment_id.clone()),
            ("amount", amount.to_string()),
            ("reason", "requested_by_customer".into()),
            ("token", token.clone()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let client = &app.client;
        let url = app.url("/api/admin_refund");
        async move { client.post(url).header("accept", BROWSER_ACCEPT).form(&fields).send().await.unwrap() }
    };
    let res = post(form("150.00")).await;
    assert_redirect(&res, &confirm_path);
    let refused = app.page(&confirm_path).await;
    assert!(alerts(&refused).iter().any(|a| a == "Refund between $0.01 and $99.00."), "{refused}");
    // A decimal comma is refused as what it is, never read as 1,250.00.
    let res = post(form("12,50")).await;
    assert_redirect(&res, &confirm_path);
    let refused = app.page(&confirm_path).await;
    assert!(
        alerts(&refused).iter().any(|a| a == r#"Amount: "12,50" is not an amount like 12.50."#),
        "{:?}",
        alerts(&refused)
    );

    // The partial refund, submitted twice (a double click): one refund.
    let res = post(form("25.00")).await;
    assert_redirect(&res, "/admin/payments");
    let res = post(form("25.00")).await;
    assert_redirect(&res, "/admin/payments");
    let listed = app.page("/admin/payments").await;
    assert!(listed.contains("Refund of $25.00 requested."), "the notice: {listed}");
    app.settle().await;
    let refunds = app.stripe_get_json(&format!("/v1/refunds?payment_intent={payment_id}")).await;
    assert_eq!(refunds["data"].as_array().unwrap().len(), 1, "one refund in Stripe: {refunds}");
    let listed = app.page("/admin/payments").await;
    assert!(listed.contains(">$25.00</td>"), "the refund row, after the webhook: {listed}");
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'refund' AND subject_id = $1")
        .bind(&payment_id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(audited, 1, "the refund is audited once, though submitted twice");
    let left = app.page(&confirm_path).await;
    assert!(left.contains("$74.00"), "what is left to refund: {left}");
}

#[tokio::test]
async fn disputes_show_their_deadline_and_failed_payments_their_reason() {
    let app = spawn_app().await;
    // 4000 0000 0000 0259 pays, then the charge is disputed as fraudulent.
    app.paying_customer("disputer", "pro", "4000000000000259").await;
    app.log_in_as_admin().await;
    let disputes = app.page("/admin/disputes").await;
    assert!(disputes.contains(">fraudulent</td>") && disputes.contains(">needs_response</td>"), "{disputes}");
    assert!(disputes.contains(r#"href="/admin/disputes/du_"#), "a link to answer it");
    let days_left: i64 = {
        let at = disputes.find("days-left\">").unwrap() + "days-left\">".len();
        disputes[at..at + disputes[at..].find('<').unwrap()].parse().unwrap()
    };
    assert!((0..=21).contains(&days_left), "evidence is due within three weeks: {days_left}");

    // A card that declines: the failed payment and its reason are listed.
    tries_to_subscribe(&app, "declined", "4000000000000002").await;
    let payments = app.page("/admin/payments").await;
    assert!(payments.contains("card_declined") || payments.contains("declined"), "the decline reason: {payments}");
}

#[tokio::test]
async fn an_elevated_risk_payment_shows_its_risk_on_the_payments_page_and_the_customer_timeline() {
    let app = spawn_app().await;
    // 4000 0000 0000 9235: Radar rates the charge elevated and places it in review; it is paid.
    let email = app.paying_customer("risky", "business", "4000000000009235").await;
    let (id, level, score, outcome): (String, Option<String>, Option<i64>, Option<String>) =
        sqlx::query_as("SELECT id, risk_level, risk_score, outcome_type FROM payments WHERE status = 'succeeded'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((level.as_deref(), outcome.as_deref()), (Some("elevated"), Some("manual_review")));
    let score = score.expect("a risk score");
    assert!((65..75).contains(&score), "{score}");
    app.log_in_as_admin().await;

    let payments = app.page("/admin/payments").await;
    let row = &payments[payments.find(&format!(r#"data-payment="{id}""#)).expect("the payment's row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    let risk = format!("elevated risk ({score}), placed in review");
    assert!(row.contains(&risk) && row.contains("risky"), "{row}");
    assert!(row.contains("placed it in your manual review queue"), "Stripe's explanation: {row}");
    // The review Radar opened is listed.
    let (review, open): (String, i64) =
        sqlx::query_as("SELECT id, CAST(is_open AS INTEGER) FROM reviews").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(open, 1);
    let reviews = &payments[payments.find("Radar reviews").expect("the reviews section")..];
    assert!(reviews.contains(&format!(r#"data-review="{review}""#)) && reviews.contains(&id), "{reviews}");

    let customer: String = sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let timeline = app.page(&format!("/admin/customers/{customer}")).await;
    let entry = &timeline[timeline.find(&format!("Payment {id}")).expect("the payment on the timeline")..];
    assert!(entry[..entry.find("</li>").unwrap()].contains(&format!("Radar: {risk}")), "{entry}");
}

#[tokio::test]
async fn a_payment_radar_blocks_is_a_failed_payment_at_highest_risk() {
    let app = spawn_app().await;
    // 4100 0000 0000 0019: always blocked by Radar.
    tries_to_subscribe(&app, "blocked", "4100000000000019").await;
    let (failure, outcome): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT failure_code, outcome_type FROM payments").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!((failure.as_deref(), outcome.as_deref()), (Some("fraudulent"), Some("blocked")));
    app.log_in_as_admin().await;
    let payments = app.page("/admin/payments").await;
    let failed = &payments[payments.find("failed-payments").unwrap()..payments.find("dunning-heading").unwrap()];
    assert!(failed.contains("highest risk (") && failed.contains("blocked by Radar"), "{failed}");
}
