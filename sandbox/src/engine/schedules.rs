//! Subscription schedules: enough for "change the plan at the end of the period". Phases are
//! applied at period boundaries by `renew`.

use serde_json::{json, Value};

use super::subscriptions::{billing_mode, create_subscription, subscription_item, ItemSpec, NewSubscription};
use super::views::SubscriptionView;
use crate::error::{ApiError, ApiResult};
use crate::store::{apply_metadata, diff, Ctx};
use crate::util::{day_of_month, new_id, period_end};

/// One item of a requested phase.
#[derive(Clone, Debug, Default)]
pub struct PhaseItemSpec {
    pub price: Option<String>,
    pub quantity: Option<i64>,
}

/// A phase's `start_date`: `now`, or a time.
#[derive(Clone, Debug)]
pub enum PhaseStart {
    Now,
    At(Option<i64>),
}

/// A requested phase; without `start_date` it starts when the previous one ends, without
/// `end_date` it lasts `iterations` periods (1).
#[derive(Clone, Debug, Default)]
pub struct PhaseSpec {
    pub items: Vec<PhaseItemSpec>,
    pub start_date: Option<PhaseStart>,
    pub end_date: Option<i64>,
    pub iterations: Option<i64>,
}

/// A requested change to a schedule.
#[derive(Clone, Debug, Default)]
pub struct ScheduleUpdate {
    pub end_behavior: Option<String>,
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
    pub phases: Vec<PhaseSpec>,
}

fn phase_item(price: &Value, quantity: i64) -> Value {
    json!({"billing_thresholds": null, "discounts": [], "metadata": {}, "plan": price["id"], "price": price["id"], "quantity": quantity, "tax_rates": []})
}

fn new_phase(currency: &str, items: Vec<Value>, start: i64, end: i64) -> Value {
    json!({
        "add_invoice_items": [],
        "application_fee_percent": null,
        "automatic_tax": null,
        "billing_cycle_anchor": null,
        "billing_thresholds": null,
        "collection_method": null,
        "currency": currency,
        "default_payment_method": null,
        "default_tax_rates": [],
        "description": null,
        "discounts": [],
        "end_date": end,
        "invoice_settings": null,
        "items": items,
        "metadata": {},
        "on_behalf_of": null,
        "proration_behavior": "create_prorations",
        "start_date": start,
        "transfer_data": null,
        "trial_end": null,
    })
}

fn schedule_json(id: &str, customer: &Value, now: i64, test_clock: &Value, mode: Value) -> Value {
    json!({
        "id": id,
        "object": "subscription_schedule",
        "application": null,
        "billing_mode": mode,
        "canceled_at": null,
        "completed_at": null,
        "created": now,
        "current_phase": null,
        "customer": customer,
        "customer_account": null,
        "default_settings": {
            "application_fee_percent": null,
            "automatic_tax": {"disabled_reason": null, "enabled": false, "liability": null},
            "billing_cycle_anchor": "automatic",
            "billing_thresholds": null,
            "collection_method": null,
            "default_payment_method": null,
            "description": null,
            "invoice_settings": {"account_tax_ids": null, "days_until_due": null, "issuer": {"type": "self"}},
            "on_behalf_of": null,
            "transfer_data": null,
        },
        "end_behavior": "release",
        "livemode": false,
        "metadata": {},
        "phases": [],
        "released_at": null,
        "released_subscription": null,
        "status": "not_started",
        "subscription": null,
        "test_clock": test_clock,
    })
}

/// A schedule to create: from an existing subscription, or for a customer with phases.
#[derive(Clone, Debug, Default)]
pub struct NewSchedule {
    pub from_subscription: Option<String>,
    pub customer: Option<String>,
    /// `start_date`: `now` (also without one), or a time.
    pub start_date: Option<PhaseStart>,
    pub end_behavior: Option<String>,
    pub phases: Vec<PhaseSpec>,
    /// The request's `metadata` parameter.
    pub metadata: Value,
    /// `billing_mode[type]`: `classic` or `flexible` (the default).
    pub billing_mode: Option<String>,
}

