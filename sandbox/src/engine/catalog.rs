//! The catalog: products, prices, coupons and promotion codes created and changed, with their
//! events; and the plain metadata/name updates and deletions several kinds share.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{apply_metadata, public, Ctx};
use crate::util::{new_id, random_str};

/// A product to create (`POST /v1/products`, or `product_data` of a new price).
pub struct NewProduct {
    /// A custom id; a new `prod_…` without one.
    pub id: Option<String>,
    pub name: String,
    pub active: bool,
    pub description: Option<String>,
    pub images: Vec<String>,
    pub marketing_features: Vec<Value>,
    pub metadata: Value,
    pub statement_descriptor: Option<String>,
    pub tax_code: Option<String>,
    pub unit_label: Option<String>,
    pub url: Option<String>,
}

/// Creates a product; emits `product.created`.
pub fn create_product(ctx: &mut Ctx, new_product: NewProduct) -> ApiResult<Value> {
    let id = new_product.id.unwrap_or_else(|| new_id("prod"));
    if ctx.get("product", &id).is_some() {
        return Err(ApiError::invalid_value("id", "Product already exists.").with_code("resource_already_exists"));
    }
    let now = ctx.now();
    let product = json!({
        "id": id,
        "object": "product",
        "active": new_product.active,
        "created": now,
        "default_price": null,
        "description": new_product.description,
        "images": new_product.images,
        "livemode": false,
        "marketing_features": new_product.marketing_features.iter().map(|feature| json!({"name": feature["name"]})).collect::<Vec<_>>(),
        "metadata": new_product.metadata,
        "name": new_product.name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": new_product.statement_descriptor,
        "tax_code": new_product.tax_code,
        "type": "service",
        "unit_label": new_product.unit_label,
        "updated": now,
        "url": new_product.url,
    });
    ctx.put("product", product.clone());
    ctx.emit("product.created", &product, None);
    Ok(public(&product))
}

/// Makes a price the product's `default_price` (a product created with `default_price_data`;
/// no event of its own).
pub fn set_default_price(ctx: &mut Ctx, product_id: &str, price_id: &Value) -> ApiResult<Value> {
    let mut product = ctx.find("product", product_id, "id")?;
    product["default_price"] = price_id.clone();
    ctx.put("product", product.clone());
    Ok(public(&product))
}

