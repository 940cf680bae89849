//! Pausing, as Stripe has it at 2026-09-30.endive: `billing_mode` (flexible by default), pausing
//! payment collection (`pause_collection`: renewals still invoice, nothing is charged), the pause
//! endpoint (`status=paused`: no invoices, no new periods), a trial ending without a payment
//! method (`missing_payment_method=pause`), and resuming.

use serde_json::json;

use super::*;

const T0: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn id_of(v: &Value) -> String {
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
    let clock = id_of(&raw.ok("/v1/test_helpers/test_clocks", &[("frozen_time", t0.as_str())]).await);
    let customer = id_of(&raw.ok("/v1/customers", &[("email", "pause@x.com"), ("test_clock", clock.as_str())]).await);
    let price = monthly_price(&raw, "1500").await;
    let w = World { secret, sb, raw, rx, clock, customer, price };
    if let Some(card) = card {
        w.use_card(card).await;
    }
    settle(&w.sb).await;
    w.rx.got.lock().await.clear();
    w
}

impl World {
    /// Attaches a test card and makes it the customer's default payment method.
    async fn use_card(&self, card: &str) {
        let attach = format!("/v1/payment_methods/{card}/attach");
        let pm = id_of(&self.raw.ok(&attach, &[("customer", self.customer.as_str())]).await);
        let form = [("invoice_settings[default_payment_method]", pm.as_str())];
        self.raw.ok(&format!("/v1/customers/{}", self.customer), &form).await;
    }
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
            &[("from_subscription", &id_of(&subscription)), ("billing_mode[type]", "flexible")],
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "billing_mode[type]");
    let schedule = w.raw.ok("/v1/subscription_schedules", &[("from_subscription", &id_of(&subscription))]).await;
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
    let session = w.get(&format!("/v1/checkout/sessions/{}", id_of(&session))).await;
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
    let subscription = id_of(&w.subscription(&[]).await);
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
    assert_eq!(w.get(&format!("/v1/invoices/{}", id_of(&invoice))).await["status"], "draft");
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
    let subscription = id_of(&w.subscription(&[]).await);
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
    let subscription = id_of(&w.subscription(&[]).await);
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

// ---------------------------------------------------------------------------------------------
// The pause endpoint

/// Ten days into the first period.
const PAUSED_AT: i64 = T0 + 10 * DAY;
/// The unused 21 of the period's 31 days, credited when pausing on day 10.
const CREDIT: i64 = -1016;

/// A paid subscription paused (with `params`) ten days in, through async-stripe when there are
/// none; events cleared.
async fn paused(w: &World, params: &[(&str, &str)]) -> Value {
    let subscription = id_of(&w.subscription(&[]).await);
    w.advance_to(PAUSED_AT).await;
    let paused = if params.is_empty() {
        let typed = stripe_billing::subscription::PauseSubscription::new(subscription.as_str())
            .send(&client(&w.sb))
            .await
            .expect("async-stripe pauses and reads the answer");
        assert_eq!(typed.status, stripe_shared::SubscriptionStatus::Paused);
        let details = typed.status_details.expect("status_details");
        assert_eq!(
            details.paused.subscription.type_,
            stripe_shared::SubscriptionsResourcePausedStatusDetailsSubscriptionType::PauseRequested
        );
        w.get(&format!("/v1/subscriptions/{subscription}")).await
    } else {
        w.raw.ok(&format!("/v1/subscriptions/{subscription}/pause"), params).await
    };
    settle(&w.sb).await;
    paused
}

/// The customer's pending invoice items.
async fn pending_items(w: &World) -> Vec<Value> {
    let items = w.get(&format!("/v1/invoiceitems?customer={}", w.customer)).await;
    items["data"].as_array().unwrap().iter().filter(|item| item["invoice"].is_null()).cloned().collect()
}

