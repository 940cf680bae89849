//! Pausing, as Stripe has it at 2026-09-30.endive: `billing_mode` (flexible by default), pausing
//! payment collection (`pause_collection`: renewals still invoice, nothing is charged), the pause
//! endpoint (`status=paused`: no invoices, no new periods), a trial ending without a payment
//! method (`missing_payment_method=pause`), and resuming.

use serde_json::json;

use super::*;

const T0: i64 = 1_800_000_000;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A customer on a test clock (with `card` as the default payment method, if any), a $15 monthly
/// price and a webhook receiver.
struct World {
    sb: RunningSandbox,
    raw: Raw,
    rx: Receiver,
    customer: String,
    price: String,
}

async fn world(card: Option<&str>) -> World {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    register(&raw, &rx.url).await;
    let t0 = T0.to_string();
    let clock = id(&raw.ok("/v1/test_helpers/test_clocks", &[("frozen_time", t0.as_str())]).await);
    let customer = id(&raw.ok("/v1/customers", &[("email", "pause@x.com"), ("test_clock", clock.as_str())]).await);
    if let Some(card) = card {
        let pm = id(&raw.ok(&format!("/v1/payment_methods/{card}/attach"), &[("customer", customer.as_str())]).await);
        raw.ok(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", pm.as_str())])
            .await;
    }
    let price = monthly_price(&raw, "1500").await;
    settle(&sb).await;
    rx.got.lock().await.clear();
    World { sb, raw, rx, customer, price }
}

impl World {
    async fn subscription(&self, extra: &[(&str, &str)]) -> Value {
        let mut form = vec![("customer", self.customer.as_str()), ("items[0][price]", self.price.as_str())];
        form.extend_from_slice(extra);
        let subscription = self.raw.ok("/v1/subscriptions", &form).await;
        settle(&self.sb).await;
        self.rx.got.lock().await.clear();
        subscription
    }
    async fn get(&self, path: &str) -> Value {
        self.raw.get(path).await.1
    }
}

/// async-stripe reads a subscription as Stripe sends it.
fn parses(subscription: &Value) -> stripe_shared::Subscription {
    serde_json::from_value(subscription.clone()).expect("async-stripe parses the subscription")
}

// ---------------------------------------------------------------------------------------------
// billing_mode

#[tokio::test]
async fn billing_mode_defaults_to_flexible_and_takes_classic_when_asked() {
    let w = world(Some("pm_card_visa")).await;
    let flexible = w.subscription(&[]).await;
    assert_eq!(
        flexible["billing_mode"],
        json!({"flexible": {"proration_discounts": "included"}, "type": "flexible", "updated_at": T0})
    );
    assert!(flexible["status_details"].is_null());
    let parsed = parses(&flexible);
    assert_eq!(parsed.billing_mode.type_, stripe_shared::SubscriptionsResourceBillingModeType::Flexible);

    let classic = w.subscription(&[("billing_mode[type]", "classic")]).await;
    assert_eq!(classic["billing_mode"], json!({"flexible": null, "type": "classic", "updated_at": null}));
    parses(&classic);

    let (status, error) = w
        .raw
        .post(
            "/v1/subscriptions",
            &[("customer", &w.customer), ("items[0][price]", &w.price), ("billing_mode[type]", "modern")],
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "billing_mode[type]");
    assert_eq!(error["error"]["message"], "Invalid billing_mode[type]: must be one of classic or flexible");
}

#[tokio::test]
async fn schedules_create_flexible_subscriptions_unless_told_classic() {
    let w = world(Some("pm_card_visa")).await;
    for (mode, form) in [("flexible", vec![]), ("classic", vec![("billing_mode[type]", "classic")])] {
        let mut form = form;
        form.extend([
            ("customer", w.customer.as_str()),
            ("phases[0][items][0][price]", w.price.as_str()),
            ("phases[0][iterations]", "2"),
        ]);
        let schedule = w.raw.ok("/v1/subscription_schedules", &form).await;
        assert_eq!(schedule["billing_mode"]["type"], mode);
        let subscription = w.get(&format!("/v1/subscriptions/{}", schedule["subscription"].as_str().unwrap())).await;
        assert_eq!(subscription["billing_mode"]["type"], mode);
    }
    // A schedule from a subscription bills as the subscription does.
    let subscription = w.subscription(&[("billing_mode[type]", "classic")]).await;
    let (status, error) = w
        .raw
        .post(
            "/v1/subscription_schedules",
            &[("from_subscription", &id(&subscription)), ("billing_mode[type]", "flexible")],
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "billing_mode[type]");
    let schedule = w.raw.ok("/v1/subscription_schedules", &[("from_subscription", &id(&subscription))]).await;
    assert_eq!(schedule["billing_mode"]["type"], "classic");
}

#[tokio::test]
async fn checkout_carries_billing_mode_and_the_trial_end_behavior_to_the_subscription() {
    let w = world(None).await;
    let form = [
        ("mode", "subscription"),
        ("customer", w.customer.as_str()),
        ("success_url", "http://app.test/done"),
        ("line_items[0][price]", w.price.as_str()),
        ("line_items[0][quantity]", "1"),
        ("subscription_data[trial_period_days]", "7"),
        ("subscription_data[billing_mode][type]", "classic"),
        ("subscription_data[trial_settings][end_behavior][missing_payment_method]", "pause"),
    ];
    let session = w.raw.ok("/v1/checkout/sessions", &form).await;
    let paid = w
        .raw
        .http
        .post(session["url"].as_str().unwrap())
        .form(&[("email", "pause@x.com"), ("card_number", "4242424242424242"), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 303);
    let session = w.get(&format!("/v1/checkout/sessions/{}", id(&session))).await;
    let subscription = w.get(&format!("/v1/subscriptions/{}", session["subscription"].as_str().unwrap())).await;
    assert_eq!(subscription["billing_mode"]["type"], "classic");
    assert_eq!(subscription["trial_settings"]["end_behavior"]["missing_payment_method"], "pause");

    let mut wrong = form.to_vec();
    wrong[7].1 = "wait";
    let (status, error) = w.raw.post("/v1/checkout/sessions", &wrong).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "subscription_data[trial_settings][end_behavior][missing_payment_method]");
    wrong[7].1 = "pause";
    wrong[6].1 = "modern";
    let (status, error) = w.raw.post("/v1/checkout/sessions", &wrong).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "subscription_data[billing_mode][type]");
}
