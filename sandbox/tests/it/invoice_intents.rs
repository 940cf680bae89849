//! An invoice's payment intent confirmed by the client (`default_incomplete`), and 3-D Secure
//! failing on `/3ds/{payment_intent}`.

use super::*;

struct Incomplete {
    subscription: String,
    invoice: String,
    payment_intent: String,
}

/// A `default_incomplete` subscription: its first invoice open, with a payment intent to confirm.
async fn incomplete_subscription(raw: &Raw) -> Incomplete {
    let customer = raw.ok("/v1/customers", &[("email", "sca@x.com")]).await["id"].as_str().unwrap().to_string();
    let price = monthly_price(raw, "900").await;
    let subscription = raw
        .ok(
            "/v1/subscriptions",
            &[
                ("customer", customer.as_str()),
                ("items[0][price]", price.as_str()),
                ("payment_behavior", "default_incomplete"),
                ("expand[]", "latest_invoice.payments"),
            ],
        )
        .await;
    assert_eq!(subscription["status"], "incomplete");
    let invoice = &subscription["latest_invoice"];
    Incomplete {
        subscription: subscription["id"].as_str().unwrap().to_string(),
        invoice: invoice["id"].as_str().unwrap().to_string(),
        payment_intent: invoice["payments"]["data"][0]["payment"]["payment_intent"].as_str().unwrap().to_string(),
    }
}

async fn confirm(raw: &Raw, payment_intent: &str, payment_method: &str) -> Value {
    raw.ok(&format!("/v1/payment_intents/{payment_intent}/confirm"), &[("payment_method", payment_method)]).await
}

#[tokio::test]
async fn confirming_an_invoices_payment_intent_pays_the_invoice_and_activates_the_subscription() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    let secret = register(&raw, &rx.url).await;
    let incomplete = incomplete_subscription(&raw).await;

    let intent = confirm(&raw, &incomplete.payment_intent, "pm_card_visa").await;
    assert_eq!(intent["status"], "succeeded");
    let (_, invoice) = raw.get(&format!("/v1/invoices/{}?expand[]=payments", incomplete.invoice)).await;
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_paid"], 900);
    assert_eq!(invoice["payments"]["data"][0]["status"], "paid");
    let (_, subscription) = raw.get(&format!("/v1/subscriptions/{}", incomplete.subscription)).await;
    assert_eq!(subscription["status"], "active");
    settle(&sb).await;
    assert_subsequence(
        &rx.types().await,
        &["payment_intent.succeeded", "invoice.paid", "customer.subscription.updated"],
    );
    rx.verify_all(&secret).await;
}

#[tokio::test]
async fn failing_three_d_secure_asks_for_another_payment_method() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    register(&raw, &rx.url).await;
    let incomplete = incomplete_subscription(&raw).await;
    let intent = confirm(&raw, &incomplete.payment_intent, "pm_card_authenticationRequired").await;
    assert_eq!(intent["status"], "requires_action");
    let url = intent["next_action"]["redirect_to_url"]["url"].as_str().unwrap().to_string();

    let failed = raw.http.post(&url).form(&[("action", "fail")]).send().await.unwrap();
    assert_eq!(failed.status().as_u16(), 402);
    let (_, intent) = raw.get(&format!("/v1/payment_intents/{}", incomplete.payment_intent)).await;
    assert_eq!(intent["status"], "requires_payment_method");
    assert_eq!(intent["next_action"], Value::Null);
    assert_eq!(intent["last_payment_error"]["code"], "payment_intent_authentication_failure");
    let (_, invoice) = raw.get(&format!("/v1/invoices/{}", incomplete.invoice)).await;
    assert_eq!(invoice["status"], "open", "the invoice waits for another payment method");
    settle(&sb).await;
    let events = rx.events().await;
    let failure = events.iter().find(|e| e["type"] == "payment_intent.payment_failed").expect("payment_failed sent");
    assert_eq!(failure["data"]["object"]["last_payment_error"]["code"], "payment_intent_authentication_failure");

    // Another card, confirmed by the client, still pays the invoice.
    let intent = confirm(&raw, &incomplete.payment_intent, "pm_card_visa").await;
    assert_eq!(intent["status"], "succeeded");
    let (_, subscription) = raw.get(&format!("/v1/subscriptions/{}", incomplete.subscription)).await;
    assert_eq!(subscription["status"], "active");
}
