//! Coupons and promotion codes applied as discounts.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::Ctx;
use crate::util::{add_months, day_of_month, new_id};

/// A requested discount: a coupon id or a promotion code id (`promo_…`).
#[derive(Clone, Debug, Default)]
pub struct DiscountSpec {
    pub coupon: Option<String>,
    pub promotion_code: Option<String>,
}

/// Finds an active promotion code by its customer-facing code (case-insensitive). Its
/// restrictions are checked on redemption ([`check`]), so a code past them is still found and
/// refused with the reason.
pub fn find_code(ctx: &Ctx, code: &str) -> Option<Value> {
    ctx.all("promotion_code")
        .into_iter()
        .find(|promotion| {
            promotion["active"] == true
                && promotion["code"].as_str().is_some_and(|text| text.eq_ignore_ascii_case(code.trim()))
        })
        .cloned()
}

/// Whether a coupon can still be redeemed at `now`: not past `redeem_by`, not out of
/// redemptions (Stripe's `valid`).
pub fn coupon_valid(coupon: &Value, now: i64) -> bool {
    coupon["valid"] != false
        && coupon["redeem_by"].as_i64().is_none_or(|by| now <= by)
        && coupon["max_redemptions"].as_i64().is_none_or(|max| coupon["times_redeemed"].as_i64().unwrap_or(0) < max)
}

/// A coupon as Stripe shows it at `now`: `valid` false once past `redeem_by` or out of redemptions.
pub fn with_validity(mut coupon: Value, now: i64) -> Value {
    let valid = coupon_valid(&coupon, now);
    coupon["valid"] = json!(valid);
    coupon
}

/// Whether a coupon applies to a price (of `product`): every product without `applies_to`.
pub fn applies_to_product(coupon: &Value, product: Option<&str>) -> bool {
    match coupon["applies_to"]["products"].as_array() {
        Some(products) if !products.is_empty() => {
            product.is_some_and(|product| products.iter().any(|p| p.as_str() == Some(product)))
        }
        _ => true,
    }
}

/// Where a discount is being redeemed: by whom (when known yet), on how much before discounts
/// (the amount Stripe compares with a promotion code's minimum), and on which products (a
/// Checkout Session's; empty: not checked).
pub struct Redemption<'a> {
    pub customer: Option<&'a str>,
    pub amount: i64,
    pub currency: &'a str,
    pub products: Vec<String>,
}

/// A discount request checked as Stripe checks it on redemption: the coupon (and the promotion
/// code's own limits and restrictions). `param` names the request parameter in the errors.
/// Returns the coupon and the promotion code, if one was given.
pub fn check(
    ctx: &Ctx,
    spec: &DiscountSpec,
    redemption: &Redemption,
    param: &str,
) -> ApiResult<(Value, Option<Value>)> {
    let now = ctx.now_for_customer(redemption.customer);
    let (coupon_id, promotion) = match (&spec.coupon, &spec.promotion_code) {
        (Some(coupon), _) => (coupon.clone(), None),
        (None, Some(id)) => {
            let promotion = ctx.find("promotion_code", id, &format!("{param}[promotion_code]"))?;
            (promotion["promotion"]["coupon"].as_str().unwrap_or_default().to_string(), Some(promotion))
        }
        (None, None) => return Err(ApiError::missing(&format!("{param}[coupon]"))),
    };
    if let Some(promotion) = &promotion {
        check_promotion_code(ctx, promotion, redemption, now, &format!("{param}[promotion_code]"))?;
    }
    let coupon_param = format!("{param}[coupon]");
    let coupon = ctx.find("coupon", &coupon_id, &coupon_param)?;
    if !coupon_valid(&coupon, now) {
        return Err(
            ApiError::invalid_value(&coupon_param, format!("Coupon expired: {coupon_id}")).with_code("coupon_expired")
        );
    }
    if !redemption.products.is_empty()
        && !redemption.products.iter().any(|product| applies_to_product(&coupon, Some(product)))
    {
        return Err(ApiError::invalid_value(
            &coupon_param,
            format!("Coupon {coupon_id} does not apply to any of the items."),
        ));
    }
    Ok((coupon, promotion))
}

