//! The Stripe CLI's trigger fixtures (`stripe trigger EVENT`), replayed as the CLI sends them:
//! each must run to completion and its event must reach a registered endpoint.

use super::*;

async fn triggered(raw: &Raw, sb: &RunningSandbox, rx: &Receiver, event: &str) {
    settle(sb).await;
    assert!(rx.types().await.iter().any(|t| t == event), "{event} not delivered; got {:?}", rx.types().await);
    let _ = raw;
}

async fn setup() -> (RunningSandbox, Raw, Receiver, String) {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    let secret = register(&raw, &rx.url).await;
    (sb, raw, rx, secret)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn customer_and_subscription_triggers() {
    let (sb, raw, rx, secret) = setup().await;
    let cus = raw.ok("/v1/customers", &[("description", "(created by Stripe CLI)"), ("source", "tok_visa")]).await;
    triggered(&raw, &sb, &rx, "customer.created").await;
    let plan = raw.ok("/v1/plans", &[("currency", "usd"), ("interval", "month"), ("amount", "2000"), ("product[name]", "myproduct")]).await;
    assert_eq!(plan["object"], "plan");
    let sub = raw.ok("/v1/subscriptions", &[("customer", &id(&cus)), ("items[0][plan]", &id(&plan))]).await;
    assert_eq!(sub["status"], "active");
    triggered(&raw, &sb, &rx, "customer.subscription.created").await;
    raw.ok(&format!("/v1/subscriptions/{}", id(&sub)), &[("metadata[foo]", "bar")]).await;
    triggered(&raw, &sb, &rx, "customer.subscription.updated").await;
    rx.verify_all(&secret).await;
}

#[tokio::test]
async fn invoice_triggers() {
    let (sb, raw, rx, secret) = setup().await;
    for (card, event) in [("pm_card_visa", "invoice.paid"), ("pm_card_chargeCustomerFail", "invoice.payment_failed")] {
        let cus = raw.ok("/v1/customers", &[("description", "(created by Stripe CLI)")]).await;
        let pm = raw.ok(&format!("/v1/payment_methods/{card}/attach"), &[("customer", &id(&cus))]).await;
        raw.ok("/v1/invoiceitems", &[("amount", "2000"), ("currency", "usd"), ("customer", &id(&cus)), ("description", "(created by Stripe CLI)")]).await;
        let inv = raw.ok("/v1/invoices", &[("customer", &id(&cus)), ("description", "(created by Stripe CLI)"), ("pending_invoice_items_behavior", "include")]).await;
        assert_eq!(inv["amount_due"], 2000);
        let (status, body) = raw.post(&format!("/v1/invoices/{}/pay", id(&inv)), &[("payment_method", &id(&pm))]).await;
        if event == "invoice.paid" {
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["status"], "paid");
        } else {
            assert_eq!(status, 402);
            assert_eq!(body["error"]["type"], "card_error");
        }
        triggered(&raw, &sb, &rx, event).await;
    }
    rx.verify_all(&secret).await;
}

#[tokio::test]
async fn payment_triggers() {
    let (sb, raw, rx, secret) = setup().await;
    let pi = raw
        .ok("/v1/payment_intents", &[("amount", "2000"), ("confirm", "true"), ("currency", "usd"), ("payment_method", "pm_card_visa"), ("payment_method_types[]", "card"), ("shipping[name]", "Jenny Rosen")])
        .await;
    assert_eq!(pi["status"], "succeeded");
    triggered(&raw, &sb, &rx, "payment_intent.succeeded").await;
    let re = raw.ok("/v1/refunds", &[("payment_intent", &id(&pi))]).await;
    assert_eq!(re["amount"], 2000);
    triggered(&raw, &sb, &rx, "charge.refunded").await;
    let (_, ch) = raw.get(&format!("/v1/charges/{}", pi["latest_charge"].as_str().unwrap())).await;
    assert_eq!(ch["refunded"], true);
    raw.ok("/v1/payment_intents", &[("amount", "100"), ("currency", "usd"), ("payment_method", "pm_card_createDisputeInquiry"), ("confirm", "true")]).await;
    triggered(&raw, &sb, &rx, "charge.dispute.created").await;
    rx.verify_all(&secret).await;
}

#[tokio::test]
async fn partial_refunds_add_up() {
    let (_sb, raw, _rx, _) = setup().await;
    let pi = raw.ok("/v1/payment_intents", &[("amount", "1000"), ("currency", "usd"), ("payment_method", "pm_card_visa"), ("confirm", "true")]).await;
    let ch = pi["latest_charge"].as_str().unwrap().to_string();
    raw.ok("/v1/refunds", &[("charge", &ch), ("amount", "300")]).await;
    let (_, c) = raw.get(&format!("/v1/charges/{ch}")).await;
    assert_eq!(c["amount_refunded"], 300);
    assert_eq!(c["refunded"], false);
    let (s, e) = raw.post("/v1/refunds", &[("charge", &ch), ("amount", "800")]).await;
    assert_eq!(s, 400, "{e}");
    raw.ok("/v1/refunds", &[("charge", &ch), ("amount", "700")]).await;
    let (_, c) = raw.get(&format!("/v1/charges/{ch}")).await;
    assert_eq!(c["refunded"], true);
}
