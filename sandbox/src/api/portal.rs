//! `/v1/billing_portal/configurations` and `/v1/billing_portal/sessions`: parameters read
//! here, changes made by `engine::portal`.

use serde_json::{json, Value};

use crate::engine::portal::{self, ConfigurationUpdate, NewConfiguration, NewSession};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, new_metadata, paginate, param_bool, param_clearable_str, param_nonempty, public, Ctx,
};

/// `POST /v1/billing_portal/configurations`.
pub fn create_portal_configuration(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let new_configuration = NewConfiguration {
        features: params.get("features").cloned(),
        business_profile: params.get("business_profile").cloned().unwrap_or(json!({})),
        default_return_url: param_nonempty(params, "default_return_url").map(str::to_string),
        metadata: new_metadata(params)?,
        name: param_nonempty(params, "name").map(str::to_string),
    };
    portal::create_configuration(ctx, new_configuration)
}

pub fn update_portal_configuration(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let change = ConfigurationUpdate {
        features: params.get("features").cloned(),
        active: param_bool(params, "active")?,
        default_return_url: param_clearable_str(params, "default_return_url"),
        metadata: params.get("metadata").cloned(),
    };
    portal::update_configuration(ctx, id, change)
}

/// `GET /v1/billing_portal/configurations`. The account's default configuration always exists,
/// as on an account whose portal settings were saved in the dashboard; `active` and
/// `is_default` filter as on Stripe.
pub fn list_portal_configurations(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    portal::default_configuration(ctx)?;
    let active = param_bool(params, "active")?;
    let is_default = param_bool(params, "is_default")?;
    let mut items = Vec::new();
    for configuration in ctx.all("billing_portal.configuration") {
        if active.is_some_and(|a| configuration["active"] != a)
            || is_default.is_some_and(|d| configuration["is_default"] != d)
        {
            continue;
        }
        if !created_matches(params, "created", configuration["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(configuration));
    }
    paginate(items, params, "/v1/billing_portal/configurations")
}

pub fn create_portal_session(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_nonempty(params, "customer").ok_or_else(|| ApiError::missing("customer"))?;
    let new_session = NewSession {
        customer: customer.to_string(),
        configuration: param_nonempty(params, "configuration").map(str::to_string),
        return_url: param_nonempty(params, "return_url").map(str::to_string),
        locale: param_nonempty(params, "locale").map(str::to_string),
    };
    portal::create_session(ctx, new_session)
}
