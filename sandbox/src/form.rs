//! Decoding of Stripe's form-encoded parameters (`items[0][price]=x`, `expand[]=y`,
//! `metadata[k]=v`) into a JSON tree whose leaves are strings.
//!
//! Arrays written with indices (`a[0]`, `a[1]`) or with empty brackets (`a[]`) both become JSON
//! arrays; an object whose keys are all numbers is turned into an array in index order.

use serde_json::{Map, Value};

/// Parses an `application/x-www-form-urlencoded` body (or a query string) into a JSON object.
pub fn parse(input: &str) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in form_urlencoded::parse(input.as_bytes()) {
        let path = split_key(&key);
        insert(&mut root, &path, Value::String(value.into_owned()));
    }
    normalize(root)
}

/// `items[0][price]` → `["items", "0", "price"]`; `expand[]` → `["expand", ""]`.
fn split_key(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => return vec![key.to_string()],
    };
    parts.push(head.to_string());
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(end) => {
                parts.push(stripped[..end].to_string());
                rest = &stripped[end + 1..];
            }
            None => {
                // Unbalanced bracket: keep the remainder as a literal key part.
                parts.push(stripped.to_string());
                rest = "";
            }
        }
    }
    parts
}

/// Inserts `value` at `path`. Empty segments (`[]`) append to an array.
fn insert(node: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else { return };
    if first.is_empty() {
        // `[]`: append.
        if !node.is_array() {
            *node = Value::Array(Vec::new());
        }
        let arr = node.as_array_mut().expect("array");
        if rest.is_empty() {
            arr.push(value);
        } else {
            // `a[][b]=1&a[][c]=2` — Stripe merges into the last element when the key is new.
            let needs_new = match arr.last() {
                Some(Value::Object(m)) => rest.first().is_some_and(|k| m.contains_key(k)),
                _ => true,
            };
            if needs_new {
                arr.push(Value::Object(Map::new()));
            }
            let last = arr.last_mut().expect("element");
            insert(last, rest, value);
        }
        return;
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    let map = node.as_object_mut().expect("object");
    if rest.is_empty() {
        map.insert(first.clone(), value);
    } else {
        let child = map.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
        insert(child, rest, value);
    }
}

/// Turns objects whose keys are all non-negative integers into arrays (ordered by index).
fn normalize(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let all_numeric =
                !map.is_empty() && map.keys().all(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()));
            if all_numeric {
                let mut items: Vec<(u64, Value)> =
                    map.into_iter().map(|(k, v)| (k.parse::<u64>().unwrap_or(u64::MAX), normalize(v))).collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, normalize(v))).collect())
            }
        }
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_brackets_and_arrays() {
        let v = parse("items[0][price]=price_1&items[0][quantity]=2&items[1][price]=price_2&metadata[user_id]=42&expand[]=customer&expand[]=latest_invoice");
        assert_eq!(
            v,
            json!({
                "items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}],
                "metadata": {"user_id": "42"},
                "expand": ["customer", "latest_invoice"],
            })
        );
    }

    #[test]
    fn indexed_expand_and_percent_encoding() {
        let v = parse("expand%5B0%5D=data.customer&expand%5B1%5D=data.items&email=a%2Bb%40x.com&name=A+B");
        assert_eq!(v["expand"], json!(["data.customer", "data.items"]));
        assert_eq!(v["email"], "a+b@x.com");
        assert_eq!(v["name"], "A B");
    }

    #[test]
    fn indices_sort_numerically() {
        let v = parse("a[10]=ten&a[2]=two");
        assert_eq!(v["a"], json!(["two", "ten"]));
    }

    #[test]
    fn empty_brackets_with_objects() {
        let v = parse("line_items[][price]=p1&line_items[][quantity]=1&line_items[][price]=p2");
        assert_eq!(v["line_items"], json!([{"price": "p1", "quantity": "1"}, {"price": "p2"}]));
    }

    #[test]
    fn empty_value_is_kept_as_empty_string() {
        // Stripe uses `metadata[k]=` to unset a key and `field=` to clear a field.
        let v = parse("metadata[a]=&description=");
        assert_eq!(v, json!({"metadata": {"a": ""}, "description": ""}));
    }
}
