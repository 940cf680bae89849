//! `/_sandbox/*`: a control API for tests and development (clock, chaos, faults, deliveries).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::{App, Fault};
use crate::delivery::Chaos;
use crate::store::Settings;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/_sandbox/clock", get(get_clock))
        .route("/_sandbox/clock/advance", post(post_advance))
        .route("/_sandbox/chaos", get(get_chaos).post(post_chaos))
        .route("/_sandbox/faults", get(get_faults).post(post_fault).delete(delete_faults))
        .route("/_sandbox/settings", get(get_settings).post(post_settings))
        .route("/_sandbox/deliveries", get(get_deliveries))
        .route("/_sandbox/requests", get(get_requests))
        .route("/_sandbox/rate_limit", post(post_rate_limit))
        .route("/_sandbox/deliveries/wait", post(post_wait))
        .route("/_sandbox/webhook_endpoints/{id}/secret", get(get_secret))
        .route("/_sandbox/reset", post(post_reset))
        .route("/_sandbox/health", get(|| async { "ok" }))
}

/// API requests served and refused by the rate limit since start: what a client cost Stripe.
async fn get_requests(AxState(app): AxState<Arc<App>>) -> Json<Value> {
    use std::sync::atomic::Ordering::Relaxed;
    Json(json!({
        "served": app.requests_served.load(Relaxed),
        "rate_limited": app.requests_rate_limited.load(Relaxed),
        "by_resource": app.requests_by_resource.lock().clone(),
        "limit_per_second": app.rate_limiter.lock().as_ref().map(|limit| limit.per_second.get()),
    }))
}

/// Sets Stripe's rate limit (`{"per_second": N}`), or lifts it (`{"per_second": null}`).
async fn post_rate_limit(AxState(app): AxState<Arc<App>>, body: Bytes) -> Response {
    let body = body_value(&body);
    let limit = match &body["per_second"] {
        Value::Null => None,
        value => match value.as_u64().or_else(|| value.as_str()?.parse().ok()).and_then(|n| u32::try_from(n).ok()) {
            Some(n) => match std::num::NonZeroU32::new(n) {
                Some(n) => Some(crate::app::RateLimit::new(n)),
                None => return (StatusCode::BAD_REQUEST, "per_second must be at least 1").into_response(),
            },
            None => return (StatusCode::BAD_REQUEST, "per_second must be a whole number or null").into_response(),
        },
    };
    *app.rate_limiter.lock() = limit;
    Json(json!({ "per_second": body["per_second"] })).into_response()
}

/// Body as JSON, or as a form.
fn body_value(body: &Bytes) -> Value {
    let text = String::from_utf8_lossy(body);
    if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).unwrap_or(json!({}))
    } else {
        crate::form::parse(&text)
    }
}

fn num(value: &Value, key: &str) -> Option<i64> {
    match &value[key] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Advances the sandbox-wide clock and runs what falls due; returns the new time.
pub fn advance(app: &App, secs: i64) -> i64 {
    let base = app.default_base.lock().clone();
    let (now, deliveries) = {
        let mut state = app.state.lock();
        let target = state.now() + secs.max(0);
        let accounts: Vec<String> = state.accounts.keys().cloned().collect();
        let mut deliveries = Vec::new();
        for account in &accounts {
            let mut ctx = crate::store::Ctx::new(&mut state, account, &base);
            crate::engine::run_until(&mut ctx, None, target);
            deliveries.extend(crate::engine::finish(&mut ctx));
        }
        let now = state.now();
        if now < target {
            state.clock_offset += target - now;
        }
        (state.now(), deliveries)
    };
    app.dirty.store(true, std::sync::atomic::Ordering::Release);
    app.send(deliveries);
    now
}

/// One tick of the sandbox-wide clock: due work and idempotency expiry.
pub fn tick(app: &App) {
    let base = app.default_base.lock().clone();
    let deliveries = {
        let mut state = app.state.lock();
        let now = state.now();
        state.idempotency.retain(|_, e| now - e.created < 86_400);
        crate::engine::tick_all(&mut state, &base)
    };
    if !deliveries.is_empty() {
        app.dirty.store(true, std::sync::atomic::Ordering::Release);
    }
    app.send(deliveries);
}

async fn get_clock(AxState(app): AxState<Arc<App>>) -> Json<Value> {
    let state = app.state.lock();
    Json(json!({"now": state.now(), "offset": state.clock_offset}))
}

async fn post_advance(AxState(app): AxState<Arc<App>>, body: Bytes) -> Response {
    let request = body_value(&body);
    let secs = num(&request, "seconds").unwrap_or(0)
        + num(&request, "days").unwrap_or(0) * 86_400
        + num(&request, "hours").unwrap_or(0) * 3600;
    let secs = match num(&request, "to") {
        Some(to) => to - app.state.lock().now(),
        None => secs,
    };
    if secs < 0 {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "the sandbox clock only moves forward"})))
            .into_response();
    }
    let now = advance(&app, secs);
    Json(json!({"now": now})).into_response()
}

