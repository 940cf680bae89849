//! `/v1/webhook_endpoints` and `/v1/events`.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, merge_metadata, new_metadata, paginate, param_bool, param_nonempty, param_str, param_strings,
    public, Ctx, API_VERSION,
};
use crate::util::{new_id, random_str};

pub fn create_webhook_endpoint(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let url = param_nonempty(params, "url").ok_or_else(|| ApiError::missing("url"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::invalid_value("url", format!("Invalid URL: {url}")).with_code("url_invalid"));
    }
    let events = param_strings(params, "enabled_events");
    if events.is_empty() {
        return Err(ApiError::missing("enabled_events"));
    }
    let secret = format!("whsec_{}", random_str(32));
    let ep = json!({
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": param_nonempty(params, "api_version").unwrap_or(API_VERSION),
        "application": null,
        "created": ctx.now(),
        "description": param_nonempty(params, "description"),
        "enabled_events": events,
        "livemode": false,
        "metadata": new_metadata(params)?,
        "status": "enabled",
        "url": url,
        "_sb_secret": secret,
        "_sb_connect": param_bool(params, "connect")?.unwrap_or(false),
    });
    ctx.put("webhook_endpoint", ep.clone());
    let mut out = public(&ep);
    // The secret is only ever shown in the create response.
    out["secret"] = json!(secret);
    Ok(out)
}

pub fn update_webhook_endpoint(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("webhook_endpoint", id, "id")?;
    let mut ep = old.clone();
    if let Some(u) = param_nonempty(params, "url") {
        ep["url"] = json!(u);
    }
    let events = param_strings(params, "enabled_events");
    if !events.is_empty() {
        ep["enabled_events"] = json!(events);
    }
    if let Some(d) = param_bool(params, "disabled")? {
        ep["status"] = json!(if d { "disabled" } else { "enabled" });
    }
    if let Some(d) = param_str(params, "description") {
        ep["description"] = if d.is_empty() { Value::Null } else { json!(d) };
    }
    if params.get("metadata").is_some() {
        ep["metadata"] = merge_metadata(&old["metadata"], params)?;
    }
    ctx.put("webhook_endpoint", ep.clone());
    Ok(public(&ep))
}

pub fn delete_webhook_endpoint(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    ctx.find("webhook_endpoint", id, "id")?;
    ctx.remove("webhook_endpoint", id);
    Ok(json!({"id": id, "object": "webhook_endpoint", "deleted": true}))
}

pub fn list_events(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let typ = param_str(params, "type");
    let types = param_strings(params, "types");
    let delivery_success = param_bool(params, "delivery_success")?;
    let mut items = Vec::new();
    for ev in ctx.all("event") {
        let t = ev["type"].as_str().unwrap_or_default();
        if let Some(pattern) = typ {
            let ok = match pattern.strip_suffix('*') {
                Some(prefix) => t.starts_with(prefix),
                None => t == pattern,
            };
            if !ok {
                continue;
            }
        }
        if !types.is_empty() && !types.iter().any(|x| x == t) {
            continue;
        }
        if delivery_success.is_some_and(|d| (ev["pending_webhooks"].as_i64().unwrap_or(0) == 0) != d) {
            continue;
        }
        if !created_matches(params, "created", ev["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(ev));
    }
    paginate(items, params, "/v1/events")
}