/// A requested product change; `None` leaves a field alone.
#[derive(Default)]
pub struct ProductUpdate {
    /// `name`, `description`, `statement_descriptor`, `unit_label`, `url`, `tax_code`, in
    /// that order (`null` clears).
    pub fields: Vec<(&'static str, Value)>,
    pub active: Option<bool>,
    /// An empty string clears the default price.
    pub default_price: Option<String>,
    pub images: Option<Vec<String>>,
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
}

/// Changes a product; emits `product.updated` when anything changed.
pub fn update_product(ctx: &mut Ctx, id: &str, change: ProductUpdate) -> ApiResult<Value> {
    let old = ctx.find("product", id, "id")?;
    let mut product = old.clone();
    for (key, value) in change.fields {
        product[key] = value;
    }
    if let Some(active) = change.active {
        product["active"] = json!(active);
    }
    if let Some(default_price) = change.default_price.as_deref() {
        if !default_price.is_empty() {
            ctx.find("price", default_price, "default_price")?;
        }
        product["default_price"] = if default_price.is_empty() { Value::Null } else { json!(default_price) };
    }
    if let Some(images) = change.images {
        product["images"] = json!(images);
    }
    if let Some(metadata) = &change.metadata {
        product["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    if product != old {
        product["updated"] = json!(ctx.now());
    }
    Ok(ctx.save_updated("product", "product.updated", &old, product))
}

/// Deletes a product without prices; emits `product.deleted`.
pub fn delete_product(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let product = ctx.find("product", id, "id")?;
    if ctx.all("price").iter().any(|price| price["product"] == id) {
        return Err(ApiError::invalid(
            "This product cannot be deleted because it has one or more user-created prices.",
        )
        .with_code("product_has_prices"));
    }
    ctx.remove("product", id);
    ctx.emit("product.deleted", &product, None);
    Ok(json!({"id": id, "object": "product", "deleted": true}))
}

/// A price's `recurring` settings.
pub struct Recurring {
    pub interval: String,
    pub interval_count: i64,
    pub meter: Option<String>,
    pub trial_period_days: Option<i64>,
    pub usage_type: String,
}

/// A price to create.
pub struct NewPrice {
    pub currency: String,
    pub product: String,
    /// Whole minor units; `None` for tiered prices and fractional decimals.
    pub unit_amount: Option<i64>,
    /// The exact per-unit amount; `None` for tiered prices.
    pub unit_amount_decimal: Option<String>,
    pub recurring: Option<Recurring>,
    pub lookup_key: Option<String>,
    /// Move the lookup key from the price holding it (`transfer_lookup_key`).
    pub transfer_lookup_key: bool,
    pub active: bool,
    pub metadata: Value,
    pub nickname: Option<String>,
    pub tax_behavior: String,
    /// `billing_scheme=tiered` when not empty, priced by `tiers_mode`.
    pub tiers: Vec<Value>,
    pub tiers_mode: Option<String>,
    /// `{divide_by, round}`: per-unit usage billed in packages.
    pub transform_quantity: Option<Value>,
}

/// Moves a lookup key away from any other price (`transfer_lookup_key`), or fails if taken.
fn claim_lookup_key(ctx: &mut Ctx, key: &str, transfer: bool, except: Option<&str>) -> ApiResult<()> {
    let holder = ctx
        .all("price")
        .into_iter()
        .find(|price| price["lookup_key"] == key && except.is_none_or(|e| price["id"] != e))
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

/// A metered price needs a meter to count its usage (Stripe has no other usage source since
/// usage records were retired); a licensed one cannot have one.
fn check_usage_type(ctx: &Ctx, recurring: &Recurring) -> ApiResult<()> {
    match (recurring.usage_type.as_str(), &recurring.meter) {
        ("metered", Some(meter)) => {
            ctx.find(super::meters::METER, meter, "recurring[meter]")?;
            Ok(())
        }
        ("metered", None) => Err(ApiError::missing("recurring[meter]")),
        ("licensed", Some(_)) => Err(ApiError::invalid_value(
            "recurring[meter]",
            "A meter can only be set on a price with `recurring[usage_type]=metered`.",
        )),
        ("licensed", None) => Ok(()),
        _ => Err(ApiError::invalid_value(
            "recurring[usage_type]",
            "Invalid recurring[usage_type]: must be one of licensed or metered",
        )),
    }
}

/// Creates a price; emits `price.created`.
pub fn create_price(ctx: &mut Ctx, new_price: NewPrice) -> ApiResult<Value> {
    if let Some(key) = new_price.lookup_key.as_deref() {
        claim_lookup_key(ctx, key, new_price.transfer_lookup_key, None)?;
    }
    let recurring = match &new_price.recurring {
        Some(recurring) => json!({
            "interval": recurring.interval,
            "interval_count": recurring.interval_count,
            "meter": recurring.meter,
            "trial_period_days": recurring.trial_period_days,
            "usage_type": recurring.usage_type,
        }),
        None => Value::Null,
    };
    if let Some(recurring) = &new_price.recurring {
        check_usage_type(ctx, recurring)?;
    }
    let tiered = !new_price.tiers.is_empty();
    let now = ctx.now();
    let mut price = json!({
        "id": new_id("price"),
        "object": "price",
        "active": new_price.active,
        "billing_scheme": if tiered { "tiered" } else { "per_unit" },
        "created": now,
        "currency": new_price.currency,
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": new_price.lookup_key,
        "metadata": new_price.metadata,
        "nickname": new_price.nickname,
        "product": new_price.product,
        "recurring": recurring,
        "tax_behavior": new_price.tax_behavior,
        "tiers_mode": new_price.tiers_mode,
        "transform_quantity": new_price.transform_quantity,
        "type": if recurring.is_null() { "one_time" } else { "recurring" },
        "unit_amount": new_price.unit_amount,
        "unit_amount_decimal": new_price.unit_amount_decimal,
    });
    // Includable: stored for tiered prices, shown only with `expand[]=tiers`.
    if tiered {
        price["tiers"] = json!(new_price.tiers);
    }
    ctx.put("price", price.clone());
    ctx.emit("price.created", &price, None);
    Ok(public(&price))
}

/// A requested price change; `None` leaves a field alone.
pub struct PriceUpdate {
    pub active: Option<bool>,
    /// `null` clears.
    pub nickname: Option<Value>,
    pub tax_behavior: Option<String>,
    /// An empty string clears the lookup key.
    pub lookup_key: Option<String>,
    /// `transfer_lookup_key`; an invalid value fails only when the key has to move.
    pub transfer_lookup_key: ApiResult<bool>,
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
}

/// Changes a price; emits `price.updated` when anything changed.
pub fn update_price(ctx: &mut Ctx, id: &str, change: PriceUpdate) -> ApiResult<Value> {
    let old = ctx.find("price", id, "price")?;
    let mut price = old.clone();
    if let Some(active) = change.active {
        price["active"] = json!(active);
    }
    if let Some(nickname) = change.nickname {
        price["nickname"] = nickname;
    }
    if let Some(tax_behavior) = change.tax_behavior {
        price["tax_behavior"] = json!(tax_behavior);
    }
    if let Some(key) = change.lookup_key.as_deref() {
        if key.is_empty() {
            price["lookup_key"] = Value::Null;
        } else if old["lookup_key"] != key {
            claim_lookup_key(ctx, key, change.transfer_lookup_key?, Some(id))?;
            price["lookup_key"] = json!(key);
        }
    }
    if let Some(metadata) = &change.metadata {
        price["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    Ok(ctx.save_updated("price", "price.updated", &old, price))
}

/// A coupon to create.
pub struct NewCoupon {
    /// A custom id; a random one without.
    pub id: Option<String>,
    pub amount_off: Option<i64>,
    pub percent_off: Option<f64>,
    pub currency: Option<String>,
    pub duration: String,
    pub duration_in_months: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub metadata: Value,
    pub name: Option<String>,
    pub redeem_by: Option<i64>,
    /// `applies_to[products]`: the only products it discounts (`None`: every product).
    pub applies_to: Option<Vec<String>>,
}

/// Creates a coupon; emits `coupon.created`.
pub fn create_coupon(ctx: &mut Ctx, new_coupon: NewCoupon) -> ApiResult<Value> {
    let id = new_coupon.id.unwrap_or_else(|| random_str(8));
    if ctx.get("coupon", &id).is_some() {
        return Err(ApiError::invalid_value("id", "Coupon already exists.").with_code("resource_already_exists"));
    }
    let coupon = json!({
        "id": id,
        "object": "coupon",
        "amount_off": new_coupon.amount_off,
        "applies_to": new_coupon.applies_to.map(|products| json!({"products": products})),
        "created": ctx.now(),
        "currency": new_coupon.currency,
        "duration": new_coupon.duration,
        "duration_in_months": new_coupon.duration_in_months,
        "livemode": false,
        "max_redemptions": new_coupon.max_redemptions,
        "metadata": new_coupon.metadata,
        "name": new_coupon.name,
        "percent_off": new_coupon.percent_off,
        "redeem_by": new_coupon.redeem_by,
        "times_redeemed": 0,
        "valid": true,
    });
    ctx.put("coupon", coupon.clone());
    ctx.emit("coupon.created", &coupon, None);
    Ok(public(&coupon))
}

/// A promotion code to create.
pub struct NewPromotionCode {
    pub coupon: String,
    /// The customer-facing code; a random one without.
    pub code: Option<String>,
    pub active: bool,
    pub customer: Option<String>,
    pub expires_at: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub metadata: Value,
    /// `restrictions[first_time_transaction]`: only customers without a successful payment or invoice.
    pub first_time_transaction: bool,
    /// `restrictions[minimum_amount]` in `minimum_amount_currency`: the smallest order it applies to.
    pub minimum_amount: Option<i64>,
    pub minimum_amount_currency: Option<String>,
}

/// Creates a promotion code for a coupon; emits `promotion_code.created`.
pub fn create_promotion_code(ctx: &mut Ctx, new_code: NewPromotionCode) -> ApiResult<Value> {
    ctx.find("coupon", &new_code.coupon, "promotion[coupon]")?;
    let code = new_code.code.unwrap_or_else(|| random_str(8).to_uppercase());
    // Unique among active codes regardless of case (customers type them in any case).
    let taken = |existing: &&Value| {
        existing["active"] == true && existing["code"].as_str().is_some_and(|own| own.eq_ignore_ascii_case(&code))
    };
    if ctx.all("promotion_code").iter().any(taken) {
        return Err(ApiError::invalid_value("code", "An active promotion code with `code` already exists."));
    }
    let promotion_code = json!({
        "id": new_id("promo"),
        "object": "promotion_code",
        "active": new_code.active,
        "code": code,
        "created": ctx.now(),
        "customer": new_code.customer,
        "customer_account": null,
        "expires_at": new_code.expires_at,
        "livemode": false,
        "max_redemptions": new_code.max_redemptions,
        "metadata": new_code.metadata,
        "promotion": {"coupon": new_code.coupon, "type": "coupon"},
        "restrictions": {
            "currency_options": {},
            "first_time_transaction": new_code.first_time_transaction,
            "minimum_amount": new_code.minimum_amount,
            "minimum_amount_currency": new_code.minimum_amount_currency,
        },
        "times_redeemed": 0,
    });
    ctx.put("promotion_code", promotion_code.clone());
    ctx.emit("promotion_code.created", &promotion_code, None);
    Ok(public(&promotion_code))
}

/// A change to an object's `metadata`, `name`, `description` or `active` (coupons, promotion
/// codes, invoice items, charges, refunds); `None` leaves a field alone.
#[derive(Default)]
pub struct SimpleUpdate {
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
    /// An empty string clears.
    pub name: Option<String>,
    /// An empty string clears.
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// Applies a [`SimpleUpdate`] to the fields the object has; emits `{kind}.updated` when
/// anything changed.
pub fn update_simple(ctx: &mut Ctx, kind: &str, id: &str, change: SimpleUpdate) -> ApiResult<Value> {
    let old = ctx.find(kind, id, "id")?;
    let mut new = old.clone();
    if let Some(metadata) = &change.metadata {
        new["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    for (key, value) in [("name", &change.name), ("description", &change.description)] {
        if let Some(value) = value {
            if old.get(key).is_some() {
                new[key] = if value.is_empty() { Value::Null } else { json!(value) };
            }
        }
    }
    if let Some(active) = change.active {
        if old.get("active").is_some() {
            new["active"] = json!(active);
        }
    }
    let event = format!("{kind}.updated");
    Ok(ctx.save_updated(kind, &event, &old, new))
}

/// Deletes an object; emits `{kind}.deleted`.
pub fn delete_simple(ctx: &mut Ctx, kind: &str, id: &str) -> ApiResult<Value> {
    let old = ctx.find(kind, id, "id")?;
    ctx.remove(kind, id);
    ctx.emit(&format!("{kind}.deleted"), &old, None);
    Ok(json!({"id": id, "object": kind, "deleted": true}))
}
