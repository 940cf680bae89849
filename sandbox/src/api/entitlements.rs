//! Entitlements: features (`/v1/entitlements/features`), product features
//! (`/v1/products/:id/features`) and a customer's active entitlements
//! (`/v1/entitlements/active_entitlements`). Parameters read here; changes made by
//! `engine::entitlements`.

use serde_json::Value;

use crate::engine::entitlements::{self as engine, FeatureUpdate, ACTIVE_ENTITLEMENT, FEATURE};
use crate::error::{ApiError, ApiResult};
use crate::store::{new_metadata, paginate, param_bool, param_nonempty, param_required, param_str, public, Ctx};

/// Stripe's limit on a feature's lookup key.
const MAX_LOOKUP_KEY: usize = 80;

pub fn create_feature(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let lookup_key = param_required(params, "lookup_key")?;
    let name = param_required(params, "name")?;
    if lookup_key.len() > MAX_LOOKUP_KEY {
        return Err(ApiError::invalid_value("lookup_key", "The lookup_key must be at most 80 characters."));
    }
    engine::create_feature(ctx, lookup_key, name, new_metadata(params)?)
}

pub fn update_feature(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let change = FeatureUpdate {
        name: param_nonempty(params, "name").map(str::to_string),
        active: param_bool(params, "active")?,
        metadata: params.get("metadata").cloned(),
    };
    engine::update_feature(ctx, id, change)
}

/// Active features by default (Stripe leaves archived ones out unless `archived=true`).
pub fn list_features(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let archived = param_bool(params, "archived")?.unwrap_or(false);
    let lookup_key = param_str(params, "lookup_key");
    let items = ctx
        .all(FEATURE)
        .into_iter()
        .filter(|f| f["active"] == !archived && lookup_key.is_none_or(|k| f["lookup_key"] == k))
        .map(public)
        .collect();
    paginate(items, params, "/v1/entitlements/features")
}

pub fn attach(ctx: &mut Ctx, product_id: &str, params: &Value) -> ApiResult<Value> {
    let feature = param_required(params, "entitlement_feature")?;
    engine::attach(ctx, product_id, feature)
}

pub fn list_product_features(ctx: &mut Ctx, product_id: &str, params: &Value) -> ApiResult<Value> {
    ctx.find("product", product_id, "product")?;
    let items = engine::attached(ctx, product_id).iter().map(|pf| engine::render_product_feature(ctx, pf)).collect();
    paginate(items, params, &format!("/v1/products/{product_id}/features"))
}

pub fn retrieve_product_feature(ctx: &mut Ctx, product_id: &str, id: &str) -> ApiResult<Value> {
    let stored = engine::find_product_feature(ctx, product_id, id)?;
    Ok(engine::render_product_feature(ctx, &stored))
}

/// A customer's active entitlements (`customer` is required).
pub fn list_active(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_required(params, "customer")?;
    ctx.find("customer", customer, "customer")?;
    let mut items: Vec<Value> = engine::active_of(ctx, customer).iter().map(public).collect();
    // Lists answer newest first.
    items.reverse();
    paginate(items, params, "/v1/entitlements/active_entitlements")
}

pub fn retrieve_active(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    ctx.find(ACTIVE_ENTITLEMENT, id, "id").map(|v| public(&v))
}
