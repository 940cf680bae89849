//! Stripe list objects: pagination by cursor, embedded lists, `created` filters.

use std::borrow::Borrow;

use serde_json::{json, Value};

use super::params::{param_i64, param_nonempty};
use super::public;
use crate::error::{ApiError, ApiResult};

/// Builds a Stripe list object from already filtered objects (newest first), honouring
/// `limit`, `starting_after` and `ending_before`. Items may be stored objects (`&Value`): only
/// the page is copied out (without the sandbox's private fields), so walking a list of N
/// objects page by page does not copy all N objects for every page.
pub fn paginate<T: Borrow<Value>>(items: Vec<T>, params: &Value, url: &str) -> ApiResult<Value> {
    let limit = param_i64(params, "limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_value(
            "limit",
            "This value must be greater than 1 and less than or equal to 100.",
        )
        .with_code("parameter_invalid_integer"));
    }
    let limit = limit as usize;
    let position = |id: &str, param: &str| {
        items.iter().position(|o| o.borrow()["id"] == id).ok_or_else(|| ApiError::not_found("object", id, param))
    };
    let (page, has_more) = if let Some(after) = param_nonempty(params, "starting_after") {
        let start = position(after, "starting_after")? + 1;
        let end = (start + limit).min(items.len());
        (start..end, items.len() > end)
    } else if let Some(before) = param_nonempty(params, "ending_before") {
        let end = position(before, "ending_before")?;
        let start = end.saturating_sub(limit);
        (start..end, start > 0)
    } else {
        let end = limit.min(items.len());
        (0..end, items.len() > end)
    };
    let data: Vec<Value> = items[page].iter().map(|o| public(o.borrow())).collect();
    Ok(json!({ "object": "list", "data": data, "has_more": has_more, "url": url }))
}

/// A list object holding every item (for embedded lists such as subscription items).
pub fn list_of(items: Vec<Value>, url: &str) -> Value {
    json!({ "object": "list", "data": items, "has_more": false, "total_count": null, "url": url })
}

/// Puts `item` first in an embedded list object (`refunds`, `reversals`) and counts it.
pub fn prepend_to_list(list: &mut Value, item: Value) {
    let mut data = list["data"].as_array().cloned().unwrap_or_default();
    data.insert(0, item);
    list["total_count"] = json!(data.len());
    list["data"] = Value::Array(data);
}

/// Checks `created` filters: `created=N` or `created[gt|gte|lt|lte]=N`.
pub fn created_matches(params: &Value, key: &str, created: i64) -> ApiResult<bool> {
    match params.get(key) {
        None => Ok(true),
        Some(Value::String(_)) => Ok(param_i64(params, key)?.is_none_or(|t| t == created)),
        Some(f @ Value::Object(_)) => {
            let ok = param_i64(f, "gt")?.is_none_or(|t| created > t)
                && param_i64(f, "gte")?.is_none_or(|t| created >= t)
                && param_i64(f, "lt")?.is_none_or(|t| created < t)
                && param_i64(f, "lte")?.is_none_or(|t| created <= t);
            Ok(ok)
        }
        Some(_) => Ok(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objs(n: usize) -> Vec<Value> {
        (0..n).rev().map(|i| json!({"id": format!("o_{i}")})).collect()
    }

    fn ids(list: &Value) -> Vec<String> {
        list["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn pagination_walks_forward_and_back() {
        let items = objs(5); // o_4 … o_0, newest first
        let first = paginate(items.clone(), &json!({"limit": "2"}), "/v1/x").unwrap();
        assert_eq!(ids(&first), ["o_4", "o_3"]);
        assert_eq!(first["has_more"], true);
        let second = paginate(items.clone(), &json!({"limit": "2", "starting_after": "o_3"}), "/v1/x").unwrap();
        assert_eq!(ids(&second), ["o_2", "o_1"]);
        assert_eq!(second["has_more"], true);
        let last = paginate(items.clone(), &json!({"limit": "2", "starting_after": "o_1"}), "/v1/x").unwrap();
        assert_eq!(ids(&last), ["o_0"]);
        assert_eq!(last["has_more"], false);
        let back = paginate(items.clone(), &json!({"limit": "2", "ending_before": "o_1"}), "/v1/x").unwrap();
        assert_eq!(ids(&back), ["o_3", "o_2"]);
        assert_eq!(back["has_more"], true);
        assert_eq!(first["object"], "list");
        assert_eq!(first["url"], "/v1/x");
    }

    #[test]
    fn pagination_rejects_bad_limit_and_cursor() {
        assert_eq!(paginate(objs(1), &json!({"limit": "0"}), "/v1/x").unwrap_err().status, 400);
        assert_eq!(paginate(objs(1), &json!({"limit": "101"}), "/v1/x").unwrap_err().status, 400);
        assert_eq!(paginate(objs(1), &json!({"starting_after": "nope"}), "/v1/x").unwrap_err().status, 404);
    }

    #[test]
    fn created_filters() {
        let p = json!({"created": {"gt": "10", "lte": "20"}});
        assert!(!created_matches(&p, "created", 10).unwrap());
        assert!(created_matches(&p, "created", 11).unwrap());
        assert!(created_matches(&p, "created", 20).unwrap());
        assert!(!created_matches(&p, "created", 21).unwrap());
        assert!(created_matches(&json!({"created": "5"}), "created", 5).unwrap());
    }
}
