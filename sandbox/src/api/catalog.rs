//! Products, prices, coupons, promotion codes, and generic helpers for simple objects.

use serde_json::{json, Value};

use super::customers::search_kind;
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, merge_metadata, new_metadata, paginate, param_bool, param_i64, param_nonempty, param_str,
    param_strings, public, Ctx,
};
use crate::util::{new_id, random_str};

pub fn create_product(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let name = param_nonempty(params, "name").ok_or_else(|| ApiError::missing("name"))?;
    let id = param_nonempty(params, "id").map(str::to_string).unwrap_or_else(|| new_id("prod"));
    if ctx.get("product", &id).is_some() {
        return Err(ApiError::invalid_value("id", "Product already exists.").with_code("resource_already_exists"));
    }
    let now = ctx.now();
    let mut prod = json!({
        "id": id,
        "object": "product",
        "active": param_bool(params, "active")?.unwrap_or(true),
        "created": now,
        "default_price": null,
        "description": param_nonempty(params, "description"),
        "images": crate::store::param_strings(params, "images"),
        "livemode": false,
        "marketing_features": params.get("marketing_features").and_then(Value::as_array).cloned().unwrap_or_default().iter().map(|f| json!({"name": f["name"]})).collect::<Vec<_>>(),
        "metadata": new_metadata(params)?,
        "name": name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": param_nonempty(params, "statement_descriptor"),
        "tax_code": param_nonempty(params, "tax_code"),
        "type": "service",
        "unit_label": param_nonempty(params, "unit_label"),
        "updated": now,
        "url": param_nonempty(params, "url"),
    });
    ctx.put("product", prod.clone());
    ctx.emit("product.created", &prod, None);
    if let Some(dp) = params.get("default_price_data") {
        let mut pp = dp.clone();
        pp["product"] = json!(id);
        let price = create_price(ctx, &pp)?;
        prod["default_price"] = price["id"].clone();
        ctx.put("product", prod.clone());
    }
    Ok(public(&prod))
}

pub fn update_product(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("product", id, "id")?;
    let mut prod = old.clone();
    for k in ["name", "description", "statement_descriptor", "unit_label", "url", "tax_code"] {
        if let Some(v) = params.get(k) {
            prod[k] = if v == "" { Value::Null } else { v.clone() };
        }
    }
    if let Some(a) = param_bool(params, "active")? {
        prod["active"] = json!(a);
    }
    if let Some(dp) = param_str(params, "default_price") {
        if !dp.is_empty() {
            ctx.find("price", dp, "default_price")?;
        }
        prod["default_price"] = if dp.is_empty() { Value::Null } else { json!(dp) };
    }
    if params.get("images").is_some() {
        prod["images"] = json!(param_strings(params, "images"));
    }
    if params.get("metadata").is_some() {
        prod["metadata"] = merge_metadata(&old["metadata"], params)?;
    }
    if prod != old {
        prod["updated"] = json!(ctx.now());
    }
    Ok(ctx.save_updated("product", "product.updated", &old, prod))
}

pub fn delete_product(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let prod = ctx.find("product", id, "id")?;
    if ctx.all("price").iter().any(|pr| pr["product"] == id) {
        return Err(ApiError::invalid(
            "This product cannot be deleted because it has one or more user-created prices.",
        )
        .with_code("product_has_prices"));
    }
    ctx.remove("product", id);
    ctx.emit("product.deleted", &prod, None);
    Ok(json!({"id": id, "object": "product", "deleted": true}))
}