fn check_end_behavior(end_behavior: &str) -> ApiResult<()> {
    if !matches!(end_behavior, "release" | "cancel") {
        return Err(ApiError::invalid_value("end_behavior", "Invalid end_behavior: must be one of release or cancel"));
    }
    Ok(())
}

/// `POST /v1/subscription_schedules`.
pub fn create(ctx: &mut Ctx, new_schedule: NewSchedule) -> ApiResult<Value> {
    if let Some(end_behavior) = new_schedule.end_behavior.as_deref() {
        check_end_behavior(end_behavior)?;
    }
    match (&new_schedule.from_subscription, &new_schedule.customer) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "You cannot pass both `customer` and `from_subscription`; the customer is the subscription's.",
        )),
        (Some(subscription_id), None) => {
            if !new_schedule.phases.is_empty() {
                return Err(ApiError::invalid_value(
                    "phases",
                    "You cannot set `phases` if `from_subscription` is set; update the schedule instead.",
                ));
            }
            from_subscription(ctx, subscription_id, &new_schedule)
        }
        (None, Some(customer)) => for_customer(ctx, customer, &new_schedule),
        (None, None) => Err(ApiError::missing("customer")),
    }
}

fn from_subscription(ctx: &mut Ctx, subscription_id: &str, new_schedule: &NewSchedule) -> ApiResult<Value> {
    let id = new_id("sub_sched");
    let subscription = ctx.find("subscription", subscription_id, "from_subscription")?;
    if subscription["schedule"].is_string() {
        return Err(ApiError::invalid_value(
            "from_subscription",
            format!(
                "You cannot migrate a subscription that is already attached to a schedule: `{}`.",
                subscription["schedule"].as_str().unwrap_or_default()
            ),
        ));
    }
    // The schedule bills as its subscription does (a subscription never goes back to classic).
    let mode = &subscription["billing_mode"];
    if new_schedule.billing_mode.as_ref().is_some_and(|kind| mode["type"] != kind.as_str()) {
        return Err(ApiError::invalid_value(
            "billing_mode[type]",
            format!(
                "A schedule created from a subscription uses the subscription's billing mode (`{}`).",
                mode["type"].as_str().unwrap_or_default()
            ),
        ));
    }
    let now = ctx.now_for(&subscription);
    let view = SubscriptionView(&subscription);
    let items: Vec<Value> =
        view.items().iter().map(|item| phase_item(&item["price"], item["quantity"].as_i64().unwrap_or(1))).collect();
    let start = view.current_period_start().unwrap_or(now);
    let end = view.current_period_end().unwrap_or(now);
    let mut schedule = schedule_json(&id, &subscription["customer"], now, &subscription["test_clock"], mode.clone());
    schedule["phases"] = json!([new_phase(subscription["currency"].as_str().unwrap_or("usd"), items, start, end)]);
    schedule["metadata"] = new_schedule.metadata.clone();
    if let Some(end_behavior) = &new_schedule.end_behavior {
        schedule["end_behavior"] = json!(end_behavior);
    }
    ctx.put("subscription_schedule", schedule);
    attach(ctx, &id, subscription_id, "subscription_schedule.created")
}

/// A schedule for a customer: its first phase starts a new subscription now, or later (the
/// schedule is `not_started` until then).
fn for_customer(ctx: &mut Ctx, customer_id: &str, new_schedule: &NewSchedule) -> ApiResult<Value> {
    let customer = ctx.find("customer", customer_id, "customer")?;
    if new_schedule.phases.is_empty() {
        return Err(ApiError::missing("phases"));
    }
    let now = ctx.now_for(&customer);
    let start = match new_schedule.start_date {
        Some(PhaseStart::At(Some(at))) => at,
        _ => now,
    };
    let id = new_id("sub_sched");
    let mode = billing_mode(new_schedule.billing_mode.as_deref(), now);
    let mut schedule = schedule_json(&id, &json!(customer_id), now, &customer["test_clock"], mode);
    schedule["phases"] = Value::Array(build_phases(ctx, &new_schedule.phases, start, now, None)?);
    schedule["metadata"] = new_schedule.metadata.clone();
    if let Some(end_behavior) = &new_schedule.end_behavior {
        schedule["end_behavior"] = json!(end_behavior);
    }
    ctx.put("subscription_schedule", schedule.clone());
    if start <= now {
        return begin(ctx, &id, "subscription_schedule.created");
    }
    ctx.emit("subscription_schedule.created", &schedule, None);
    Ok(schedule)
}

