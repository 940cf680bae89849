//! The cross-cutting work on every `/v1` request, as axum middleware layers around the thin
//! `api::entry::entry` handler. Outermost first: [`cors`] (api.stripe.com's CORS headers and
//! preflights), [`request_log`] (request id, Stripe's
//! `request_log_url` in error bodies), [`check_api_key`], [`rate_limit`] (Stripe's 429 above a
//! set rate), [`inject_faults`] (control API faults), [`idempotency`] (`Idempotency-Key` replay).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::Value;

use crate::app::{App, Fault};
use crate::error::ApiError;
use crate::store::{IdemEntry, API_VERSION, PLATFORM};
use crate::util::new_id;

/// What the layers learnt about a request, for the entry handler (a request extension).
#[derive(Clone, Debug)]
pub struct RequestInfo {
    pub request_id: String,
    /// Set when the request takes part in idempotency (a write with a key).
    pub idempotency_key: Option<String>,
}

/// Bodies larger than this are refused, as axum's `Bytes` extractor does by default.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A JSON response with Stripe's headers (`request-id` is added by [`request_log`]).
pub fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("stripe-version", HeaderValue::from_static(API_VERSION));
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

fn error_response(error: &ApiError) -> Response {
    json_response(error.status_code(), error.body().to_string(), false)
}

/// Gives the request its id; on the way out sets the `request-id` header and, like Stripe,
/// the `request_log_url` of error bodies.
pub async fn request_log(mut request: Request, next: Next) -> Response {
    let request_id = new_id("req");
    request.extensions_mut().insert(RequestInfo { request_id: request_id.clone(), idempotency_key: None });
    let response = next.run(request).await;
    let status = response.status();
    let (mut parts, body) = response.into_parts();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        parts.headers.insert("request-id", value);
    }
    if !(status.is_client_error() || status.is_server_error()) {
        return Response::from_parts(parts, body);
    }
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut error) if error.get("error").is_some() => {
            error["error"]["request_log_url"] = format!("https://dashboard.stripe.com/test/logs/{request_id}").into();
            parts.headers.remove(header::CONTENT_LENGTH);
            Body::from(error.to_string())
        }
        _ => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}

/// Extracts the API key from `Authorization: Bearer …` or basic auth.
pub fn api_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) {
        return Some(token.trim().to_string());
    }
    if let Some(basic) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) {
        let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim()).ok()?;
        let user_password = String::from_utf8(decoded).ok()?;
        return Some(user_password.split(':').next().unwrap_or_default().to_string());
    }
    None
}

/// Any `sk_test_…` / `rk_test_…` key is accepted, and any `pk_test_…` key (Stripe.js's; what it
/// may call is checked by `api::publishable`); anything else is a 401 in Stripe's words.
pub fn check_key(headers: &HeaderMap) -> Result<(), ApiError> {
    match api_key(headers) {
        None => Err(ApiError::unauthorized(
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )),
        Some(k) if ["sk_test_", "rk_test_", "pk_test_"].iter().any(|p| k.starts_with(p)) && k.len() > 8 => Ok(()),
        Some(k) => {
            let shown = if k.len() > 8 { format!("{}{}", &k[..8], "*".repeat(4)) } else { k.clone() };
            Err(ApiError::unauthorized(format!("Invalid API Key provided: {shown}")).with_code("api_key_invalid"))
        }
    }
}

pub async fn check_api_key(request: Request, next: Next) -> Response {
    let request = match key_from_params(request).await {
        Ok(request) => request,
        Err(error) => return error_response(&error),
    };
    match check_key(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error_response(&error),
    }
}

