//! `/v1/billing_portal/configurations` and `/v1/billing_portal/sessions`.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, merge_metadata, new_metadata, paginate, param_bool, param_nonempty, param_str, public, Ctx,
};
use crate::util::new_id;

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
pub fn create_portal_configuration(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    default_configuration(ctx)?;
    insert_configuration(ctx, params, false)
}

fn insert_configuration(ctx: &mut Ctx, params: &Value, is_default: bool) -> ApiResult<Value> {
    let now = ctx.now();
    let mut features = default_features();
    if let Some(f) = params.get("features") {
        merge(&mut features, f);
    }
    normalize_products(&mut features);
    let bp = params.get("business_profile").cloned().unwrap_or(json!({}));
    let conf = json!({
        "id": new_id("bpc"),
        "object": "billing_portal.configuration",
        "active": true,
        "application": null,
        "business_profile": {"headline": bp.get("headline").cloned().unwrap_or(Value::Null), "privacy_policy_url": bp.get("privacy_policy_url").cloned().unwrap_or(Value::Null), "terms_of_service_url": bp.get("terms_of_service_url").cloned().unwrap_or(Value::Null)},
        "created": now,
        "default_return_url": param_nonempty(params, "default_return_url"),
        "features": features,
        "is_default": is_default,
        "livemode": false,
        "login_page": {"enabled": false, "url": null},
        "metadata": new_metadata(params)?,
        "name": param_nonempty(params, "name"),
        "updated": now,
    });
    ctx.put("billing_portal.configuration", conf.clone());
    ctx.emit("billing_portal.configuration.created", &conf, None);
    Ok(public(&conf))
}

pub fn update_portal_configuration(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("billing_portal.configuration", id, "configuration")?;
    let mut conf = old.clone();
    if let Some(f) = params.get("features") {
        merge(&mut conf["features"], f);
        normalize_products(&mut conf["features"]);
    }
    if let Some(a) = param_bool(params, "active")? {
        conf["active"] = json!(a);
    }
    if let Some(u) = param_str(params, "default_return_url") {
        conf["default_return_url"] = if u.is_empty() { Value::Null } else { json!(u) };
    }
    if params.get("metadata").is_some() {
        conf["metadata"] = merge_metadata(&old["metadata"], params)?;
    }
    conf["updated"] = json!(ctx.now());
    Ok(ctx.save_updated("billing_portal.configuration", "billing_portal.configuration.updated", &old, conf))
}

/// `GET /v1/billing_portal/configurations`. The account's default configuration always exists,
/// as on an account whose portal settings were saved in the dashboard; `active` and
/// `is_default` filter as on Stripe.
pub fn list_portal_configurations(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    default_configuration(ctx)?;
    let active = param_bool(params, "active")?;
    let is_default = param_bool(params, "is_default")?;
    let mut items = Vec::new();
    for c in ctx.all("billing_portal.configuration") {
        if active.is_some_and(|a| c["active"] != a) || is_default.is_some_and(|d| c["is_default"] != d) {
            continue;
        }
        if !created_matches(params, "created", c["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(c));
    }
    paginate(items, params, "/v1/billing_portal/configurations")
}

fn default_configuration(ctx: &mut Ctx) -> ApiResult<Value> {
    if let Some(c) = ctx.all("billing_portal.configuration").into_iter().find(|c| c["is_default"] == true) {
        return Ok(c.clone());
    }
    let c = insert_configuration(ctx, &json!({}), true)?;
    // Creating the implicit default configuration emits no event on Stripe.
    ctx.events.retain(|e| e.kind != "billing_portal.configuration.created");
    ctx.find("billing_portal.configuration", c["id"].as_str().unwrap_or_default(), "configuration")
}

pub fn create_portal_session(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_nonempty(params, "customer").ok_or_else(|| ApiError::missing("customer"))?;
    ctx.find("customer", customer, "customer")?;
    let conf = match param_nonempty(params, "configuration") {
        Some(c) => ctx.find("billing_portal.configuration", c, "configuration")?,
        None => default_configuration(ctx)?,
    };
    let return_url = param_nonempty(params, "return_url")
        .map(str::to_string)
        .or_else(|| conf["default_return_url"].as_str().map(str::to_string));
    let id = new_id("bps");
    let session = json!({
        "id": id,
        "object": "billing_portal.session",
        "configuration": conf["id"],
        "created": ctx.now(),
        "customer": customer,
        "customer_account": null,
        "flow": null,
        "livemode": false,
        "locale": param_nonempty(params, "locale"),
        "on_behalf_of": null,
        "return_url": return_url,
        "url": format!("{}/portal/{}", ctx.base_url, id),
    });
    ctx.put("billing_portal.session", session.clone());
    ctx.emit("billing_portal.session.created", &session, None);
    Ok(public(&session))
}
