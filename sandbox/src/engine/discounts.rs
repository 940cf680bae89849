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

/// Finds an active promotion code by its customer-facing code (case-insensitive).
pub fn find_code(ctx: &Ctx, code: &str) -> Option<Value> {
    let now = ctx.now();
    ctx.all("promotion_code")
        .into_iter()
        .find(|promotion| {
            promotion["active"] == true
                && promotion["code"].as_str().is_some_and(|text| text.eq_ignore_ascii_case(code.trim()))
                && promotion["expires_at"].as_i64().is_none_or(|expires| expires > now)
        })
        .cloned()
}

/// Creates a discount object (and counts the redemption).
pub fn create(
    ctx: &mut Ctx,
    spec: &DiscountSpec,
    customer: &str,
    subscription: Option<&str>,
    checkout_session: Option<&str>,
) -> ApiResult<Value> {
    let (coupon_id, promotion) = match (&spec.coupon, &spec.promotion_code) {
        (Some(coupon), _) => (coupon.clone(), None),
        (None, Some(promotion_code_id)) => {
            let promotion = ctx.find("promotion_code", promotion_code_id, "discounts[0][promotion_code]")?;
            if promotion["active"] != true {
                return Err(ApiError::invalid_value(
                    "discounts[0][promotion_code]",
                    format!("Promotion code `{promotion_code_id}` is inactive."),
                ));
            }
            (promotion["promotion"]["coupon"].as_str().unwrap_or_default().to_string(), Some(promotion))
        }
        (None, None) => return Err(ApiError::missing("discounts[0][coupon]")),
    };
    let coupon = ctx.find("coupon", &coupon_id, "discounts[0][coupon]")?;
    if coupon["valid"] != true
        || coupon["max_redemptions"].as_i64().is_some_and(|m| coupon["times_redeemed"].as_i64().unwrap_or(0) >= m)
    {
        return Err(ApiError::invalid_value("discounts[0][coupon]", format!("Coupon expired: {coupon_id}")));
    }
    let now = ctx.now_for_customer(Some(customer));
    let end = match coupon["duration"].as_str() {
        Some("repeating") => {
            Some(add_months(now, coupon["duration_in_months"].as_i64().unwrap_or(1), day_of_month(now)))
        }
        _ => None,
    };
    let discount = json!({
        "id": new_id("di"),
        "object": "discount",
        "checkout_session": checkout_session,
        "customer": customer,
        "customer_account": null,
        "end": end,
        "invoice": null,
        "invoice_item": null,
        "promotion_code": promotion.as_ref().map(|promotion| promotion["id"].clone()),
        "source": {"coupon": coupon_id, "type": "coupon"},
        "start": now,
        "subscription": subscription,
        "subscription_item": null,
        "_sb_uses": 0,
        // Deleting the coupon later ends no discount made from it: the discount keeps its terms.
        "_sb_coupon": coupon,
    });
    ctx.put("discount", discount.clone());
    if let Some(coupon) = ctx.get_mut("coupon", &coupon_id) {
        coupon["times_redeemed"] = json!(coupon["times_redeemed"].as_i64().unwrap_or(0) + 1);
    }
    if let Some(promotion) = promotion {
        if let Some(stored) = ctx.get_mut("promotion_code", promotion["id"].as_str().unwrap_or_default()) {
            stored["times_redeemed"] = json!(stored["times_redeemed"].as_i64().unwrap_or(0) + 1);
        }
    }
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

/// Applies a discount to an invoice of `amount` if it is still in force; counts the use.
pub fn take(ctx: &mut Ctx, discount_id: &str, amount: i64) -> Option<i64> {
    let discount = ctx.get("discount", discount_id)?.clone();
    let coupon = ctx
        .get("coupon", discount["source"]["coupon"].as_str()?)
        .cloned()
        .or_else(|| discount.get("_sb_coupon").cloned())?;
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
}
