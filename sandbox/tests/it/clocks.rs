//! Test-clock scenarios, asserting the events Stripe sends, in order.

use super::*;

const T0: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

struct World {
    secret: String,
    sb: RunningSandbox,
    raw: Raw,
    rx: Receiver,
    clock: String,
    customer: String,
    price: String,
}

async fn world(card: &str) -> World {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    let secret = register(&raw, &rx.url).await;
    let t0 = T0.to_string();
    let clock = raw.ok("/v1/test_helpers/test_clocks", &[("frozen_time", t0.as_str())]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cus = raw.ok("/v1/customers", &[("email", "clock@x.com"), ("test_clock", clock.as_str())]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pm = raw.ok(&format!("/v1/payment_methods/{card}/attach"), &[("customer", cus.as_str())]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    raw.ok(&format!("/v1/customers/{cus}"), &[("invoice_settings[default_payment_method]", pm.as_str())]).await;
    let prod = raw.ok("/v1/products", &[("name", "Pro")]).await["id"].as_str().unwrap().to_string();
    let price = raw
        .ok(
            "/v1/prices",
            &[
                ("currency", "usd"),
                ("unit_amount", "1500"),
                ("recurring[interval]", "month"),
                ("product", prod.as_str()),
            ],
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    settle(&sb).await;
    rx.got.lock().await.clear();
    World { secret, sb, raw, rx, clock, customer: cus, price }
}

impl World {
    async fn advance_to(&self, t: i64) {
        let ts = t.to_string();
        let v = self
            .raw
            .ok(&format!("/v1/test_helpers/test_clocks/{}/advance", self.clock), &[("frozen_time", ts.as_str())])
            .await;
        assert_eq!(v["status"], "advancing");
        let (_, c) = self.raw.get(&format!("/v1/test_helpers/test_clocks/{}", self.clock)).await;
        assert_eq!(c["status"], "ready");
        assert_eq!(c["frozen_time"], t);
        settle(&self.sb).await;
    }
    async fn subscription(&self, extra: &[(&str, &str)]) -> Value {
        let mut form = vec![("customer", self.customer.as_str()), ("items[0][price]", self.price.as_str())];
        form.extend_from_slice(extra);
        self.raw.ok("/v1/subscriptions", &form).await
    }
    /// Billing events received, ignoring noise like payment_method or test clock events.
    async fn billing_types(&self) -> Vec<String> {
        self.rx.types_of(&["customer.subscription.", "invoice.", "charge.", "payment_intent."]).await
    }
    async fn get(&self, path: &str) -> Value {
        self.raw.get(path).await.1
    }
}

#[tokio::test]
async fn trial_will_end_then_converts() {
    let w = world("pm_card_visa").await;
    let sub = w.subscription(&[("trial_period_days", "7")]).await;
    assert_eq!(sub["status"], "trialing");
    assert_eq!(sub["trial_end"], T0 + 7 * DAY);
    let id = sub["id"].as_str().unwrap().to_string();
    settle(&w.sb).await;
    assert_subsequence(
        &w.billing_types().await,
        &[
            "customer.subscription.created",
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_succeeded",
        ],
    );
    w.rx.got.lock().await.clear();

    w.advance_to(T0 + 5 * DAY).await;
    let types = w.billing_types().await;
    assert_eq!(types, ["customer.subscription.trial_will_end"]);
    let ev = &w.rx.events().await.into_iter().find(|e| e["type"] == "customer.subscription.trial_will_end").unwrap();
    assert_eq!(ev["created"], T0 + 4 * DAY, "three days before the trial ends");
    w.rx.got.lock().await.clear();

    w.advance_to(T0 + 7 * DAY + 2 * 3600).await;
    let types = w.billing_types().await;
    assert_subsequence(
        &types,
        &[
            "customer.subscription.updated",
            "invoice.created",
            "invoice.finalized",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
        ],
    );
    assert!(!types.contains(&"customer.subscription.trial_will_end".to_string()));
    let updated = w.rx.events().await.into_iter().find(|e| e["type"] == "customer.subscription.updated").unwrap();
    assert_eq!(updated["data"]["previous_attributes"]["status"], "trialing");
    assert_eq!(updated["data"]["object"]["status"], "active");
    let sub = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["items"]["data"][0]["current_period_start"], T0 + 7 * DAY);
    let inv = w.get(&format!("/v1/invoices/{}", sub["latest_invoice"].as_str().unwrap())).await;
    assert_eq!(inv["status"], "paid");
    assert_eq!(inv["amount_paid"], 1500);
    assert_eq!(inv["billing_reason"], "subscription_cycle");
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn two_renewals() {
    let w = world("pm_card_visa").await;
    let sub = w.subscription(&[]).await;
    assert_eq!(sub["status"], "active");
    let id = sub["id"].as_str().unwrap().to_string();
    settle(&w.sb).await;
    assert_subsequence(
        &w.billing_types().await,
        &[
            "customer.subscription.created",
            "invoice.created",
            "invoice.finalized",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
        ],
    );
    w.rx.got.lock().await.clear();
    // 1800000000 is 2027-01-15: renewals on Feb 15 and Mar 15.
    w.advance_to(T0 + 59 * DAY + 2 * 3600).await;
    let types = w.billing_types().await;
    let renewal = [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ];
    let twice: Vec<&str> = renewal.iter().chain(renewal.iter()).copied().collect();
    assert_subsequence(&types, &twice);
    assert_eq!(types.iter().filter(|t| *t == "invoice.paid").count(), 2);
    let (_, invoices) = w.raw.get(&format!("/v1/invoices?subscription={id}")).await;
    let invoices = invoices["data"].as_array().unwrap().clone();
    assert_eq!(invoices.len(), 3);
    assert!(invoices.iter().all(|i| i["status"] == "paid"));
    let sub = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub["items"]["data"][0]["current_period_start"], T0 + 59 * DAY);
}

#[tokio::test]
async fn failing_card_retries_then_cancels() {
    let w = world("pm_card_visa").await;
    let sub = w.subscription(&[]).await;
    let id = sub["id"].as_str().unwrap().to_string();
    // Switch to a card that attaches but always fails.
    let bad =
        w.raw.ok("/v1/payment_methods/pm_card_chargeCustomerFail/attach", &[("customer", w.customer.as_str())]).await
            ["id"]
            .as_str()
            .unwrap()
            .to_string();
    w.raw
        .ok(&format!("/v1/customers/{}", w.customer), &[("invoice_settings[default_payment_method]", bad.as_str())])
        .await;
    settle(&w.sb).await;
    w.rx.got.lock().await.clear();

    let renewal = T0 + 31 * DAY; // 2027-02-15
    w.advance_to(renewal + 2 * 3600).await;
    let types = w.billing_types().await;
    assert_subsequence(
        &types,
        &[
            "customer.subscription.updated",
            "invoice.created",
            "invoice.finalized",
            "charge.failed",
            "invoice.payment_failed",
            "customer.subscription.updated",
        ],
    );
    let sub_now = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub_now["status"], "past_due");
    let inv = w.get(&format!("/v1/invoices/{}", sub_now["latest_invoice"].as_str().unwrap())).await;
    assert_eq!(inv["attempt_count"], 1);
    assert_eq!(inv["next_payment_attempt"], renewal + 3600 + 3 * DAY);
    w.rx.got.lock().await.clear();

    w.advance_to(renewal + 22 * DAY).await;
    let types = w.billing_types().await;
    assert_eq!(types.iter().filter(|t| *t == "invoice.payment_failed").count(), 4, "{types:?}");
    assert_eq!(types.last().map(String::as_str), Some("customer.subscription.deleted"));
    let sub_now = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(sub_now["status"], "canceled");
    assert_eq!(sub_now["cancellation_details"]["reason"], "payment_failed");
    let inv = w.get(&format!("/v1/invoices/{}", sub_now["latest_invoice"].as_str().unwrap())).await;
    assert_eq!(inv["attempt_count"], 5);
    assert_eq!(inv["status"], "open");
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn cancel_at_period_end_deletes_at_period_end() {
    let w = world("pm_card_visa").await;
    let sub = w.subscription(&[]).await;
    let id = sub["id"].as_str().unwrap().to_string();
    let end = sub["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    let updated = w.raw.ok(&format!("/v1/subscriptions/{id}"), &[("cancel_at_period_end", "true")]).await;
    assert_eq!(updated["cancel_at_period_end"], true);
    assert_eq!(updated["cancel_at"], end);
    settle(&w.sb).await;
    w.rx.got.lock().await.clear();
    w.advance_to(end - 60).await;
    assert!(w.billing_types().await.is_empty());
    w.advance_to(end + 60).await;
    assert_eq!(w.billing_types().await, ["customer.subscription.deleted"]);
    let ev = w.rx.events().await.into_iter().find(|e| e["type"] == "customer.subscription.deleted").unwrap();
    assert_eq!(ev["created"], end);
    assert_eq!(ev["data"]["object"]["status"], "canceled");
    assert_eq!(ev["data"]["object"]["ended_at"], end);
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn three_ds_card_off_session_requires_action() {
    let w = world("pm_card_visa").await;
    let sub = w.subscription(&[]).await;
    let id = sub["id"].as_str().unwrap().to_string();
    let sca = w
        .raw
        .ok("/v1/payment_methods/pm_card_authenticationRequired/attach", &[("customer", w.customer.as_str())])
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    w.raw.ok(&format!("/v1/subscriptions/{id}"), &[("default_payment_method", sca.as_str())]).await;
    settle(&w.sb).await;
    w.rx.got.lock().await.clear();
    w.advance_to(T0 + 31 * DAY + 2 * 3600).await;
    let types = w.billing_types().await;
    assert_subsequence(
        &types,
        &["invoice.finalized", "payment_intent.requires_action", "invoice.payment_action_required"],
    );
    assert_eq!(w.get(&format!("/v1/subscriptions/{id}")).await["status"], "past_due");
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn sandbox_wide_clock_renews_customers_without_test_clock() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let cus = raw
        .ok("/v1/customers", &[("payment_method", "pm_card_visa"), ("invoice_settings[default_payment_method]", "")])
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pm =
        raw.get(&format!("/v1/customers/{cus}/payment_methods")).await.1["data"][0]["id"].as_str().unwrap().to_string();
    raw.ok(&format!("/v1/customers/{cus}"), &[("invoice_settings[default_payment_method]", pm.as_str())]).await;
    let prod = raw.ok("/v1/products", &[("name", "P")]).await["id"].as_str().unwrap().to_string();
    let price = raw
        .ok(
            "/v1/prices",
            &[("currency", "usd"), ("unit_amount", "900"), ("recurring[interval]", "week"), ("product", prod.as_str())],
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sub = raw.ok("/v1/subscriptions", &[("customer", cus.as_str()), ("items[0][price]", price.as_str())]).await;
    // Through the week's end and the hour Stripe waits before finalizing the renewal.
    let renews_at = sub["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    let to = renews_at + 2 * 3600;
    let r: Value = raw
        .http
        .post(format!("{}/_sandbox/clock/advance", sb.base_url()))
        .json(&serde_json::json!({"to": to}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["now"].as_i64().unwrap() >= to);
    let (_, invoices) = raw.get(&format!("/v1/invoices?subscription={}", sub["id"].as_str().unwrap())).await;
    assert_eq!(invoices["data"].as_array().unwrap().len(), 2);
    assert_eq!(invoices["data"][0]["status"], "paid");
}

#[tokio::test]
async fn schedule_downgrades_at_period_end() {
    let w = world("pm_card_visa").await;
    let prod = w.raw.ok("/v1/products", &[("name", "Basic")]).await["id"].as_str().unwrap().to_string();
    let basic = w
        .raw
        .ok(
            "/v1/prices",
            &[
                ("currency", "usd"),
                ("unit_amount", "500"),
                ("recurring[interval]", "month"),
                ("product", prod.as_str()),
            ],
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sub = w.subscription(&[]).await;
    let id = sub["id"].as_str().unwrap().to_string();
    let start = sub["items"]["data"][0]["current_period_start"].as_i64().unwrap().to_string();
    let end_ts = sub["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    let end = end_ts.to_string();
    let sched = w.raw.ok("/v1/subscription_schedules", &[("from_subscription", id.as_str())]).await;
    assert_eq!(sched["status"], "active");
    let sid = sched["id"].as_str().unwrap().to_string();
    assert!(sid.starts_with("sub_sched_"));
    let upd = w
        .raw
        .ok(
            &format!("/v1/subscription_schedules/{sid}"),
            &[
                ("phases[0][items][0][price]", w.price.as_str()),
                ("phases[0][start_date]", start.as_str()),
                ("phases[0][end_date]", end.as_str()),
                ("phases[1][items][0][price]", basic.as_str()),
                ("phases[1][iterations]", "1"),
                ("end_behavior", "release"),
            ],
        )
        .await;
    assert_eq!(upd["phases"].as_array().unwrap().len(), 2);
    assert_eq!(upd["phases"][1]["start_date"], end_ts);
    w.advance_to(end_ts + 2 * 3600).await;
    let s = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(s["items"]["data"][0]["price"]["id"], basic.as_str());
    assert_eq!(s["schedule"], sid.as_str());
    let inv = w.get(&format!("/v1/invoices/{}", s["latest_invoice"].as_str().unwrap())).await;
    assert_eq!(inv["amount_paid"], 500);
    // At the end of the last phase the schedule releases the subscription.
    let next_end = s["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    w.advance_to(next_end + 60).await;
    let sched = w.get(&format!("/v1/subscription_schedules/{sid}")).await;
    assert_eq!(sched["status"], "released");
    assert_eq!(w.get(&format!("/v1/subscriptions/{id}")).await["schedule"], Value::Null);
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn coupons_discount_invoices_for_their_duration() {
    let w = world("pm_card_visa").await;
    let once = w.raw.ok("/v1/coupons", &[("percent_off", "20"), ("duration", "once")]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sub = w.subscription(&[("discounts[0][coupon]", once.as_str())]).await;
    assert_eq!(sub["discounts"].as_array().unwrap().len(), 1);
    let id = sub["id"].as_str().unwrap().to_string();
    let first = w.get(&format!("/v1/invoices/{}", sub["latest_invoice"].as_str().unwrap())).await;
    assert_eq!(first["subtotal"], 1500);
    assert_eq!(first["total"], 1200);
    assert_eq!(first["amount_paid"], 1200);
    assert_eq!(first["total_discount_amounts"][0]["amount"], 300);
    w.advance_to(T0 + 31 * DAY + 2 * 3600).await;
    let s = w.get(&format!("/v1/subscriptions/{id}")).await;
    let second = w.get(&format!("/v1/invoices/{}", s["latest_invoice"].as_str().unwrap())).await;
    assert_eq!(second["total"], 1500, "a once coupon applies to the first invoice only");
    let (_, coupon) = w.raw.get(&format!("/v1/coupons/{once}")).await;
    assert_eq!(coupon["times_redeemed"], 1);
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn a_repeating_coupon_ends_at_its_end_and_leaves_the_subscription() {
    let w = world("pm_card_visa").await;
    let coupon =
        w.raw.ok("/v1/coupons", &[("percent_off", "50"), ("duration", "repeating"), ("duration_in_months", "2")]).await
            ["id"]
            .as_str()
            .unwrap()
            .to_string();
    let sub = w.subscription(&[("discounts[0][coupon]", coupon.as_str())]).await;
    let id = sub["id"].as_str().unwrap().to_string();
    let discount = w.get(&format!("/v1/subscriptions/{id}?expand[]=discounts")).await["discounts"][0].clone();
    let end = discount["end"].as_i64().expect("a repeating discount ends");
    assert_eq!(invoices_of(&w, &id).await[0]["total"], 750);

    // Just before its end the discount is still there; the second renewal is still discounted.
    w.advance_to(end - 3600).await;
    assert_eq!(w.get(&format!("/v1/subscriptions/{id}")).await["discounts"].as_array().unwrap().len(), 1);
    w.advance_to(end + 2 * 3600).await;
    let subscription = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(subscription["discounts"], serde_json::json!([]), "taken off at its end: {subscription}");
    let deleted = w.rx.events_of("customer.discount.deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["data"]["object"]["id"], discount["id"]);
    let updates = w.rx.events_of("customer.subscription.updated").await;
    assert!(
        updates.iter().any(|e| e["data"]["previous_attributes"]["discounts"].as_array().is_some_and(|d| d.len() == 1)),
        "the update says the discount went"
    );
    let invoices = invoices_of(&w, &id).await;
    assert_eq!(invoices[0]["total"], 1500, "the renewal after the end is billed in full: {:#}", invoices[0]);
    assert_eq!(invoices[1]["total"], 750);
    w.rx.verify_all(&w.secret).await;
}

/// The subscription's invoices, newest first.
async fn invoices_of(w: &World, subscription: &str) -> Vec<Value> {
    w.get(&format!("/v1/invoices?subscription={subscription}")).await["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn schedule_for_a_customer_starts_a_subscription_and_cancels_it_after_its_last_phase() {
    let w = world("pm_card_visa").await;
    let schedule = w
        .raw
        .ok(
            "/v1/subscription_schedules",
            &[
                ("customer", w.customer.as_str()),
                ("start_date", "now"),
                ("end_behavior", "cancel"),
                ("phases[0][items][0][price]", w.price.as_str()),
                ("phases[0][iterations]", "2"),
            ],
        )
        .await;
    assert_eq!(schedule["status"], "active");
    assert_eq!(schedule["phases"][0]["start_date"], T0);
    let end = schedule["phases"][0]["end_date"].as_i64().unwrap();
    let id = schedule["subscription"].as_str().unwrap().to_string();
    let subscription = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["schedule"], schedule["id"]);
    assert_eq!(invoices_of(&w, &id).await[0]["amount_paid"], 1500);

    w.advance_to(end + 3 * DAY).await;
    let subscription = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(subscription["status"], "canceled");
    assert_eq!(subscription["ended_at"], end);
    assert_eq!(invoices_of(&w, &id).await.len(), 2, "two periods billed, none after the last phase");
    let schedule = w.get(&format!("/v1/subscription_schedules/{}", schedule["id"].as_str().unwrap())).await;
    assert_eq!(schedule["status"], "completed");
    assert_subsequence(&w.billing_types().await, &["customer.subscription.deleted"]);
    w.rx.verify_all(&w.secret).await;
}

#[tokio::test]
async fn schedule_from_a_subscription_with_end_behavior_cancel_does_not_renew() {
    let w = world("pm_card_visa").await;
    let subscription = w.subscription(&[]).await;
    let id = subscription["id"].as_str().unwrap().to_string();
    let end = subscription["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    let schedule =
        w.raw.ok("/v1/subscription_schedules", &[("from_subscription", id.as_str()), ("end_behavior", "cancel")]).await;
    assert_eq!(schedule["end_behavior"], "cancel");
    assert_eq!(schedule["phases"][0]["end_date"], end);

    w.advance_to(end + 2 * 3600).await;
    let subscription = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(subscription["status"], "canceled");
    assert_eq!(subscription["ended_at"], end);
    assert_eq!(invoices_of(&w, &id).await.len(), 1, "no period after the last phase is charged");
}

#[tokio::test]
async fn resume_applies_only_to_paused_subscriptions() {
    let w = world("pm_card_visa").await;
    let id = w.subscription(&[]).await["id"].as_str().unwrap().to_string();
    let (status, error) = w.raw.post(&format!("/v1/subscriptions/{id}/resume"), &[]).await;
    assert_eq!(status, 400, "{error}");
    // Pausing collection keeps the subscription `active`: there is nothing to resume.
    w.raw.ok(&format!("/v1/subscriptions/{id}"), &[("pause_collection[behavior]", "void")]).await;
    let (status, error) = w.raw.post(&format!("/v1/subscriptions/{id}/resume"), &[]).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    let subscription = w.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["pause_collection"]["behavior"], "void");
}

#[tokio::test]
async fn an_engine_error_leaves_the_subscription_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    let config = || SandboxConfig::default().fast_retries().with_data_file(&file);
    let sb = stripe_sandbox::start_with(([127, 0, 0, 1], 0).into(), config()).await.unwrap();
    let raw = Raw::new(&sb);
    let customer = raw.ok("/v1/customers", &[("email", "broken@x.com")]).await["id"].as_str().unwrap().to_string();
    raw.ok("/v1/payment_methods/pm_card_visa/attach", &[("customer", customer.as_str())]).await;
    let price = monthly_price(&raw, "700").await;
    let subscription = raw
        .ok(
            "/v1/subscriptions",
            &[
                ("customer", customer.as_str()),
                ("items[0][price]", price.as_str()),
                ("default_payment_method", "pm_card_visa"),
            ],
        )
        .await;
    let id = subscription["id"].as_str().unwrap().to_string();
    let end = subscription["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    raw.ok("/v1/subscription_schedules", &[("from_subscription", id.as_str())]).await;
    sb.shutdown().await.unwrap();

    // The schedule the subscription names goes missing: renewing it fails in the engine.
    let mut state: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    state["accounts"][""]["collections"]["subscription_schedule"] = serde_json::json!({"order": [], "map": {}});
    std::fs::write(&file, serde_json::to_vec(&state).unwrap()).unwrap();
    let sb = stripe_sandbox::start_with(([127, 0, 0, 1], 0).into(), config()).await.unwrap();
    let raw = Raw::new(&sb);
    sb.advance_clock(end - sb.now() + 3600);
    sb.advance_clock(DAY);

    let (_, subscription) = raw.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(subscription["status"], "active", "not canceled behind the client's back");
    assert_eq!(subscription["canceled_at"], Value::Null);
    let (_, deleted) = raw.get("/v1/events?type=customer.subscription.deleted").await;
    assert_eq!(deleted["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn deleting_a_coupon_does_not_end_the_discounts_made_from_it() {
    let w = world("pm_card_visa").await;
    let coupon = w.raw.ok("/v1/coupons", &[("percent_off", "20"), ("duration", "forever")]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let subscription = w.subscription(&[("discounts[0][coupon]", coupon.as_str())]).await;
    let id = subscription["id"].as_str().unwrap().to_string();
    let (status, _) = w
        .raw
        .http
        .delete(format!("{}/v1/coupons/{coupon}", w.raw.base))
        .bearer_auth(KEY)
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 200);
    let (status, _) = w.raw.get(&format!("/v1/coupons/{coupon}")).await;
    assert_eq!(status, 404, "new customers can no longer redeem it");

    w.advance_to(T0 + 31 * DAY + 2 * 3600).await;
    let renewal = invoices_of(&w, &id).await[0].clone();
    assert_eq!(renewal["billing_reason"], "subscription_cycle");
    assert_eq!(renewal["total"], 1200, "the existing discount still applies");
    let subscription = w.get(&format!("/v1/subscriptions/{id}?expand[]=discounts.source.coupon")).await;
    assert_eq!(subscription["discounts"][0]["source"]["coupon"]["percent_off"], 20.0);
}
