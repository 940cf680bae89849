//! Subscriptions started with the Payment Element, as Stripe's "Build a subscriptions
//! integration" does it: `payment_behavior=default_incomplete`, the client confirming the first
//! invoice's PaymentIntent (or, when nothing is due, the `pending_setup_intent`) with the
//! publishable key, and `save_default_payment_method=on_subscription` keeping the card.

use serde_json::json;

use super::client_side::{card_data, Browser};
use super::*;

const T0: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const RETURN_URL: &str = "https://shop.test/subscribed";

struct Shop {
    sb: RunningSandbox,
    raw: Raw,
    browser: Browser,
    rx: Receiver,
    secret: String,
    clock: String,
    customer: String,
    price: String,
}

/// A customer without any card on a test clock, a $15 monthly price, webhooks recorded.
async fn shop() -> Shop {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let browser = Browser::new(&sb);
    let rx = receiver().await;
    let secret = register(&raw, &rx.url).await;
    let t0 = T0.to_string();
    let clock = raw.ok("/v1/test_helpers/test_clocks", &[("frozen_time", t0.as_str())]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let customer = raw.ok("/v1/customers", &[("email", "elements@example.com"), ("test_clock", clock.as_str())]).await
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let price = monthly_price(&raw, "1500").await;
    settle(&sb).await;
    rx.got.lock().await.clear();
    Shop { sb, raw, browser, rx, secret, clock, customer, price }
}

impl Shop {
    /// `POST /v1/subscriptions` as the app sends it, plus `extra`.
    async fn subscribe(&self, extra: &[(&str, &str)]) -> Value {
        let mut form = vec![
            ("customer", self.customer.as_str()),
            ("items[0][price]", self.price.as_str()),
            ("payment_behavior", "default_incomplete"),
            ("payment_settings[save_default_payment_method]", "on_subscription"),
            ("metadata[user_id]", "7"),
            ("expand[]", "latest_invoice.confirmation_secret"),
            ("expand[]", "pending_setup_intent"),
        ];
        form.extend_from_slice(extra);
        self.raw.ok("/v1/subscriptions", &form).await
    }
    async fn get(&self, path: &str) -> Value {
        let (s, v) = self.raw.get(path).await;
        assert_eq!(s, 200, "GET {path} → {v}");
        v
    }
    /// Stripe.js's `confirmPayment` / `confirmSetup` with a card typed into the Payment Element.
    async fn confirm(&self, kind: &str, client_secret: &str, number: &'static str) -> Value {
        let id = client_secret.split("_secret_").next().unwrap();
        let mut form = card_data(number);
        form.extend([("client_secret", client_secret), ("return_url", RETURN_URL)]);
        let (s, intent) = self.browser.post(&format!("/v1/{kind}/{id}/confirm"), &form).await;
        assert_eq!(s, 200, "{intent}");
        intent
    }
    async fn advance_to(&self, t: i64) {
        advance_clock(&self.sb, &self.raw, &self.clock, t).await;
    }
    async fn events_of(&self, kind: &str) -> Vec<Value> {
        settle(&self.sb).await;
        self.rx.events_of(kind).await
    }
    /// The payment method of the charge that paid an invoice.
    async fn paid_with(&self, invoice: &Value) -> Value {
        assert_eq!(invoice["status"], "paid", "{invoice}");
        let id = invoice["id"].as_str().unwrap();
        let invoice = self.get(&format!("/v1/invoices/{id}?expand[]=payments.data.payment.charge")).await;
        invoice["payments"]["data"][0]["payment"]["charge"]["payment_method"].clone()
    }
}

#[tokio::test]
async fn confirming_the_first_invoice_saves_the_card_on_the_subscription() {
    let shop = shop().await;
    let subscription = shop.subscribe(&[]).await;
    serde_json::from_value::<stripe_shared::Subscription>(subscription.clone()).expect("async-stripe parses it");
    assert_eq!(subscription["status"], "incomplete");
    assert_eq!(subscription["payment_settings"]["save_default_payment_method"], "on_subscription");
    assert_eq!(subscription["pending_setup_intent"], Value::Null, "a payment is due: no SetupIntent");
    assert_eq!(subscription["default_payment_method"], Value::Null);
    let confirmation = &subscription["latest_invoice"]["confirmation_secret"];
    assert_eq!(confirmation["type"], "payment_intent");
    let client_secret = confirmation["client_secret"].as_str().unwrap();
    assert!(client_secret.starts_with("pi_"), "{confirmation}");
    // Stripe includes the secret only where `expand[]` asks for it.
    let invoice = subscription["latest_invoice"]["id"].as_str().unwrap();
    let plain = shop.get(&format!("/v1/invoices/{invoice}")).await;
    assert!(plain.get("confirmation_secret").is_none(), "not expanded: {plain}");

    let intent = shop.confirm("payment_intents", client_secret, "4242424242424242").await;
    assert_eq!(intent["status"], "succeeded");
    assert!(intent.get("customer").is_none(), "a publishable key sees Stripe's client fields only: {intent}");
    let sub_id = subscription["id"].as_str().unwrap();
    let subscription = shop.get(&format!("/v1/subscriptions/{sub_id}")).await;
    assert_eq!(subscription["status"], "active");
    let card = subscription["default_payment_method"].as_str().expect("the card is the subscription's default");
    let pi = intent["id"].as_str().unwrap();
    assert_eq!(shop.get(&format!("/v1/payment_intents/{pi}")).await["payment_method"], card);
    assert_eq!(shop.get(&format!("/v1/payment_methods/{card}")).await["customer"], shop.customer.as_str());

    let updates = shop.events_of("customer.subscription.updated").await;
    assert_eq!(updates.len(), 1, "one update carries status and card: {updates:?}");
    assert_eq!(updates[0]["data"]["object"]["status"], "active");
    assert_eq!(updates[0]["data"]["object"]["default_payment_method"], card);
    let previous = &updates[0]["data"]["previous_attributes"];
    assert_eq!((&previous["status"], &previous["default_payment_method"]), (&json!("incomplete"), &Value::Null));
    assert_eq!(shop.events_of("payment_method.attached").await.len(), 1);
    shop.rx.verify_all(&shop.secret).await;

    // The renewal is charged to that card.
    shop.advance_to(T0 + 32 * DAY).await;
    let subscription = shop.get(&format!("/v1/subscriptions/{sub_id}?expand[]=latest_invoice")).await;
    assert_eq!(subscription["latest_invoice"]["billing_reason"], "subscription_cycle");
    assert_eq!(shop.paid_with(&subscription["latest_invoice"]).await, card);
    assert!(shop.events_of("invoice.payment_failed").await.is_empty());
}

#[tokio::test]
async fn a_trial_sets_the_card_up_through_the_pending_setup_intent() {
    let shop = shop().await;
    let subscription = shop.subscribe(&[("trial_period_days", "14")]).await;
    serde_json::from_value::<stripe_shared::Subscription>(subscription.clone()).expect("async-stripe parses it");
    assert_eq!(subscription["status"], "trialing");
    assert_eq!(subscription["latest_invoice"]["status"], "paid");
    assert_eq!(subscription["latest_invoice"]["confirmation_secret"], Value::Null, "nothing to pay now");
    let setup = &subscription["pending_setup_intent"];
    assert_eq!(setup["object"], "setup_intent", "expanded: {setup}");
    assert_eq!((&setup["customer"], &setup["usage"]), (&json!(shop.customer), &json!("off_session")));
    assert_eq!(setup["status"], "requires_payment_method");
    let seti = setup["id"].as_str().unwrap().to_string();
    let client_secret = setup["client_secret"].as_str().unwrap().to_string();
    let sub_id = subscription["id"].as_str().unwrap();
    // Not expanded: the id.
    assert_eq!(shop.get(&format!("/v1/subscriptions/{sub_id}")).await["pending_setup_intent"], seti.as_str());
    let created = shop.events_of("customer.subscription.created").await;
    assert_eq!(created[0]["data"]["object"]["pending_setup_intent"], seti.as_str());

    let intent = shop.confirm("setup_intents", &client_secret, "4242424242424242").await;
    assert_eq!(intent["status"], "succeeded");
    let subscription = shop.get(&format!("/v1/subscriptions/{sub_id}")).await;
    assert_eq!(subscription["pending_setup_intent"], Value::Null);
    let card = subscription["default_payment_method"].as_str().expect("the card set up is the default");
    assert_eq!(shop.get(&format!("/v1/setup_intents/{seti}")).await["payment_method"], card);
    assert_eq!(shop.get(&format!("/v1/payment_methods/{card}")).await["customer"], shop.customer.as_str());
    let updates = shop.events_of("customer.subscription.updated").await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["data"]["previous_attributes"]["pending_setup_intent"], seti.as_str());
    assert_eq!(updates[0]["data"]["object"]["default_payment_method"], card);
    for kind in ["setup_intent.created", "setup_intent.succeeded"] {
        assert_eq!(shop.events_of(kind).await.len(), 1, "{kind}");
    }
    shop.rx.verify_all(&shop.secret).await;

    // The trial ends: the first paid invoice is charged to the card set up.
    shop.advance_to(T0 + 15 * DAY).await;
    let subscription = shop.get(&format!("/v1/subscriptions/{sub_id}?expand[]=latest_invoice")).await;
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["latest_invoice"]["amount_paid"], 1500);
    assert_eq!(shop.paid_with(&subscription["latest_invoice"]).await, card);
    assert!(shop.events_of("invoice.payment_failed").await.is_empty());
}

