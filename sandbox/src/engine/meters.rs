//! Billing meters (`billing.meter`): created, renamed, deactivated and reactivated, with their
//! `billing.meter.*` events. What a meter counts is in `meter_events`.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{public, Ctx};
use crate::util::new_id;

/// The collection meters live in (also their `object`).
pub const METER: &str = "billing.meter";

/// A meter to create, its parameters read and checked.
pub struct NewMeter {
    pub display_name: String,
    pub event_name: String,
    /// `sum`, `count` or `last`.
    pub formula: String,
    /// Where the customer id is in an event's payload (Stripe's default `stripe_customer_id`).
    pub customer_payload_key: String,
    /// Where the value is in an event's payload (Stripe's default `value`).
    pub value_payload_key: String,
    /// `day` or `hour` for pre-aggregated events, `None` otherwise.
    pub event_time_window: Option<String>,
}

/// An active meter already listening to `event_name` (other than `except`).
fn active_with_event_name<'c>(ctx: &'c Ctx, event_name: &str, except: Option<&str>) -> Option<&'c Value> {
    ctx.all(METER)
        .into_iter()
        .find(|meter| meter["status"] == "active" && meter["event_name"] == event_name && meter["id"] != json!(except))
}

/// Stripe refuses a second active meter on one event name: an event could not say which it feeds.
fn ensure_event_name_free(ctx: &Ctx, event_name: &str, except: Option<&str>) -> ApiResult<()> {
    match active_with_event_name(ctx, event_name, except) {
        Some(_) => Err(ApiError::invalid_value(
            "event_name",
            format!("An active meter with event_name `{event_name}` already exists."),
        )
        .with_code("resource_already_exists")),
        None => Ok(()),
    }
}

/// The active meter an event name feeds, if any (the newest when several were ever made).
pub fn active_meter(ctx: &Ctx, event_name: &str) -> Option<Value> {
    active_with_event_name(ctx, event_name, None).cloned()
}

/// Creates a meter; emits `billing.meter.created`.
pub fn create(ctx: &mut Ctx, new_meter: NewMeter) -> ApiResult<Value> {
    ensure_event_name_free(ctx, &new_meter.event_name, None)?;
    let now = ctx.now();
    let meter = json!({
        "id": new_id("mtr_test"),
        "object": METER,
        "created": now,
        "customer_mapping": {"event_payload_key": new_meter.customer_payload_key, "type": "by_id"},
        "default_aggregation": {"formula": new_meter.formula},
        "display_name": new_meter.display_name,
        "event_name": new_meter.event_name,
        "event_time_window": new_meter.event_time_window,
        "livemode": false,
        "status": "active",
        "status_transitions": {"deactivated_at": null},
        "updated": now,
        "value_settings": {"event_payload_key": new_meter.value_payload_key},
    });
    ctx.put(METER, meter.clone());
    ctx.emit("billing.meter.created", &meter, None);
    Ok(public(&meter))
}

/// Renames a meter (the only field Stripe lets change); emits `billing.meter.updated`.
pub fn update(ctx: &mut Ctx, id: &str, display_name: Option<String>) -> ApiResult<Value> {
    let old = ctx.find(METER, id, "id")?;
    let mut meter = old.clone();
    if let Some(name) = display_name {
        meter["display_name"] = json!(name);
    }
    if meter != old {
        meter["updated"] = json!(ctx.now());
    }
    Ok(ctx.save_updated(METER, "billing.meter.updated", &old, meter))
}

/// Deactivates a meter: it takes no new events and its event name is free again; emits
/// `billing.meter.deactivated`.
pub fn deactivate(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut meter = ctx.find(METER, id, "id")?;
    if meter["status"] != "active" {
        return Err(ApiError::invalid("This meter is already inactive."));
    }
    let now = ctx.now();
    meter["status"] = json!("inactive");
    meter["status_transitions"]["deactivated_at"] = json!(now);
    meter["updated"] = json!(now);
    ctx.put(METER, meter.clone());
    ctx.emit("billing.meter.deactivated", &meter, None);
    Ok(public(&meter))
}

/// Reactivates a meter whose event name no other active meter took meanwhile; emits
/// `billing.meter.reactivated`.
pub fn reactivate(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut meter = ctx.find(METER, id, "id")?;
    if meter["status"] != "inactive" {
        return Err(ApiError::invalid("This meter is already active."));
    }
    ensure_event_name_free(ctx, meter["event_name"].as_str().unwrap_or_default(), Some(id))?;
    meter["status"] = json!("active");
    meter["status_transitions"]["deactivated_at"] = Value::Null;
    meter["updated"] = json!(ctx.now());
    ctx.put(METER, meter.clone());
    ctx.emit("billing.meter.reactivated", &meter, None);
    Ok(public(&meter))
}
