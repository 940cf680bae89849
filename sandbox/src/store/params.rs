//! Reading Stripe's form parameters (already parsed into JSON by `form::parse`): typed getters
//! with Stripe's error messages, and metadata merging.

use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};

/// A string parameter (`None` when absent or not a string).
pub fn param_str<'v>(params: &'v Value, key: &str) -> Option<&'v str> {
    params.get(key).and_then(Value::as_str)
}

/// A string parameter, non-empty.
pub fn param_nonempty<'v>(params: &'v Value, key: &str) -> Option<&'v str> {
    param_str(params, key).filter(|s| !s.is_empty())
}

pub fn param_required<'v>(params: &'v Value, key: &str) -> ApiResult<&'v str> {
    param_nonempty(params, key).ok_or_else(|| ApiError::missing(key))
}

pub fn param_i64(params: &Value, key: &str) -> ApiResult<Option<i64>> {
    match params.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.parse::<i64>().map(Some).map_err(|_| {
            ApiError::invalid_value(key, format!("Invalid integer: {s}")).with_code("parameter_invalid_integer")
        }),
        Some(Value::Number(n)) => Ok(n.as_i64()),
        Some(_) => {
            Err(ApiError::invalid_value(key, format!("Invalid integer: {key}")).with_code("parameter_invalid_integer"))
        }
    }
}

pub fn param_bool(params: &Value, key: &str) -> ApiResult<Option<bool>> {
    match params.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            "" => Ok(None),
            _ => Err(ApiError::invalid_value(key, format!("Invalid boolean: {s}"))),
        },
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid_value(key, format!("Invalid boolean: {key}"))),
    }
}

/// A parameter an empty string clears: `Some(null)` for `""`, the value as given otherwise.
pub fn param_clearable(params: &Value, key: &str) -> Option<Value> {
    params.get(key).map(|value| if value == "" { Value::Null } else { value.clone() })
}

/// A string parameter an empty string clears (`Some(null)`); other types are ignored.
pub fn param_clearable_str(params: &Value, key: &str) -> Option<Value> {
    param_str(params, key).map(|value| if value.is_empty() { Value::Null } else { json!(value) })
}

/// An array parameter; a single string counts as a one-element array.
pub fn param_list(params: &Value, key: &str) -> Vec<Value> {
    match params.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) if s.is_empty() => Vec::new(),
        Some(v @ Value::String(_)) | Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    }
}

pub fn param_strings(params: &Value, key: &str) -> Vec<String> {
    param_list(params, key).into_iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

/// Refuses a value outside Stripe's enum with Stripe's message.
pub fn one_of<'v>(param: &str, value: &'v str, allowed: &[&str]) -> ApiResult<&'v str> {
    if allowed.contains(&value) {
        return Ok(value);
    }
    let choices = match allowed {
        [first, second] => format!("{first} or {second}"),
        [init @ .., last] if !init.is_empty() => format!("{}, or {last}", init.join(", ")),
        _ => allowed.join(""),
    };
    Err(ApiError::invalid_value(param, format!("Invalid {param}: must be one of {choices}")))
}

/// Applies `metadata[...]` from params onto an existing metadata map (Stripe's merge rules:
/// an empty value deletes a key, `metadata=` clears everything).
pub fn merge_metadata(current: &Value, params: &Value) -> ApiResult<Value> {
    match params.get("metadata") {
        Some(metadata) => apply_metadata(current, metadata),
        None => Ok(Value::Object(current.as_object().cloned().unwrap_or_default())),
    }
}

/// Applies a request's `metadata` parameter onto existing metadata, with [`merge_metadata`]'s rules.
pub fn apply_metadata(current: &Value, metadata: &Value) -> ApiResult<Value> {
    let mut out = current.as_object().cloned().unwrap_or_default();
    match metadata {
        Value::String(s) if s.is_empty() => out.clear(),
        Value::Object(m) => {
            for (k, v) in m {
                match v.as_str() {
                    Some("") => {
                        out.remove(k);
                    }
                    Some(s) => {
                        if out.len() >= 50 && !out.contains_key(k) {
                            return Err(ApiError::invalid_value("metadata", "Metadata can have at most 50 keys."));
                        }
                        out.insert(k.clone(), json!(s));
                    }
                    None => {
                        return Err(ApiError::invalid_value(
                            &format!("metadata[{k}]"),
                            "Invalid metadata value: must be a string.",
                        ))
                    }
                }
            }
        }
        _ => return Err(ApiError::invalid_value("metadata", "Invalid metadata: must be a hash.")),
    }
    Ok(Value::Object(out))
}

pub fn new_metadata(params: &Value) -> ApiResult<Value> {
    merge_metadata(&json!({}), params)
}

/// Ensures a value is a JSON object and returns its map.
pub fn obj_mut(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("object")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_merge_rules() {
        let cur = json!({"a": "1", "b": "2"});
        assert_eq!(
            merge_metadata(&cur, &json!({"metadata": {"a": "", "c": "3"}})).unwrap(),
            json!({"b": "2", "c": "3"})
        );
        assert_eq!(merge_metadata(&cur, &json!({"metadata": ""})).unwrap(), json!({}));
        assert_eq!(merge_metadata(&cur, &json!({})).unwrap(), cur);
    }

    fn choices(allowed: &[&str]) -> String {
        one_of("x", "?", allowed).unwrap_err().message
    }

    #[test]
    fn enum_errors_list_the_choices_as_stripe_does() {
        assert_eq!(choices(&["count", "last", "sum"]), "Invalid x: must be one of count, last, or sum");
        assert_eq!(choices(&["day", "hour"]), "Invalid x: must be one of day or hour");
        assert_eq!(choices(&["by_id"]), "Invalid x: must be one of by_id");
        assert_eq!(one_of("x", "sum", &["sum"]).unwrap(), "sum");
    }
}
