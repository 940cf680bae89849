//! `/v1/subscription_schedules`: parameters read here, schedules changed by
//! `engine::schedules`.

use serde_json::Value;

use crate::engine::schedules::{self, NewSchedule, PhaseItemSpec, PhaseSpec, PhaseStart, ScheduleUpdate};
use crate::error::ApiResult;
use crate::store::{new_metadata, paginate, param_i64, param_list, param_nonempty, param_str, public, Ctx};

pub fn create_schedule(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let mut phases = Vec::new();
    for phase in param_list(params, "phases") {
        phases.push(phase_spec(&phase)?);
    }
    let new_schedule = NewSchedule {
        from_subscription: param_nonempty(params, "from_subscription").map(str::to_string),
        customer: param_nonempty(params, "customer").map(str::to_string),
        start_date: start_date(params, "start_date")?,
        end_behavior: param_nonempty(params, "end_behavior").map(str::to_string),
        phases,
        metadata: new_metadata(params)?,
        billing_mode: super::subscriptions::billing_mode_param(params, "")?,
    };
    schedules::create(ctx, new_schedule)
}

/// A `start_date`: `now`, or a time.
fn start_date(params: &Value, key: &str) -> ApiResult<Option<PhaseStart>> {
    Ok(match param_str(params, key) {
        Some("now") => Some(PhaseStart::Now),
        Some(_) => Some(PhaseStart::At(param_i64(params, key)?)),
        None => None,
    })
}

pub fn update_schedule(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let mut phases = Vec::new();
    for phase in param_list(params, "phases") {
        phases.push(phase_spec(&phase)?);
    }
    let change = ScheduleUpdate {
        end_behavior: param_nonempty(params, "end_behavior").map(str::to_string),
        metadata: params.get("metadata").cloned(),
        phases,
    };
    schedules::update(ctx, id, change)
}

/// One of `phases[]`.
fn phase_spec(phase: &Value) -> ApiResult<PhaseSpec> {
    let mut items = Vec::new();
    for item in param_list(phase, "items") {
        items.push(PhaseItemSpec {
            price: param_str(&item, "price").or_else(|| param_str(&item, "plan")).map(str::to_string),
            quantity: param_i64(&item, "quantity")?,
        });
    }
    let start_date = start_date(phase, "start_date")?;
    let end_date = param_i64(phase, "end_date")?;
    // `iterations` only counts without an `end_date`.
    let iterations = if end_date.is_none() { param_i64(phase, "iterations")? } else { None };
    Ok(PhaseSpec { items, start_date, end_date, iterations })
}

pub fn list_schedules(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let items: Vec<Value> = ctx
        .all("subscription_schedule")
        .into_iter()
        .filter(|schedule| customer.is_none_or(|c| schedule["customer"] == c))
        .map(public)
        .collect();
    paginate(items, params, "/v1/subscription_schedules")
}
