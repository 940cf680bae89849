//! `/v1/webhook_endpoints` and `/v1/events`: parameters read here, endpoints changed by
//! `engine::webhook_endpoints`.

use serde_json::Value;

use super::event_types::{is_event_type, EVENT_TYPES};
use crate::engine::webhook_endpoints::{self, EndpointUpdate, NewEndpoint};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, new_metadata, paginate, param_bool, param_clearable_str, param_nonempty, param_str, param_strings,
    Ctx, API_VERSION,
};

pub fn create_webhook_endpoint(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let url = param_nonempty(params, "url").ok_or_else(|| ApiError::missing("url"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::invalid_value("url", format!("Invalid URL: {url}")).with_code("url_invalid"));
    }
    let enabled_events = enabled_events(params)?;
    if enabled_events.is_empty() {
        return Err(ApiError::missing("enabled_events"));
    }
    let new_endpoint = NewEndpoint {
        url: url.to_string(),
        enabled_events,
        api_version: param_nonempty(params, "api_version").unwrap_or(API_VERSION).to_string(),
        description: param_nonempty(params, "description").map(str::to_string),
        metadata: new_metadata(params)?,
        connect: param_bool(params, "connect")?.unwrap_or(false),
    };
    Ok(webhook_endpoints::create(ctx, new_endpoint))
}

pub fn update_webhook_endpoint(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let change = EndpointUpdate {
        url: param_nonempty(params, "url").map(str::to_string),
        enabled_events: enabled_events(params)?,
        disabled: param_bool(params, "disabled")?,
        description: param_clearable_str(params, "description"),
        metadata: params.get("metadata").cloned(),
    };
    webhook_endpoints::update(ctx, id, change)
}

/// `enabled_events[]`, refused as Stripe refuses a value outside its enum.
fn enabled_events(params: &Value) -> ApiResult<Vec<String>> {
    let events = param_strings(params, "enabled_events");
    if let Some(i) = events.iter().position(|name| !is_event_type(name)) {
        return Err(ApiError::invalid_value(
            &format!("enabled_events[{i}]"),
            format!("Invalid enabled_events[{i}]: must be one of {}", EVENT_TYPES.join(", ")),
        ));
    }
    Ok(events)
}

pub fn delete_webhook_endpoint(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    webhook_endpoints::delete(ctx, id)
}

pub fn list_events(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let event_type = param_str(params, "type");
    let types = param_strings(params, "types");
    let delivery_success = param_bool(params, "delivery_success")?;
    let mut items = Vec::new();
    for event in ctx.all("event") {
        let kind = event["type"].as_str().unwrap_or_default();
        if let Some(pattern) = event_type {
            let ok = match pattern.strip_suffix('*') {
                Some(prefix) => kind.starts_with(prefix),
                None => kind == pattern,
            };
            if !ok {
                continue;
            }
        }
        if !types.is_empty() && !types.iter().any(|x| x == kind) {
            continue;
        }
        if delivery_success.is_some_and(|success| (event["pending_webhooks"].as_i64().unwrap_or(0) == 0) != success) {
            continue;
        }
        if !created_matches(params, "created", event["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(event);
    }
    paginate(items, params, "/v1/events")
}
