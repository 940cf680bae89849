//! What a response or an event shows of the stored objects: embedded prices as they are now, and
//! the fields Stripe only includes when `expand[]` names them.

use serde_json::Value;

use super::{expand, list_of, public, Ctx};
use crate::objects::plan_from_price;

/// Fields Stripe's API reference marks "includable" on the objects the sandbox serves: absent
/// unless expanded (a client reading them without asking gets nothing, as on Stripe).
const INCLUDABLE: &[(&str, &str)] = &[
    ("charge", "refunds"),
    ("checkout.session", "line_items"),
    ("coupon", "applies_to"),
    ("coupon", "currency_options"),
    ("customer", "cash_balance"),
    ("customer", "invoice_credit_balance"),
    ("customer", "sources"),
    ("customer", "subscriptions"),
    ("customer", "tax"),
    ("customer", "tax_ids"),
    ("invoice", "confirmation_secret"),
    ("invoice", "payments"),
    ("plan", "tiers"),
    ("price", "currency_options"),
    ("price", "tiers"),
];

/// An API response: live prices, `expand[]` paths, includable fields only where asked.
pub fn render_response(ctx: &Ctx, value: &mut Value, paths: &[String]) {
    refresh_prices(ctx, value, true);
    // Before expanding, so that `line_items.data.price` expands; after, for expanded objects.
    includable(ctx, value, "", paths, 0);
    expand(ctx, value, paths);
    includable(ctx, value, "", paths, 0);
}

/// An event's `data.object`: live prices, no includable fields (events never carry them).
pub fn render_event(ctx: &Ctx, value: &mut Value) {
    refresh_prices(ctx, value, true);
    includable(ctx, value, "", &[], 0);
}

/// Replaces the prices (and their `plan` views) embedded in `value` by the stored prices as they
/// are now: Stripe embeds the live price, so one whose lookup key moved shows `lookup_key: null`
/// in every subscription item. The top-level object itself is left alone when `top` is true.
pub fn refresh_prices(ctx: &Ctx, value: &mut Value, top: bool) {
    match value {
        Value::Object(map) => {
            let kind = map.get("object").and_then(Value::as_str);
            if !top && matches!(kind, Some("price") | Some("plan")) {
                let id = map.get("id").and_then(Value::as_str).unwrap_or_default();
                if let Some(price) = ctx.get("price", id) {
                    *value = if kind == Some("plan") { plan_from_price(price) } else { public(price) };
                    return;
                }
            }
            map.values_mut().for_each(|child| refresh_prices(ctx, child, false));
        }
        Value::Array(items) => items.iter_mut().for_each(|child| refresh_prices(ctx, child, false)),
        _ => {}
    }
}

/// Whether `expand[]` asks for `field` of the object at `path` (arrays do not count: the items
/// of `items.data` are at `items.data`).
fn wanted(paths: &[String], path: &str, field: &str) -> bool {
    let full = if path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
    paths.iter().any(|p| p == &full || p.strip_prefix(&full).is_some_and(|rest| rest.starts_with('.')))
}

fn includable(ctx: &Ctx, value: &mut Value, path: &str, paths: &[String], depth: usize) {
    if depth > 8 {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(kind) = map.get("object").and_then(Value::as_str).map(str::to_string) {
                for (_, field) in INCLUDABLE.iter().filter(|(k, _)| *k == kind) {
                    if !wanted(paths, path, field) {
                        map.remove(*field);
                    } else if !map.contains_key(*field) {
                        if let Some(filled) = fill(ctx, &kind, field, map.get("id").and_then(Value::as_str)) {
                            map.insert(field.to_string(), filled);
                        }
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                includable(ctx, child, &child_path, paths, depth + 1);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|child| includable(ctx, child, path, paths, depth + 1)),
        _ => {}
    }
}

/// An includable field the store keeps apart from its object.
fn fill(ctx: &Ctx, kind: &str, field: &str, id: Option<&str>) -> Option<Value> {
    let id = id?;
    match (kind, field) {
        ("checkout.session", "line_items") => {
            let items = ctx.get("checkout.session", id)?["_sb_items"].as_array().cloned().unwrap_or_default();
            Some(list_of(items, &format!("/v1/checkout/sessions/{id}/line_items")))
        }
        ("customer", "subscriptions") => {
            let subscriptions: Vec<Value> = ctx
                .all("subscription")
                .into_iter()
                .filter(|s| s["customer"] == id && s["status"] != "canceled")
                .map(|s| {
                    let mut subscription = public(s);
                    refresh_prices(ctx, &mut subscription, true);
                    subscription
                })
                .collect();
            Some(list_of(subscriptions, &format!("/v1/customers/{id}/subscriptions")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::{State, PLATFORM};

    #[test]
    fn includable_fields_show_only_where_expanded() {
        let mut state = State::default();
        let ctx = Ctx::new(&mut state, PLATFORM, "http://x");
        let invoice = json!({"id": "in_1", "object": "invoice", "payments": {"object": "list", "data": []}});
        let mut plain = invoice.clone();
        render_response(&ctx, &mut plain, &[]);
        assert!(plain.get("payments").is_none());
        let mut asked = invoice.clone();
        render_response(&ctx, &mut asked, &["payments".to_string()]);
        assert!(asked["payments"].is_object());
        let mut list = json!({"object": "list", "data": [invoice]});
        render_response(&ctx, &mut list, &["data.payments".to_string()]);
        assert!(list["data"][0]["payments"].is_object());
    }

    #[test]
    fn embedded_prices_are_the_stored_ones() {
        let mut state = State::default();
        let mut ctx = Ctx::new(&mut state, PLATFORM, "http://x");
        ctx.put("price", json!({"id": "price_1", "object": "price", "lookup_key": null, "recurring": {}}));
        let mut subscription = json!({"object": "subscription", "items": {"data": [
            {"price": {"id": "price_1", "object": "price", "lookup_key": "old"}, "plan": {"id": "price_1", "object": "plan"}}
        ]}});
        render_event(&ctx, &mut subscription);
        assert_eq!(subscription["items"]["data"][0]["price"]["lookup_key"], Value::Null);
        assert_eq!(subscription["items"]["data"][0]["plan"]["object"], "plan");
    }
}
