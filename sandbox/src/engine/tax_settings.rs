//! Stripe Tax settings: one object per account, `pending` (with the missing fields named) until
//! the head office is set, then `active`. An update emits `tax.settings.updated`. The object has
//! no id on Stripe; the store keys it by a fixed one that is never shown.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{diff, public, Ctx};

const KIND: &str = "tax.settings";
const KEY: &str = "tax_settings";
const TAX_BEHAVIORS: [&str; 3] = ["exclusive", "inclusive", "inferred_by_currency"];
const ADDRESS_FIELDS: [&str; 6] = ["city", "country", "line1", "line2", "postal_code", "state"];

/// A fresh account's settings: nothing set, so not active.
fn initial() -> Value {
    let mut settings = json!({
        "id": KEY,
        "object": "tax.settings",
        "defaults": {"provider": "stripe", "tax_behavior": null, "tax_code": null},
        "head_office": null,
        "livemode": false,
    });
    set_status(&mut settings);
    settings
}

/// `status` and `status_details` follow from what is set.
fn set_status(settings: &mut Value) {
    if settings["head_office"].is_null() {
        settings["status"] = json!("pending");
        settings["status_details"] = json!({"pending": {"missing_fields": ["head_office"]}});
    } else {
        settings["status"] = json!("active");
        settings["status_details"] = json!({"active": {}});
    }
}

fn stored(ctx: &Ctx) -> Value {
    ctx.get(KIND, KEY).cloned().unwrap_or_else(initial)
}

/// As Stripe shows it: without the store's key.
fn shown(settings: &Value) -> Value {
    let mut shown = public(settings);
    if let Some(fields) = shown.as_object_mut() {
        fields.remove("id");
    }
    shown
}

/// `GET /v1/tax/settings`.
pub fn retrieve(ctx: &Ctx) -> Value {
    shown(&stored(ctx))
}

/// A requested change; `None` leaves a part alone.
#[derive(Default)]
pub struct TaxSettingsUpdate {
    /// `defaults[tax_behavior]`.
    pub tax_behavior: Option<String>,
    /// `defaults[tax_code]`.
    pub tax_code: Option<String>,
    /// `head_office[address]` as given.
    pub head_office_address: Option<Value>,
}

/// `POST /v1/tax/settings`.
pub fn update(ctx: &mut Ctx, change: TaxSettingsUpdate) -> ApiResult<Value> {
    let old = stored(ctx);
    let mut new = old.clone();
    if let Some(behavior) = change.tax_behavior {
        if !TAX_BEHAVIORS.contains(&behavior.as_str()) {
            return Err(ApiError::invalid_value(
                "defaults[tax_behavior]",
                format!("Invalid defaults[tax_behavior]: must be one of {}", TAX_BEHAVIORS.join(", ")),
            ));
        }
        new["defaults"]["tax_behavior"] = json!(behavior);
    }
    if let Some(code) = change.tax_code {
        new["defaults"]["tax_code"] = json!(code);
    }
    if let Some(given) = change.head_office_address {
        let country = given.get("country").and_then(Value::as_str).filter(|c| !c.is_empty());
        if country.is_none() {
            return Err(ApiError::missing("head_office[address][country]"));
        }
        let address: serde_json::Map<String, Value> = ADDRESS_FIELDS
            .iter()
            .map(|field| ((*field).to_string(), given.get(*field).cloned().unwrap_or(Value::Null)))
            .collect();
        new["head_office"] = json!({"address": address});
    }
    set_status(&mut new);
    ctx.put(KIND, new.clone());
    let (before, after) = (shown(&old), shown(&new));
    ctx.emit("tax.settings.updated", &after, Some(diff(&before, &after)));
    Ok(after)
}
