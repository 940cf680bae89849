//! Item changes on a live subscription and the prorations they cause.

use serde_json::{json, Value};

use super::invoices::{finalize_and_charge, invoice_subscription};
use super::lines::{invoice_item, item_lines, product_name, NewItem};
use super::subscriptions::{interval_of, recurring_price, subscription_item, ItemSpec};
use super::usage_billing::advance_amount;
use super::views::SubscriptionView;
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::store::{apply_metadata, public, Ctx};
use crate::util::{day_of_month, period_end};

/// `proration_behavior` must be one Stripe knows.
pub fn check_proration_behavior(proration_behavior: &str) -> ApiResult<()> {
    if !matches!(proration_behavior, "create_prorations" | "always_invoice" | "none") {
        return Err(ApiError::invalid_value(
            "proration_behavior",
            "Invalid proration_behavior: must be one of create_prorations, none, or always_invoice",
        ));
    }
    Ok(())
}

/// Prorated amount for `amount` over the part of `period` after `at`.
pub fn prorate(amount: i64, period: (i64, i64), at: i64) -> i64 {
    let len = (period.1 - period.0).max(1);
    let remaining = (period.1 - at).clamp(0, len);
    ((amount as i128 * remaining as i128 + len as i128 / 2) / len as i128) as i64
}

