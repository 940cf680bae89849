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

/// The fixtures' subscription steps: create (active at once), then update its metadata.
async fn subscription_created_and_updated(raw: &Raw, sb: &RunningSandbox, rx: &Receiver, form: &[(&str, &str)]) {
    let sub = raw.ok("/v1/subscriptions", form).await;
    assert_eq!(sub["status"], "active");
    triggered(raw, sb, rx, "customer.subscription.created").await;
    raw.ok(&format!("/v1/subscriptions/{}", id(&sub)), &[("metadata[foo]", "bar")]).await;
    triggered(raw, sb, rx, "customer.subscription.updated").await;
}

#[tokio::test]
async fn customer_and_subscription_triggers() {
    let (sb, raw, rx, secret) = setup().await;
    let cus = raw.ok("/v1/customers", &[("description", "(created by Stripe CLI)"), ("source", "tok_visa")]).await;
    triggered(&raw, &sb, &rx, "customer.created").await;
    let plan = raw
        .ok(
            "/v1/plans",
            &[("currency", "usd"), ("interval", "month"), ("amount", "2000"), ("product[name]", "myproduct")],
        )
        .await;
    assert_eq!(plan["object"], "plan");
    subscription_created_and_updated(&raw, &sb, &rx, &[("customer", &id(&cus)), ("items[0][plan]", &id(&plan))]).await;
    rx.verify_all(&secret).await;
}

#[tokio::test]
async fn invoice_triggers() {
    let (sb, raw, rx, secret) = setup().await;
    for (card, event) in [("pm_card_visa", "invoice.paid"), ("pm_card_chargeCustomerFail", "invoice.payment_failed")] {
        let cus = raw.ok("/v1/customers", &[("description", "(created by Stripe CLI)")]).await;
        let pm = raw.ok(&format!("/v1/payment_methods/{card}/attach"), &[("customer", &id(&cus))]).await;
        raw.ok(
            "/v1/invoiceitems",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("customer", &id(&cus)),
                ("description", "(created by Stripe CLI)"),
            ],
        )
        .await;
        let inv = raw
            .ok(
                "/v1/invoices",
                &[
                    ("customer", &id(&cus)),
                    ("description", "(created by Stripe CLI)"),
                    ("pending_invoice_items_behavior", "include"),
                ],
            )
            .await;
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
        .ok(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("confirm", "true"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("payment_method_types[]", "card"),
                ("shipping[name]", "Jenny Rosen"),
            ],
        )
        .await;
    assert_eq!(pi["status"], "succeeded");
    triggered(&raw, &sb, &rx, "payment_intent.succeeded").await;
    let re = raw.ok("/v1/refunds", &[("payment_intent", &id(&pi))]).await;
    assert_eq!(re["amount"], 2000);
    triggered(&raw, &sb, &rx, "charge.refunded").await;
    let (_, ch) = raw.get(&format!("/v1/charges/{}", pi["latest_charge"].as_str().unwrap())).await;
    assert_eq!(ch["refunded"], true);
    raw.ok(
        "/v1/payment_intents",
        &[
            ("amount", "100"),
            ("currency", "usd"),
            ("payment_method", "pm_card_createDisputeInquiry"),
            ("confirm", "true"),
        ],
    )
    .await;
    triggered(&raw, &sb, &rx, "charge.dispute.created").await;
    rx.verify_all(&secret).await;
}

#[tokio::test]
async fn partial_refunds_add_up() {
    let (_sb, raw, _rx, _) = setup().await;
    let pi = raw
        .ok(
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "usd"), ("payment_method", "pm_card_visa"), ("confirm", "true")],
        )
        .await;
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

