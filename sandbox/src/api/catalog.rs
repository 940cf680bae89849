//! Products, prices, coupons, promotion codes, and generic helpers for simple objects.

use serde_json::{json, Value};

use super::customers::search_kind;
use super::save_updated;
use crate::error::{ApiError, ApiResult};
use crate::state::{
    created_matches, merge_metadata, new_metadata, p_bool, p_i64, p_nonempty, p_str, p_strings, paginate, public, Ctx,
};
use crate::util::{new_id, random_str};

pub fn create_product(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let name = p_nonempty(p, "name").ok_or_else(|| ApiError::missing("name"))?;
    let id = p_nonempty(p, "id").map(str::to_string).unwrap_or_else(|| new_id("prod"));
    if cx.get("product", &id).is_some() {
        return Err(ApiError::invalid_value("id", "Product already exists.").with_code("resource_already_exists"));
    }
    let now = cx.now();
    let mut prod = json!({
        "id": id,
        "object": "product",
        "active": p_bool(p, "active")?.unwrap_or(true),
        "created": now,
        "default_price": null,
        "description": p_nonempty(p, "description"),
        "images": crate::state::p_strings(p, "images"),
        "livemode": false,
        "marketing_features": p.get("marketing_features").and_then(Value::as_array).cloned().unwrap_or_default().iter().map(|f| json!({"name": f["name"]})).collect::<Vec<_>>(),
        "metadata": new_metadata(p)?,
        "name": name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": p_nonempty(p, "statement_descriptor"),
        "tax_code": p_nonempty(p, "tax_code"),
        "type": "service",
        "unit_label": p_nonempty(p, "unit_label"),
        "updated": now,
        "url": p_nonempty(p, "url"),
    });
    cx.put("product", prod.clone());
    cx.emit("product.created", &prod, None);
    if let Some(dp) = p.get("default_price_data") {
        let mut pp = dp.clone();
        pp["product"] = json!(id);
        let price = create_price(cx, &pp)?;
        prod["default_price"] = price["id"].clone();
        cx.put("product", prod.clone());
    }
    Ok(public(&prod))
}

pub fn update_product(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("product", id, "id")?;
    let mut prod = old.clone();
    for k in ["name", "description", "statement_descriptor", "unit_label", "url", "tax_code"] {
        if let Some(v) = p.get(k) {
            prod[k] = if v == "" { Value::Null } else { v.clone() };
        }
    }
    if let Some(a) = p_bool(p, "active")? {
        prod["active"] = json!(a);
    }
    if let Some(dp) = p_str(p, "default_price") {
        if !dp.is_empty() {
            cx.find("price", dp, "default_price")?;
        }
        prod["default_price"] = if dp.is_empty() { Value::Null } else { json!(dp) };
    }
    if p.get("images").is_some() {
        prod["images"] = json!(p_strings(p, "images"));
    }
    if p.get("metadata").is_some() {
        prod["metadata"] = merge_metadata(&old["metadata"], p)?;
    }
    if prod != old {
        prod["updated"] = json!(cx.now());
    }
    Ok(save_updated(cx, "product", "product.updated", &old, prod))
}

pub fn delete_product(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let prod = cx.find("product", id, "id")?;
    if cx.all("price").iter().any(|pr| pr["product"] == id) {
        return Err(ApiError::invalid(
            "This product cannot be deleted because it has one or more user-created prices.",
        )
        .with_code("product_has_prices"));
    }
    cx.remove("product", id);
    cx.emit("product.deleted", &prod, None);
    Ok(json!({"id": id, "object": "product", "deleted": true}))
}