/// A promotion code's own limits (active, `expires_at`, `max_redemptions`, `customer`) and
/// restrictions (`first_time_transaction`, `minimum_amount`).
fn check_promotion_code(ctx: &Ctx, promotion: &Value, redemption: &Redemption, now: i64, param: &str) -> ApiResult<()> {
    let id = promotion["id"].as_str().unwrap_or_default();
    let refuse = |message: String| Err(ApiError::invalid_value(param, message));
    if promotion["active"] != true {
        return refuse(format!("Promotion code `{id}` is inactive."));
    }
    if promotion["expires_at"].as_i64().is_some_and(|expires| expires <= now) {
        return refuse(format!("Promotion code `{id}` has expired."));
    }
    if promotion["max_redemptions"].as_i64().is_some_and(|max| promotion["times_redeemed"].as_i64().unwrap_or(0) >= max)
    {
        return refuse(format!("Promotion code `{id}` has been redeemed the maximum number of times."));
    }
    if let Some(only_for) = promotion["customer"].as_str() {
        if redemption.customer.is_some_and(|customer| customer != only_for) {
            return refuse(format!("Promotion code `{id}` cannot be redeemed by this customer."));
        }
    }
    let restrictions = &promotion["restrictions"];
    if restrictions["first_time_transaction"] == true && redemption.customer.is_some_and(|c| has_paid(ctx, c)) {
        return refuse(format!(
            "Promotion code `{id}` can only be redeemed by customers without any successful payments or invoices."
        ));
    }
    if let Some(minimum) = restrictions["minimum_amount"].as_i64() {
        let currency = restrictions["minimum_amount_currency"].as_str().unwrap_or_default();
        if currency.eq_ignore_ascii_case(redemption.currency) && redemption.amount < minimum {
            return refuse(format!(
                "Promotion code `{id}` requires a minimum amount of {minimum} {}.",
                currency.to_uppercase()
            ));
        }
    }
    Ok(())
}

/// Whether the customer has a successful payment or a paid invoice (for more than nothing).
fn has_paid(ctx: &Ctx, customer: &str) -> bool {
    ctx.all("charge").iter().any(|charge| charge["customer"] == customer && charge["status"] == "succeeded")
        || ctx.all("invoice").iter().any(|invoice| {
            invoice["customer"] == customer && invoice["status"] == "paid" && invoice["amount_paid"].as_i64() > Some(0)
        })
}

/// Counts a redemption on the coupon and on the promotion code it came through.
pub fn count_redemption(ctx: &mut Ctx, coupon_id: &str, promotion_code: Option<&str>) {
    let now = ctx.now();
    if let Some(coupon) = ctx.get_mut("coupon", coupon_id) {
        coupon["times_redeemed"] = json!(coupon["times_redeemed"].as_i64().unwrap_or(0) + 1);
        // Out of redemptions: no longer valid, as Stripe shows it.
        if !coupon_valid(coupon, now) {
            coupon["valid"] = json!(false);
        }
    }
    if let Some(stored) = promotion_code.and_then(|id| ctx.get_mut("promotion_code", id)) {
        stored["times_redeemed"] = json!(stored["times_redeemed"].as_i64().unwrap_or(0) + 1);
    }
}

/// Creates a discount object (and counts the redemption), after [`check`].
pub fn create(
    ctx: &mut Ctx,
    spec: &DiscountSpec,
    redemption: &Redemption,
    subscription: Option<&str>,
    checkout_session: Option<&str>,
) -> ApiResult<Value> {
    let (coupon, promotion) = check(ctx, spec, redemption, "discounts[0]")?;
    let coupon_id = coupon["id"].as_str().unwrap_or_default().to_string();
    let customer = redemption.customer.unwrap_or_default();
    let now = ctx.now_for_customer(Some(customer));
    let end = match coupon["duration"].as_str() {
        Some("repeating") => {
            Some(add_months(now, coupon["duration_in_months"].as_i64().unwrap_or(1), day_of_month(now)))
        }
        _ => None,
    };
    let promotion_id = promotion.as_ref().and_then(|promotion| promotion["id"].as_str()).map(str::to_string);
    let discount = json!({
        "id": new_id("di"),
        "object": "discount",
        "checkout_session": checkout_session,
        "customer": customer,
        "customer_account": null,
        "end": end,
        "invoice": null,
        "invoice_item": null,
        "promotion_code": promotion_id,
        "source": {"coupon": coupon_id, "type": "coupon"},
        "start": now,
        "subscription": subscription,
        "subscription_item": null,
        "_sb_uses": 0,
        // Deleting the coupon later ends no discount made from it: the discount keeps its terms.
        "_sb_coupon": coupon,
    });
    ctx.put("discount", discount.clone());
    count_redemption(ctx, &coupon_id, promotion_id.as_deref());
    Ok(discount)
}