/// Stripe.js sends its publishable key as the `key` parameter (a form field of a POST, the
/// query of a GET) rather than a header, to spare the browser a CORS preflight. Without an
/// `Authorization` header, such a key is taken out of the parameters and put in the header the
/// rest of the API reads.
async fn key_from_params(request: Request) -> Result<Request, ApiError> {
    if request.headers().contains_key(header::AUTHORIZATION) {
        return Ok(request);
    }
    let (mut parts, body) = request.into_parts();
    let (key, query) = take_key(parts.uri.query().unwrap_or_default());
    let mut body = body;
    let mut key = key;
    if key.is_none() && parts.method == Method::POST {
        let bytes =
            to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| ApiError::invalid("The request body is too large."))?;
        let (from_body, rest) = take_key(std::str::from_utf8(&bytes).unwrap_or_default());
        key = from_body;
        body = if key.is_some() { Body::from(rest) } else { Body::from(bytes) };
        parts.headers.remove(header::CONTENT_LENGTH);
    } else if key.is_some() {
        let path = parts.uri.path();
        let uri = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
        parts.uri = uri.parse().map_err(|_| ApiError::invalid("Invalid request URL."))?;
    }
    if let Some(value) = key.and_then(|key| HeaderValue::from_str(&format!("Bearer {key}")).ok()) {
        parts.headers.insert(header::AUTHORIZATION, value);
    }
    Ok(Request::from_parts(parts, body))
}

/// The largest form body read for a `key` parameter (Stripe.js's requests are small).
const MAX_FORM_BYTES: usize = 1 << 20;

/// The `key` parameter of an urlencoded string, and the string without it.
fn take_key(encoded: &str) -> (Option<String>, String) {
    let mut key = None;
    let rest: Vec<&str> = encoded
        .split('&')
        .filter(|pair| match pair.strip_prefix("key=") {
            Some(value) if key.is_none() => {
                key = Some(value.replace('+', " "));
                false
            }
            _ => !pair.is_empty(),
        })
        .collect();
    (key, rest.join("&"))
}

/// The headers api.stripe.com sets on every answer, so that Stripe.js (another origin) may read it.
const CORS_HEADERS: [(&str, &str); 5] = [
    ("access-control-allow-credentials", "true"),
    ("access-control-allow-methods", "GET, HEAD, PUT, PATCH, POST, DELETE"),
    ("access-control-allow-origin", "*"),
    (
        "access-control-expose-headers",
        "Request-Id, Stripe-Manage-Version, Stripe-Should-Retry, X-Stripe-External-Auth-Required, X-Stripe-Privileged-Session-Required",
    ),
    ("access-control-max-age", "300"),
];

