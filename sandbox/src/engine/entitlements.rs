//! Entitlements: features (`entitlements.feature`), their attachment to products
//! (`product_feature`), and the active entitlements they give the customers who subscribe to those
//! products (`entitlements.active_entitlement`), with `entitlements.active_entitlement_summary.updated`
//! whenever a customer's set changes.
//!
//! As on Stripe, a customer's active entitlements follow their subscriptions: they are worked out
//! again whenever one of the customer's subscriptions changes (created, updated, renewed,
//! deleted), so a feature attached to a product reaches existing subscribers at their next change
//! (Stripe: at the start of the next billing period). Subscriptions that have not started
//! (`incomplete`) or have ended (`incomplete_expired`, `canceled`) entitle to nothing; the others,
//! `past_due`, `unpaid` and `paused` included, keep their entitlements (Stripe leaves access
//! decisions for those to the integration).

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{apply_metadata, public, Ctx};
use crate::util::new_id;

pub const FEATURE: &str = "entitlements.feature";
pub const PRODUCT_FEATURE: &str = "product_feature";
pub const ACTIVE_ENTITLEMENT: &str = "entitlements.active_entitlement";
/// Where an active entitlement remembers its customer (private: Stripe's object does not say).
const CUSTOMER: &str = "_sb_customer";

/// Creates a feature; its lookup key must be free among active features.
pub fn create_feature(ctx: &mut Ctx, lookup_key: &str, name: &str, metadata: Value) -> ApiResult<Value> {
    if ctx.all(FEATURE).iter().any(|f| f["lookup_key"] == lookup_key && f["active"] == true) {
        return Err(ApiError::invalid_value(
            "lookup_key",
            format!("A feature with the lookup_key `{lookup_key}` already exists."),
        ));
    }
    let feature = json!({
        "id": new_id("feat_test"),
        "object": FEATURE,
        "active": true,
        "livemode": false,
        "lookup_key": lookup_key,
        "metadata": metadata,
        "name": name,
    });
    ctx.put(FEATURE, feature.clone());
    Ok(public(&feature))
}

/// A requested feature change; `None` leaves a field alone.
pub struct FeatureUpdate {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub metadata: Option<Value>,
}

pub fn update_feature(ctx: &mut Ctx, id: &str, change: FeatureUpdate) -> ApiResult<Value> {
    let mut feature = ctx.find(FEATURE, id, "id")?;
    if feature["active"] == false {
        return Err(ApiError::invalid("An archived feature cannot be updated."));
    }
    if let Some(name) = change.name {
        feature["name"] = json!(name);
    }
    if let Some(active) = change.active {
        feature["active"] = json!(active);
    }
    if let Some(metadata) = &change.metadata {
        feature["metadata"] = apply_metadata(&feature["metadata"], metadata)?;
    }
    ctx.put(FEATURE, feature.clone());
    Ok(public(&feature))
}

/// Attaches an active feature to a product, once.
pub fn attach(ctx: &mut Ctx, product_id: &str, feature_id: &str) -> ApiResult<Value> {
    ctx.find("product", product_id, "product")?;
    let feature = ctx.find(FEATURE, feature_id, "entitlement_feature")?;
    if feature["active"] != true {
        return Err(ApiError::invalid_value(
            "entitlement_feature",
            "An archived feature cannot be attached to a product.",
        ));
    }
    if attached(ctx, product_id).iter().any(|pf| pf["entitlement_feature"] == feature_id) {
        return Err(ApiError::invalid_value(
            "entitlement_feature",
            format!("The feature `{feature_id}` is already attached to the product `{product_id}`."),
        ));
    }
    let product_feature = json!({
        "id": new_id("prodft"),
        "object": PRODUCT_FEATURE,
        "entitlement_feature": feature_id,
        "livemode": false,
        "_sb_product": product_id,
    });
    ctx.put(PRODUCT_FEATURE, product_feature.clone());
    Ok(render_product_feature(ctx, &product_feature))
}

/// A product's feature attachments (stored), newest first.
pub fn attached(ctx: &Ctx, product_id: &str) -> Vec<Value> {
    ctx.all(PRODUCT_FEATURE).into_iter().filter(|pf| pf["_sb_product"] == product_id).cloned().collect()
}

/// A product feature as Stripe shows it: the feature embedded.
pub fn render_product_feature(ctx: &Ctx, stored: &Value) -> Value {
    let mut shown = public(stored);
    let feature_id = stored["entitlement_feature"].as_str().unwrap_or_default();
    shown["entitlement_feature"] = ctx.get(FEATURE, feature_id).map(public).unwrap_or(Value::Null);
    shown
}

pub fn find_product_feature(ctx: &Ctx, product_id: &str, id: &str) -> ApiResult<Value> {
    ctx.get(PRODUCT_FEATURE, id)
        .filter(|pf| pf["_sb_product"] == product_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("product_feature", id, "id"))
}

