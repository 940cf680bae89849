//! The sandbox's store: every object as Stripe's JSON, per account, plus the clock,
//! idempotency records and engine settings. One lock guards it all; a [`Ctx`] is the view of
//! one request (or one engine run) on it.

mod collections;
mod ctx;
mod expand;
mod pagination;
mod params;
mod render;

use serde_json::{Map, Value};

pub use collections::{
    kind_label, kind_of_id, wall_now, Account, Branding, Collection, DunningFinal, IdemEntry, Settings, State,
};
pub use ctx::{Ctx, Delivery, PendingEvent};
pub use expand::expand;
pub use pagination::{created_matches, list_of, paginate, prepend_to_list};
pub use params::{
    apply_metadata, merge_metadata, new_metadata, obj_mut, one_of, param_bool, param_clearable, param_clearable_str,
    param_i64, param_list, param_nonempty, param_required, param_str, param_strings,
};
pub use render::{refresh_prices, render_event, render_response};

pub const API_VERSION: &str = "2026-09-30.endive";
/// The platform account's key in [`State::accounts`].
pub const PLATFORM: &str = "";

/// A copy of an object without the sandbox's private `_sb_*` fields.
pub fn public(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter().filter(|(k, _)| !k.starts_with("_sb_")).map(|(k, v)| (k.clone(), public(v))).collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(public).collect()),
        other => other.clone(),
    }
}

/// `previous_attributes` for an update: the old values of the keys that changed (recursing
/// into nested objects, not into lists).
pub fn diff(old: &Value, new: &Value) -> Value {
    let mut out = Map::new();
    if let (Value::Object(o), Value::Object(n)) = (old, new) {
        for (k, nv) in n {
            if k.starts_with("_sb_") {
                continue;
            }
            let ov = o.get(k).unwrap_or(&Value::Null);
            if ov != nv {
                if ov.is_object() && nv.is_object() && k != "metadata" {
                    out.insert(k.clone(), diff(ov, nv));
                } else {
                    out.insert(k.clone(), public(ov));
                }
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn public_strips_private_fields() {
        let v = json!({"id": "x", "_sb_secret": "s", "nested": {"_sb_a": 1, "b": 2}});
        assert_eq!(public(&v), json!({"id": "x", "nested": {"b": 2}}));
    }

    #[test]
    fn kinds_from_prefixes() {
        assert_eq!(kind_of_id("sub_sched_1"), Some("subscription_schedule"));
        assert_eq!(kind_of_id("sub_1"), Some("subscription"));
        assert_eq!(kind_of_id("cs_test_1"), Some("checkout.session"));
        assert_eq!(kind_of_id("mtr_test_1"), Some("billing.meter"));
        assert_eq!(kind_of_id("gold"), None);
    }

    #[test]
    fn diff_reports_old_values() {
        let old = json!({"a": 1, "b": {"c": 1, "d": 2}, "metadata": {"x": "1"}, "same": true});
        let new = json!({"a": 2, "b": {"c": 1, "d": 3}, "metadata": {"x": "2"}, "same": true});
        assert_eq!(diff(&old, &new), json!({"a": 1, "b": {"d": 2}, "metadata": {"x": "1"}}));
    }
}