pub fn list_products(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let active = param_bool(params, "active")?;
    let ids = param_strings(params, "ids");
    let mut items = Vec::new();
    for pr in ctx.all("product") {
        if active.is_some_and(|a| pr["active"] != a) || (!ids.is_empty() && !ids.iter().any(|i| pr["id"] == i.as_str()))
        {
            continue;
        }
        if !created_matches(params, "created", pr["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(pr));
    }
    paginate(items, params, "/v1/products")
}

pub fn search_products(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    search_kind(ctx, "product", params, "/v1/products/search")
}

pub fn search_prices(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    search_kind(ctx, "price", params, "/v1/prices/search")
}

/// Moves a lookup key away from any other price (`transfer_lookup_key`), or fails if taken.
fn claim_lookup_key(ctx: &mut Ctx, key: &str, transfer: bool, except: Option<&str>) -> ApiResult<()> {
    let holder = ctx
        .all("price")
        .into_iter()
        .find(|pr| pr["lookup_key"] == key && except.is_none_or(|e| pr["id"] != e))
        .cloned();
    if let Some(old) = holder {
        if !transfer {
            return Err(ApiError::invalid_value(
                "lookup_key",
                format!("A price (`{}`) already uses that lookup key.", old["id"].as_str().unwrap_or_default()),
            ));
        }
        let mut new = old.clone();
        new["lookup_key"] = Value::Null;
        ctx.save_updated("price", "price.updated", &old, new);
    }
    Ok(())
}

pub fn create_price(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let currency = param_nonempty(params, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
    let product = match (param_nonempty(params, "product"), params.get("product_data")) {
        (Some(pid), _) => {
            ctx.find("product", pid, "product")?;
            pid.to_string()
        }
        (None, Some(pd)) => create_product(ctx, pd)?["id"].as_str().unwrap_or_default().to_string(),
        (None, None) => return Err(ApiError::missing("product")),
    };
    let unit_amount = match (param_i64(params, "unit_amount")?, param_nonempty(params, "unit_amount_decimal")) {
        (Some(a), _) => a,
        (None, Some(d)) => d
            .parse::<f64>()
            .map(|f| f.round() as i64)
            .map_err(|_| ApiError::invalid_value("unit_amount_decimal", "Invalid decimal"))?,
        (None, None) => {
            if params.get("custom_unit_amount").is_none() {
                return Err(ApiError::missing("unit_amount"));
            }
            0
        }
    };
    if unit_amount < 0 {
        return Err(ApiError::invalid_value("unit_amount", "This value must be greater than or equal to 0."));
    }
    let recurring = match params.get("recurring") {
        Some(r) => {
            let interval = param_nonempty(r, "interval").ok_or_else(|| ApiError::missing("recurring[interval]"))?;
            if !matches!(interval, "day" | "week" | "month" | "year") {
                return Err(ApiError::invalid_value(
                    "recurring[interval]",
                    "Invalid recurring[interval]: must be one of day, week, month, or year",
                ));
            }
            json!({
                "interval": interval,
                "interval_count": param_i64(r, "interval_count")?.unwrap_or(1),
                "meter": param_nonempty(r, "meter"),
                "trial_period_days": param_i64(r, "trial_period_days")?,
                "usage_type": param_nonempty(r, "usage_type").unwrap_or("licensed"),
            })
        }
        None => Value::Null,
    };
    let lookup_key = param_nonempty(params, "lookup_key");
    if let Some(k) = lookup_key {
        claim_lookup_key(ctx, k, param_bool(params, "transfer_lookup_key")?.unwrap_or(false), None)?;
    }
    let now = ctx.now();
    let price = json!({
        "id": new_id("price"),
        "object": "price",
        "active": param_bool(params, "active")?.unwrap_or(true),
        "billing_scheme": param_nonempty(params, "billing_scheme").unwrap_or("per_unit"),
        "created": now,
        "currency": currency,
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": lookup_key,
        "metadata": new_metadata(params)?,
        "nickname": param_nonempty(params, "nickname"),
        "product": product,
        "recurring": recurring,
        "tax_behavior": param_nonempty(params, "tax_behavior").unwrap_or("unspecified"),
        "tiers_mode": null,
        "transform_quantity": null,
        "type": if recurring.is_null() { "one_time" } else { "recurring" },
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount.to_string(),
    });
    ctx.put("price", price.clone());
    ctx.emit("price.created", &price, None);
    Ok(public(&price))
}

pub fn update_price(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("price", id, "price")?;
    let mut price = old.clone();
    if let Some(a) = param_bool(params, "active")? {
        price["active"] = json!(a);
    }
    if let Some(n) = params.get("nickname") {
        price["nickname"] = if n == "" { Value::Null } else { n.clone() };
    }
    if let Some(t) = param_nonempty(params, "tax_behavior") {
        price["tax_behavior"] = json!(t);
    }
    if let Some(k) = param_str(params, "lookup_key") {
        if k.is_empty() {
            price["lookup_key"] = Value::Null;
        } else if old["lookup_key"] != k {
            claim_lookup_key(ctx, k, param_bool(params, "transfer_lookup_key")?.unwrap_or(false), Some(id))?;
            price["lookup_key"] = json!(k);
        }
    }
    if params.get("metadata").is_some() {
        price["metadata"] = merge_metadata(&old["metadata"], params)?;
    }
    Ok(ctx.save_updated("price", "price.updated", &old, price))
}

pub fn list_prices(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let active = param_bool(params, "active")?;
    let currency = param_str(params, "currency");
    let product = param_str(params, "product");
    let typ = param_str(params, "type");
    let keys = param_strings(params, "lookup_keys");
    let interval = params.get("recurring").and_then(|r| param_str(r, "interval"));
    let mut items = Vec::new();
    for pr in ctx.all("price") {
        if active.is_some_and(|a| pr["active"] != a)
            || currency.is_some_and(|c| pr["currency"] != c)
            || product.is_some_and(|x| pr["product"] != x)
            || typ.is_some_and(|t| pr["type"] != t)
            || (!keys.is_empty() && !keys.iter().any(|k| pr["lookup_key"] == k.as_str()))
            || interval.is_some_and(|i| pr["recurring"]["interval"] != i)
        {
            continue;
        }
        if !created_matches(params, "created", pr["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(pr));
    }
    paginate(items, params, "/v1/prices")
}

// ---------------------------------------------------------------------------------------------
// Coupons and promotion codes

pub fn create_coupon(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let id = param_nonempty(params, "id").map(str::to_string).unwrap_or_else(|| random_str(8));
    if ctx.get("coupon", &id).is_some() {
        return Err(ApiError::invalid_value("id", "Coupon already exists.").with_code("resource_already_exists"));
    }
    let percent = params.get("percent_off").and_then(Value::as_str).and_then(|s| s.parse::<f64>().ok());
    let amount_off = param_i64(params, "amount_off")?;
    if percent.is_none() && amount_off.is_none() {
        return Err(ApiError::invalid("Must provide either `percent_off` or `amount_off`."));
    }
    if amount_off.is_some() && param_nonempty(params, "currency").is_none() {
        return Err(ApiError::missing("currency"));
    }
    let duration = param_nonempty(params, "duration").unwrap_or("once");
    let c = json!({
        "id": id,
        "object": "coupon",
        "amount_off": amount_off,
        "created": ctx.now(),
        "currency": param_nonempty(params, "currency").map(str::to_lowercase),
        "duration": duration,
        "duration_in_months": param_i64(params, "duration_in_months")?,
        "livemode": false,
        "max_redemptions": param_i64(params, "max_redemptions")?,
        "metadata": new_metadata(params)?,
        "name": param_nonempty(params, "name"),
        "percent_off": percent,
        "redeem_by": param_i64(params, "redeem_by")?,
        "times_redeemed": 0,
        "valid": true,
    });
    ctx.put("coupon", c.clone());
    ctx.emit("coupon.created", &c, None);
    Ok(public(&c))
}

pub fn create_promotion_code(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let coupon = params
        .get("promotion")
        .and_then(|pr| param_nonempty(pr, "coupon"))
        .or_else(|| param_nonempty(params, "coupon"))
        .ok_or_else(|| ApiError::missing("promotion[coupon]"))?;
    ctx.find("coupon", coupon, "promotion[coupon]")?;
    let code = param_nonempty(params, "code").map(str::to_string).unwrap_or_else(|| random_str(8).to_uppercase());
    if ctx.all("promotion_code").iter().any(|pc| pc["code"] == code.as_str() && pc["active"] == true) {
        return Err(ApiError::invalid_value("code", "An active promotion code with `code` already exists."));
    }
    let pc = json!({
        "id": new_id("promo"),
        "object": "promotion_code",
        "active": param_bool(params, "active")?.unwrap_or(true),
        "code": code,
        "created": ctx.now(),
        "customer": param_nonempty(params, "customer"),
        "customer_account": null,
        "expires_at": param_i64(params, "expires_at")?,
        "livemode": false,
        "max_redemptions": param_i64(params, "max_redemptions")?,
        "metadata": new_metadata(params)?,
        "promotion": {"coupon": coupon, "type": "coupon"},
        "restrictions": {"currency_options": {}, "first_time_transaction": false, "minimum_amount": null, "minimum_amount_currency": null},
        "times_redeemed": 0,
    });
    ctx.put("promotion_code", pc.clone());
    ctx.emit("promotion_code.created", &pc, None);
    Ok(public(&pc))
}

pub fn list_promotion_codes(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let code = param_str(params, "code");
    let active = param_bool(params, "active")?;
    let coupon = param_str(params, "coupon");
    let items: Vec<Value> = ctx
        .all("promotion_code")
        .into_iter()
        .filter(|pc| {
            code.is_none_or(|c| pc["code"] == c)
                && active.is_none_or(|a| pc["active"] == a)
                && coupon.is_none_or(|c| pc["promotion"]["coupon"] == c)
        })
        .map(public)
        .collect();
    paginate(items, params, "/v1/promotion_codes")
}

// ---------------------------------------------------------------------------------------------
// Generic helpers

pub fn list_simple(ctx: &mut Ctx, kind: &str, params: &Value, url: &str) -> ApiResult<Value> {
    let mut items = Vec::new();
    for o in ctx.all(kind) {
        if o["deleted"] == true {
            continue;
        }
        if !created_matches(params, "created", o["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(o));
    }
    paginate(items, params, url)
}

/// Updates `metadata` (and a few common scalar fields) of an object.
pub fn update_simple(ctx: &mut Ctx, kind: &str, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find(kind, id, "id")?;
    let mut new = old.clone();
    if params.get("metadata").is_some() {
        new["metadata"] = merge_metadata(&old["metadata"], params)?;
    }
    for k in ["name", "description"] {
        if let Some(v) = param_str(params, k) {
            if old.get(k).is_some() {
                new[k] = if v.is_empty() { Value::Null } else { json!(v) };
            }
        }
    }
    if let Some(a) = param_bool(params, "active")? {
        if old.get("active").is_some() {
            new["active"] = json!(a);
        }
    }
    let event = format!("{kind}.updated");
    Ok(ctx.save_updated(kind, &event, &old, new))
}

pub fn delete_simple(ctx: &mut Ctx, kind: &str, id: &str) -> ApiResult<Value> {
    let old = ctx.find(kind, id, "id")?;
    ctx.remove(kind, id);
    ctx.emit(&format!("{kind}.deleted"), &old, None);
    Ok(json!({"id": id, "object": kind, "deleted": true}))
}

/// `POST /v1/plans` (legacy, used by the Stripe CLI fixtures): a recurring price, shown as a plan.
pub fn create_plan(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let mut pp = json!({
        "currency": param_nonempty(params, "currency").ok_or_else(|| ApiError::missing("currency"))?,
        "unit_amount": params.get("amount").cloned().ok_or_else(|| ApiError::missing("amount"))?,
        "recurring": {
            "interval": param_nonempty(params, "interval").ok_or_else(|| ApiError::missing("interval"))?,
            "interval_count": params.get("interval_count").cloned().unwrap_or(json!("1")),
        },
    });
    match params.get("product") {
        Some(Value::String(id)) => pp["product"] = json!(id),
        Some(obj @ Value::Object(_)) => pp["product_data"] = obj.clone(),
        _ => return Err(ApiError::missing("product")),
    }
    for k in ["nickname", "metadata"] {
        if let Some(v) = params.get(k) {
            pp[k] = v.clone();
        }
    }
    let price = create_price(ctx, &pp)?;
    Ok(crate::objects::plan_from_price(&price))
}

pub fn get_plan(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let price = ctx.find("price", id, "plan")?;
    if price["type"] != "recurring" {
        return Err(ApiError::not_found("plan", id, "plan"));
    }
    Ok(crate::objects::plan_from_price(&price))
}
