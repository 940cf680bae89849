//! Webhook endpoints, events, test clocks, billing portal, account.

use serde_json::{json, Value};

use super::save_updated;
use crate::error::{ApiError, ApiResult};
use crate::state::{
    created_matches, merge_metadata, new_metadata, p_bool, p_i64, p_nonempty, p_str, p_strings, paginate, public, Ctx,
    API_VERSION,
};
use crate::util::{new_id, random_str, DAY};

// ---------------------------------------------------------------------------------------------
// Webhook endpoints

pub fn create_webhook_endpoint(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let url = p_nonempty(p, "url").ok_or_else(|| ApiError::missing("url"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::invalid_value("url", format!("Invalid URL: {url}")).with_code("url_invalid"));
    }
    let events = p_strings(p, "enabled_events");
    if events.is_empty() {
        return Err(ApiError::missing("enabled_events"));
    }
    let secret = format!("whsec_{}", random_str(32));
    let ep = json!({
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": p_nonempty(p, "api_version").unwrap_or(API_VERSION),
        "application": null,
        "created": cx.now(),
        "description": p_nonempty(p, "description"),
        "enabled_events": events,
        "livemode": false,
        "metadata": new_metadata(p)?,
        "status": "enabled",
        "url": url,
        "_sb_secret": secret,
        "_sb_connect": p_bool(p, "connect")?.unwrap_or(false),
    });
    cx.put("webhook_endpoint", ep.clone());
    let mut out = public(&ep);
    // The secret is only ever shown in the create response.
    out["secret"] = json!(secret);
    Ok(out)
}

pub fn update_webhook_endpoint(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("webhook_endpoint", id, "id")?;
    let mut ep = old.clone();
    if let Some(u) = p_nonempty(p, "url") {
        ep["url"] = json!(u);
    }
    let events = p_strings(p, "enabled_events");
    if !events.is_empty() {
        ep["enabled_events"] = json!(events);
    }
    if let Some(d) = p_bool(p, "disabled")? {
        ep["status"] = json!(if d { "disabled" } else { "enabled" });
    }
    if let Some(d) = p_str(p, "description") {
        ep["description"] = if d.is_empty() { Value::Null } else { json!(d) };
    }
    if p.get("metadata").is_some() {
        ep["metadata"] = merge_metadata(&old["metadata"], p)?;
    }
    cx.put("webhook_endpoint", ep.clone());
    Ok(public(&ep))
}

pub fn delete_webhook_endpoint(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    cx.find("webhook_endpoint", id, "id")?;
    cx.remove("webhook_endpoint", id);
    Ok(json!({"id": id, "object": "webhook_endpoint", "deleted": true}))
}

// ---------------------------------------------------------------------------------------------
// Events