/// CORS as api.stripe.com answers it: a preflight (`OPTIONS`) is answered at once, allowing the
/// headers asked for; every other answer (errors included) carries the same headers.
pub async fn cors(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        let mut preflight = StatusCode::OK.into_response();
        if let Some(asked) = request.headers().get("access-control-request-headers") {
            preflight.headers_mut().insert("access-control-allow-headers", asked.clone());
        }
        preflight
    } else {
        next.run(request).await
    };
    for (name, value) in CORS_HEADERS {
        response.headers_mut().insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Stripe's rate limit: above `SandboxConfig::rate_limit_per_sec` requests per second, a 429
/// with Stripe's `rate_limit` error. Counts what it serves and refuses for `/_sandbox/requests`.
pub async fn rate_limit(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let limit = app.rate_limiter.lock().clone();
    if let Some(limit) = limit {
        if limit.limiter.check().is_err() {
            app.requests_rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return error_response(&ApiError::rate_limited());
        }
    }
    app.requests_served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    *app.requests_by_resource.lock().entry(resource(request.method(), request.uri().path())).or_default() += 1;
    next.run(request).await
}

/// `GET /v1/invoices` for `GET /v1/invoices/in_123?expand[]=payments`: what a request cost,
/// without the object it named.
fn resource(method: &Method, path: &str) -> String {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let (version, name) = (segments.next().unwrap_or(""), segments.next().unwrap_or(""));
    let name = if name == "checkout" || name == "billing_portal" || name == "test_helpers" {
        format!("{name}/{}", segments.next().unwrap_or(""))
    } else {
        name.to_string()
    };
    format!("{method} /{version}/{name}")
}

/// Takes a matching fault, if any (decrementing its count).
fn take_fault(app: &App, method: &Method, path: &str) -> Option<Fault> {
    let mut faults = app.faults.lock();
    let index = faults.iter().position(|f| {
        path.contains(&f.path)
            && f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
            && f.times > 0
    })?;
    let fault = faults[index].clone();
    faults[index].times -= 1;
    if faults[index].times == 0 {
        faults.remove(index);
    }
    Some(fault)
}

/// Faults added through `/_sandbox/faults`: a delay, then a 429 / 500-like error instead of
/// the request.
pub async fn inject_faults(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if let Some(fault) = take_fault(&app, request.method(), request.uri().path()) {
        if let Some(ms) = fault.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Some(status) = fault.status {
            let error = if status == 429 {
                ApiError::rate_limited()
            } else {
                let mut error = ApiError::internal();
                error.status = status;
                error
            };
            return error_response(&error);
        }
    }
    next.run(request).await
}

/// `Idempotency-Key` on a write: the first response (unless a 5xx or 429) is kept for 24 hours
/// and replayed for the same request; another request with the key is refused.
pub async fn idempotency(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let is_write = request.method() == Method::POST || request.method() == Method::DELETE;
    let key = request.headers().get("idempotency-key").and_then(|h| h.to_str().ok()).map(str::to_string);
    let (Some(key), true) = (key, is_write) else { return next.run(request).await };
    let account = request.headers().get("stripe-account").and_then(|h| h.to_str().ok()).unwrap_or(PLATFORM);
    let slot = format!("{account}|{key}");
    // Requests with one key run one at a time, so a retry waits for the first and replays it.
    let slot_lock = app.idempotency_slot(&slot);
    let response = {
        let _running = slot_lock.lock().await;
        replay_or_run(&app, &slot, key, request, next).await
    };
    drop(slot_lock);
    app.release_idempotency_slots();
    response
}

async fn replay_or_run(app: &App, slot: &str, key: String, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "Failed to buffer the request body: length limit exceeded")
            .into_response();
    };
    let body_text = String::from_utf8_lossy(&body).to_string();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let previous = {
        let state = app.state.lock();
        let now = state.now();
        state.idempotency.get(slot).filter(|entry| now - entry.created < 86_400).cloned()
    };
    if let Some(previous) = previous {
        // Stripe compares the parameters, not the bytes: the same fields in another order (a
        // client's unordered metadata map) are the same request.
        let same_parameters =
            previous.body == body_text || crate::form::parse(&previous.body) == crate::form::parse(&body_text);
        if previous.method != method || previous.path != path || !same_parameters {
            return error_response(&ApiError::idempotency(format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            )));
        }
        let status = StatusCode::from_u16(previous.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return json_response(status, previous.response, true);
    }
    if let Some(info) = parts.extensions.get_mut::<RequestInfo>() {
        info.idempotency_key = Some(key);
    }
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let status = response.status().as_u16();
    if status >= 500 || status == 429 {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    {
        let mut state = app.state.lock();
        let created = state.now();
        let response = String::from_utf8_lossy(&bytes).to_string();
        state
            .idempotency
            .insert(slot.to_string(), IdemEntry { method, path, body: body_text, status, response, created });
    }
    app.dirty.store(true, std::sync::atomic::Ordering::Release);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod key_param_tests {
    use super::take_key;

    #[test]
    fn the_key_parameter_is_taken_out_of_the_rest() {
        assert_eq!(take_key("key=pk_test_abc&client_secret=x"), (Some("pk_test_abc".into()), "client_secret=x".into()));
        assert_eq!(take_key("a=1&key=pk_test_abc"), (Some("pk_test_abc".into()), "a=1".into()));
        assert_eq!(take_key("a=1&monkey=2"), (None, "a=1&monkey=2".into()));
        assert_eq!(take_key(""), (None, String::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn keys_bearer_and_basic() {
        assert!(check_key(&headers("Bearer sk_test_123")).is_ok());
        let basic = base64::engine::general_purpose::STANDARD.encode("sk_test_abc:");
        assert!(check_key(&headers(&format!("Basic {basic}"))).is_ok());
        assert_eq!(check_key(&headers("Bearer sk_live_123")).unwrap_err().status, 401);
        assert!(check_key(&headers("Bearer pk_test_123")).is_ok());
        assert_eq!(check_key(&headers("Bearer pk_live_123")).unwrap_err().status, 401);
        assert_eq!(check_key(&HeaderMap::new()).unwrap_err().status, 401);
    }
}