/// A `not_started` schedule whose start date has come: its subscription begins.
pub fn start(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    begin(ctx, id, "subscription_schedule.updated")
}

/// The first phase begins: its subscription is created (and invoiced), then `event` is sent.
fn begin(ctx: &mut Ctx, id: &str, event: &str) -> ApiResult<Value> {
    let schedule = ctx.find("subscription_schedule", id, "schedule")?;
    let first = &schedule["phases"][0];
    let items = first["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| ItemSpec {
            price: item["price"].as_str().map(str::to_string),
            quantity: item["quantity"].as_i64(),
            ..Default::default()
        })
        .collect();
    let subscription = create_subscription(
        ctx,
        NewSubscription {
            customer: schedule["customer"].as_str().unwrap_or_default().to_string(),
            items,
            metadata: json!({}),
            payment_behavior: "allow_incomplete".into(),
            collection_method: "charge_automatically".into(),
            off_session: true,
            billing_mode: schedule["billing_mode"]["type"].as_str().map(str::to_string),
            ..Default::default()
        },
    )?;
    attach(ctx, id, subscription["id"].as_str().unwrap_or_default(), event)
}

/// The schedule now manages the subscription (`active`, in its first phase); `event` announces
/// it (`created`, or `updated` for a schedule that started later).
fn attach(ctx: &mut Ctx, id: &str, subscription_id: &str, event: &str) -> ApiResult<Value> {
    let old = ctx.find("subscription_schedule", id, "schedule")?;
    let subscription = ctx.find("subscription", subscription_id, "subscription")?;
    let mut schedule = old.clone();
    schedule["status"] = json!("active");
    schedule["subscription"] = json!(subscription_id);
    if let Some(first) = schedule["phases"].get(0) {
        schedule["current_phase"] = json!({"start_date": first["start_date"], "end_date": first["end_date"]});
    }
    ctx.put("subscription_schedule", schedule.clone());
    let previous = (event == "subscription_schedule.updated").then(|| diff(&old, &schedule));
    ctx.emit(event, &schedule, previous);
    let mut new_subscription = subscription.clone();
    new_subscription["schedule"] = json!(id);
    ctx.put("subscription", new_subscription.clone());
    ctx.emit("customer.subscription.updated", &new_subscription, Some(diff(&subscription, &new_subscription)));
    Ok(schedule)
}