#[tokio::test]
async fn subscription_fixture_resolves_test_id_default_payment_method() {
    // The CLI's customer.subscription.created / .updated fixtures: the default is the test id of
    // the card the same request attaches.
    let (sb, raw, rx, secret) = setup().await;
    let (s, cus) = raw
        .post(
            "/v1/customers",
            &[
                ("description", "(created by Stripe CLI)"),
                ("payment_method", "pm_card_visa"),
                ("invoice_settings[default_payment_method]", "pm_card_visa"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{cus}");
    let default = cus["invoice_settings"]["default_payment_method"].as_str().unwrap().to_string();
    assert!(default.starts_with("pm_") && default != "pm_card_visa", "{default}");
    let (_, pm) = raw.get(&format!("/v1/payment_methods/{default}")).await;
    assert_eq!(pm["customer"], id(&cus));
    assert_eq!(pm["card"]["last4"], "4242");
    let prod = raw.ok("/v1/products", &[("name", "myproduct")]).await;
    let price = raw
        .ok(
            "/v1/prices",
            &[("currency", "usd"), ("unit_amount", "2000"), ("recurring[interval]", "month"), ("product", &id(&prod))],
        )
        .await;
    subscription_created_and_updated(&raw, &sb, &rx, &[("customer", &id(&cus)), ("items[0][price]", &id(&price))])
        .await;
    rx.verify_all(&secret).await;
}

#[tokio::test]
async fn test_ids_resolve_wherever_a_payment_method_is_accepted() {
    let (_sb, raw, _rx, _) = setup().await;
    let cus = raw.ok("/v1/customers", &[("email", "t@example.com")]).await;
    let cus_id = id(&cus);
    // Not attached yet: still Stripe's error, naming the id given.
    let (s, e) = raw
        .post(&format!("/v1/customers/{cus_id}"), &[("invoice_settings[default_payment_method]", "pm_card_mastercard")])
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["error"]["param"], "invoice_settings[default_payment_method]");
    let visa = raw.ok("/v1/payment_methods/pm_card_visa/attach", &[("customer", &cus_id)]).await;
    let mc = raw.ok("/v1/payment_methods/pm_card_mastercard/attach", &[("customer", &cus_id)]).await;
    // Customer update: the test id stands for the customer's card made from it.
    let c = raw
        .ok(&format!("/v1/customers/{cus_id}"), &[("invoice_settings[default_payment_method]", "pm_card_visa")])
        .await;
    assert_eq!(c["invoice_settings"]["default_payment_method"], visa["id"]);
    // Subscription create and update `default_payment_method`.
    let prod = raw.ok("/v1/products", &[("name", "Pro")]).await;
    let price = raw
        .ok(
            "/v1/prices",
            &[("currency", "usd"), ("unit_amount", "500"), ("recurring[interval]", "month"), ("product", &id(&prod))],
        )
        .await;
    let sub = raw
        .ok(
            "/v1/subscriptions",
            &[
                ("customer", &cus_id),
                ("items[0][price]", &id(&price)),
                ("default_payment_method", "pm_card_mastercard"),
            ],
        )
        .await;
    assert_eq!(sub["default_payment_method"], mc["id"]);
    assert_eq!(sub["status"], "active");
    let sub = raw.ok(&format!("/v1/subscriptions/{}", id(&sub)), &[("default_payment_method", "pm_card_visa")]).await;
    assert_eq!(sub["default_payment_method"], visa["id"]);
    // Invoice `default_payment_method`.
    raw.ok("/v1/invoiceitems", &[("amount", "700"), ("currency", "usd"), ("customer", &cus_id)]).await;
    let inv = raw
        .ok(
            "/v1/invoices",
            &[
                ("customer", &cus_id),
                ("pending_invoice_items_behavior", "include"),
                ("default_payment_method", "pm_card_mastercard"),
            ],
        )
        .await;
    assert_eq!(inv["default_payment_method"], mc["id"]);
    let inv = raw.ok(&format!("/v1/invoices/{}", id(&inv)), &[("default_payment_method", "pm_card_visa")]).await;
    assert_eq!(inv["default_payment_method"], visa["id"]);
    // Payment intents take test ids as a fresh card each time (not the attached one).
    let pi = raw
        .ok(
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "usd"), ("customer", &cus_id), ("payment_method", "pm_card_visa")],
        )
        .await;
    let pi_pm = pi["payment_method"].as_str().unwrap();
    assert!(pi_pm.starts_with("pm_") && pi_pm != "pm_card_visa");
    let pi =
        raw.ok(&format!("/v1/payment_intents/{}/confirm", id(&pi)), &[("payment_method", "pm_card_mastercard")]).await;
    assert_eq!(pi["status"], "succeeded");
    assert_ne!(pi["payment_method"], "pm_card_mastercard");
}

#[test]
fn readme_example_keys_are_long_enough_for_the_stripe_cli() {
    // The real Stripe CLI rejects `--api-key` values shorter than 12 characters.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for prefix in ["sk_test_", "rk_test_"] {
        for (i, _) in readme.match_indices(prefix) {
            let key: String = readme[i..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if key == prefix {
                continue; // `sk_test_…`: a placeholder, not an example key
            }
            assert!(key.len() >= 12, "README example key {key} is shorter than the Stripe CLI accepts");
        }
    }
}
