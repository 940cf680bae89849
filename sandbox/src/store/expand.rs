//! `expand[]`: replacing ids by their objects along dotted paths (the includable fields are
//! `render`'s).

use serde_json::Value;

use super::{public, refresh_prices, Ctx};

/// Expands `paths` (`customer`, `data.customer`, `latest_invoice.payments`…) in `v`.
pub fn expand(ctx: &Ctx, v: &mut Value, paths: &[String]) {
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        expand_path(ctx, v, &parts, 0);
    }
}

/// An expanded object, with the prices it embeds as they are now.
fn expanded(ctx: &Ctx, id: &str, field: &str) -> Option<Value> {
    let mut obj = ctx.lookup_any(id, field).or_else(|| deleted_coupon(ctx, id, field))?;
    refresh_prices(ctx, &mut obj, true);
    Some(obj)
}

/// A deleted coupon still expands inside the discounts made from it (they keep its terms).
fn deleted_coupon(ctx: &Ctx, id: &str, field: &str) -> Option<Value> {
    if field != "coupon" {
        return None;
    }
    ctx.all("discount")
        .into_iter()
        .find(|discount| discount["_sb_coupon"]["id"] == id)
        .map(|d| public(&d["_sb_coupon"]))
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
                if let Some(obj) = expanded(ctx, id, first) {
                    *child = obj;
                }
            } else if let Value::Array(items) = child {
                // e.g. `discounts`, `default_tax_rates`: arrays of ids.
                for item in items.iter_mut() {
                    if let Value::String(id) = item {
                        if let Some(obj) = expanded(ctx, id, first) {
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