/// `POST /v1/subscription_schedules/{id}`: replace phases, end_behavior, metadata.
pub fn update(ctx: &mut Ctx, id: &str, change: ScheduleUpdate) -> ApiResult<Value> {
    let old = ctx.find("subscription_schedule", id, "schedule")?;
    if old["status"] != "active" && old["status"] != "not_started" {
        return Err(ApiError::invalid(format!(
            "You cannot update a subscription schedule that is currently in the `{}` status.",
            old["status"].as_str().unwrap_or_default()
        )));
    }
    let mut schedule = old.clone();
    if let Some(end_behavior) = change.end_behavior.as_deref() {
        check_end_behavior(end_behavior)?;
        schedule["end_behavior"] = json!(end_behavior);
    }
    if let Some(metadata) = &change.metadata {
        schedule["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    if !change.phases.is_empty() {
        let subscription = schedule["subscription"]
            .as_str()
            .and_then(|subscription_id| ctx.get("subscription", subscription_id))
            .cloned()
            .unwrap_or(json!({}));
        let now = ctx.now_for(&subscription);
        let currency = subscription["currency"].as_str().unwrap_or("usd").to_string();
        let first_start = old["phases"][0]["start_date"].as_i64().unwrap_or(now);
        schedule["phases"] = Value::Array(build_phases(ctx, &change.phases, first_start, now, Some(&currency))?);
        if let Some(first) = schedule["phases"].get(0) {
            schedule["current_phase"] = json!({"start_date": first["start_date"], "end_date": first["end_date"]});
        }
    }
    ctx.put("subscription_schedule", schedule.clone());
    ctx.emit("subscription_schedule.updated", &schedule, Some(diff(&old, &schedule)));
    Ok(schedule)
}

/// The phases of a schedule: each starts when the previous one ends (the first at
/// `first_start`) unless it says otherwise, and lasts `iterations` periods of its first price
/// without an `end_date`. The currency is the subscription's, else the first price's.
fn build_phases(
    ctx: &Ctx,
    requested: &[PhaseSpec],
    first_start: i64,
    now: i64,
    currency: Option<&str>,
) -> ApiResult<Vec<Value>> {
    let mut previous_end = first_start;
    let mut phases = Vec::new();
    for (i, requested) in requested.iter().enumerate() {
        let mut items = Vec::new();
        let mut first_price: Option<Value> = None;
        for (j, item) in requested.items.iter().enumerate() {
            let param = format!("phases[{i}][items][{j}][price]");
            let price_id = item.price.as_deref().ok_or_else(|| ApiError::missing(&param))?;
            let price = ctx.find("price", price_id, &param)?;
            items.push(phase_item(&price, item.quantity.unwrap_or(1)));
            first_price.get_or_insert(price);
        }
        let first_price = first_price.ok_or_else(|| ApiError::missing(&format!("phases[{i}][items]")))?;
        let start = match requested.start_date {
            Some(PhaseStart::Now) => now,
            Some(PhaseStart::At(at)) => at.unwrap_or(now),
            None => previous_end,
        };
        let interval = first_price["recurring"]["interval"].as_str().unwrap_or("month").to_string();
        let count = first_price["recurring"]["interval_count"].as_i64().unwrap_or(1);
        let end = match requested.end_date {
            Some(end) => end,
            None => {
                let mut end = start;
                for _ in 0..requested.iterations.unwrap_or(1).max(1) {
                    end = period_end(end, &interval, count, day_of_month(start));
                }
                end
            }
        };
        let currency = currency.or(first_price["currency"].as_str()).unwrap_or("usd");
        phases.push(new_phase(currency, items, start, end));
        previous_end = end;
    }
    Ok(phases)
}

/// Releases a schedule: the subscription continues on its own.
pub fn release(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = ctx.find("subscription_schedule", id, "schedule")?;
    let subscription_id = old["subscription"].as_str().unwrap_or_default().to_string();
    let subscription = ctx.get("subscription", &subscription_id).cloned();
    let now = subscription.as_ref().map(|subscription| ctx.now_for(subscription)).unwrap_or_else(|| ctx.now());
    let mut schedule = old.clone();
    schedule["status"] = json!("released");
    schedule["released_at"] = json!(now);
    schedule["released_subscription"] = json!(subscription_id);
    schedule["subscription"] = Value::Null;
    schedule["current_phase"] = Value::Null;
    ctx.put("subscription_schedule", schedule.clone());
    if let Some(subscription) = subscription {
        let mut new_subscription = subscription.clone();
        new_subscription["schedule"] = Value::Null;
        ctx.put("subscription", new_subscription.clone());
        ctx.emit("customer.subscription.updated", &new_subscription, Some(diff(&subscription, &new_subscription)));
    }
    ctx.emit("subscription_schedule.released", &schedule, None);
    Ok(schedule)
}

pub fn cancel(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = ctx.find("subscription_schedule", id, "schedule")?;
    let subscription_id = old["subscription"].as_str().unwrap_or_default().to_string();
    if ctx.get("subscription", &subscription_id).is_some_and(|subscription| subscription["status"] != "canceled") {
        super::subscriptions::cancel(ctx, &subscription_id, "cancellation_requested")?;
    }
    let now = ctx.now();
    let mut schedule = old.clone();
    schedule["status"] = json!("canceled");
    schedule["canceled_at"] = json!(now);
    schedule["current_phase"] = Value::Null;
    ctx.put("subscription_schedule", schedule.clone());
    ctx.emit("subscription_schedule.canceled", &schedule, None);
    Ok(schedule)
}

/// At a period boundary `t`: switch to the phase starting then, or end the schedule.
pub fn apply_phase_at(ctx: &mut Ctx, id: &str, at: i64) -> ApiResult<()> {
    let schedule = ctx.find("subscription_schedule", id, "schedule")?;
    if schedule["status"] != "active" {
        return Ok(());
    }
    let phases = schedule["phases"].as_array().cloned().unwrap_or_default();
    let Some(last) = phases.last() else { return Ok(()) };
    let subscription_id = schedule["subscription"].as_str().unwrap_or_default().to_string();
    if at >= last["end_date"].as_i64().unwrap_or(i64::MAX) {
        if schedule["end_behavior"] == "cancel" {
            // The subscription ends with the last phase: no further period is invoiced.
            if ctx.get("subscription", &subscription_id).is_some_and(|s| !SubscriptionView(s).is_ended()) {
                super::subscriptions::cancel(ctx, &subscription_id, "cancellation_requested")?;
            }
            let mut done = schedule.clone();
            done["status"] = json!("completed");
            done["completed_at"] = json!(at);
            ctx.put("subscription_schedule", done.clone());
            ctx.emit("subscription_schedule.completed", &done, None);
        } else {
            // Apply the last phase's items if they are not in place, then release.
            switch_items(ctx, &subscription_id, last, at)?;
            release(ctx, id)?;
        }
        return Ok(());
    }
    if let Some(phase) = phases.iter().find(|phase| {
        phase["start_date"].as_i64().is_some_and(|start| start <= at)
            && phase["end_date"].as_i64().is_some_and(|end| at < end)
    }) {
        switch_items(ctx, &subscription_id, phase, at)?;
        let mut new_schedule = schedule.clone();
        new_schedule["current_phase"] = json!({"start_date": phase["start_date"], "end_date": phase["end_date"]});
        ctx.put("subscription_schedule", new_schedule);
    }
    Ok(())
}

fn switch_items(ctx: &mut Ctx, subscription_id: &str, phase: &Value, at: i64) -> ApiResult<()> {
    let subscription = ctx.find("subscription", subscription_id, "subscription")?;
    let wanted: Vec<(String, i64)> = phase["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|item| (item["price"].as_str().unwrap_or_default().to_string(), item["quantity"].as_i64().unwrap_or(1)))
        .collect();
    let view = SubscriptionView(&subscription);
    let current_items = view.items();
    let current: Vec<(String, i64)> = current_items
        .iter()
        .map(|item| {
            (item["price"]["id"].as_str().unwrap_or_default().to_string(), item["quantity"].as_i64().unwrap_or(1))
        })
        .collect();
    if wanted == current || wanted.is_empty() {
        return Ok(());
    }
    let period = (view.current_period_start().unwrap_or(at), view.current_period_end().unwrap_or(at));
    let mut items = Vec::new();
    for (price_id, quantity) in wanted {
        let price = ctx.find("price", &price_id, "price")?;
        let mut item = subscription_item(subscription_id, &price, quantity, json!({}), period, at);
        // Keep the item id when the same price stays.
        if let Some(old) = current_items.iter().find(|current| current["price"]["id"] == price_id.as_str()) {
            item["id"] = old["id"].clone();
        }
        items.push(item);
    }
    let mut new_subscription = subscription.clone();
    new_subscription["items"]["data"] = Value::Array(items);
    ctx.put("subscription", new_subscription);
    Ok(())
}