pub fn list_products(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let active = p_bool(p, "active")?;
    let ids = p_strings(p, "ids");
    let mut items = Vec::new();
    for pr in cx.all("product") {
        if active.is_some_and(|a| pr["active"] != a) || (!ids.is_empty() && !ids.iter().any(|i| pr["id"] == i.as_str()))
        {
            continue;
        }
        if !created_matches(p, "created", pr["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(pr));
    }
    paginate(items, p, "/v1/products")
}

pub fn search_products(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    search_kind(cx, "product", p, "/v1/products/search")
}

pub fn search_prices(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    search_kind(cx, "price", p, "/v1/prices/search")
}

/// Moves a lookup key away from any other price (`transfer_lookup_key`), or fails if taken.
fn claim_lookup_key(cx: &mut Ctx, key: &str, transfer: bool, except: Option<&str>) -> ApiResult<()> {
    let holder =
        cx.all("price").into_iter().find(|pr| pr["lookup_key"] == key && except.is_none_or(|e| pr["id"] != e)).cloned();
    if let Some(old) = holder {
        if !transfer {
            return Err(ApiError::invalid_value(
                "lookup_key",
                format!("A price (`{}`) already uses that lookup key.", old["id"].as_str().unwrap_or_default()),
            ));
        }
        let mut new = old.clone();
        new["lookup_key"] = Value::Null;
        save_updated(cx, "price", "price.updated", &old, new);
    }
    Ok(())
}

pub fn create_price(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let currency = p_nonempty(p, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
    let product = match (p_nonempty(p, "product"), p.get("product_data")) {
        (Some(pid), _) => {
            cx.find("product", pid, "product")?;
            pid.to_string()
        }
        (None, Some(pd)) => create_product(cx, pd)?["id"].as_str().unwrap_or_default().to_string(),
        (None, None) => return Err(ApiError::missing("product")),
    };
    let unit_amount = match (p_i64(p, "unit_amount")?, p_nonempty(p, "unit_amount_decimal")) {
        (Some(a), _) => a,
        (None, Some(d)) => d
            .parse::<f64>()
            .map(|f| f.round() as i64)
            .map_err(|_| ApiError::invalid_value("unit_amount_decimal", "Invalid decimal"))?,
        (None, None) => {
            if p.get("custom_unit_amount").is_none() {
                return Err(ApiError::missing("unit_amount"));
            }
            0
        }
    };
    if unit_amount < 0 {
        return Err(ApiError::invalid_value("unit_amount", "This value must be greater than or equal to 0."));
    }
    let recurring = match p.get("recurring") {
        Some(r) => {
            let interval = p_nonempty(r, "interval").ok_or_else(|| ApiError::missing("recurring[interval]"))?;
            if !matches!(interval, "day" | "week" | "month" | "year") {
                return Err(ApiError::invalid_value(
                    "recurring[interval]",
                    "Invalid recurring[interval]: must be one of day, week, month, or year",
                ));
            }
            json!({
                "interval": interval,
                "interval_count": p_i64(r, "interval_count")?.unwrap_or(1),
                "meter": p_nonempty(r, "meter"),
                "trial_period_days": p_i64(r, "trial_period_days")?,
                "usage_type": p_nonempty(r, "usage_type").unwrap_or("licensed"),
            })
        }
        None => Value::Null,
    };
    let lookup_key = p_nonempty(p, "lookup_key");
    if let Some(k) = lookup_key {
        claim_lookup_key(cx, k, p_bool(p, "transfer_lookup_key")?.unwrap_or(false), None)?;
    }
    let now = cx.now();
    let price = json!({
        "id": new_id("price"),
        "object": "price",
        "active": p_bool(p, "active")?.unwrap_or(true),
        "billing_scheme": p_nonempty(p, "billing_scheme").unwrap_or("per_unit"),
        "created": now,
        "currency": currency,
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": lookup_key,
        "metadata": new_metadata(p)?,
        "nickname": p_nonempty(p, "nickname"),
        "product": product,
        "recurring": recurring,
        "tax_behavior": p_nonempty(p, "tax_behavior").unwrap_or("unspecified"),
        "tiers_mode": null,
        "transform_quantity": null,
        "type": if recurring.is_null() { "one_time" } else { "recurring" },
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount.to_string(),
    });
    cx.put("price", price.clone());
    cx.emit("price.created", &price, None);
    Ok(public(&price))
}

pub fn update_price(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("price", id, "price")?;
    let mut price = old.clone();
    if let Some(a) = p_bool(p, "active")? {
        price["active"] = json!(a);
    }
    if let Some(n) = p.get("nickname") {
        price["nickname"] = if n == "" { Value::Null } else { n.clone() };
    }
    if let Some(t) = p_nonempty(p, "tax_behavior") {
        price["tax_behavior"] = json!(t);
    }
    if let Some(k) = p_str(p, "lookup_key") {
        if k.is_empty() {
            price["lookup_key"] = Value::Null;
        } else if old["lookup_key"] != k {
            claim_lookup_key(cx, k, p_bool(p, "transfer_lookup_key")?.unwrap_or(false), Some(id))?;
            price["lookup_key"] = json!(k);
        }
    }
    if p.get("metadata").is_some() {
        price["metadata"] = merge_metadata(&old["metadata"], p)?;
    }
    Ok(save_updated(cx, "price", "price.updated", &old, price))
}

pub fn list_prices(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let active = p_bool(p, "active")?;
    let currency = p_str(p, "currency");
    let product = p_str(p, "product");
    let typ = p_str(p, "type");
    let keys = p_strings(p, "lookup_keys");
    let interval = p.get("recurring").and_then(|r| p_str(r, "interval"));
    let mut items = Vec::new();
    for pr in cx.all("price") {
        if active.is_some_and(|a| pr["active"] != a)
            || currency.is_some_and(|c| pr["currency"] != c)
            || product.is_some_and(|x| pr["product"] != x)
            || typ.is_some_and(|t| pr["type"] != t)
            || (!keys.is_empty() && !keys.iter().any(|k| pr["lookup_key"] == k.as_str()))
            || interval.is_some_and(|i| pr["recurring"]["interval"] != i)
        {
            continue;
        }
        if !created_matches(p, "created", pr["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(pr));
    }
    paginate(items, p, "/v1/prices")
}

// ---------------------------------------------------------------------------------------------
// Coupons and promotion codes

pub fn create_coupon(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let id = p_nonempty(p, "id").map(str::to_string).unwrap_or_else(|| random_str(8));
    if cx.get("coupon", &id).is_some() {
        return Err(ApiError::invalid_value("id", "Coupon already exists.").with_code("resource_already_exists"));
    }
    let percent = p.get("percent_off").and_then(Value::as_str).and_then(|s| s.parse::<f64>().ok());
    let amount_off = p_i64(p, "amount_off")?;
    if percent.is_none() && amount_off.is_none() {
        return Err(ApiError::invalid("Must provide either `percent_off` or `amount_off`."));
    }
    if amount_off.is_some() && p_nonempty(p, "currency").is_none() {
        return Err(ApiError::missing("currency"));
    }
    let duration = p_nonempty(p, "duration").unwrap_or("once");
    let c = json!({
        "id": id,
        "object": "coupon",
        "amount_off": amount_off,
        "created": cx.now(),
        "currency": p_nonempty(p, "currency").map(str::to_lowercase),
        "duration": duration,
        "duration_in_months": p_i64(p, "duration_in_months")?,
        "livemode": false,
        "max_redemptions": p_i64(p, "max_redemptions")?,
        "metadata": new_metadata(p)?,
        "name": p_nonempty(p, "name"),
        "percent_off": percent,
        "redeem_by": p_i64(p, "redeem_by")?,
        "times_redeemed": 0,
        "valid": true,
    });
    cx.put("coupon", c.clone());
    cx.emit("coupon.created", &c, None);
    Ok(public(&c))
}

pub fn create_promotion_code(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let coupon = p
        .get("promotion")
        .and_then(|pr| p_nonempty(pr, "coupon"))
        .or_else(|| p_nonempty(p, "coupon"))
        .ok_or_else(|| ApiError::missing("promotion[coupon]"))?;
    cx.find("coupon", coupon, "promotion[coupon]")?;
    let code = p_nonempty(p, "code").map(str::to_string).unwrap_or_else(|| random_str(8).to_uppercase());
    if cx.all("promotion_code").iter().any(|pc| pc["code"] == code.as_str() && pc["active"] == true) {
        return Err(ApiError::invalid_value("code", "An active promotion code with `code` already exists."));
    }
    let pc = json!({
        "id": new_id("promo"),
        "object": "promotion_code",
        "active": p_bool(p, "active")?.unwrap_or(true),
        "code": code,
        "created": cx.now(),
        "customer": p_nonempty(p, "customer"),
        "customer_account": null,
        "expires_at": p_i64(p, "expires_at")?,
        "livemode": false,
        "max_redemptions": p_i64(p, "max_redemptions")?,
        "metadata": new_metadata(p)?,
        "promotion": {"coupon": coupon, "type": "coupon"},
        "restrictions": {"currency_options": {}, "first_time_transaction": false, "minimum_amount": null, "minimum_amount_currency": null},
        "times_redeemed": 0,
    });
    cx.put("promotion_code", pc.clone());
    cx.emit("promotion_code.created", &pc, None);
    Ok(public(&pc))
}

pub fn list_promotion_codes(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let code = p_str(p, "code");
    let active = p_bool(p, "active")?;
    let coupon = p_str(p, "coupon");
    let items: Vec<Value> = cx
        .all("promotion_code")
        .into_iter()
        .filter(|pc| {
            code.is_none_or(|c| pc["code"] == c)
                && active.is_none_or(|a| pc["active"] == a)
                && coupon.is_none_or(|c| pc["promotion"]["coupon"] == c)
        })
        .map(public)
        .collect();
    paginate(items, p, "/v1/promotion_codes")
}

// ---------------------------------------------------------------------------------------------
// Generic helpers

pub fn list_simple(cx: &mut Ctx, kind: &str, p: &Value, url: &str) -> ApiResult<Value> {
    let mut items = Vec::new();
    for o in cx.all(kind) {
        if o["deleted"] == true {
            continue;
        }
        if !created_matches(p, "created", o["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(o));
    }
    paginate(items, p, url)
}

/// Updates `metadata` (and a few common scalar fields) of an object.
pub fn update_simple(cx: &mut Ctx, kind: &str, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find(kind, id, "id")?;
    let mut new = old.clone();
    if p.get("metadata").is_some() {
        new["metadata"] = merge_metadata(&old["metadata"], p)?;
    }
    for k in ["name", "description"] {
        if let Some(v) = p_str(p, k) {
            if old.get(k).is_some() {
                new[k] = if v.is_empty() { Value::Null } else { json!(v) };
            }
        }
    }
    if let Some(a) = p_bool(p, "active")? {
        if old.get("active").is_some() {
            new["active"] = json!(a);
        }
    }
    let event = format!("{kind}.updated");
    Ok(save_updated(cx, kind, &event, &old, new))
}

pub fn delete_simple(cx: &mut Ctx, kind: &str, id: &str) -> ApiResult<Value> {
    let old = cx.find(kind, id, "id")?;
    cx.remove(kind, id);
    cx.emit(&format!("{kind}.deleted"), &old, None);
    Ok(json!({"id": id, "object": kind, "deleted": true}))
}

/// `POST /v1/plans` (legacy, used by the Stripe CLI fixtures): a recurring price, shown as a plan.
pub fn create_plan(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let mut pp = json!({
        "currency": p_nonempty(p, "currency").ok_or_else(|| ApiError::missing("currency"))?,
        "unit_amount": p.get("amount").cloned().ok_or_else(|| ApiError::missing("amount"))?,
        "recurring": {
            "interval": p_nonempty(p, "interval").ok_or_else(|| ApiError::missing("interval"))?,
            "interval_count": p.get("interval_count").cloned().unwrap_or(json!("1")),
        },
    });
    match p.get("product") {
        Some(Value::String(id)) => pp["product"] = json!(id),
        Some(obj @ Value::Object(_)) => pp["product_data"] = obj.clone(),
        _ => return Err(ApiError::missing("product")),
    }
    for k in ["nickname", "metadata"] {
        if let Some(v) = p.get(k) {
            pp[k] = v.clone();
        }
    }
    let price = create_price(cx, &pp)?;
    Ok(crate::objects::plan_from_price(&price))
}

pub fn get_plan(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let price = cx.find("price", id, "plan")?;
    if price["type"] != "recurring" {
        return Err(ApiError::not_found("plan", id, "plan"));
    }
    Ok(crate::objects::plan_from_price(&price))
}
