//! `GET /metrics` in Prometheus' text format: requests and their latency per route, and the
//! webhook inbox and email outbox backlogs, read from the database at scrape time. It is served
//! only when `METRICS_TOKEN` is set, and only to a scraper that sends it as a bearer token.

use std::{sync::OnceLock, time::Instant};

use anyhow::Context;
use axum::{
    body::Body,
    extract::{MatchedPath, State},
    http::{header, HeaderMap, Request, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::server::{alerts, db, state::AppState};

/// Latency buckets (seconds) for the request histogram.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The process-wide recorder (the `metrics` facade has one global recorder, and the test suite
/// runs many apps in one process).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .expect("non-empty buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; metrics then go there.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        handle
    })
}

/// Middleware on matched routes: one count and one latency sample per request, labelled with
/// the route pattern (never the raw path, which may hold ids).
pub async fn track(request: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("tollgate_http_requests_total", &labels).increment(1);
    metrics::histogram!("tollgate_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !bearer_matches(&headers, token.expose_secret()) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")]).into_response();
    }
    if let Err(e) = record_backlogs(&state).await {
        tracing::error!(error = format!("{e:#}"), "reading backlogs for /metrics");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let handle = handle();
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// Compares digests, so the time taken says nothing about how much of the token was right.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(sent) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    Sha256::digest(sent.trim().as_bytes()) == Sha256::digest(token.as_bytes())
}

/// Gauges of what is waiting: webhook events not applied yet (and the oldest one's age), dead
/// events, and emails not sent yet; and each alert kind's value and whether it is open.
async fn record_backlogs(state: &AppState) -> anyhow::Result<()> {
    let pool = state.db.pool();
    let now = db::now();
    let readings = alerts::measure(pool, &state.stripe_client, &state.config.alerts, now).await?;
    alerts::record_gauges(pool, &readings).await?;
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM webhook_events \
         WHERE status IN ('pending', 'retrying', 'dead') GROUP BY status",
    )
    .fetch_all(pool)
    .await
    .context("counting webhook events")?;
    for status in ["pending", "retrying", "dead"] {
        let n = counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
        metrics::gauge!("tollgate_webhook_events", "status" => status).set(n as f64);
    }
    let oldest: Option<i64> =
        sqlx::query_scalar("SELECT MIN(received_at) FROM webhook_events WHERE status IN ('pending', 'retrying')")
            .fetch_one(pool)
            .await
            .context("reading the oldest waiting event")?;
    metrics::gauge!("tollgate_webhook_oldest_waiting_seconds").set(oldest.map_or(0, |t| (now - t).max(0)) as f64);
    let unsent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM emails WHERE status = 'pending'")
        .fetch_one(pool)
        .await
        .context("counting unsent emails")?;
    metrics::gauge!("tollgate_emails_unsent").set(unsent as f64);
    crate::server::usage::health::record_gauges(pool, now).await?;
    Ok(())
}