#[tokio::test]
async fn three_d_secure_on_the_pending_setup_intent() {
    let shop = shop().await;
    let subscription = shop.subscribe(&[("trial_period_days", "14")]).await;
    let sub_id = subscription["id"].as_str().unwrap();
    let client_secret = subscription["pending_setup_intent"]["client_secret"].as_str().unwrap();
    for (action, redirect_status) in [("fail", "failed"), ("complete", "succeeded")] {
        let intent = shop.confirm("setup_intents", client_secret, "4000002760003184").await;
        assert_eq!(intent["status"], "requires_action");
        let pending = shop.get(&format!("/v1/subscriptions/{sub_id}")).await;
        assert_eq!(pending["default_payment_method"], Value::Null, "not set up yet");
        assert!(pending["pending_setup_intent"].is_string());
        let url = intent["next_action"]["redirect_to_url"]["url"].as_str().unwrap();
        let (s, location) = shop.browser.answer_3ds(url, action).await;
        assert_eq!(s, 303);
        assert!(location.unwrap().ends_with(&format!("redirect_status={redirect_status}")));
    }
    let subscription = shop.get(&format!("/v1/subscriptions/{sub_id}")).await;
    assert_eq!(subscription["pending_setup_intent"], Value::Null);
    let card = subscription["default_payment_method"].as_str().expect("the authenticated card is the default");
    assert_eq!(shop.get(&format!("/v1/payment_methods/{card}")).await["card"]["last4"], "3184");
    assert_eq!(shop.events_of("customer.subscription.updated").await.len(), 1);
    assert_eq!(shop.events_of("setup_intent.setup_failed").await.len(), 1);
}

