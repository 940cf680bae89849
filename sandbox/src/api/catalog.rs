//! Products, prices, plans, coupons, promotion codes, and the generic list/update/delete of
//! simple objects: parameters read here, changes made by `engine::catalog`.

use serde_json::{json, Value};

use super::customers::search_kind;
use crate::engine::catalog::{
    self, NewCoupon, NewPrice, NewProduct, NewPromotionCode, PriceUpdate, ProductUpdate, Recurring, SimpleUpdate,
};
use crate::engine::{discounts, pricing};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, new_metadata, paginate, param_bool, param_clearable, param_i64, param_nonempty, param_str,
    param_strings, public, Ctx,
};

pub fn create_product(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let product = catalog::create_product(ctx, new_product(params)?)?;
    let Some(price_data) = params.get("default_price_data") else { return Ok(product) };
    let mut price_params = price_data.clone();
    price_params["product"] = product["id"].clone();
    let price = create_price(ctx, &price_params)?;
    catalog::set_default_price(ctx, product["id"].as_str().unwrap_or_default(), &price["id"])
}

fn new_product(params: &Value) -> ApiResult<NewProduct> {
    let name = param_nonempty(params, "name").ok_or_else(|| ApiError::missing("name"))?;
    Ok(NewProduct {
        id: param_nonempty(params, "id").map(str::to_string),
        name: name.to_string(),
        active: param_bool(params, "active")?.unwrap_or(true),
        description: param_nonempty(params, "description").map(str::to_string),
        images: param_strings(params, "images"),
        marketing_features: params.get("marketing_features").and_then(Value::as_array).cloned().unwrap_or_default(),
        metadata: new_metadata(params)?,
        statement_descriptor: param_nonempty(params, "statement_descriptor").map(str::to_string),
        tax_code: param_nonempty(params, "tax_code").map(str::to_string),
        unit_label: param_nonempty(params, "unit_label").map(str::to_string),
        url: param_nonempty(params, "url").map(str::to_string),
    })
}

pub fn update_product(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let fields = ["name", "description", "statement_descriptor", "unit_label", "url", "tax_code"]
        .into_iter()
        .filter_map(|key| param_clearable(params, key).map(|value| (key, value)))
        .collect();
    let change = ProductUpdate {
        fields,
        active: param_bool(params, "active")?,
        default_price: param_str(params, "default_price").map(str::to_string),
        images: params.get("images").map(|_| param_strings(params, "images")),
        metadata: params.get("metadata").cloned(),
    };
    catalog::update_product(ctx, id, change)
}

pub fn delete_product(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    catalog::delete_product(ctx, id)
}