/// When the first of the subscription's discounts ends (a repeating coupon's `end`).
pub fn next_end(ctx: &Ctx, subscription: &Value) -> Option<i64> {
    subscription["discounts"]
        .as_array()?
        .iter()
        .filter_map(|id| ctx.get("discount", id.as_str()?))
        .filter_map(|discount| discount["end"].as_i64())
        .min()
}

/// Takes the discounts that have ended off the subscription, as Stripe does at their `end`:
/// `customer.discount.deleted` for each, then `customer.subscription.updated` (later invoices
/// are billed without them).
pub fn end_on_subscription(ctx: &mut Ctx, id: &str) -> ApiResult<()> {
    let old = ctx.find("subscription", id, "subscription")?;
    let now = ctx.now_for(&old);
    let ids = old["discounts"].as_array().cloned().unwrap_or_default();
    let mut kept = Vec::with_capacity(ids.len());
    for discount_id in ids {
        let discount = discount_id.as_str().and_then(|d| ctx.get("discount", d)).cloned();
        match discount {
            Some(discount) if discount["end"].as_i64().is_some_and(|end| end <= now) => {
                ctx.emit("customer.discount.deleted", &discount, None);
            }
            _ => kept.push(discount_id),
        }
    }
    let mut subscription = old.clone();
    subscription["discounts"] = Value::Array(kept);
    if subscription != old {
        ctx.save_updated("subscription", "customer.subscription.updated", &old, subscription);
    }
    Ok(())
}

/// What a coupon takes off `amount`.
pub fn amount_off(coupon: &Value, amount: i64) -> i64 {
    let off = match (coupon["percent_off"].as_f64(), coupon["amount_off"].as_i64()) {
        (Some(percent), _) => ((amount as f64) * percent / 100.0).round() as i64,
        (None, Some(fixed)) => fixed,
        _ => 0,
    };
    off.clamp(0, amount.max(0))
}

/// Applies a discount to an invoice if it is still in force; counts the use. `amount` says what
/// the coupon may discount (the lines of the products it applies to).
pub fn take(ctx: &mut Ctx, discount_id: &str, amount: impl Fn(&Value) -> i64) -> Option<i64> {
    let discount = ctx.get("discount", discount_id)?.clone();
    let coupon = ctx
        .get("coupon", discount["source"]["coupon"].as_str()?)
        .cloned()
        .or_else(|| discount.get("_sb_coupon").cloned())?;
    let amount = amount(&coupon);
    let customer = discount["customer"].as_str().map(str::to_string);
    let now = ctx.now_for_customer(customer.as_deref());
    let uses = discount["_sb_uses"].as_i64().unwrap_or(0);
    let in_force = match coupon["duration"].as_str() {
        Some("once") => uses == 0,
        Some("repeating") => discount["end"].as_i64().is_none_or(|e| now < e),
        _ => true,
    };
    if !in_force || amount <= 0 {
        return None;
    }
    if let Some(stored) = ctx.get_mut("discount", discount_id) {
        stored["_sb_uses"] = json!(uses + 1);
    }
    Some(amount_off(&coupon, amount))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupon_amounts() {
        assert_eq!(amount_off(&json!({"percent_off": 25.0}), 2000), 500);
        assert_eq!(amount_off(&json!({"percent_off": 33.3}), 1000), 333);
        assert_eq!(amount_off(&json!({"amount_off": 500}), 300), 300);
        assert_eq!(amount_off(&json!({"amount_off": 500}), 2000), 500);
    }

    #[test]
    fn a_coupon_is_valid_until_redeem_by_and_while_redemptions_are_left() {
        let coupon = json!({"valid": true, "redeem_by": 100, "max_redemptions": 2, "times_redeemed": 1});
        assert!(coupon_valid(&coupon, 100));
        assert!(!coupon_valid(&coupon, 101), "past redeem_by");
        assert!(!coupon_valid(&json!({"valid": true, "max_redemptions": 2, "times_redeemed": 2}), 0));
        assert_eq!(with_validity(coupon, 101)["valid"], false);
        let pro_only = json!({"applies_to": {"products": ["prod_pro"]}});
        assert!(applies_to_product(&pro_only, Some("prod_pro")) && !applies_to_product(&pro_only, Some("prod_x")));
        assert!(applies_to_product(&json!({"applies_to": null}), None));
    }
}
