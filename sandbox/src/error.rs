//! Stripe's error object and status codes.

use axum::http::StatusCode;
use serde_json::{json, Value};

/// An error answered as `{"error": {...}}` with Stripe's HTTP status.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub code: Option<String>,
    pub param: Option<String>,
    pub message: String,
    pub decline_code: Option<String>,
    /// Extra fields merged into the error object (e.g. `payment_intent` on card errors).
    pub extra: Option<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, code: None, param: None, message: message.into(), decline_code: None, extra: None }
    }
    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }
    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }
    pub fn with_extra(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request_error", message)
    }
    pub fn missing(param: &str) -> Self {
        Self::invalid(format!("Missing required param: {param}.")).with_code("parameter_missing").with_param(param)
    }
    pub fn bad_param(param: &str, message: impl Into<String>) -> Self {
        Self::invalid(message).with_code("parameter_invalid_empty").with_param(param)
    }
    pub fn invalid_value(param: &str, message: impl Into<String>) -> Self {
        Self::invalid(message).with_param(param)
    }
    pub fn not_found(object: &str, id: &str, param: &str) -> Self {
        Self::new(404, "invalid_request_error", format!("No such {object}: '{id}'"))
            .with_code("resource_missing")
            .with_param(param)
    }
    pub fn unknown_route(method: &str, path: &str) -> Self {
        Self::new(404, "invalid_request_error", format!("Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."))
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "invalid_request_error", message)
    }
    pub fn idempotency(message: impl Into<String>) -> Self {
        Self::new(400, "idempotency_error", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "invalid_request_error", message).with_code("lock_timeout")
    }
    pub fn rate_limited() -> Self {
        Self::new(
            429,
            "invalid_request_error",
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        )
        .with_code("rate_limit")
    }
    pub fn internal() -> Self {
        Self::new(
            500,
            "api_error",
            "An unknown error occurred while processing your request (sandbox fault injection).",
        )
    }
    /// A card error (402): `code` like `card_declined`, `decline_code` like `insufficient_funds`.
    pub fn card(code: &str, decline_code: Option<&str>, message: impl Into<String>) -> Self {
        let mut e = Self::new(402, "card_error", message).with_code(code);
        e.decline_code = decline_code.map(str::to_string);
        e
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST)
    }

    /// The JSON body Stripe sends.
    pub fn body(&self) -> Value {
        let mut e = json!({ "type": self.kind, "message": self.message });
        let m = e.as_object_mut().expect("object");
        if let Some(c) = &self.code {
            m.insert("code".into(), json!(c));
            m.insert("doc_url".into(), json!(format!("https://stripe.com/docs/error-codes/{}", c.replace('_', "-"))));
        }
        if let Some(p) = &self.param {
            m.insert("param".into(), json!(p));
        }
        if let Some(d) = &self.decline_code {
            m.insert("decline_code".into(), json!(d));
        }
        if let Some(Value::Object(extra)) = &self.extra {
            for (k, v) in extra {
                m.insert(k.clone(), v.clone());
            }
        }
        json!({ "error": e })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_matches_stripe_shape() {
        let e = ApiError::not_found("customer", "cus_x", "id");
        assert_eq!(e.status, 404);
        let b = e.body();
        assert_eq!(b["error"]["type"], "invalid_request_error");
        assert_eq!(b["error"]["code"], "resource_missing");
        assert_eq!(b["error"]["param"], "id");
        assert_eq!(b["error"]["message"], "No such customer: 'cus_x'");
        assert_eq!(b["error"]["doc_url"], "https://stripe.com/docs/error-codes/resource-missing");
    }

    #[test]
    fn card_error_has_decline_code() {
        let b = ApiError::card("card_declined", Some("insufficient_funds"), "Your card has insufficient funds.").body();
        assert_eq!(b["error"]["type"], "card_error");
        assert_eq!(b["error"]["decline_code"], "insufficient_funds");
        assert!(b["error"].get("param").is_none());
    }
}
