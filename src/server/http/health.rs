//! `/healthz`: 200 `ok` when the database answers, 503 otherwise.

use axum::{extract::State, http::StatusCode};

use crate::server::state::AppState;

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.ping().await {
        (StatusCode::OK, "ok")
    } else {
        tracing::error!("health check: the database does not answer");
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
