//! Meter events (`billing.meter_event`): recorded against the active meter of their event name,
//! cancelled by adjustments, and aggregated over a time range (event summaries, usage billing).
//!
//! Stripe accepts a v1 meter event and validates the rest asynchronously, reporting failures as
//! `v1.billing.meter.error_report_triggered` thin events. The sandbox has no v2 event
//! destinations to report to, so it refuses such an event at once (400, `invalid_request_error`)
//! with the error report's code as `code` (`no_meter`, `archived_meter`,
//! `meter_event_no_customer_defined`, `meter_event_customer_not_found`,
//! `meter_event_invalid_value`, `timestamp_too_far_in_past`, `timestamp_in_future`): a client
//! learns of usage that will never be billed instead of never hearing of it. A repeated
//! identifier is refused synchronously as Stripe does ("An event already exists with identifier
//! …").

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::meters::{active_meter, METER};
use crate::error::{ApiError, ApiResult};
use crate::store::Ctx;
use crate::util::{random_str, DAY};

/// The collection of recorded events, keyed by identifier (the object Stripe shows has no id;
/// the stored copy carries the identifier as `id` and the sandbox's own `_sb_*` fields).
const EVENTS: &str = "billing.meter_event";

/// How far back an event's timestamp may be (35 calendar days) and ahead (5 minutes).
const MAX_AGE: i64 = 35 * DAY;
const MAX_AHEAD: i64 = 5 * 60;

/// How long after it was received an event can still be cancelled.
const CANCEL_WINDOW: i64 = DAY;

/// A meter event to record.
pub struct NewMeterEvent {
    pub event_name: String,
    /// Every key of the payload, as strings.
    pub payload: serde_json::Map<String, Value>,
    pub identifier: Option<String>,
    pub timestamp: Option<i64>,
}

fn refused(code: &str, param: &str, message: String) -> ApiError {
    ApiError::invalid_value(param, message).with_code(code)
}

/// Records a meter event (no webhook event: Stripe sends none for v1 meter events).
pub fn record(ctx: &mut Ctx, new_event: NewMeterEvent) -> ApiResult<Value> {
    let identifier = new_event.identifier.unwrap_or_else(|| random_str(24));
    // Identifiers stay unique for as long as the sandbox keeps the event (Stripe promises at least
    // 24 hours), so a retried report can never count twice.
    if ctx.get(EVENTS, &identifier).is_some() {
        return Err(ApiError::invalid_value(
            "identifier",
            format!("An event already exists with identifier {identifier}."),
        ));
    }
    let meter = match active_meter(ctx, &new_event.event_name) {
        Some(meter) => meter,
        None => {
            let archived = ctx.all(METER).into_iter().any(|meter| meter["event_name"] == new_event.event_name.as_str());
            return Err(if archived {
                refused(
                    "archived_meter",
                    "event_name",
                    format!("The meter for event_name {} is inactive.", new_event.event_name),
                )
            } else {
                refused(
                    "no_meter",
                    "event_name",
                    format!("No meter was found matching event_name {}.", new_event.event_name),
                )
            });
        }
    };
    let customer_key = meter["customer_mapping"]["event_payload_key"].as_str().unwrap_or("stripe_customer_id");
    let value_key = meter["value_settings"]["event_payload_key"].as_str().unwrap_or("value");
    let customer = match new_event.payload.get(customer_key).and_then(Value::as_str) {
        Some(customer) if !customer.is_empty() => customer.to_string(),
        _ => {
            return Err(refused(
                "meter_event_no_customer_defined",
                &format!("payload[{customer_key}]"),
                format!("The payload has no customer under `{customer_key}`."),
            ))
        }
    };
    if ctx.get("customer", &customer).is_none_or(|c| c["deleted"] == true) {
        return Err(refused(
            "meter_event_customer_not_found",
            &format!("payload[{customer_key}]"),
            format!("No customer was found with id {customer}."),
        ));
    }
    let value = match meter["default_aggregation"]["formula"].as_str() {
        // A count meter counts events; a value, if any, must still be a number.
        Some("count") => match new_event.payload.get(value_key) {
            None => 1,
            Some(v) => parse_value(v, value_key)?,
        },
        _ => match new_event.payload.get(value_key) {
            None => {
                return Err(refused(
                    "meter_event_value_not_found",
                    &format!("payload[{value_key}]"),
                    format!("The payload has no value under `{value_key}`."),
                ))
            }
            Some(v) => parse_value(v, value_key)?,
        },
    };
    let now = ctx.now_for_customer(Some(&customer));
    let timestamp = new_event.timestamp.unwrap_or(now);
    if timestamp < now - MAX_AGE {
        return Err(refused(
            "timestamp_too_far_in_past",
            "timestamp",
            "The timestamp must be within the past 35 calendar days.".to_string(),
        ));
    }
    if timestamp > now + MAX_AHEAD {
        return Err(refused(
            "timestamp_in_future",
            "timestamp",
            "The timestamp must not be more than 5 minutes in the future.".to_string(),
        ));
    }
    let event = json!({
        "object": "billing.meter_event",
        "created": now,
        "event_name": new_event.event_name,
        "identifier": identifier,
        "livemode": false,
        "payload": new_event.payload,
        "timestamp": timestamp,
    });
    let mut stored = event.clone();
    stored["id"] = json!(identifier);
    stored["_sb_meter"] = meter["id"].clone();
    stored["_sb_customer"] = json!(customer);
    stored["_sb_value"] = json!(value);
    stored["_sb_canceled"] = json!(false);
    ctx.put(EVENTS, stored);
    Ok(event)
}