#[tokio::test]
async fn save_default_payment_method_off_keeps_the_subscription_default_empty() {
    let shop = shop().await;
    let subscription = shop.subscribe(&[("payment_settings[save_default_payment_method]", "off")]).await;
    let client_secret = subscription["latest_invoice"]["confirmation_secret"]["client_secret"].as_str().unwrap();
    shop.confirm("payment_intents", client_secret, "4242424242424242").await;
    let subscription = shop.get(&format!("/v1/subscriptions/{}", subscription["id"].as_str().unwrap())).await;
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["default_payment_method"], Value::Null);
    assert_eq!(subscription["payment_settings"]["save_default_payment_method"], "off");
}

#[tokio::test]
async fn payment_settings_are_checked_stored_and_updated() {
    let shop = shop().await;
    let (customer, price) = (shop.customer.as_str(), shop.price.as_str());
    for (param, value) in [
        ("payment_settings[save_default_payment_method]", "always"),
        ("payment_settings[payment_method_types][0]", "cheque"),
    ] {
        let (s, v) = shop
            .raw
            .post("/v1/subscriptions", &[("customer", customer), ("items[0][price]", price), (param, value)])
            .await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["param"], param);
    }
    assert!(shop.get(&format!("/v1/subscriptions?customer={customer}")).await["data"].as_array().unwrap().is_empty());

    let subscription = shop
        .raw
        .ok(
            "/v1/subscriptions",
            &[("customer", customer), ("items[0][price]", price), ("payment_behavior", "default_incomplete")],
        )
        .await;
    assert_eq!(
        subscription["payment_settings"],
        json!({"payment_method_options": null, "payment_method_types": null, "save_default_payment_method": "off"})
    );
    let id = subscription["id"].as_str().unwrap();
    let updated = shop
        .raw
        .ok(
            &format!("/v1/subscriptions/{id}"),
            &[
                ("payment_settings[save_default_payment_method]", "on_subscription"),
                ("payment_settings[payment_method_types][0]", "card"),
            ],
        )
        .await;
    assert_eq!(updated["payment_settings"]["save_default_payment_method"], "on_subscription");
    assert_eq!(updated["payment_settings"]["payment_method_types"], json!(["card"]));
    let (s, v) = shop
        .raw
        .post(&format!("/v1/subscriptions/{id}"), &[("payment_settings[save_default_payment_method]", "sometimes")])
        .await;
    assert_eq!((s, &v["error"]["param"]), (400, &json!("payment_settings[save_default_payment_method]")));
    let cleared =
        shop.raw.ok(&format!("/v1/subscriptions/{id}"), &[("payment_settings[payment_method_types]", "")]).await;
    assert_eq!(cleared["payment_settings"]["payment_method_types"], Value::Null);
}

