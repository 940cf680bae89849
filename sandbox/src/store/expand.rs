//! `expand[]`: replacing ids by their objects along dotted paths, plus the fields Stripe only
//! includes when asked.

use serde_json::Value;

use super::{list_of, public, Ctx};

/// Expands `paths` (`customer`, `data.customer`, `latest_invoice.payments`…) in `v`.
pub fn expand(ctx: &Ctx, v: &mut Value, paths: &[String]) {
    add_includable(ctx, v, paths);
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        expand_path(ctx, v, &parts, 0);
    }
}

/// Fields Stripe only includes when expanded: a session's `line_items`, a customer's
/// `subscriptions`.
fn add_includable(ctx: &Ctx, v: &mut Value, paths: &[String]) {
    let wants = |name: &str| {
        paths.iter().any(|p| {
            p == name
                || p.starts_with(&format!("{name}."))
                || p == &format!("data.{name}")
                || p.starts_with(&format!("data.{name}."))
        })
    };
    let mut fill = |obj: &mut Value| {
        let id = obj["id"].as_str().unwrap_or_default().to_string();
        if obj["object"] == "checkout.session" && wants("line_items") {
            if let Some(session) = ctx.get("checkout.session", &id) {
                let items = session["_sb_items"].as_array().cloned().unwrap_or_default();
                obj["line_items"] = list_of(items, &format!("/v1/checkout/sessions/{id}/line_items"));
            }
        }
        if obj["object"] == "customer" && wants("subscriptions") {
            let subscriptions: Vec<Value> = ctx
                .all("subscription")
                .into_iter()
                .filter(|s| s["customer"] == id.as_str() && s["status"] != "canceled")
                .map(public)
                .collect();
            obj["subscriptions"] = list_of(subscriptions, &format!("/v1/customers/{id}/subscriptions"));
        }
    };
    let is_list = v["object"] == "list" || v["object"] == "search_result";
    match v["data"].as_array_mut() {
        Some(items) if is_list => items.iter_mut().for_each(&mut fill),
        _ => fill(v),
    }
}

fn expand_path(ctx: &Ctx, v: &mut Value, parts: &[&str], depth: usize) {
    if depth > 4 {
        return;
    }
    let Some((first, rest)) = parts.split_first() else { return };
    match v {
        Value::Array(items) => {
            for item in items {
                expand_path(ctx, item, parts, depth);
            }
        }
        Value::Object(map) => {
            let Some(child) = map.get_mut(*first) else { return };
            if let Value::String(id) = child {
                if let Some(obj) = ctx.lookup_any(id, first) {
                    *child = obj;
                }
            } else if let Value::Array(items) = child {
                // e.g. `discounts`, `default_tax_rates`: arrays of ids.
                for item in items.iter_mut() {
                    if let Value::String(id) = item {
                        if let Some(obj) = ctx.lookup_any(id, first) {
                            *item = obj;
                        }
                    }
                }
            }
            if !rest.is_empty() {
                expand_path(ctx, child, rest, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::{State, PLATFORM};

    #[test]
    fn expand_replaces_ids_in_lists_and_nested() {
        let mut state = State::default();
        let mut ctx = Ctx::new(&mut state, PLATFORM, "http://x");
        ctx.put("customer", json!({"id": "cus_1", "object": "customer", "_sb_x": 1}));
        ctx.put("invoice", json!({"id": "in_1", "object": "invoice", "customer": "cus_1"}));
        let mut list =
            json!({"object": "list", "data": [{"id": "sub_1", "latest_invoice": "in_1", "customer": "cus_1"}]});
        expand(&ctx, &mut list, &["data.latest_invoice.customer".to_string()]);
        assert_eq!(list["data"][0]["latest_invoice"]["customer"]["object"], "customer");
        assert!(list["data"][0]["latest_invoice"]["customer"].get("_sb_x").is_none());
        assert_eq!(list["data"][0]["customer"], "cus_1");
    }
}
