//! Redacts a stored event payload for display: personal data and secrets become "[redacted]",
//! ids, amounts, statuses and times stay (they are what an admin debugs with).

use serde_json::Value;

const REDACTED: &str = "[redacted]";

/// Keys whose values identify a person or could be used as a credential.
fn sensitive(key: &str) -> bool {
    const EXACT: [&str; 16] = [
        "email",
        "name",
        "phone",
        "address",
        "shipping",
        "line1",
        "line2",
        "postal_code",
        "client_secret",
        "secret",
        "fingerprint",
        "last4",
        "ip",
        "ip_address",
        "tax_id",
        "description",
    ];
    let key = key.to_ascii_lowercase();
    EXACT.contains(&key.as_str())
        || key.ends_with("_email")
        || key.ends_with("_name")
        || key.ends_with("_phone")
        || key.ends_with("_address")
        || key.contains("secret")
        || key.contains("token")
}

/// Pretty-printed JSON with the sensitive values replaced; a payload that is not JSON is withheld.
pub fn redact(payload: &str) -> String {
    match serde_json::from_str::<Value>(payload) {
        Ok(mut value) => {
            scrub(&mut value);
            serde_json::to_string_pretty(&value).unwrap_or_else(|_| REDACTED.to_owned())
        }
        Err(_) => "[not JSON: withheld]".to_owned(),
    }
}

fn scrub(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if sensitive(key) && !v.is_null() {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    scrub(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_and_secrets_are_redacted_ids_and_amounts_kept() {
        let payload = r#"{"id":"evt_1","data":{"object":{"id":"cus_1","email":"a@b.c","name":"Ann",
            "customer_email":"a@b.c","address":{"line1":"1 Road"},"client_secret":"pi_secret",
            "amount":2900,"items":[{"billing_details":{"phone":"+1"}}],"metadata":{"user_id":"7"},
            "description":null}}}"#;
        let out = redact(payload);
        for gone in ["a@b.c", "Ann", "1 Road", "pi_secret", "+1"] {
            assert!(!out.contains(gone), "{gone} leaked: {out}");
        }
        for kept in ["evt_1", "cus_1", "2900", "user_id"] {
            assert!(out.contains(kept), "{kept} missing: {out}");
        }
        assert!(out.contains(r#""description": null"#));
    }

    #[test]
    fn non_json_is_withheld() {
        assert_eq!(redact("email=a@b.c"), "[not JSON: withheld]");
    }
}