#[tokio::test]
async fn intents_made_through_the_api_have_automatic_payment_methods() {
    let sb = sandbox().await;
    let (raw, browser) = (Raw::new(&sb), Browser::new(&sb));
    let base = [("amount", "2000"), ("currency", "usd")];
    let pi = raw.ok("/v1/payment_intents", &base).await;
    assert_eq!(pi["automatic_payment_methods"], json!({"allow_redirects": "always", "enabled": true}));
    serde_json::from_value::<stripe_shared::PaymentIntent>(pi.clone()).expect("async-stripe parses it");
    let secret = pi["client_secret"].as_str().unwrap();
    let (_, seen) =
        browser.get(&format!("/v1/payment_intents/{}?client_secret={secret}", pi["id"].as_str().unwrap())).await;
    assert_eq!(seen["automatic_payment_methods"]["enabled"], true, "retrievable with the publishable key");

    let mut never = base.to_vec();
    never.extend([
        ("automatic_payment_methods[enabled]", "true"),
        ("automatic_payment_methods[allow_redirects]", "never"),
    ]);
    let pi = raw.ok("/v1/payment_intents", &never).await;
    assert_eq!(pi["automatic_payment_methods"], json!({"allow_redirects": "never", "enabled": true}));
    let mut off = base.to_vec();
    off.push(("automatic_payment_methods[enabled]", "false"));
    assert_eq!(raw.ok("/v1/payment_intents", &off).await["automatic_payment_methods"], Value::Null);
    for (bad, param) in [
        (("automatic_payment_methods[allow_redirects]", "sometimes"), "automatic_payment_methods[allow_redirects]"),
        (("automatic_payment_methods[enabled]", "maybe"), "automatic_payment_methods[enabled]"),
    ] {
        let mut form = base.to_vec();
        form.push(bad);
        if bad.0.ends_with("[allow_redirects]") {
            form.push(("automatic_payment_methods[enabled]", "true"));
        }
        let (s, v) = raw.post("/v1/payment_intents", &form).await;
        assert_eq!((s, &v["error"]["param"]), (400, &json!(param)), "{v}");
    }

    let seti = raw.ok("/v1/setup_intents", &[]).await;
    assert_eq!(seti["automatic_payment_methods"], json!({"allow_redirects": "always", "enabled": true}));
    serde_json::from_value::<stripe_shared::SetupIntent>(seti).expect("async-stripe parses it");
}