pub fn list_products(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let active = param_bool(params, "active")?;
    let ids = param_strings(params, "ids");
    let mut items = Vec::new();
    for product in ctx.all("product") {
        if active.is_some_and(|a| product["active"] != a)
            || (!ids.is_empty() && !ids.iter().any(|i| product["id"] == i.as_str()))
        {
            continue;
        }
        if !created_matches(params, "created", product["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(product));
    }
    paginate(items, params, "/v1/products")
}

pub fn search_products(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    search_kind(ctx, "product", params, "/v1/products/search")
}

pub fn search_prices(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    search_kind(ctx, "price", params, "/v1/prices/search")
}

pub fn create_price(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let currency = param_nonempty(params, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
    let product = match (param_nonempty(params, "product"), params.get("product_data")) {
        (Some(product_id), _) => {
            ctx.find("product", product_id, "product")?;
            product_id.to_string()
        }
        (None, Some(product_data)) => create_product(ctx, product_data)?["id"].as_str().unwrap_or_default().to_string(),
        (None, None) => return Err(ApiError::missing("product")),
    };
    let billing_scheme = param_nonempty(params, "billing_scheme").unwrap_or("per_unit");
    if !matches!(billing_scheme, "per_unit" | "tiered") {
        return Err(ApiError::invalid_value(
            "billing_scheme",
            "Invalid billing_scheme: must be one of per_unit or tiered",
        ));
    }
    if billing_scheme == "tiered" {
        return create_tiered_price(ctx, params, currency, product);
    }
    // A fractional `unit_amount_decimal` is kept exact; `unit_amount` is set only when whole.
    let (unit_amount, unit_amount_decimal) =
        match (param_i64(params, "unit_amount")?, param_nonempty(params, "unit_amount_decimal")) {
            (Some(amount), _) => (Some(amount), amount.to_string()),
            (None, Some(decimal)) => {
                let scaled = pricing::parse_decimal(decimal)
                    .ok_or_else(|| ApiError::invalid_value("unit_amount_decimal", "Invalid decimal"))?;
                match pricing::whole_units(scaled) {
                    Some(amount) => (Some(amount), amount.to_string()),
                    None => (None, decimal.to_string()),
                }
            }
            (None, None) => {
                if params.get("custom_unit_amount").is_none() {
                    return Err(ApiError::missing("unit_amount"));
                }
                (Some(0), "0".to_string())
            }
        };
    if unit_amount_decimal.starts_with('-') {
        return Err(ApiError::invalid_value("unit_amount", "This value must be greater than or equal to 0."));
    }
    let new_price = NewPrice {
        unit_amount,
        unit_amount_decimal: Some(unit_amount_decimal),
        transform_quantity: transform_quantity(params)?,
        ..price_basics(params, currency, product)?
    };
    catalog::create_price(ctx, new_price)
}

/// `billing_scheme=tiered`: `tiers[]` priced `graduated` or `volume`, no unit amount, no
/// `transform_quantity` (Stripe does not combine them).
fn create_tiered_price(ctx: &mut Ctx, params: &Value, currency: String, product: String) -> ApiResult<Value> {
    for refused in ["unit_amount", "unit_amount_decimal", "transform_quantity"] {
        if params.get(refused).is_some() {
            return Err(ApiError::invalid_value(
                refused,
                format!("You may not specify `{refused}` when `billing_scheme` is `tiered`."),
            ));
        }
    }
    let tiers_mode = param_nonempty(params, "tiers_mode").ok_or_else(|| ApiError::missing("tiers_mode"))?;
    if !matches!(tiers_mode, "graduated" | "volume") {
        return Err(ApiError::invalid_value("tiers_mode", "Invalid tiers_mode: must be one of graduated or volume"));
    }
    let new_price = NewPrice {
        tiers: tiers(params)?,
        tiers_mode: Some(tiers_mode.to_string()),
        ..price_basics(params, currency, product)?
    };
    catalog::create_price(ctx, new_price)
}

/// `tiers[]`, as Stripe stores them: ascending `up_to`, the last one `inf`, each with a unit or
/// a flat amount.
fn tiers(params: &Value) -> ApiResult<Vec<Value>> {
    let given = params.get("tiers").and_then(Value::as_array).filter(|t| !t.is_empty());
    let given = given.ok_or_else(|| ApiError::missing("tiers"))?;
    let mut tiers = Vec::new();
    let mut previous = 0;
    for (i, tier) in given.iter().enumerate() {
        let last = i + 1 == given.len();
        let up_to = match param_nonempty(tier, "up_to") {
            Some("inf") if last => None,
            Some("inf") => {
                return Err(ApiError::invalid_value(
                    &format!("tiers[{i}][up_to]"),
                    "Only the last tier may have `up_to` set to `inf`.",
                ))
            }
            Some(_) => {
                let up_to =
                    param_i64(tier, "up_to").map_err(|e| e.with_param(&format!("tiers[{i}][up_to]")))?.unwrap_or(0);
                if last || up_to <= previous {
                    return Err(ApiError::invalid_value(
                        &format!("tiers[{i}][up_to]"),
                        "Tiers must be in ascending order of `up_to`, and the last tier must have `up_to` set to `inf`.",
                    ));
                }
                previous = up_to;
                Some(up_to)
            }
            None => return Err(ApiError::missing(&format!("tiers[{i}][up_to]"))),
        };
        let unit = decimal_amount(tier, "unit_amount", &format!("tiers[{i}]"))?;
        let flat = decimal_amount(tier, "flat_amount", &format!("tiers[{i}]"))?;
        if unit.is_none() && flat.is_none() {
            return Err(ApiError::invalid_value(
                &format!("tiers[{i}]"),
                "Each tier must have a `unit_amount` or a `flat_amount`.",
            ));
        }
        let integer = |decimal: &Option<String>| decimal.as_deref().and_then(|d| d.parse::<i64>().ok());
        tiers.push(json!({
            "flat_amount": integer(&flat),
            "flat_amount_decimal": flat,
            "unit_amount": integer(&unit),
            "unit_amount_decimal": unit,
            "up_to": up_to,
        }));
    }
    Ok(tiers)
}

/// A tier's `{field}` or `{field}_decimal`, as a decimal string of minor units.
fn decimal_amount(tier: &Value, field: &str, at: &str) -> ApiResult<Option<String>> {
    let decimal_field = format!("{field}_decimal");
    if let Some(amount) = param_i64(tier, field).map_err(|e| e.with_param(&format!("{at}[{field}]")))? {
        return Ok(Some(amount.to_string()));
    }
    match param_nonempty(tier, &decimal_field) {
        Some(decimal) if pricing::parse_decimal(decimal).is_some_and(|d| d >= 0) => Ok(Some(decimal.to_string())),
        Some(decimal) => {
            Err(ApiError::invalid_value(&format!("{at}[{decimal_field}]"), format!("Invalid decimal: {decimal}")))
        }
        None => Ok(None),
    }
}

/// `transform_quantity[divide_by|round]`: usage billed in packages.
fn transform_quantity(params: &Value) -> ApiResult<Option<Value>> {
    let Some(transform) = params.get("transform_quantity") else { return Ok(None) };
    let divide_by =
        param_i64(transform, "divide_by")?.ok_or_else(|| ApiError::missing("transform_quantity[divide_by]"))?;
    if divide_by < 1 {
        return Err(ApiError::invalid_value(
            "transform_quantity[divide_by]",
            "This value must be greater than or equal to 1.",
        ));
    }
    let round = param_nonempty(transform, "round").ok_or_else(|| ApiError::missing("transform_quantity[round]"))?;
    if !matches!(round, "up" | "down") {
        return Err(ApiError::invalid_value(
            "transform_quantity[round]",
            "Invalid transform_quantity[round]: must be one of up or down",
        ));
    }
    Ok(Some(json!({"divide_by": divide_by, "round": round})))
}

/// What every price shares: recurring settings, lookup key, metadata and the like.
fn price_basics(params: &Value, currency: String, product: String) -> ApiResult<NewPrice> {
    let recurring = match params.get("recurring") {
        Some(recurring) => {
            let interval =
                param_nonempty(recurring, "interval").ok_or_else(|| ApiError::missing("recurring[interval]"))?;
            if !matches!(interval, "day" | "week" | "month" | "year") {
                return Err(ApiError::invalid_value(
                    "recurring[interval]",
                    "Invalid recurring[interval]: must be one of day, week, month, or year",
                ));
            }
            Some(Recurring {
                interval: interval.to_string(),
                interval_count: param_i64(recurring, "interval_count")?.unwrap_or(1),
                meter: param_nonempty(recurring, "meter").map(str::to_string),
                trial_period_days: param_i64(recurring, "trial_period_days")?,
                usage_type: param_nonempty(recurring, "usage_type").unwrap_or("licensed").to_string(),
            })
        }
        None => None,
    };
    let lookup_key = param_nonempty(params, "lookup_key").map(str::to_string);
    let transfer_lookup_key = match lookup_key {
        Some(_) => param_bool(params, "transfer_lookup_key")?.unwrap_or(false),
        None => false,
    };
    Ok(NewPrice {
        currency,
        product,
        unit_amount: None,
        unit_amount_decimal: None,
        recurring,
        lookup_key,
        transfer_lookup_key,
        active: param_bool(params, "active")?.unwrap_or(true),
        metadata: new_metadata(params)?,
        nickname: param_nonempty(params, "nickname").map(str::to_string),
        tax_behavior: param_nonempty(params, "tax_behavior").unwrap_or("unspecified").to_string(),
        tiers: Vec::new(),
        tiers_mode: None,
        transform_quantity: None,
    })
}

pub fn update_price(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let change = PriceUpdate {
        active: param_bool(params, "active")?,
        nickname: param_clearable(params, "nickname"),
        tax_behavior: param_nonempty(params, "tax_behavior").map(str::to_string),
        lookup_key: param_str(params, "lookup_key").map(str::to_string),
        transfer_lookup_key: param_bool(params, "transfer_lookup_key").map(|transfer| transfer.unwrap_or(false)),
        metadata: params.get("metadata").cloned(),
    };
    catalog::update_price(ctx, id, change)
}

pub fn list_prices(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let active = param_bool(params, "active")?;
    let currency = param_str(params, "currency");
    let product = param_str(params, "product");
    let kind = param_str(params, "type");
    let keys = param_strings(params, "lookup_keys");
    let interval = params.get("recurring").and_then(|r| param_str(r, "interval"));
    let mut items = Vec::new();
    for price in ctx.all("price") {
        if active.is_some_and(|a| price["active"] != a)
            || currency.is_some_and(|c| price["currency"] != c)
            || product.is_some_and(|x| price["product"] != x)
            || kind.is_some_and(|t| price["type"] != t)
            || (!keys.is_empty() && !keys.iter().any(|k| price["lookup_key"] == k.as_str()))
            || interval.is_some_and(|i| price["recurring"]["interval"] != i)
        {
            continue;
        }
        if !created_matches(params, "created", price["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(price));
    }
    paginate(items, params, "/v1/prices")
}

// ---------------------------------------------------------------------------------------------
// Coupons and promotion codes

pub fn create_coupon(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let percent_off = match param_nonempty(params, "percent_off") {
        None => None,
        Some(text) => match text.parse::<f64>() {
            Ok(percent) if percent > 0.0 && percent <= 100.0 => Some(percent),
            _ => {
                return Err(ApiError::invalid_value(
                    "percent_off",
                    "Invalid percent_off: must be a positive number larger than 0 and at most 100.",
                ))
            }
        },
    };
    let amount_off = param_i64(params, "amount_off")?;
    match (percent_off, amount_off) {
        (None, None) => return Err(ApiError::invalid("Must provide either `percent_off` or `amount_off`.")),
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid("You may only specify one of these parameters: amount_off, percent_off."))
        }
        (None, Some(amount)) if amount <= 0 => {
            return Err(ApiError::invalid_value("amount_off", "Invalid amount_off: must be a positive integer."))
        }
        _ => {}
    }
    if amount_off.is_some() && param_nonempty(params, "currency").is_none() {
        return Err(ApiError::missing("currency"));
    }
    let duration = param_nonempty(params, "duration").unwrap_or("once").to_string();
    if !["once", "repeating", "forever"].contains(&duration.as_str()) {
        return Err(ApiError::invalid_value(
            "duration",
            format!("Invalid duration: must be one of once, repeating, or forever (got {duration})."),
        ));
    }
    let duration_in_months = positive(params, "duration_in_months")?;
    if duration == "repeating" && duration_in_months.is_none() {
        return Err(ApiError::missing("duration_in_months"));
    }
    let max_redemptions = positive(params, "max_redemptions")?;
    let redeem_by = param_i64(params, "redeem_by")?;
    if redeem_by.is_some_and(|by| by <= ctx.now()) {
        return Err(ApiError::invalid_value("redeem_by", "Invalid redeem_by: must be in the future."));
    }
    let products = params.get("applies_to").map(|to| param_strings(to, "products")).unwrap_or_default();
    for product in &products {
        ctx.find("product", product, "applies_to[products]")?;
    }
    let new_coupon = NewCoupon {
        id: param_nonempty(params, "id").map(str::to_string),
        amount_off,
        percent_off,
        currency: param_nonempty(params, "currency").map(str::to_lowercase),
        duration: duration.clone(),
        duration_in_months: if duration == "repeating" { duration_in_months } else { None },
        max_redemptions,
        metadata: new_metadata(params)?,
        name: param_nonempty(params, "name").map(str::to_string),
        redeem_by,
        applies_to: (!products.is_empty()).then_some(products),
    };
    catalog::create_coupon(ctx, new_coupon)
}

/// An optional whole number that must be above zero.
fn positive(params: &Value, key: &str) -> ApiResult<Option<i64>> {
    let value = param_i64(params, key)?;
    if value.is_some_and(|n| n <= 0) {
        return Err(ApiError::invalid_value(key, format!("Invalid {key}: must be positive.")));
    }
    Ok(value)
}

/// `GET /v1/coupons/{id}`: `valid` as of now.
pub fn get_coupon(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let coupon = ctx.find("coupon", id, "coupon")?;
    Ok(public(&discounts::with_validity(coupon, ctx.now())))
}

/// `GET /v1/coupons`: newest first, `valid` as of now.
pub fn list_coupons(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let now = ctx.now();
    let mut items = Vec::new();
    for coupon in ctx.all("coupon") {
        if !created_matches(params, "created", coupon["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(&discounts::with_validity(coupon.clone(), now)));
    }
    paginate(items, params, "/v1/coupons")
}

pub fn create_promotion_code(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let coupon = params
        .get("promotion")
        .and_then(|promotion| param_nonempty(promotion, "coupon"))
        .or_else(|| param_nonempty(params, "coupon"))
        .ok_or_else(|| ApiError::missing("promotion[coupon]"))?;
    if let Some(kind) = params.get("promotion").and_then(|promotion| param_nonempty(promotion, "type")) {
        if kind != "coupon" {
            return Err(ApiError::invalid_value("promotion[type]", format!("Invalid promotion[type]: {kind}")));
        }
    }
    let max_redemptions = positive(params, "max_redemptions")?;
    let expires_at = param_i64(params, "expires_at")?;
    if expires_at.is_some_and(|at| at <= ctx.now()) {
        return Err(ApiError::invalid_value("expires_at", "Invalid expires_at: must be in the future."));
    }
    if let Some(customer) = param_nonempty(params, "customer") {
        ctx.find("customer", customer, "customer")?;
    }
    let restrictions = params.get("restrictions").cloned().unwrap_or(json!({}));
    let minimum_amount = param_i64(&restrictions, "minimum_amount")?;
    let minimum_amount_currency = param_nonempty(&restrictions, "minimum_amount_currency").map(str::to_lowercase);
    if minimum_amount.is_some() != minimum_amount_currency.is_some() {
        return Err(ApiError::invalid(
            "restrictions[minimum_amount] and restrictions[minimum_amount_currency] must be provided together.",
        ));
    }
    let new_code = NewPromotionCode {
        coupon: coupon.to_string(),
        code: param_nonempty(params, "code").map(str::to_string),
        active: param_bool(params, "active")?.unwrap_or(true),
        customer: param_nonempty(params, "customer").map(str::to_string),
        expires_at,
        max_redemptions,
        metadata: new_metadata(params)?,
        first_time_transaction: param_bool(&restrictions, "first_time_transaction")?.unwrap_or(false),
        minimum_amount,
        minimum_amount_currency,
    };
    catalog::create_promotion_code(ctx, new_code)
}

pub fn list_promotion_codes(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let code = param_str(params, "code");
    let active = param_bool(params, "active")?;
    let coupon = param_str(params, "coupon");
    let customer = param_str(params, "customer");
    let items: Vec<Value> = ctx
        .all("promotion_code")
        .into_iter()
        .filter(|promotion_code| {
            // Codes are matched regardless of case, as customers type them.
            code.is_none_or(|c| promotion_code["code"].as_str().is_some_and(|own| own.eq_ignore_ascii_case(c)))
                && active.is_none_or(|a| promotion_code["active"] == a)
                && coupon.is_none_or(|c| promotion_code["promotion"]["coupon"] == c)
                && customer.is_none_or(|c| promotion_code["customer"] == c)
        })
        .map(public)
        .collect();
    paginate(items, params, "/v1/promotion_codes")
}

// ---------------------------------------------------------------------------------------------
// Generic helpers

pub fn list_simple(ctx: &mut Ctx, kind: &str, params: &Value, url: &str) -> ApiResult<Value> {
    let mut items = Vec::new();
    for object in ctx.all(kind) {
        if object["deleted"] == true {
            continue;
        }
        if !created_matches(params, "created", object["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(object));
    }
    paginate(items, params, url)
}

/// Updates `metadata` (and `name`, `description`, `active` where the object has them).
pub fn update_simple(ctx: &mut Ctx, kind: &str, id: &str, params: &Value) -> ApiResult<Value> {
    let change = SimpleUpdate {
        metadata: params.get("metadata").cloned(),
        name: param_str(params, "name").map(str::to_string),
        description: param_str(params, "description").map(str::to_string),
        active: param_bool(params, "active")?,
    };
    catalog::update_simple(ctx, kind, id, change)
}

pub fn delete_simple(ctx: &mut Ctx, kind: &str, id: &str) -> ApiResult<Value> {
    catalog::delete_simple(ctx, kind, id)
}

/// `POST /v1/plans` (legacy, used by the Stripe CLI fixtures): a recurring price, shown as a plan.
pub fn create_plan(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let mut price_params = json!({
        "currency": param_nonempty(params, "currency").ok_or_else(|| ApiError::missing("currency"))?,
        "unit_amount": params.get("amount").cloned().ok_or_else(|| ApiError::missing("amount"))?,
        "recurring": {
            "interval": param_nonempty(params, "interval").ok_or_else(|| ApiError::missing("interval"))?,
            "interval_count": params.get("interval_count").cloned().unwrap_or(json!("1")),
        },
    });
    match params.get("product") {
        Some(Value::String(id)) => price_params["product"] = json!(id),
        Some(obj @ Value::Object(_)) => price_params["product_data"] = obj.clone(),
        _ => return Err(ApiError::missing("product")),
    }
    for key in ["nickname", "metadata"] {
        if let Some(value) = params.get(key) {
            price_params[key] = value.clone();
        }
    }
    let price = create_price(ctx, &price_params)?;
    Ok(crate::objects::plan_from_price(&price))
}

pub fn get_plan(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let price = ctx.find("price", id, "plan")?;
    if price["type"] != "recurring" {
        return Err(ApiError::not_found("plan", id, "plan"));
    }
    Ok(crate::objects::plan_from_price(&price))
}