pub fn detach(ctx: &mut Ctx, product_id: &str, id: &str) -> ApiResult<Value> {
    find_product_feature(ctx, product_id, id)?;
    ctx.remove(PRODUCT_FEATURE, id);
    Ok(json!({"id": id, "object": PRODUCT_FEATURE, "deleted": true}))
}

/// The customer's active entitlements (stored), oldest first.
pub fn active_of(ctx: &Ctx, customer: &str) -> Vec<Value> {
    let mut active: Vec<Value> =
        ctx.all(ACTIVE_ENTITLEMENT).into_iter().filter(|e| e[CUSTOMER] == customer).cloned().collect();
    active.reverse();
    active
}

/// The features the customer's subscriptions entitle to now, in subscription and item order.
fn entitled_features(ctx: &Ctx, customer: &str) -> Vec<Value> {
    let mut features: Vec<Value> = Vec::new();
    let mut subscriptions: Vec<&Value> = ctx.all("subscription");
    subscriptions.reverse();
    for subscription in subscriptions {
        let entitles =
            matches!(subscription["status"].as_str(), Some("trialing" | "active" | "past_due" | "unpaid" | "paused"));
        if subscription["customer"] != customer || !entitles {
            continue;
        }
        for item in subscription["items"]["data"].as_array().into_iter().flatten() {
            let product = match &item["price"]["product"] {
                Value::String(id) => id.clone(),
                other => other["id"].as_str().unwrap_or_default().to_string(),
            };
            let mut links = attached(ctx, &product);
            links.reverse();
            for link in links {
                let feature_id = link["entitlement_feature"].as_str().unwrap_or_default();
                let Some(feature) = ctx.get(FEATURE, feature_id).filter(|f| f["active"] == true) else { continue };
                if !features.iter().any(|f| f["id"] == feature["id"]) {
                    features.push(feature.clone());
                }
            }
        }
    }
    features
}

/// Works the customer's active entitlements out again from their subscriptions; emits
/// `entitlements.active_entitlement_summary.updated` when the set changed. An entitlement that
/// stays keeps its id.
pub fn refresh(ctx: &mut Ctx, customer: &str) {
    let current = active_of(ctx, customer);
    // Most accounts attach no features: nothing to work out (and no scan of every subscription).
    if current.is_empty() && ctx.all(PRODUCT_FEATURE).is_empty() {
        return;
    }
    let features = entitled_features(ctx, customer);
    let mut changed = false;
    for entitlement in &current {
        if !features.iter().any(|f| f["id"] == entitlement["feature"]) {
            ctx.remove(ACTIVE_ENTITLEMENT, entitlement["id"].as_str().unwrap_or_default());
            changed = true;
        }
    }
    for feature in &features {
        if current.iter().any(|e| e["feature"] == feature["id"]) {
            continue;
        }
        let mut entitlement = json!({
            "id": new_id("ent_test"),
            "object": ACTIVE_ENTITLEMENT,
            "feature": feature["id"],
            "livemode": false,
            "lookup_key": feature["lookup_key"],
        });
        entitlement[CUSTOMER] = json!(customer);
        ctx.put(ACTIVE_ENTITLEMENT, entitlement);
        changed = true;
    }
    if changed {
        let summary = summary(ctx, customer);
        ctx.emit("entitlements.active_entitlement_summary.updated", &summary, None);
    }
}

/// `entitlements.active_entitlement_summary`: the customer's active entitlements, features
/// embedded.
fn summary(ctx: &Ctx, customer: &str) -> Value {
    let data: Vec<Value> = active_of(ctx, customer)
        .iter()
        .map(|entitlement| {
            let mut shown = public(entitlement);
            let feature_id = entitlement["feature"].as_str().unwrap_or_default();
            shown["feature"] = ctx.get(FEATURE, feature_id).map(public).unwrap_or(Value::Null);
            shown
        })
        .collect();
    json!({
        "object": "entitlements.active_entitlement_summary",
        "customer": customer,
        "entitlements": {
            "object": "list",
            "data": data,
            "has_more": false,
            "url": "/v1/entitlements/active_entitlements",
        },
        "livemode": false,
    })
}

/// Refreshes the active entitlements of every customer whose subscriptions changed in this
/// request or engine run (their `customer.subscription.*` events are pending).
pub fn follow_subscriptions(ctx: &mut Ctx) {
    let mut customers: Vec<String> = Vec::new();
    for event in &ctx.events {
        if !event.kind.starts_with("customer.subscription.") {
            continue;
        }
        if let Some(customer) = event.object["customer"].as_str() {
            if !customers.iter().any(|c| c == customer) {
                customers.push(customer.to_string());
            }
        }
    }
    for customer in customers {
        refresh(ctx, &customer);
    }
}
