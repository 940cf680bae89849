//! Billing in arrears: a subscription item on a metered price (`recurring.usage_type=metered`,
//! backed by a meter) is billed after its period, for the meter's aggregate of the customer's
//! events over that period. Licensed items stay billed in advance (`lines::item_lines`).

use serde_json::Value;

use super::lines::{product_name, Line};
use super::meter_events::aggregate;
use super::meters::METER;
use super::pricing::amount_for;
use super::views::SubscriptionView;
use crate::store::Ctx;
use crate::util::money;

/// Whether a price is billed for usage after the period rather than in advance.
pub fn is_metered(price: &Value) -> bool {
    price["recurring"]["usage_type"] == "metered"
}

/// What a price charges in advance for a quantity: nothing for a metered price.
pub fn advance_amount(price: &Value, quantity: i64) -> i64 {
    if is_metered(price) {
        0
    } else {
        amount_for(price, quantity)
    }
}

/// One line per metered item of `subscription` for the usage in `period` (`[start, end)`), even
/// when there was none (a zero line, as Stripe shows).
pub fn usage_lines(ctx: &Ctx, subscription: &Value, period: (i64, i64)) -> Vec<Line> {
    let view = SubscriptionView(subscription);
    let customer = view.customer();
    view.items()
        .iter()
        .filter(|item| is_metered(&item["price"]))
        .map(|item| {
            // The stored price: it carries the tiers, which embedded copies may not show.
            let price = item["price"]["id"]
                .as_str()
                .and_then(|id| ctx.get("price", id))
                .cloned()
                .unwrap_or_else(|| item["price"].clone());
            let usage = price["recurring"]["meter"]
                .as_str()
                .and_then(|meter| ctx.get(METER, meter))
                .map_or(0, |meter| aggregate(ctx, meter, customer, period.0, period.1));
            let quantity = usage.max(0);
            Line {
                amount: amount_for(&price, quantity),
                description: usage_description(&price, quantity, &product_name(ctx, &price)),
                period,
                quantity,
                price: Some(price),
                subscription: Some(view.id().to_string()),
                subscription_item: item["id"].as_str().map(str::to_string),
                invoice_item: None,
                proration: false,
            }
        })
        .collect()
}

/// Where a subscription's usage billed up to a pause ends (private; see `usage_start`).
pub const USAGE_BILLED_UNTIL: &str = "_sb_usage_billed_until";

/// Where the usage not invoiced yet starts: the period start, or later when pausing billed the
/// period's usage up to then.
pub fn usage_start(subscription: &Value) -> Option<i64> {
    let start = SubscriptionView(subscription).current_period_start()?;
    Some(subscription[USAGE_BILLED_UNTIL].as_i64().map_or(start, |billed| billed.max(start)))
}

/// The usage not invoiced yet: from `usage_start` to `until` (none for a period spent in trial,
/// where usage is free).
pub fn unbilled_usage_lines(ctx: &Ctx, subscription: &Value, until: i64) -> Vec<Line> {
    let Some(start) = usage_start(subscription) else { return Vec::new() };
    if subscription["trial_end"].as_i64().is_some_and(|trial_end| trial_end >= until) {
        return Vec::new();
    }
    usage_lines(ctx, subscription, (start, until))
}

/// Stripe's wording: "Usage: 1200 × API calls (at $0.01 / month)", or the tier mode for tiers.
fn usage_description(price: &Value, quantity: i64, product_name: &str) -> String {
    let interval = price["recurring"]["interval"].as_str().unwrap_or("month");
    if price["billing_scheme"] == "tiered" {
        return format!(
            "Usage: {quantity} × {product_name} (tiered, {} / {interval})",
            price["tiers_mode"].as_str().unwrap_or("graduated")
        );
    }
    let currency = price["currency"].as_str().unwrap_or("usd");
    let unit = match price["unit_amount"].as_i64() {
        Some(amount) => money(amount, currency),
        // A fraction of a minor unit: shown as the decimal Stripe keeps.
        None => format!("{} {currency} minor units", price["unit_amount_decimal"].as_str().unwrap_or("0")),
    };
    match price["transform_quantity"]["divide_by"].as_i64() {
        Some(per) => format!("Usage: {quantity} × {product_name} (at {unit} per {per} / {interval})"),
        None => format!("Usage: {quantity} × {product_name} (at {unit} / {interval})"),
    }
}
