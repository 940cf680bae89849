//! `/v1/tax/settings`: parameters read here, changes made by `engine::tax_settings`.

use serde_json::Value;

use crate::engine::tax_settings::{self, TaxSettingsUpdate};
use crate::error::ApiResult;
use crate::store::{param_nonempty, Ctx};

/// `POST /v1/tax/settings`: `defaults[tax_behavior]`, `defaults[tax_code]`, `head_office[address][…]`.
pub fn update_tax_settings(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let defaults = params.get("defaults").cloned().unwrap_or(Value::Null);
    let change = TaxSettingsUpdate {
        tax_behavior: param_nonempty(&defaults, "tax_behavior").map(str::to_string),
        tax_code: param_nonempty(&defaults, "tax_code").map(str::to_string),
        head_office_address: params.get("head_office").and_then(|h| h.get("address")).cloned(),
    };
    tax_settings::update(ctx, change)
}
