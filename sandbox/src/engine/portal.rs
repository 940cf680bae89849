//! Customer Portal configurations and sessions: created and changed, with their events.

use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::store::{apply_metadata, public, Ctx};
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
            // Form-encoded numbers arrive as strings; the object has integers (minimum 1 by default).
            let given = item.get("adjustable_quantity").cloned().unwrap_or(json!({}));
            let number = |key: &str| match &given[key] {
                Value::String(s) => s.parse::<i64>().map_or(Value::Null, |n| json!(n)),
                other => other.clone(),
            };
            let minimum = number("minimum");
            item["adjustable_quantity"] = json!({
                "enabled": given["enabled"] == true || given["enabled"] == "true",
                "maximum": number("maximum"),
                "minimum": if minimum.is_null() { json!(1) } else { minimum },
            });
        }
    }
}

/// The quantities the portal lets the customer choose for `price` (`(minimum, maximum)`): when
/// `default_allowed_updates` has `quantity` and the price's product (if the configuration lists
/// products) has `adjustable_quantity` enabled. `None`: the quantity cannot be changed.
pub fn quantity_bounds(configuration: &Value, price: &Value) -> Option<(i64, Option<i64>)> {
    let update = &configuration["features"]["subscription_update"];
    let allowed = update["default_allowed_updates"].as_array().is_some_and(|a| a.iter().any(|u| u == "quantity"));
    if !allowed {
        return None;
    }
    let products = update["products"].as_array().cloned().unwrap_or_default();
    if products.is_empty() {
        return Some((1, None));
    }
    let entry = products.iter().find(|p| {
        p["product"] == price["product"] || p["prices"].as_array().is_some_and(|ids| ids.contains(&price["id"]))
    })?;
    let adjustable = &entry["adjustable_quantity"];
    (adjustable["enabled"] == true)
        .then(|| (adjustable["minimum"].as_i64().unwrap_or(1), adjustable["maximum"].as_i64()))
}

/// A portal configuration to create.
#[derive(Default)]
pub struct NewConfiguration {
    /// `features[...]` as given, over the defaults.
    pub features: Option<Value>,
    /// `business_profile[...]` as given.
    pub business_profile: Value,
    pub default_return_url: Option<String>,
    pub metadata: Value,
    pub name: Option<String>,
}

/// Creates a configuration (never the default, as on Stripe: the default is the dashboard's,
/// which exists from the start here); emits `billing_portal.configuration.created`.
pub fn create_configuration(ctx: &mut Ctx, new_configuration: NewConfiguration) -> ApiResult<Value> {
    default_configuration(ctx)?;
    Ok(insert_configuration(ctx, new_configuration, false))
}

fn insert_configuration(ctx: &mut Ctx, new_configuration: NewConfiguration, is_default: bool) -> Value {
    let now = ctx.now();
    let mut features = default_features();
    if let Some(requested) = &new_configuration.features {
        merge(&mut features, requested);
    }
    normalize_products(&mut features);
    let profile = &new_configuration.business_profile;
    let configuration = json!({
        "id": new_id("bpc"),
        "object": "billing_portal.configuration",
        "active": true,
        "application": null,
        "business_profile": {"headline": profile.get("headline").cloned().unwrap_or(Value::Null), "privacy_policy_url": profile.get("privacy_policy_url").cloned().unwrap_or(Value::Null), "terms_of_service_url": profile.get("terms_of_service_url").cloned().unwrap_or(Value::Null)},
        "created": now,
        "default_return_url": new_configuration.default_return_url,
        "features": features,
        "is_default": is_default,
        "livemode": false,
        "login_page": {"enabled": false, "url": null},
        "metadata": new_configuration.metadata,
        "name": new_configuration.name,
        "updated": now,
    });
    ctx.put("billing_portal.configuration", configuration.clone());
    ctx.emit("billing_portal.configuration.created", &configuration, None);
    public(&configuration)
}

/// A requested configuration change; `None` leaves a field alone.
#[derive(Default)]
pub struct ConfigurationUpdate {
    /// `features[...]` as given, merged into the current features.
    pub features: Option<Value>,
    pub active: Option<bool>,
    /// `null` clears.
    pub default_return_url: Option<Value>,
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
}

/// Changes a configuration; emits `billing_portal.configuration.updated`.
pub fn update_configuration(ctx: &mut Ctx, id: &str, change: ConfigurationUpdate) -> ApiResult<Value> {
    let old = ctx.find("billing_portal.configuration", id, "configuration")?;
    let mut configuration = old.clone();
    if let Some(features) = &change.features {
        merge(&mut configuration["features"], features);
        normalize_products(&mut configuration["features"]);
    }
    if let Some(active) = change.active {
        configuration["active"] = json!(active);
    }
    if let Some(url) = change.default_return_url {
        configuration["default_return_url"] = url;
    }
    if let Some(metadata) = &change.metadata {
        configuration["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    configuration["updated"] = json!(ctx.now());
    Ok(ctx.save_updated("billing_portal.configuration", "billing_portal.configuration.updated", &old, configuration))
}

/// The account's default configuration, made the first time it is needed (as on an account
/// whose portal settings were saved in the dashboard).
pub fn default_configuration(ctx: &mut Ctx) -> ApiResult<Value> {
    if let Some(configuration) =
        ctx.all("billing_portal.configuration").into_iter().find(|configuration| configuration["is_default"] == true)
    {
        return Ok(configuration.clone());
    }
    let defaults = NewConfiguration { business_profile: json!({}), metadata: json!({}), ..Default::default() };
    let configuration = insert_configuration(ctx, defaults, true);
    // Creating the implicit default configuration emits no event on Stripe.
    ctx.events.retain(|e| e.kind != "billing_portal.configuration.created");
    ctx.find("billing_portal.configuration", configuration["id"].as_str().unwrap_or_default(), "configuration")
}

/// A portal session to create.
pub struct NewSession {
    pub customer: String,
    /// A configuration id; the default configuration without.
    pub configuration: Option<String>,
    /// The configuration's `default_return_url` without.
    pub return_url: Option<String>,
    pub locale: Option<String>,
}

/// Creates a portal session for a customer; emits `billing_portal.session.created`.
pub fn create_session(ctx: &mut Ctx, new_session: NewSession) -> ApiResult<Value> {
    ctx.find("customer", &new_session.customer, "customer")?;
    let configuration = match new_session.configuration.as_deref() {
        Some(id) => ctx.find("billing_portal.configuration", id, "configuration")?,
        None => default_configuration(ctx)?,
    };
    let return_url =
        new_session.return_url.or_else(|| configuration["default_return_url"].as_str().map(str::to_string));
    let id = new_id("bps");
    let session = json!({
        "id": id,
        "object": "billing_portal.session",
        "configuration": configuration["id"],
        "created": ctx.now(),
        "customer": new_session.customer,
        "customer_account": null,
        "flow": null,
        "livemode": false,
        "locale": new_session.locale,
        "on_behalf_of": null,
        "return_url": return_url,
        "url": format!("{}/portal/{}", ctx.base_url, id),
    });
    ctx.put("billing_portal.session", session.clone());
    ctx.emit("billing_portal.session.created", &session, None);
    Ok(public(&session))
}