pub fn list_events(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let typ = p_str(p, "type");
    let types = p_strings(p, "types");
    let delivery_success = p_bool(p, "delivery_success")?;
    let mut items = Vec::new();
    for ev in cx.all("event") {
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
        if !created_matches(p, "created", ev["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(ev));
    }
    paginate(items, p, "/v1/events")
}

// ---------------------------------------------------------------------------------------------
// Test clocks

pub fn create_test_clock(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let frozen = p_i64(p, "frozen_time")?.ok_or_else(|| ApiError::missing("frozen_time"))?;
    let now = cx.now();
    let clock = json!({
        "id": new_id("clock"),
        "object": "test_helpers.test_clock",
        "created": now,
        "deletes_after": now + 30 * DAY,
        "frozen_time": frozen,
        "livemode": false,
        "name": p_nonempty(p, "name"),
        "status": "ready",
        "status_details": {},
    });
    cx.put("test_helpers.test_clock", clock.clone());
    cx.emit("test_helpers.test_clock.created", &clock, None);
    Ok(public(&clock))
}

pub fn delete_test_clock(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let clock = cx.find("test_helpers.test_clock", id, "test_clock")?;
    // Deleting a clock deletes the customers on it (and their objects with them).
    let customers: Vec<String> = cx
        .all("customer")
        .into_iter()
        .filter(|c| c["test_clock"] == id)
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect();
    for c in customers {
        for kind in ["subscription", "invoice", "payment_method", "invoiceitem"] {
            let ids: Vec<String> = cx
                .all(kind)
                .into_iter()
                .filter(|o| o["customer"] == c.as_str())
                .filter_map(|o| o["id"].as_str().map(str::to_string))
                .collect();
            for oid in ids {
                cx.remove(kind, &oid);
            }
        }
        cx.remove("customer", &c);
    }
    cx.remove("test_helpers.test_clock", id);
    cx.emit("test_helpers.test_clock.deleted", &clock, None);
    Ok(json!({"id": id, "object": "test_helpers.test_clock", "deleted": true}))
}

/// Advances a test clock: every renewal, retry and trial end up to `frozen_time` happens, in
/// order, before this returns (Stripe does it asynchronously; the response says `advancing`
/// like Stripe's, and the clock is `ready` on the next retrieve).
pub fn advance_test_clock(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let clock = cx.find("test_helpers.test_clock", id, "test_clock")?;
    let target = p_i64(p, "frozen_time")?.ok_or_else(|| ApiError::missing("frozen_time"))?;
    let current = clock["frozen_time"].as_i64().unwrap_or(0);
    if target <= current {
        return Err(ApiError::invalid_value("frozen_time", "The test clock cannot be advanced to a time in the past.")
            .with_code("test_clock_invalid_frozen_time"));
    }
    let mut advancing = clock.clone();
    advancing["status"] = json!("advancing");
    advancing["status_details"] = json!({"advancing": {"target_frozen_time": target}});
    cx.emit("test_helpers.test_clock.advancing", &advancing, None);
    crate::engine::run_until(cx, Some(id), target);
    let mut done = cx.find("test_helpers.test_clock", id, "test_clock")?;
    done["frozen_time"] = json!(target);
    done["status"] = json!("ready");
    done["status_details"] = json!({});
    cx.put("test_helpers.test_clock", done.clone());
    cx.emit("test_helpers.test_clock.ready", &done, None);
    Ok(public(&advancing))
}

// ---------------------------------------------------------------------------------------------
// Billing portal

fn default_features() -> Value {
    json!({
        "customer_update": {"allowed_updates": ["email", "address"], "enabled": true},
        "invoice_history": {"enabled": true},
        "payment_method_update": {"enabled": true, "payment_method_configuration": null},
        "subscription_cancel": {
            "cancellation_reason": {"enabled": false, "options": []},
            "enabled": true,
            "mode": "at_period_end",
            "proration_behavior": "none",
        },
        "subscription_update": {
            "billing_cycle_anchor": null,
            "default_allowed_updates": ["price"],
            "enabled": true,
            "products": [],
            "proration_behavior": "create_prorations",
            "schedule_at_period_end": {"conditions": []},
            "trial_update_behavior": "end_trial",
        },
    })
}

fn merge(into: &mut Value, from: &Value) {
    if let (Value::Object(a), Value::Object(b)) = (&mut *into, from) {
        for (k, v) in b {
            match a.get_mut(k) {
                Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                _ => {
                    let val = match v {
                        Value::String(s) if s == "true" => json!(true),
                        Value::String(s) if s == "false" => json!(false),
                        other => other.clone(),
                    };
                    a.insert(k.clone(), val);
                }
            }
        }
    }
}

fn normalize_products(features: &mut Value) {
    // products[i][prices][] → [{product, prices: [...], adjustable_quantity}]
    if let Some(list) = features["subscription_update"]["products"].as_array_mut() {
        for item in list.iter_mut() {
            if item["prices"].is_string() {
                item["prices"] = json!([item["prices"].clone()]);
            }
            if item.get("adjustable_quantity").is_none() {
                item["adjustable_quantity"] = json!({"enabled": false, "maximum": null, "minimum": 1});
            }
        }
    }
}

/// `POST /v1/billing_portal/configurations`: never the default, as on Stripe (the default is the
/// dashboard's, which exists from the start here).
pub fn create_portal_configuration(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    default_configuration(cx)?;
    insert_configuration(cx, p, false)
}

fn insert_configuration(cx: &mut Ctx, p: &Value, is_default: bool) -> ApiResult<Value> {
    let now = cx.now();
    let mut features = default_features();
    if let Some(f) = p.get("features") {
        merge(&mut features, f);
    }
    normalize_products(&mut features);
    let bp = p.get("business_profile").cloned().unwrap_or(json!({}));
    let conf = json!({
        "id": new_id("bpc"),
        "object": "billing_portal.configuration",
        "active": true,
        "application": null,
        "business_profile": {"headline": bp.get("headline").cloned().unwrap_or(Value::Null), "privacy_policy_url": bp.get("privacy_policy_url").cloned().unwrap_or(Value::Null), "terms_of_service_url": bp.get("terms_of_service_url").cloned().unwrap_or(Value::Null)},
        "created": now,
        "default_return_url": p_nonempty(p, "default_return_url"),
        "features": features,
        "is_default": is_default,
        "livemode": false,
        "login_page": {"enabled": false, "url": null},
        "metadata": new_metadata(p)?,
        "name": p_nonempty(p, "name"),
        "updated": now,
    });
    cx.put("billing_portal.configuration", conf.clone());
    cx.emit("billing_portal.configuration.created", &conf, None);
    Ok(public(&conf))
}

pub fn update_portal_configuration(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("billing_portal.configuration", id, "configuration")?;
    let mut conf = old.clone();
    if let Some(f) = p.get("features") {
        merge(&mut conf["features"], f);
        normalize_products(&mut conf["features"]);
    }
    if let Some(a) = p_bool(p, "active")? {
        conf["active"] = json!(a);
    }
    if let Some(u) = p_str(p, "default_return_url") {
        conf["default_return_url"] = if u.is_empty() { Value::Null } else { json!(u) };
    }
    if p.get("metadata").is_some() {
        conf["metadata"] = merge_metadata(&old["metadata"], p)?;
    }
    conf["updated"] = json!(cx.now());
    Ok(save_updated(cx, "billing_portal.configuration", "billing_portal.configuration.updated", &old, conf))
}

/// `GET /v1/billing_portal/configurations`. The account's default configuration always exists,
/// as on an account whose portal settings were saved in the dashboard; `active` and
/// `is_default` filter as on Stripe.
pub fn list_portal_configurations(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    default_configuration(cx)?;
    let active = p_bool(p, "active")?;
    let is_default = p_bool(p, "is_default")?;
    let mut items = Vec::new();
    for c in cx.all("billing_portal.configuration") {
        if active.is_some_and(|a| c["active"] != a) || is_default.is_some_and(|d| c["is_default"] != d) {
            continue;
        }
        if !created_matches(p, "created", c["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(c));
    }
    paginate(items, p, "/v1/billing_portal/configurations")
}

fn default_configuration(cx: &mut Ctx) -> ApiResult<Value> {
    if let Some(c) = cx.all("billing_portal.configuration").into_iter().find(|c| c["is_default"] == true) {
        return Ok(c.clone());
    }
    let c = insert_configuration(cx, &json!({}), true)?;
    // Creating the implicit default configuration emits no event on Stripe.
    cx.events.retain(|e| e.kind != "billing_portal.configuration.created");
    cx.find("billing_portal.configuration", c["id"].as_str().unwrap_or_default(), "configuration")
}

pub fn create_portal_session(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_nonempty(p, "customer").ok_or_else(|| ApiError::missing("customer"))?;
    cx.find("customer", customer, "customer")?;
    let conf = match p_nonempty(p, "configuration") {
        Some(c) => cx.find("billing_portal.configuration", c, "configuration")?,
        None => default_configuration(cx)?,
    };
    let return_url = p_nonempty(p, "return_url")
        .map(str::to_string)
        .or_else(|| conf["default_return_url"].as_str().map(str::to_string));
    let id = new_id("bps");
    let session = json!({
        "id": id,
        "object": "billing_portal.session",
        "configuration": conf["id"],
        "created": cx.now(),
        "customer": customer,
        "customer_account": null,
        "flow": null,
        "livemode": false,
        "locale": p_nonempty(p, "locale"),
        "on_behalf_of": null,
        "return_url": return_url,
        "url": format!("{}/portal/{}", cx.base_url, id),
    });
    cx.put("billing_portal.session", session.clone());
    cx.emit("billing_portal.session.created", &session, None);
    Ok(public(&session))
}

pub fn account(cx: &Ctx) -> Value {
    let id = if cx.acct.is_empty() { "acct_sandbox".to_string() } else { cx.acct.clone() };
    json!({
        "id": id,
        "object": "account",
        "business_profile": {"name": "Sandbox", "url": null},
        "business_type": null,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": true,
        "country": "US",
        "created": 0,
        "default_currency": "usd",
        "details_submitted": true,
        "email": null,
        "payouts_enabled": true,
        "settings": {"dashboard": {"display_name": "Sandbox", "timezone": "Etc/UTC"}},
        "type": "standard",
    })
}