/// Updates a subscription's items (price / quantity) with prorations.
pub fn change_items(
    ctx: &mut Ctx,
    subscription_id: &str,
    specs: &[ItemSpec],
    proration_behavior: &str,
    proration_date: Option<i64>,
    reset_anchor: bool,
) -> ApiResult<()> {
    let subscription = ctx.find("subscription", subscription_id, "subscription")?;
    let now = ctx.now_for(&subscription);
    let at = proration_date.unwrap_or(now);
    let customer = subscription["customer"].as_str().unwrap_or_default().to_string();
    let mut items: Vec<Value> = SubscriptionView(&subscription).items();
    let old_items = items.clone();
    let period = (
        items.first().and_then(|i| i["current_period_start"].as_i64()).unwrap_or(now),
        items.first().and_then(|i| i["current_period_end"].as_i64()).unwrap_or(now),
    );
    for (i, spec) in specs.iter().enumerate() {
        match &spec.id {
            Some(item_id) => {
                let position = items
                    .iter()
                    .position(|x| x["id"] == item_id.as_str())
                    .ok_or_else(|| ApiError::not_found("subscription item", item_id, &format!("items[{i}][id]")))?;
                if spec.deleted {
                    items.remove(position);
                    continue;
                }
                if let Some(price_id) = &spec.price {
                    let price = recurring_price(ctx, price_id, &format!("items[{i}][price]"))?;
                    items[position]["plan"] = objects::plan_from_price(&price);
                    items[position]["price"] = public(&price);
                }
                if let Some(quantity) = spec.quantity {
                    items[position]["quantity"] = json!(quantity);
                }
                if let Some(metadata) = &spec.metadata {
                    items[position]["metadata"] = apply_metadata(&items[position]["metadata"], metadata)?;
                }
            }
            None => {
                let price_id = spec.price.as_deref().ok_or_else(|| ApiError::missing(&format!("items[{i}][price]")))?;
                let price = recurring_price(ctx, price_id, &format!("items[{i}][price]"))?;
                // Stripe: one item per price.
                if items.iter().any(|x| x["price"]["id"] == price_id) {
                    return Err(ApiError::invalid_value(
                        &format!("items[{i}][price]"),
                        "Cannot add multiple subscription items with the same plan.",
                    ));
                }
                items.push(subscription_item(
                    subscription_id,
                    &price,
                    spec.quantity.unwrap_or(1),
                    spec.metadata.clone().unwrap_or(json!({})),
                    period,
                    now,
                ));
            }
        }
    }
    if items.is_empty() {
        return Err(ApiError::invalid_value("items", "A subscription must have at least one active plan."));
    }
    let new_interval = interval_of(&items[0]["price"]);
    let old_interval = old_items.first().map(|i| interval_of(&i["price"])).unwrap_or(new_interval.clone());
    let interval_changed = new_interval != old_interval;
    let trialing = subscription["status"] == "trialing";
    let mut new_period = period;
    if (interval_changed || reset_anchor) && !trialing {
        new_period = (now, period_end(now, &new_interval.0, new_interval.1, day_of_month(now)));
    }
    for item in items.iter_mut() {
        item["current_period_start"] = json!(new_period.0);
        item["current_period_end"] = json!(new_period.1);
    }
    // Prorations: credit what is unused on the old items, charge the rest of the period on the new ones.
    let mut proration_lines = Vec::new();
    if proration_behavior != "none" && !trialing && subscription["status"] != "incomplete" {
        let old_total = |item: &Value| advance_amount(&item["price"], item["quantity"].as_i64().unwrap_or(1));
        for old in &old_items {
            let new = items.iter().find(|n| n["id"] == old["id"]);
            let unchanged = new
                .is_some_and(|n| n["price"]["id"] == old["price"]["id"] && n["quantity"] == old["quantity"])
                && !interval_changed
                && !reset_anchor;
            if unchanged {
                continue;
            }
            let credit = prorate(old_total(old), period, at);
            if credit != 0 {
                let name = product_name(ctx, &old["price"]);
                proration_lines.push((
                    -credit,
                    format!("Unused time on {} × {} after {}", old["quantity"], name, crate::util::ymd(at)),
                    old["price"].clone(),
                    old["quantity"].as_i64().unwrap_or(1),
                ));
            }
        }
        for new in &items {
            let old = old_items.iter().find(|o| o["id"] == new["id"]);
            let unchanged = old
                .is_some_and(|o| o["price"]["id"] == new["price"]["id"] && o["quantity"] == new["quantity"])
                && !interval_changed
                && !reset_anchor;
            if unchanged {
                continue;
            }
            let charge = if interval_changed || reset_anchor { 0 } else { prorate(old_total(new), period, at) };
            if charge != 0 {
                let name = product_name(ctx, &new["price"]);
                proration_lines.push((
                    charge,
                    format!("Remaining time on {} × {} after {}", new["quantity"], name, crate::util::ymd(at)),
                    new["price"].clone(),
                    new["quantity"].as_i64().unwrap_or(1),
                ));
            }
        }
    }
    let mut new = subscription.clone();
    new["items"]["data"] = Value::Array(items.clone());
    if interval_changed || reset_anchor {
        new["billing_cycle_anchor"] = json!(new_period.0);
    }
    ctx.put("subscription", new);
    let currency = subscription["currency"].as_str().unwrap_or("usd").to_string();
    for (amount, description, price, quantity) in &proration_lines {
        let item = invoice_item(
            ctx,
            NewItem {
                customer: &customer,
                amount: *amount,
                currency: &currency,
                description: json!(description),
                price: Some(price),
                quantity: *quantity,
                subscription: Some(subscription_id),
                proration: true,
                period: (at, period.1),
                invoice: None,
                metadata: json!({}),
                discountable: false,
            },
        );
        ctx.put("invoiceitem", item.clone());
        ctx.emit("invoiceitem.created", &item, None);
    }
    let invoice_now = (proration_behavior == "always_invoice" && !proration_lines.is_empty())
        || ((interval_changed || reset_anchor) && !trialing && subscription["status"] != "incomplete");
    if invoice_now {
        let changed = ctx.find("subscription", subscription_id, "subscription")?;
        let lines = if interval_changed || reset_anchor { item_lines(ctx, &changed, new_period) } else { Vec::new() };
        let invoice_id = invoice_subscription(ctx, subscription_id, "subscription_update", lines, (now, now), true)?;
        finalize_and_charge(ctx, &invoice_id)?;
    }
    Ok(())
}
