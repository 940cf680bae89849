//! `/healthz`: 200 when the database answers (the body says when Stripe's prices are not loaded
//! yet: pages work, payments wait), 503 otherwise.

use axum::{extract::State, http::StatusCode};

use crate::server::state::AppState;

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.ping().await {
        if state.prices.current().is_resolved() {
            (StatusCode::OK, "ok")
        } else {
            (StatusCode::OK, "ok; Stripe unreachable since start: prices not loaded, payments wait")
        }
    } else {
        tracing::error!("health check: the database does not answer");
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