/// An integer value kept exact (the form body carries it as a string).
fn parse_value(value: &Value, key: &str) -> ApiResult<i64> {
    value.as_str().and_then(|s| s.trim().parse::<i64>().ok()).ok_or_else(|| {
        refused(
            "meter_event_invalid_value",
            &format!("payload[{key}]"),
            format!("The value under `{key}` must be an integer, got {value}."),
        )
    })
}

/// Cancels a recorded event by identifier so that it no longer counts; answers the
/// `billing.meter_event_adjustment` (applied at once, hence `complete`).
pub fn cancel(ctx: &mut Ctx, event_name: &str, identifier: &str) -> ApiResult<Value> {
    let Some(event) = ctx.get(EVENTS, identifier).filter(|e| e["event_name"] == event_name).cloned() else {
        return Err(ApiError::invalid_value(
            "cancel[identifier]",
            format!("No meter event with identifier {identifier} was found for event_name {event_name}."),
        )
        .with_code("resource_missing"));
    };
    let now = ctx.now_for_customer(event["_sb_customer"].as_str());
    if now - event["created"].as_i64().unwrap_or(now) > CANCEL_WINDOW {
        return Err(ApiError::invalid_value(
            "cancel[identifier]",
            "Meter events can only be cancelled within 24 hours of being received.",
        ));
    }
    if let Some(stored) = ctx.get_mut(EVENTS, identifier) {
        stored["_sb_canceled"] = json!(true);
    }
    Ok(json!({
        "object": "billing.meter_event_adjustment",
        "cancel": {"identifier": identifier},
        "event_name": event_name,
        "livemode": false,
        "status": "complete",
        "type": "cancel",
    }))
}

/// The meter's aggregate of one customer's events timestamped in `[start, end)`: their sum, their
/// number, or the latest one's value, as the meter's formula says (0 without events).
pub fn aggregate(ctx: &Ctx, meter: &Value, customer: &str, start: i64, end: i64) -> i64 {
    // `all` is newest first; aggregate in the order events were received.
    let mut events: Vec<(i64, i64)> = ctx
        .all(EVENTS)
        .into_iter()
        .rev()
        .filter(|e| e["_sb_meter"] == meter["id"] && e["_sb_customer"] == customer && e["_sb_canceled"] != true)
        .filter_map(|e| Some((e["timestamp"].as_i64()?, e["_sb_value"].as_i64()?)))
        .filter(|(timestamp, _)| (start..end).contains(timestamp))
        .collect();
    match meter["default_aggregation"]["formula"].as_str() {
        Some("count") => events.len() as i64,
        Some("last") => {
            // The latest timestamp wins; among equal timestamps, the last received.
            events.sort_by_key(|(timestamp, _)| *timestamp);
            events.last().map_or(0, |(_, value)| *value)
        }
        _ => events.iter().map(|(_, value)| value).sum(),
    }
}

/// Which windows a summary request is cut into.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Grouping {
    Whole,
    Hour,
    Day,
}

impl Grouping {
    /// The boundary the range must fall on: a minute, or the window itself.
    fn alignment(self) -> i64 {
        match self {
            Grouping::Whole => 60,
            Grouping::Hour => 3600,
            Grouping::Day => DAY,
        }
    }
}

/// The `[start, end)` windows of a summary request, oldest first; refuses misaligned or empty
/// ranges as Stripe does.
pub fn windows(start: i64, end: i64, grouping: Grouping) -> ApiResult<Vec<(i64, i64)>> {
    let unit = grouping.alignment();
    let what = match grouping {
        Grouping::Whole => "minute",
        Grouping::Hour => "hour",
        Grouping::Day => "day",
    };
    for (param, time) in [("start_time", start), ("end_time", end)] {
        if time.rem_euclid(unit) != 0 {
            return Err(ApiError::invalid_value(param, format!("{param} must be aligned with {what} boundaries.")));
        }
    }
    if end <= start {
        return Err(ApiError::invalid_value("end_time", "end_time must be after start_time."));
    }
    if grouping == Grouping::Whole {
        return Ok(vec![(start, end)]);
    }
    Ok((start..end).step_by(unit as usize).map(|from| (from, from + unit)).collect())
}

/// The `billing.meter_event_summary` of one window (its id stable across calls, so that lists
/// can be paged).
pub fn summary(ctx: &Ctx, meter: &Value, customer: &str, (start, end): (i64, i64)) -> Value {
    let meter_id = meter["id"].as_str().unwrap_or_default();
    let digest = hex::encode(Sha256::digest(format!("{meter_id}:{customer}:{start}:{end}")));
    json!({
        "id": format!("mtrusg_{}", &digest[..24]),
        "object": "billing.meter_event_summary",
        "aggregated_value": aggregate(ctx, meter, customer, start, end),
        "end_time": end,
        "livemode": false,
        "meter": meter_id,
        "start_time": start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_the_grouping_and_refuse_misalignment() {
        assert_eq!(windows(0, 120, Grouping::Whole).unwrap(), [(0, 120)]);
        assert_eq!(windows(0, 7200, Grouping::Hour).unwrap(), [(0, 3600), (3600, 7200)]);
        assert_eq!(windows(DAY, 3 * DAY, Grouping::Day).unwrap().len(), 2);
        assert_eq!(windows(30, 120, Grouping::Whole).unwrap_err().param.as_deref(), Some("start_time"));
        assert_eq!(windows(0, 1800, Grouping::Hour).unwrap_err().param.as_deref(), Some("end_time"));
        assert!(windows(120, 120, Grouping::Whole).is_err());
    }
}