#[tokio::test]
async fn pausing_credits_the_unused_time_and_stops_invoices_and_periods() {
    let w = world(Some("pm_card_visa")).await;
    let subscription = paused(&w, &[]).await;
    let id = id_of(&subscription);
    assert_eq!(subscription["status"], "paused");
    assert_eq!(
        subscription["status_details"],
        json!({"paused": {"subscription": {"type": "pause_requested"}, "transitioned_at": PAUSED_AT, "type": "subscription"}})
    );
    assert_eq!(
        w.billing_types().await,
        ["customer.subscription.updated", "customer.subscription.paused", "invoiceitem.created"]
    );
    let updated = &w.rx.events_of("customer.subscription.updated").await[0];
    assert_eq!(updated["data"]["previous_attributes"], json!({"status": "active", "status_details": null}));
    assert_eq!(w.rx.events_of("customer.subscription.paused").await[0]["data"]["object"]["status"], "paused");
    let pending = pending_items(&w).await;
    assert_eq!(pending.len(), 1);
    let credit = &pending[0];
    assert_eq!((credit["amount"].as_i64(), credit["proration"].as_bool()), (Some(CREDIT), Some(true)));
    assert_eq!(credit["period"], json!({"end": RENEWAL, "start": PAUSED_AT}));
    assert_eq!(credit["subscription"], id.as_str());
    assert!(credit["description"].as_str().unwrap().starts_with("Unused time on 1 × Pro after"), "{credit}");

    // The would-be renewals pass without an invoice or a new period.
    w.rx.got.lock().await.clear();
    w.advance_to(NEXT_RENEWAL + DAY).await;
    let still = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(still["status"], "paused");
    assert_eq!(still["items"]["data"][0]["current_period_end"], RENEWAL);
    assert_eq!(w.invoices_of(&id).await.len(), 1, "only the first invoice");
    assert!(w.billing_types().await.is_empty(), "{:?}", w.billing_types().await);
    assert_eq!(pending_items(&w).await.len(), 1, "the credit waits for the next invoice");
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn pausing_can_credit_nothing_or_the_whole_period_and_invoice_it_now() {
    let w = world(Some("pm_card_visa")).await;
    let subscription = paused(&w, &[("bill_for[unused_time_from][type]", "none")]).await;
    assert_eq!(subscription["status"], "paused");
    assert!(pending_items(&w).await.is_empty());

    // From the period start, invoiced now: the whole period comes back as credit (the invoice
    // owes nothing).
    let w = world(Some("pm_card_visa")).await;
    let subscription = paused(
        &w,
        &[("bill_for[unused_time_from][type]", "item_current_period_start"), ("invoicing_behavior", "invoice")],
    )
    .await;
    assert!(pending_items(&w).await.is_empty());
    let invoice = w.invoices_of(&id_of(&subscription)).await[0].clone();
    assert_eq!(invoice["billing_reason"], "subscription_update");
    assert_eq!((invoice["total"].as_i64(), invoice["status"].as_str()), (Some(-1500), Some("paid")));
    assert_eq!(invoice["lines"]["data"][0]["period"], json!({"end": RENEWAL, "start": T0}));
    assert_eq!(w.get(&format!("/v1/subscriptions/{}", id_of(&subscription))).await["status"], "paused");
}

/// `value` API calls of the customer's at `at`.
async fn report_usage(w: &World, value: &str, at: i64) {
    let at = at.to_string();
    let form = [
        ("event_name", "api_call"),
        ("payload[stripe_customer_id]", w.customer.as_str()),
        ("payload[value]", value),
        ("timestamp", at.as_str()),
    ];
    w.raw.ok("/v1/billing/meter_events", &form).await;
}

#[tokio::test]
async fn pausing_bills_the_usage_so_far_once() {
    let w = world(Some("pm_card_visa")).await;
    let meter = w
        .raw
        .ok(
            "/v1/billing/meters",
            &[("display_name", "API calls"), ("event_name", "api_call"), ("default_aggregation[formula]", "sum")],
        )
        .await;
    let product = id_of(&w.raw.ok("/v1/products", &[("name", "API")]).await);
    let metered = w
        .raw
        .ok(
            "/v1/prices",
            &[
                ("currency", "usd"),
                ("unit_amount", "2"),
                ("recurring[interval]", "month"),
                ("recurring[usage_type]", "metered"),
                ("recurring[meter]", &id_of(&meter)),
                ("product", &product),
            ],
        )
        .await;
    let subscription = id_of(&w.subscription(&[("items[1][price]", &id_of(&metered))]).await);
    w.advance_to(T0 + 5 * DAY).await;
    report_usage(&w, "1000", T0 + 5 * DAY).await;
    w.advance_to(PAUSED_AT).await;
    w.raw
        .ok(
            &format!("/v1/subscriptions/{subscription}/pause"),
            &[("invoicing_behavior", "invoice"), ("bill_for[outstanding_usage_through][type]", "now")],
        )
        .await;
    let invoice = w.invoices_of(&subscription).await[0].clone();
    let amounts: Vec<i64> =
        invoice["lines"]["data"].as_array().unwrap().iter().map(|l| l["amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts, [CREDIT, 2000], "the credit and the usage so far");
    assert_eq!((invoice["status"].as_str(), invoice["amount_paid"].as_i64()), (Some("paid"), Some(2000 + CREDIT)));

    // Resumed ten days later: the usage before the pause is not billed again.
    w.advance_to(PAUSED_AT + 10 * DAY).await;
    let form = [("payment_behavior", "resume_on_payment_success")];
    let resumed = w.raw.ok(&format!("/v1/subscriptions/{subscription}/resume"), &form).await;
    assert_eq!(resumed["status"], "active");
    let resumption = w.invoices_of(&subscription).await[0].clone();
    assert_eq!(resumption["lines"]["data"].as_array().unwrap().len(), 1, "{resumption}");
    assert_eq!(resumption["amount_paid"], 1500);
    w.advance_to(PAUSED_AT + 12 * DAY).await;
    report_usage(&w, "300", PAUSED_AT + 12 * DAY).await;
    let next = resumed["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    w.advance_to(next + 2 * 3600).await;
    let renewal = w.invoices_of(&subscription).await[0].clone();
    assert_eq!(renewal["amount_paid"], 1500 + 600, "the new period and the usage since resuming");
}

#[tokio::test]
async fn pause_is_refused_as_stripe_refuses_it() {
    let w = world(Some("pm_card_visa")).await;
    let refused = |subscription: String| {
        let raw = &w.raw;
        async move {
            let (status, error) = raw.post(&format!("/v1/subscriptions/{subscription}/pause"), &[]).await;
            assert_eq!(status, 400, "{error}");
            assert_eq!(error["error"]["type"], "invalid_request_error");
            error["error"]["message"].as_str().unwrap().to_string()
        }
    };
    let classic = id_of(&w.subscription(&[("billing_mode[type]", "classic")]).await);
    assert!(refused(classic).await.contains("flexible billing mode"));
    let scheduled = id_of(&w.subscription(&[]).await);
    w.raw.ok("/v1/subscription_schedules", &[("from_subscription", scheduled.as_str())]).await;
    assert_eq!(refused(scheduled).await, "Cannot pause subscriptions with attached schedules.");
    let canceled = id_of(&w.subscription(&[]).await);
    w.raw.delete(&format!("/v1/subscriptions/{canceled}")).await;
    assert!(refused(canceled).await.contains("`canceled`"));
    let incomplete = id_of(&w.subscription(&[("payment_behavior", "default_incomplete")]).await);
    assert!(refused(incomplete).await.contains("`incomplete`"));
    let twice = id_of(&w.subscription(&[]).await);
    w.raw.ok(&format!("/v1/subscriptions/{twice}/pause"), &[]).await;
    assert!(refused(twice.clone()).await.contains("`paused`"));

    let live = id_of(&w.subscription(&[]).await);
    for (param, value) in [
        ("type", "schedule"),
        ("invoicing_behavior", "later"),
        ("bill_for[unused_time_from][type]", "later"),
        ("bill_for[outstanding_usage_through][type]", "later"),
    ] {
        let (status, error) = w.raw.post(&format!("/v1/subscriptions/{live}/pause"), &[(param, value)]).await;
        assert_eq!((status, error["error"]["param"].as_str()), (400, Some(param)), "{error}");
    }
    assert_eq!(w.get(&format!("/v1/subscriptions/{live}")).await["status"], "active");
}

// ---------------------------------------------------------------------------------------------
// Resuming

/// Paused on day 10, resumed on day 40 (past the would-be renewal): 2027-02-24.
const RESUMED_AT: i64 = T0 + 40 * DAY;
/// A month later: 2027-03-24.
const RESUMED_PERIOD_END: i64 = T0 + 68 * DAY;

#[tokio::test]
async fn resume_now_starts_a_new_period_billed_with_the_pause_credit() {
    use stripe_billing::subscription::{
        ResumeSubscription, ResumeSubscriptionBillingCycleAnchor, ResumeSubscriptionBillingCycleAnchorType,
        ResumeSubscriptionPaymentBehavior,
    };
    let w = world(Some("pm_card_visa")).await;
    let id = id_of(&paused(&w, &[]).await);
    w.advance_to(RESUMED_AT).await;
    w.rx.got.lock().await.clear();
    let typed = ResumeSubscription::new(id.as_str())
        .billing_cycle_anchor(ResumeSubscriptionBillingCycleAnchor::new(ResumeSubscriptionBillingCycleAnchorType::Now))
        .payment_behavior(ResumeSubscriptionPaymentBehavior::ResumeOnPaymentSuccess)
        .send(&client(&w.sb))
        .await
        .expect("async-stripe resumes and reads the answer");
    assert_eq!(typed.status, stripe_shared::SubscriptionStatus::Active);
    assert!(typed.status_details.is_none());
    settle(&w.sb).await;
    let resumed = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(resumed["billing_cycle_anchor"], RESUMED_AT);
    assert_eq!(resumed["items"]["data"][0]["current_period_start"], RESUMED_AT);
    assert_eq!(resumed["items"]["data"][0]["current_period_end"], RESUMED_PERIOD_END);
    let invoice = w.invoices_of(&id).await[0].clone();
    assert_eq!(resumed["latest_invoice"], invoice["id"]);
    assert_eq!(invoice["billing_reason"], "subscription_update");
    assert_eq!((invoice["status"].as_str(), invoice["amount_paid"].as_i64()), (Some("paid"), Some(1500 + CREDIT)));
    let lines: Vec<(i64, bool)> = invoice["lines"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| (line["amount"].as_i64().unwrap(), line["parent"]["type"] == "invoice_item_details"))
        .collect();
    assert_eq!(lines, [(CREDIT, true), (1500, false)], "the pause's credit and the new period");
    assert!(pending_items(&w).await.is_empty());
    let types = w.billing_types().await;
    // The new period and its invoice, the payment, then the subscription leaves `paused`.
    let invoiced = ["customer.subscription.updated", "invoice.created", "invoice.finalized"];
    let paid = ["charge.succeeded", "invoice.paid", "invoice.payment_succeeded"];
    let resumed = ["customer.subscription.updated", "customer.subscription.resumed"];
    assert_subsequence(&types, &[&invoiced[..], &paid, &resumed].concat());
    assert_eq!(types.last().map(String::as_str), Some("customer.subscription.resumed"));
    let updates = w.rx.events_of("customer.subscription.updated").await;
    assert_eq!(updates[0]["data"]["object"]["status"], "paused", "the new period comes first");
    assert_eq!(updates[1]["data"]["previous_attributes"]["status"], "paused");
    assert_eq!(updates[1]["data"]["object"]["status"], "active");

    // The next renewal is the new period's.
    w.advance_to(RESUMED_PERIOD_END + 2 * 3600).await;
    let renewal = w.invoices_of(&id).await[0].clone();
    assert_eq!(
        (renewal["billing_reason"].as_str(), renewal["amount_paid"].as_i64()),
        (Some("subscription_cycle"), Some(1500))
    );
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn resume_by_default_waits_for_a_payment_attempt_and_voids_an_unattempted_invoice() {
    let w = world(Some("pm_card_visa")).await;
    let id = id_of(&paused(&w, &[]).await);
    w.advance_to(RESUMED_AT).await;
    w.rx.got.lock().await.clear();
    let resumed = w.raw.ok(&format!("/v1/subscriptions/{id}/resume"), &[]).await;
    assert_eq!(resumed["status"], "paused", "no payment attempt during the request");
    let invoice = w.invoices_of(&id).await[0].clone();
    assert_eq!((invoice["status"].as_str(), invoice["attempted"].as_bool()), (Some("open"), Some(false)));
    assert_eq!(invoice["amount_due"], 1500 + CREDIT);
    settle(&w.sb).await;
    assert_eq!(w.billing_types().await, ["customer.subscription.updated", "invoice.created", "invoice.finalized"]);

    // Nobody pays within 23 hours: Stripe voids the invoice and the subscription stays paused.
    w.advance_to(RESUMED_AT + DAY).await;
    assert_eq!(w.get(&format!("/v1/invoices/{}", id_of(&invoice))).await["status"], "void");
    assert_eq!(w.get(&format!("/v1/subscriptions/{id}")).await["status"], "paused");
    assert!(w.rx.events_of("customer.subscription.resumed").await.is_empty());

    // Resumed again and paid: active.
    let again = w.raw.ok(&format!("/v1/subscriptions/{id}/resume"), &[]).await;
    assert_eq!(again["status"], "paused");
    let invoice = w.invoices_of(&id).await[0].clone();
    assert_eq!(invoice["amount_due"], 1500, "the credit went with the voided invoice");
    w.raw.ok(&format!("/v1/invoices/{}/pay", id_of(&invoice)), &[]).await;
    settle(&w.sb).await;
    assert_eq!(w.get(&format!("/v1/subscriptions/{id}")).await["status"], "active");
    assert_eq!(w.rx.events_of("customer.subscription.resumed").await.len(), 1);
    w.rx.verify_all(&w.secret).await;
}

/// A paused subscription whose customer's default card now fails every charge.
async fn paused_with_a_failing_card() -> (World, String) {
    let w = world(Some("pm_card_visa")).await;
    let id = id_of(&paused(&w, &[]).await);
    w.use_card("pm_card_chargeCustomerFail").await;
    w.advance_to(RESUMED_AT).await;
    w.rx.got.lock().await.clear();
    (w, id)
}

#[tokio::test]
async fn resume_on_payment_success_stays_paused_while_the_payment_fails_and_retries_it() {
    let (w, id) = paused_with_a_failing_card().await;
    let form = [("payment_behavior", "resume_on_payment_success")];
    let resumed = w.raw.ok(&format!("/v1/subscriptions/{id}/resume"), &form).await;
    assert_eq!(resumed["status"], "paused");
    assert_eq!(resumed["status_details"]["paused"]["subscription"]["type"], "pause_requested");
    let invoice = w.invoices_of(&id).await[0].clone();
    assert_eq!((invoice["status"].as_str(), invoice["attempt_count"].as_i64()), (Some("open"), Some(1)));
    let retry = invoice["next_payment_attempt"].as_i64().expect("Stripe retries it");
    settle(&w.sb).await;
    assert!(w.billing_types().await.contains(&"invoice.payment_failed".to_string()));
    assert!(w.rx.events_of("customer.subscription.resumed").await.is_empty());

    // The customer fixes the card; the retry pays and the subscription resumes.
    w.use_card("pm_card_visa").await;
    w.advance_to(retry + 60).await;
    assert_eq!(w.get(&format!("/v1/invoices/{}", id_of(&invoice))).await["status"], "paid");
    assert_eq!(w.get(&format!("/v1/subscriptions/{id}")).await["status"], "active");
    assert_eq!(w.rx.events_of("customer.subscription.resumed").await.len(), 1);
}

#[tokio::test]
async fn a_failed_payment_attempt_on_the_resumption_invoice_makes_the_subscription_past_due() {
    let (w, id) = paused_with_a_failing_card().await;
    w.raw.ok(&format!("/v1/subscriptions/{id}/resume"), &[]).await;
    let invoice = w.invoices_of(&id).await[0].clone();
    let (status, error) = w.raw.post(&format!("/v1/invoices/{}/pay", id_of(&invoice)), &[]).await;
    assert_eq!(status, 402, "{error}");
    settle(&w.sb).await;
    let subscription = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(subscription["status"], "past_due");
    assert!(subscription["status_details"].is_null());
    assert_eq!(w.rx.events_of("customer.subscription.resumed").await.len(), 1, "it left paused");
    assert!(w.get(&format!("/v1/invoices/{}", id_of(&invoice))).await["next_payment_attempt"].is_null(), "no retries");
}

#[tokio::test]
async fn resume_unchanged_keeps_the_period_and_prorates_its_remaining_time() {
    let w = world(Some("pm_card_visa")).await;
    let id = id_of(&paused(&w, &[]).await);
    w.advance_to(T0 + 20 * DAY).await;
    w.rx.got.lock().await.clear();
    let resumed =
        w.raw.ok(&format!("/v1/subscriptions/{id}/resume"), &[("billing_cycle_anchor[type]", "unchanged")]).await;
    assert_eq!(resumed["status"], "active", "no resumption invoice: active at once");
    assert_eq!(resumed["billing_cycle_anchor"], T0);
    assert_eq!(resumed["items"]["data"][0]["current_period_end"], RENEWAL);
    assert_eq!(w.invoices_of(&id).await.len(), 1);
    let amounts: Vec<i64> = pending_items(&w).await.iter().map(|item| item["amount"].as_i64().unwrap()).collect();
    // The remaining 11 of 31 days, and the pause's credit.
    assert_eq!(amounts, [532, CREDIT]);
    settle(&w.sb).await;
    assert_eq!(
        w.billing_types().await,
        ["invoiceitem.created", "customer.subscription.updated", "customer.subscription.resumed"]
    );
    w.advance_to(RENEWAL + 2 * 3600).await;
    assert_eq!(w.invoices_of(&id).await[0]["amount_paid"], 1500 + 532 + CREDIT);

    // Without prorations nothing is charged for the rest of the period.
    let w = world(Some("pm_card_visa")).await;
    let id = id_of(&paused(&w, &[("bill_for[unused_time_from][type]", "none")]).await);
    let form = [("billing_cycle_anchor[type]", "unchanged"), ("proration_behavior", "none")];
    assert_eq!(w.raw.ok(&format!("/v1/subscriptions/{id}/resume"), &form).await["status"], "active");
    assert!(pending_items(&w).await.is_empty());
    let (status, error) =
        w.raw.post(&format!("/v1/subscriptions/{id}/resume"), &[("billing_cycle_anchor", "now")]).await;
    assert_eq!(status, 400, "{error}");
}

#[tokio::test]
async fn resume_checks_its_parameters() {
    let w = world(Some("pm_card_visa")).await;
    let id = id_of(&paused(&w, &[]).await);
    for (param, value, expected) in [
        ("billing_cycle_anchor[type]", "later", "billing_cycle_anchor[type]"),
        ("billing_cycle_anchor", "now", "billing_cycle_anchor"),
        ("payment_behavior", "eventually", "payment_behavior"),
        ("proration_behavior", "sometimes", "proration_behavior"),
    ] {
        let (status, error) = w.raw.post(&format!("/v1/subscriptions/{id}/resume"), &[(param, value)]).await;
        assert_eq!((status, error["error"]["param"].as_str()), (400, Some(expected)), "{error}");
    }
    assert_eq!(w.get(&format!("/v1/subscriptions/{id}")).await["status"], "paused");
}

// ---------------------------------------------------------------------------------------------
// A trial ending without a payment method

#[tokio::test]
async fn a_trial_ending_without_a_payment_method_pauses_when_asked() {
    let w = world(None).await;
    let form = [("trial_period_days", "7"), ("trial_settings[end_behavior][missing_payment_method]", "pause")];
    let mut create = vec![("customer", w.customer.as_str()), ("items[0][price]", w.price.as_str())];
    create.extend(form);
    let subscription = w.raw.ok("/v1/subscriptions", &create).await;
    let id = id_of(&subscription);
    settle(&w.sb).await;
    let created = &w.rx.events_of("customer.subscription.created").await[0];
    assert_eq!(created["data"]["object"]["trial_settings"]["end_behavior"]["missing_payment_method"], "pause");
    let trial_end = T0 + 7 * DAY;
    w.advance_to(trial_end - DAY).await;
    w.rx.got.lock().await.clear();

    w.advance_to(trial_end + 2 * 3600).await;
    let paused = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(paused["status"], "paused");
    assert_eq!(
        paused["status_details"],
        json!({"paused": {"subscription": {"type": "trial_end_without_payment_method"}, "transitioned_at": trial_end, "type": "subscription"}})
    );
    let parsed = parses(&paused);
    assert_eq!(
        parsed.status_details.unwrap().paused.subscription.type_,
        stripe_shared::SubscriptionsResourcePausedStatusDetailsSubscriptionType::TrialEndWithoutPaymentMethod
    );
    assert_eq!(w.billing_types().await, ["customer.subscription.updated", "customer.subscription.paused"]);
    let updated = &w.rx.events_of("customer.subscription.updated").await[0];
    assert_eq!(updated["data"]["previous_attributes"]["status"], "trialing");
    assert_eq!(w.invoices_of(&id).await.len(), 1, "only the trial's $0 invoice");
    w.advance_to(trial_end + 40 * DAY).await;
    assert_eq!(w.invoices_of(&id).await.len(), 1, "no invoices while paused");

    // The customer adds a card; resuming bills a period from now.
    w.use_card("pm_card_visa").await;
    let form = [("payment_behavior", "resume_on_payment_success")];
    let resumed = w.raw.ok(&format!("/v1/subscriptions/{id}/resume"), &form).await;
    assert_eq!(resumed["status"], "active");
    assert_eq!(resumed["items"]["data"][0]["current_period_start"], trial_end + 40 * DAY);
    assert_eq!(w.invoices_of(&id).await[0]["amount_paid"], 1500);
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn checkout_with_if_required_starts_a_trial_without_a_card_that_pauses_at_its_end() {
    let w = world(None).await;
    let form = |trial: Option<&'static str>| {
        let mut form = vec![
            ("mode", "subscription"),
            ("customer", w.customer.as_str()),
            ("success_url", "http://app.test/done"),
            ("line_items[0][price]", w.price.as_str()),
            ("line_items[0][quantity]", "1"),
            ("payment_method_collection", "if_required"),
            ("subscription_data[trial_settings][end_behavior][missing_payment_method]", "pause"),
        ];
        form.extend(trial.map(|days| ("subscription_data[trial_period_days]", days)));
        form
    };
    let session = w.raw.ok("/v1/checkout/sessions", &form(Some("7"))).await;
    assert_eq!(session["payment_method_collection"], "if_required");
    let url = session["url"].as_str().unwrap();
    let page = w.raw.http.get(url).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("card_number"), "a trial with if_required asks for no card: {page}");
    assert!(page.contains("No payment method is needed today."), "{page}");
    // The CLI's confirm without a payment method completes it too; here the page does.
    let started = w.raw.http.post(url).form(&[("email", "pause@x.com")]).send().await.unwrap();
    assert_eq!(started.status().as_u16(), 303);
    let session = w.get(&format!("/v1/checkout/sessions/{}", id_of(&session))).await;
    assert_eq!(
        (session["status"].as_str(), session["payment_status"].as_str()),
        (Some("complete"), Some("no_payment_required"))
    );
    let id = session["subscription"].as_str().unwrap().to_string();
    let subscription = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(subscription["status"], "trialing");
    assert_eq!(subscription["default_payment_method"], Value::Null);
    assert_eq!(
        w.get(&format!("/v1/customers/{}", w.customer)).await["invoice_settings"]["default_payment_method"],
        Value::Null
    );
    w.advance_to(T0 + 8 * DAY).await;
    let paused = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(paused["status"], "paused");
    assert_eq!(paused["status_details"]["paused"]["subscription"]["type"], "trial_end_without_payment_method");

    // Something is due today (no trial): the page asks for a card, and the API refuses to
    // complete without one.
    let session = w.raw.ok("/v1/checkout/sessions", &form(None)).await;
    let page = w.raw.http.get(session["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("card_number"), "{page}");
    let (status, error) = w.raw.post(&format!("/v1/payment_pages/{}/confirm", id_of(&session)), &[]).await;
    assert_eq!((status, error["error"]["param"].as_str()), (400, Some("payment_method")), "{error}");
}
