//! The thin `/v1/*` handler: reads the parameters (form body and query), routes the call on a
//! context over the store, expands the result. Key checks, faults, idempotency and the request
//! log are middleware layers around it (`crate::middleware`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use serde_json::Value;

use crate::app::App;
use crate::middleware::{json_response, RequestInfo};
use crate::store::{param_strings, render_response, PLATFORM};

pub async fn entry(
    State(app): State<Arc<App>>,
    Extension(info): Extension<RequestInfo>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = request_params(&method, &uri, &body);
    let account = headers.get("stripe-account").and_then(|h| h.to_str().ok()).unwrap_or(PLATFORM).to_string();
    let base = app.base_url(&headers);
    let segments: Vec<&str> = uri.path().trim_start_matches("/v1/").split('/').filter(|s| !s.is_empty()).collect();
    let (status, text) = app.with_ctx(&account, &base, |ctx| {
        ctx.request_id = Some(info.request_id);
        ctx.idem_key = info.idempotency_key;
        ctx.api_key = crate::middleware::api_key(&headers).unwrap_or_default();
        // A `Stripe-Account` the platform has no connected account for is refused, as on Stripe.
        let routed = if ctx.account != PLATFORM && !crate::engine::accounts::exists(ctx, &ctx.account.clone()) {
            Err(crate::engine::accounts::no_access(&ctx.api_key, &ctx.account))
        } else {
            crate::api::publishable::route(ctx, &method, &segments, &params)
        };
        match routed {
            Ok(mut value) => {
                render_response(ctx, &mut value, &param_strings(&params, "expand"));
                (200u16, value.to_string())
            }
            Err(error) => (error.status, error.body().to_string()),
        }
    });
    json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), text, false)
}

/// GET (and body-less DELETE) read the query; writes read the form body, plus query
/// parameters it does not have (Stripe reads e.g. `expand[]` from the URL too).
fn request_params(method: &Method, uri: &Uri, body: &Bytes) -> Value {
    let body = String::from_utf8_lossy(body);
    let query = uri.query().unwrap_or("");
    if method == Method::GET || method == Method::DELETE && body.is_empty() {
        return crate::form::parse(query);
    }
    let mut params = crate::form::parse(&body);
    if !query.is_empty() {
        if let (Value::Object(from_body), Value::Object(from_query)) = (&mut params, crate::form::parse(query)) {
            for (key, value) in from_query {
                from_body.entry(key).or_insert(value);
            }
        }
    }
    params
}
