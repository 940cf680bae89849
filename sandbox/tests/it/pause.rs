//! Pausing, as Stripe has it at 2026-09-30.endive: `billing_mode` (flexible by default), pausing
//! payment collection (`pause_collection`: renewals still invoice, nothing is charged), the pause
//! endpoint (`status=paused`: no invoices, no new periods), a trial ending without a payment
//! method (`missing_payment_method=pause`), and resuming.

use serde_json::json;

use super::*;

const T0: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A customer on a test clock (with `card` as the default payment method, if any), a $15 monthly
/// price and a webhook receiver.
struct World {
    secret: String,
    sb: RunningSandbox,
    raw: Raw,
    rx: Receiver,
    clock: String,
    customer: String,
    price: String,
}

async fn world(card: Option<&str>) -> World {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    let secret = register(&raw, &rx.url).await;
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
    World { secret, sb, raw, rx, clock, customer, price }
}

impl World {
    async fn advance_to(&self, t: i64) {
        advance_clock(&self.sb, &self.raw, &self.clock, t).await;
    }
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
    async fn invoices_of(&self, subscription: &str) -> Vec<Value> {
        self.get(&format!("/v1/invoices?subscription={subscription}")).await["data"].as_array().unwrap().clone()
    }
    /// Billing events received, in order.
    async fn billing_types(&self) -> Vec<String> {
        self.rx.types_of(&["customer.subscription.", "invoice.", "invoiceitem.", "charge."]).await
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

// ---------------------------------------------------------------------------------------------
// pause_collection

/// The first renewal (2027-02-15, a month after T0) and the one after (2027-03-15).
const RENEWAL: i64 = T0 + 31 * DAY;
const NEXT_RENEWAL: i64 = T0 + 59 * DAY;

/// A paid subscription whose collection is paused with `behavior`, renewed once.
async fn renewed_while_collection_paused(behavior: &str) -> (World, String, Value) {
    let w = world(Some("pm_card_visa")).await;
    let subscription = id(&w.subscription(&[]).await);
    let paused =
        w.raw.ok(&format!("/v1/subscriptions/{subscription}"), &[("pause_collection[behavior]", behavior)]).await;
    assert_eq!(paused["status"], "active");
    assert_eq!(paused["pause_collection"], json!({"behavior": behavior, "resumes_at": null}));
    settle(&w.sb).await;
    w.rx.got.lock().await.clear();
    w.advance_to(RENEWAL + 2 * 3600).await;
    let renewed = w.get(&format!("/v1/subscriptions/{subscription}")).await;
    assert_eq!(renewed["status"], "active", "pausing collection leaves the subscription active");
    assert_eq!(renewed["items"]["data"][0]["current_period_start"], RENEWAL, "the period still moves");
    let invoices = w.invoices_of(&subscription).await;
    assert_eq!(invoices.len(), 2, "the renewal is still invoiced");
    let invoice = invoices[0].clone();
    assert_eq!(renewed["latest_invoice"], invoice["id"]);
    assert_eq!(
        (invoice["billing_reason"].as_str(), invoice["amount_due"].as_i64()),
        (Some("subscription_cycle"), Some(1500))
    );
    assert_eq!(
        (invoice["amount_paid"].as_i64(), invoice["attempted"].as_bool()),
        (Some(0), Some(false)),
        "never charged"
    );
    let types = w.billing_types().await;
    assert!(!types.iter().any(|t| t.starts_with("charge.") || t.starts_with("invoice.pa")), "{types:?}");
    (w, subscription, invoice)
}

#[tokio::test]
async fn keep_as_draft_leaves_each_renewal_invoice_a_draft() {
    let (w, _, invoice) = renewed_while_collection_paused("keep_as_draft").await;
    assert_eq!(invoice["status"], "draft");
    assert_eq!(invoice["auto_advance"], false);
    assert!(invoice["automatically_finalizes_at"].is_null());
    assert_eq!(w.billing_types().await, ["customer.subscription.updated", "invoice.created"]);
    // Days later it is still a draft: nothing finalizes it.
    w.advance_to(RENEWAL + 5 * DAY).await;
    assert_eq!(w.get(&format!("/v1/invoices/{}", id(&invoice))).await["status"], "draft");
    w.rx.verify_all(&w.secret).await;
}

/// `mark_uncollectible` and `void`: each renewal invoice is finalized (an hour after the
/// renewal, as Stripe does) and closed at once, with `event`.
async fn closes_each_renewal_invoice(behavior: &str, status: &str, transition: &str, event: &str) {
    let (w, _, invoice) = renewed_while_collection_paused(behavior).await;
    assert_eq!(invoice["status"], status);
    assert_eq!(invoice["status_transitions"][transition], RENEWAL + 3600);
    assert_eq!(
        w.billing_types().await,
        ["customer.subscription.updated", "invoice.created", "invoice.finalized", event]
    );
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn mark_uncollectible_finalizes_each_renewal_invoice_and_marks_it_uncollectible() {
    closes_each_renewal_invoice(
        "mark_uncollectible",
        "uncollectible",
        "marked_uncollectible_at",
        "invoice.marked_uncollectible",
    )
    .await;
}

#[tokio::test]
async fn void_finalizes_each_renewal_invoice_and_voids_it() {
    closes_each_renewal_invoice("void", "void", "voided_at", "invoice.voided").await;
}

#[tokio::test]
async fn collection_resumes_at_resumes_at_and_the_next_renewal_is_charged() {
    let w = world(Some("pm_card_visa")).await;
    let subscription = id(&w.subscription(&[]).await);
    let resumes_at = (RENEWAL + 10 * DAY).to_string();
    w.raw
        .ok(
            &format!("/v1/subscriptions/{subscription}"),
            &[("pause_collection[behavior]", "mark_uncollectible"), ("pause_collection[resumes_at]", &resumes_at)],
        )
        .await;
    w.advance_to(RENEWAL + 2 * 3600).await;
    assert_eq!(w.invoices_of(&subscription).await[0]["status"], "uncollectible");
    settle(&w.sb).await;
    w.rx.got.lock().await.clear();

    w.advance_to(RENEWAL + 11 * DAY).await;
    let resumed = w.get(&format!("/v1/subscriptions/{subscription}")).await;
    assert!(resumed["pause_collection"].is_null());
    let updated = w.rx.events_of("customer.subscription.updated").await;
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert_eq!(updated[0]["created"], RENEWAL + 10 * DAY);
    assert_eq!(
        updated[0]["data"]["previous_attributes"]["pause_collection"],
        json!({"behavior": "mark_uncollectible", "resumes_at": RENEWAL + 10 * DAY})
    );

    w.advance_to(NEXT_RENEWAL + 2 * 3600).await;
    let latest = w.invoices_of(&subscription).await[0].clone();
    assert_eq!((latest["status"].as_str(), latest["amount_paid"].as_i64()), (Some("paid"), Some(1500)));
    assert_eq!(latest["period_end"], NEXT_RENEWAL);
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn pause_collection_is_checked() {
    let w = world(Some("pm_card_visa")).await;
    let subscription = id(&w.subscription(&[]).await);
    let path = format!("/v1/subscriptions/{subscription}");
    let (status, error) = w.raw.post(&path, &[("pause_collection[behavior]", "skip")]).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["param"], "pause_collection[behavior]");
    assert_eq!(
        error["error"]["message"],
        "Invalid pause_collection[behavior]: must be one of keep_as_draft, mark_uncollectible, or void"
    );
    let past = (T0 - DAY).to_string();
    let (status, error) =
        w.raw.post(&path, &[("pause_collection[behavior]", "void"), ("pause_collection[resumes_at]", &past)]).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "pause_collection[resumes_at]");
    let (status, error) = w.raw.post(&path, &[("pause_collection[resumes_at]", &past)]).await;
    assert_eq!((status, error["error"]["param"].as_str()), (400, Some("pause_collection[behavior]")));
    assert!(w.get(&path).await["pause_collection"].is_null(), "nothing changed");
}
