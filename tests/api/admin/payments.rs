//! /admin/payments and /admin/disputes through the sandbox: a customer pays on the hosted
//! Checkout page, the admin refunds part of it after the confirm step (a double submit is one
//! refund), sees it once the webhook arrives, and sees a dispute with its deadline.

use crate::helpers::*;

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
    let customer = new_client();
    let email = unique_email("declined");
    app.customer_with(&customer, &email).await;
    let res = app.submit_with(&customer, "/pricing", "Subscribe", &[("plan", "business"), ("interval", "month")]).await;
    let checkout = location(&res).unwrap();
    customer
        .post(&checkout)
        .form(&[("card_number", "4000000000000002"), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    app.settle().await;
    let payments = app.page("/admin/payments").await;
    assert!(payments.contains("card_declined") || payments.contains("declined"), "the decline reason: {payments}");
}
