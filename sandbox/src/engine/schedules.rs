//! Subscription schedules: enough for "change the plan at the end of the period".

use serde_json::{json, Value};

use super::billing::subscription_item;
use crate::error::{ApiError, ApiResult};
use crate::state::{diff, new_metadata, p_i64, p_list, p_nonempty, p_str, Ctx};
use crate::util::{day_of_month, new_id, period_end};

fn phase_item(price: &Value, quantity: i64) -> Value {
    json!({"billing_thresholds": null, "discounts": [], "metadata": {}, "plan": price["id"], "price": price["id"], "quantity": quantity, "tax_rates": []})
}

fn phase(currency: &str, items: Vec<Value>, start: i64, end: i64) -> Value {
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

fn base(id: &str, customer: &Value, now: i64, test_clock: &Value) -> Value {
    json!({
        "id": id,
        "object": "subscription_schedule",
        "application": null,
        "billing_mode": {"flexible": null, "type": "classic", "updated_at": null},
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

/// `POST /v1/subscription_schedules` (from_subscription, or customer + phases).
pub fn create(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let id = new_id("sub_sched");
    if let Some(sub_id) = p_nonempty(p, "from_subscription") {
        let sub = cx.find("subscription", sub_id, "from_subscription")?;
        if sub["schedule"].is_string() {
            return Err(ApiError::invalid_value(
                "from_subscription",
                format!(
                    "You cannot migrate a subscription that is already attached to a schedule: `{}`.",
                    sub["schedule"].as_str().unwrap_or_default()
                ),
            ));
        }
        let now = cx.now_for(&sub);
        let items: Vec<Value> = sub["items"]["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|si| phase_item(&si["price"], si["quantity"].as_i64().unwrap_or(1)))
            .collect();
        let start = sub["items"]["data"][0]["current_period_start"].as_i64().unwrap_or(now);
        let end = sub["items"]["data"][0]["current_period_end"].as_i64().unwrap_or(now);
        let mut s = base(&id, &sub["customer"], now, &sub["test_clock"]);
        s["phases"] = json!([phase(sub["currency"].as_str().unwrap_or("usd"), items, start, end)]);
        s["current_phase"] = json!({"end_date": end, "start_date": start});
        s["status"] = json!("active");
        s["subscription"] = json!(sub_id);
        s["metadata"] = new_metadata(p)?;
        let mut new_sub = sub.clone();
        new_sub["schedule"] = json!(id);
        cx.put("subscription", new_sub.clone());
        cx.put("subscription_schedule", s.clone());
        cx.emit("subscription_schedule.created", &s, None);
        cx.emit("customer.subscription.updated", &new_sub, Some(diff(&sub, &new_sub)));
        return Ok(s);
    }
    Err(ApiError::invalid("Creating a schedule without `from_subscription` is not supported by the sandbox yet; create the subscription first and pass `from_subscription`."))
}

/// `POST /v1/subscription_schedules/{id}`: replace phases, end_behavior, metadata.
pub fn update(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("subscription_schedule", id, "schedule")?;
    if old["status"] != "active" && old["status"] != "not_started" {
        return Err(ApiError::invalid(format!(
            "You cannot update a subscription schedule that is currently in the `{}` status.",
            old["status"].as_str().unwrap_or_default()
        )));
    }
    let mut s = old.clone();
    if let Some(e) = p_nonempty(p, "end_behavior") {
        if !matches!(e, "release" | "cancel") {
            return Err(ApiError::invalid_value(
                "end_behavior",
                "Invalid end_behavior: must be one of release or cancel",
            ));
        }
        s["end_behavior"] = json!(e);
    }
    if p.get("metadata").is_some() {
        s["metadata"] = crate::state::merge_metadata(&old["metadata"], p)?;
    }
    let phases_in = p_list(p, "phases");
    if !phases_in.is_empty() {
        let sub = s["subscription"].as_str().and_then(|sid| cx.get("subscription", sid)).cloned().unwrap_or(json!({}));
        let now = cx.now_for(&sub);
        let currency = sub["currency"].as_str().unwrap_or("usd").to_string();
        let mut prev_end: Option<i64> = old["phases"][0]["start_date"].as_i64();
        let mut phases = Vec::new();
        for (i, ph) in phases_in.iter().enumerate() {
            let mut items = Vec::new();
            for (j, it) in p_list(ph, "items").iter().enumerate() {
                let pid = p_str(it, "price")
                    .or_else(|| p_str(it, "plan"))
                    .ok_or_else(|| ApiError::missing(&format!("phases[{i}][items][{j}][price]")))?;
                let price = cx.find("price", pid, &format!("phases[{i}][items][{j}][price]"))?;
                items.push(phase_item(&price, p_i64(it, "quantity")?.unwrap_or(1)));
            }
            let start = match p_str(ph, "start_date") {
                Some("now") => now,
                Some(_) => p_i64(ph, "start_date")?.unwrap_or(now),
                None => prev_end.unwrap_or(now),
            };
            let first_price = items
                .first()
                .and_then(|it| it["price"].as_str())
                .and_then(|pid| cx.get("price", pid))
                .cloned()
                .unwrap_or(json!({}));
            let interval = first_price["recurring"]["interval"].as_str().unwrap_or("month").to_string();
            let count = first_price["recurring"]["interval_count"].as_i64().unwrap_or(1);
            let end = match p_i64(ph, "end_date")? {
                Some(e) => e,
                None => {
                    let iterations = p_i64(ph, "iterations")?.unwrap_or(1).max(1);
                    let mut e = start;
                    for _ in 0..iterations {
                        e = period_end(e, &interval, count, day_of_month(start));
                    }
                    e
                }
            };
            phases.push(phase(&currency, items, start, end));
            prev_end = Some(end);
        }
        s["phases"] = Value::Array(phases);
        if let Some(ph0) = s["phases"].get(0) {
            s["current_phase"] = json!({"start_date": ph0["start_date"], "end_date": ph0["end_date"]});
        }
    }
    cx.put("subscription_schedule", s.clone());
    cx.emit("subscription_schedule.updated", &s, Some(diff(&old, &s)));
    Ok(s)
}

/// Releases a schedule: the subscription continues on its own.
pub fn release(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = cx.find("subscription_schedule", id, "schedule")?;
    let sub_id = old["subscription"].as_str().unwrap_or_default().to_string();
    let sub = cx.get("subscription", &sub_id).cloned();
    let now = sub.as_ref().map(|s| cx.now_for(s)).unwrap_or_else(|| cx.now());
    let mut s = old.clone();
    s["status"] = json!("released");
    s["released_at"] = json!(now);
    s["released_subscription"] = json!(sub_id);
    s["subscription"] = Value::Null;
    s["current_phase"] = Value::Null;
    cx.put("subscription_schedule", s.clone());
    if let Some(sub) = sub {
        let mut ns = sub.clone();
        ns["schedule"] = Value::Null;
        cx.put("subscription", ns.clone());
        cx.emit("customer.subscription.updated", &ns, Some(diff(&sub, &ns)));
    }
    cx.emit("subscription_schedule.released", &s, None);
    Ok(s)
}

pub fn cancel(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = cx.find("subscription_schedule", id, "schedule")?;
    let sub_id = old["subscription"].as_str().unwrap_or_default().to_string();
    if cx.get("subscription", &sub_id).is_some_and(|s| s["status"] != "canceled") {
        super::billing::cancel(cx, &sub_id, "cancellation_requested")?;
    }
    let now = cx.now();
    let mut s = old.clone();
    s["status"] = json!("canceled");
    s["canceled_at"] = json!(now);
    s["current_phase"] = Value::Null;
    cx.put("subscription_schedule", s.clone());
    cx.emit("subscription_schedule.canceled", &s, None);
    Ok(s)
}

/// At a period boundary `t`: switch to the phase starting then, or end the schedule.
pub fn apply_phase_at(cx: &mut Ctx, id: &str, t: i64) -> ApiResult<()> {
    let s = cx.find("subscription_schedule", id, "schedule")?;
    if s["status"] != "active" {
        return Ok(());
    }
    let phases = s["phases"].as_array().cloned().unwrap_or_default();
    let Some(last) = phases.last() else { return Ok(()) };
    let sub_id = s["subscription"].as_str().unwrap_or_default().to_string();
    if t >= last["end_date"].as_i64().unwrap_or(i64::MAX) {
        if s["end_behavior"] == "cancel" {
            if let Some(sub) = cx.get_mut("subscription", &sub_id) {
                sub["cancel_at_period_end"] = json!(true);
            }
            let mut done = s.clone();
            done["status"] = json!("completed");
            done["completed_at"] = json!(t);
            cx.put("subscription_schedule", done.clone());
            cx.emit("subscription_schedule.completed", &done, None);
        } else {
            // Apply the last phase's items if they are not in place, then release.
            switch_items(cx, &sub_id, last, t)?;
            release(cx, id)?;
        }
        return Ok(());
    }
    if let Some(ph) = phases.iter().find(|ph| {
        ph["start_date"].as_i64().is_some_and(|st| st <= t) && ph["end_date"].as_i64().is_some_and(|e| t < e)
    }) {
        switch_items(cx, &sub_id, ph, t)?;
        let mut ns = s.clone();
        ns["current_phase"] = json!({"start_date": ph["start_date"], "end_date": ph["end_date"]});
        cx.put("subscription_schedule", ns);
    }
    Ok(())
}

fn switch_items(cx: &mut Ctx, sub_id: &str, ph: &Value, t: i64) -> ApiResult<()> {
    let sub = cx.find("subscription", sub_id, "subscription")?;
    let wanted: Vec<(String, i64)> = ph["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|it| (it["price"].as_str().unwrap_or_default().to_string(), it["quantity"].as_i64().unwrap_or(1)))
        .collect();
    let current: Vec<(String, i64)> = sub["items"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|si| (si["price"]["id"].as_str().unwrap_or_default().to_string(), si["quantity"].as_i64().unwrap_or(1)))
        .collect();
    if wanted == current || wanted.is_empty() {
        return Ok(());
    }
    let period = (
        sub["items"]["data"][0]["current_period_start"].clone(),
        sub["items"]["data"][0]["current_period_end"].clone(),
    );
    let mut items = Vec::new();
    for (pid, q) in wanted {
        let price = cx.find("price", &pid, "price")?;
        let mut si = subscription_item(
            cx,
            sub_id,
            &price,
            q,
            json!({}),
            (period.0.as_i64().unwrap_or(t), period.1.as_i64().unwrap_or(t)),
            t,
        );
        // Keep the item id when the same price stays.
        if let Some(old) =
            sub["items"]["data"].as_array().and_then(|a| a.iter().find(|si| si["price"]["id"] == pid.as_str()))
        {
            si["id"] = old["id"].clone();
        }
        items.push(si);
    }
    let mut ns = sub.clone();
    ns["items"]["data"] = Value::Array(items);
    cx.put("subscription", ns);
    Ok(())
}
