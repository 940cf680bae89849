//! `POST /webhooks/stripe`: thin; the work is in `server::webhooks::receive`.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
};

use crate::server::{
    db::now,
    state::AppState,
    webhooks::{
        inbox::Recorded,
        receive::{receive, WebhookSettings},
    },
};

pub async fn stripe(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let settings =
        WebhookSettings { secrets: &state.webhook_secrets, tolerance_secs: state.config.stripe.webhook_tolerance_secs };
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    match receive(&state.inbox, &settings, signature, body, now()).await {
        Ok(recorded) => {
            let outcome = if recorded == Recorded::New {
                state.inbox_notify.notify_one();
                "stored"
            } else {
                "duplicate"
            };
            metrics::counter!("tollgate_webhooks_received_total", "outcome" => outcome).increment(1);
            (StatusCode::OK, "ok")
        }
        Err(err) => {
            let status = err.status();
            metrics::counter!("tollgate_webhooks_received_total", "outcome" => "refused").increment(1);
            // The reason, never the body: payloads may carry personal data.
            tracing::warn!(%status, error = %err, "webhook refused");
            (status, if status.is_server_error() { "could not store the event" } else { "bad request" })
        }
    }
}