async fn get_chaos(AxState(app): AxState<Arc<App>>) -> Json<Chaos> {
    Json(app.chaos.lock().clone())
}

async fn post_chaos(AxState(app): AxState<Arc<App>>, body: Bytes) -> Response {
    let request = body_value(&body);
    let mut chaos = app.chaos.lock();
    if let Some(value) =
        request["duplicate_share"].as_f64().or_else(|| request["duplicate_share"].as_str().and_then(|s| s.parse().ok()))
    {
        chaos.duplicate_share = value.clamp(0.0, 1.0);
    }
    if let Some(value) = num(&request, "reorder_window") {
        chaos.reorder_window = value.max(1) as usize;
    }
    if let Some(value) = num(&request, "delay_ms") {
        chaos.delay_ms = value.max(0) as u64;
    }
    if let Some(value) = num(&request, "concurrency") {
        chaos.concurrency = value.max(1) as usize;
    }
    Json(json!(*chaos)).into_response()
}

async fn get_faults(AxState(app): AxState<Arc<App>>) -> Json<Vec<Fault>> {
    Json(app.faults.lock().clone())
}

async fn post_fault(AxState(app): AxState<Arc<App>>, body: Bytes) -> Response {
    let request = body_value(&body);
    let Some(path) = request["path"].as_str() else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "path is required"}))).into_response();
    };
    let fault = Fault {
        path: path.to_string(),
        method: request["method"].as_str().map(str::to_string),
        status: num(&request, "status").map(|s| s as u16),
        delay_ms: num(&request, "delay_ms").map(|d| d as u64),
        times: num(&request, "times").unwrap_or(1).max(1) as u32,
    };
    app.faults.lock().push(fault.clone());
    Json(json!(fault)).into_response()
}

#[derive(Deserialize)]
struct FaultQuery {
    path: Option<String>,
}

/// Clears every fault, or with `?path=…` only the faults added for that path (so tests running
/// side by side each clear their own).
async fn delete_faults(AxState(app): AxState<Arc<App>>, Query(query): Query<FaultQuery>) -> StatusCode {
    match query.path {
        Some(path) => app.faults.lock().retain(|f| f.path != path),
        None => app.faults.lock().clear(),
    }
    StatusCode::NO_CONTENT
}

async fn get_settings(AxState(app): AxState<Arc<App>>) -> Json<Settings> {
    Json(app.state.lock().settings.clone())
}

async fn post_settings(AxState(app): AxState<Arc<App>>, body: Bytes) -> Response {
    let request = body_value(&body);
    let mut state = app.state.lock();
    let mut current = serde_json::to_value(&state.settings).unwrap_or(json!({}));
    if let Value::Object(m) = request {
        for (k, val) in m {
            current[k] = val;
        }
    }
    match serde_json::from_value::<Settings>(current) {
        Ok(s) => {
            state.settings = s.clone();
            Json(json!(s)).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e.to_string()}))).into_response(),
    }
}

#[derive(Deserialize)]
struct DeliveryQuery {
    event_type: Option<String>,
    endpoint: Option<String>,
}

async fn get_deliveries(AxState(app): AxState<Arc<App>>, Query(query): Query<DeliveryQuery>) -> Json<Value> {
    let attempts: Vec<_> = app
        .attempts
        .lock()
        .iter()
        .filter(|a| {
            query.event_type.as_deref().is_none_or(|t| a.event_type == t)
                && query.endpoint.as_deref().is_none_or(|e| a.endpoint_id == e)
        })
        .cloned()
        .collect();
    Json(
        json!({"data": attempts, "in_flight": app.inflight.load(std::sync::atomic::Ordering::SeqCst), "retrying": app.retrying.load(std::sync::atomic::Ordering::SeqCst)}),
    )
}

async fn post_wait(AxState(app): AxState<Arc<App>>, body: Bytes) -> Json<Value> {
    let request = body_value(&body);
    let ms = num(&request, "timeout_ms").unwrap_or(5000).clamp(0, 60_000) as u64;
    let idle =
        app.wait_idle(Duration::from_millis(ms), request["retries"] == true || request["retries"] == "true").await;
    Json(json!({"idle": idle}))
}

/// The signing secret of an endpoint (Stripe shows it in the Dashboard; handy in dev).
async fn get_secret(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let account = headers.get("stripe-account").and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
    let state = app.state.lock();
    let secret = state
        .accounts
        .get(&account)
        .and_then(|a| a.collections.get("webhook_endpoint"))
        .and_then(|c| c.map.get(&id))
        .and_then(|e| e["_sb_secret"].as_str().map(str::to_string));
    match secret {
        Some(s) => Json(json!({"id": id, "secret": s})).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "no such webhook endpoint"}))).into_response(),
    }
}

async fn post_reset(AxState(app): AxState<Arc<App>>) -> StatusCode {
    {
        let mut state = app.state.lock();
        let settings = state.settings.clone();
        *state = crate::store::State { settings, ..Default::default() };
    }
    app.attempts.lock().clear();
    app.faults.lock().clear();
    app.dirty.store(true, std::sync::atomic::Ordering::Release);
    StatusCode::NO_CONTENT
}
