//! `/v1/billing/meters`, `/v1/billing/meter_events` and `/v1/billing/meter_event_adjustments`:
//! parameters read here, meters changed by `engine::meters`, events by `engine::meter_events`.

use serde_json::Value;

use crate::engine::meter_events::{self, Grouping, NewMeterEvent};
use crate::engine::meters::{self, NewMeter, METER};
use crate::error::{ApiError, ApiResult};
use crate::store::{one_of, paginate, param_i64, param_nonempty, param_required, param_str, public, Ctx};

pub fn create_meter(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let display_name = param_required(params, "display_name")?;
    let event_name = param_required(params, "event_name")?;
    let aggregation = params.get("default_aggregation").ok_or_else(|| ApiError::missing("default_aggregation"))?;
    let formula =
        param_nonempty(aggregation, "formula").ok_or_else(|| ApiError::missing("default_aggregation[formula]"))?;
    let formula = one_of("default_aggregation[formula]", formula, &["count", "last", "sum"])?;
    let mapping = params.get("customer_mapping");
    let customer_payload_key = match mapping {
        Some(mapping) => {
            let key = param_nonempty(mapping, "event_payload_key")
                .ok_or_else(|| ApiError::missing("customer_mapping[event_payload_key]"))?;
            let kind = param_nonempty(mapping, "type").ok_or_else(|| ApiError::missing("customer_mapping[type]"))?;
            one_of("customer_mapping[type]", kind, &["by_id"])?;
            key
        }
        None => "stripe_customer_id",
    };
    let value_payload_key = match params.get("value_settings") {
        Some(settings) => param_nonempty(settings, "event_payload_key")
            .ok_or_else(|| ApiError::missing("value_settings[event_payload_key]"))?,
        None => "value",
    };
    let event_time_window = match param_nonempty(params, "event_time_window") {
        Some(window) => Some(one_of("event_time_window", window, &["day", "hour"])?.to_string()),
        None => None,
    };
    let new_meter = NewMeter {
        display_name: display_name.to_string(),
        event_name: event_name.to_string(),
        formula: formula.to_string(),
        customer_payload_key: customer_payload_key.to_string(),
        value_payload_key: value_payload_key.to_string(),
        event_time_window,
    };
    meters::create(ctx, new_meter)
}

pub fn update_meter(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    if param_str(params, "display_name") == Some("") {
        return Err(ApiError::bad_param("display_name", "You passed an empty string for 'display_name'. We assume empty values are an attempt to unset a parameter; however 'display_name' cannot be unset. You should remove 'display_name' from your request or supply a non-empty value."));
    }
    meters::update(ctx, id, param_nonempty(params, "display_name").map(str::to_string))
}

pub fn list_meters(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let status = match param_nonempty(params, "status") {
        Some(status) => Some(one_of("status", status, &["active", "inactive"])?),
        None => None,
    };
    let items: Vec<Value> =
        ctx.all(METER).into_iter().filter(|meter| status.is_none_or(|s| meter["status"] == s)).map(public).collect();
    paginate(items, params, "/v1/billing/meters")
}

pub fn retrieve_meter(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    ctx.find(METER, id, "id").map(|meter| public(&meter))
}

/// `GET /v1/billing/meters/:id/event_summaries`: one summary for the range, or one per hour or
/// day with `value_grouping_window`.
pub fn event_summaries(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let customer = param_required(params, "customer")?;
    let start = param_i64(params, "start_time")?.ok_or_else(|| ApiError::missing("start_time"))?;
    let end = param_i64(params, "end_time")?.ok_or_else(|| ApiError::missing("end_time"))?;
    let grouping = match param_nonempty(params, "value_grouping_window") {
        None => Grouping::Whole,
        Some(window) => match one_of("value_grouping_window", window, &["day", "hour"])? {
            "day" => Grouping::Day,
            _ => Grouping::Hour,
        },
    };
    let windows = meter_events::windows(start, end, grouping)?;
    let meter = ctx.find(METER, id, "id")?;
    ctx.find("customer", customer, "customer")?;
    // Newest window first, as Stripe's lists go.
    let items: Vec<Value> =
        windows.into_iter().rev().map(|window| meter_events::summary(ctx, &meter, customer, window)).collect();
    paginate(items, params, &format!("/v1/billing/meters/{id}/event_summaries"))
}

pub fn create_meter_event(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let event_name = param_required(params, "event_name")?;
    let payload = match params.get("payload") {
        Some(Value::Object(payload)) if !payload.is_empty() => payload.clone(),
        _ => return Err(ApiError::missing("payload")),
    };
    if let Some((key, _)) = payload.iter().find(|(_, value)| !value.is_string()) {
        return Err(ApiError::invalid_value(&format!("payload[{key}]"), "Invalid payload: values must be strings."));
    }
    let new_event = NewMeterEvent {
        event_name: event_name.to_string(),
        payload,
        identifier: param_nonempty(params, "identifier").map(str::to_string),
        timestamp: param_i64(params, "timestamp")?,
    };
    meter_events::record(ctx, new_event)
}

pub fn create_meter_event_adjustment(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let event_name = param_required(params, "event_name")?;
    let kind = param_nonempty(params, "type").unwrap_or("cancel");
    one_of("type", kind, &["cancel"])?;
    let identifier = params
        .get("cancel")
        .and_then(|cancel| param_nonempty(cancel, "identifier"))
        .ok_or_else(|| ApiError::missing("cancel[identifier]"))?;
    meter_events::cancel(ctx, event_name, identifier)
}
