//! What a publishable key (`pk_test_…`, the key Stripe.js holds in a browser) may call, as on
//! Stripe: create payment methods and tokens, and retrieve or confirm a PaymentIntent or
//! SetupIntent it names by its `client_secret`. Anything else is Stripe's 401; a PaymentIntent or
//! SetupIntent shows only the fields Stripe's reference marks "retrievable with publishable key".

use axum::http::Method;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{param_nonempty, Ctx};

/// Stripe's answer to a publishable key on an endpoint that needs a secret one.
pub fn secret_key_required() -> ApiError {
    ApiError::unauthorized(
        "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
    )
}

/// True for a request made with a publishable key.
pub fn is_publishable(ctx: &Ctx) -> bool {
    ctx.api_key.starts_with("pk_")
}

/// The intent (`payment_intent` or `setup_intent`, and its id) a client-side route names.
fn intent_route<'a>(method: &str, segments: &[&'a str]) -> Option<(&'static str, &'a str)> {
    match (method, segments) {
        ("GET", ["payment_intents", id]) | ("POST", ["payment_intents", id, "confirm"]) => Some(("payment_intent", id)),
        ("GET", ["setup_intents", id]) | ("POST", ["setup_intents", id, "confirm"]) => Some(("setup_intent", id)),
        _ => None,
    }
}

/// Routes one call, first checking what the key may do and the `client_secret` given.
pub fn route(ctx: &mut Ctx, method: &Method, segments: &[&str], params: &Value) -> ApiResult<Value> {
    let publishable = is_publishable(ctx);
    let intent = intent_route(method.as_str(), segments);
    if let Some((kind, id)) = intent {
        check_client_secret(ctx, kind, id, params, publishable)?;
    } else if publishable && !matches!((method.as_str(), segments), ("POST", ["payment_methods"] | ["tokens"])) {
        return Err(secret_key_required());
    }
    let result = super::route(ctx, method, segments, params);
    match intent {
        Some((kind, _)) if publishable => result.map(|v| client_view(kind, &v)).map_err(|e| client_error(kind, e)),
        _ => result,
    }
}

/// A `client_secret` given (required with a publishable key) must be the intent's; a wrong one
/// answers as if the intent did not exist.
fn check_client_secret(ctx: &Ctx, kind: &str, id: &str, params: &Value, required: bool) -> ApiResult<()> {
    let given = param_nonempty(params, "client_secret");
    if given.is_none() && !required {
        return Ok(());
    }
    let Some(given) = given else { return Err(ApiError::missing("client_secret")) };
    let object = ctx.find(kind, id, "intent")?;
    if object["client_secret"] != given {
        return Err(ApiError::not_found(kind, id, "intent"));
    }
    Ok(())
}

/// The fields of a PaymentIntent / SetupIntent a publishable key sees (Stripe's API reference).
fn client_fields(kind: &str) -> &'static [&'static str] {
    if kind == "payment_intent" {
        &[
            "id",
            "object",
            "amount",
            "automatic_payment_methods",
            "canceled_at",
            "cancellation_reason",
            "capture_method",
            "client_secret",
            "confirmation_method",
            "created",
            "currency",
            "description",
            "last_payment_error",
            "livemode",
            "next_action",
            "payment_method",
            "payment_method_configuration_details",
            "payment_method_types",
            "processing",
            "receipt_email",
            "setup_future_usage",
            "shipping",
            "status",
        ]
    } else {
        &[
            "id",
            "object",
            "automatic_payment_methods",
            "cancellation_reason",
            "client_secret",
            "created",
            "description",
            "last_setup_error",
            "livemode",
            "next_action",
            "payment_method",
            "payment_method_configuration_details",
            "payment_method_types",
            "status",
            "usage",
        ]
    }
}

/// The intent as a publishable key sees it.
fn client_view(kind: &str, object: &Value) -> Value {
    let Value::Object(fields) = object else { return object.clone() };
    let kept: Map<String, Value> = client_fields(kind)
        .iter()
        .filter_map(|key| fields.get(*key).map(|value| (key.to_string(), value.clone())))
        .collect();
    Value::Object(kept)
}

/// An error carrying the intent (a decline) shows it as a publishable key sees it.
fn client_error(kind: &str, mut error: ApiError) -> ApiError {
    if let Some(Value::Object(extra)) = error.extra.as_mut() {
        if let Some(intent) = extra.get_mut(kind) {
            *intent = client_view(kind, intent);
        }
        extra.remove("charge");
    }
    error
}
