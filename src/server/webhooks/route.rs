//! `POST /webhooks/stripe`: verify the signature over the raw body, store the event in the inbox,
//! answer at once. Processing happens in the worker, never on Stripe's clock.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
};
use secrecy::SecretString;

use super::inbox::{InboxError, InboxWriter, Recorded};
use super::signature::{self, SignatureError};
use crate::server::{config::StripeMode, db::now, state::AppState};

pub async fn stripe(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let settings = WebhookSettings {
        secrets: &state.webhook_secrets,
        tolerance_secs: state.config.stripe.webhook_tolerance_secs,
        livemode: state.stripe.mode == StripeMode::Live,
    };
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
            if matches!(err, ReceiveError::Signature(SignatureError::Mismatch)) {
                // Durable, so the alert sees every instance's refusals.
                if let Err(e) = crate::server::alerts::refusals::record(state.db.pool(), now()).await {
                    tracing::warn!(error = %format!("{e:#}"), "counting a refused webhook failed");
                }
            }
            let status = err.status();
            metrics::counter!("tollgate_webhooks_received_total", "outcome" => "refused").increment(1);
            // The reason, never the body: payloads may carry personal data.
            tracing::warn!(%status, error = %err, "webhook refused");
            (status, if status.is_server_error() { "could not store the event" } else { "bad request" })
        }
    }
}

/// Bodies larger than this are refused before they are read whole (Stripe's events are far smaller).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Inbox(#[from] InboxError),
}

impl ReceiveError {
    /// Stripe retries on anything but 2xx: a bad request will never succeed (400); a storage
    /// failure might (500), and then nothing was stored, so the retry is safe.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Signature(_) => StatusCode::BAD_REQUEST,
            Self::Inbox(InboxError::Malformed(_) | InboxError::BadId(_) | InboxError::WrongMode { .. }) => {
                StatusCode::BAD_REQUEST
            }
            Self::Inbox(InboxError::Unexpected(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub struct WebhookSettings<'a> {
    pub secrets: &'a [SecretString],
    pub tolerance_secs: u64,
    /// The mode of the app's key: an event of the other mode is refused.
    pub livemode: bool,
}

/// Verifies and stores one delivery.
pub async fn receive(
    inbox: &InboxWriter,
    settings: &WebhookSettings<'_>,
    signature_header: Option<&str>,
    body: axum::body::Bytes,
    now: i64,
) -> Result<Recorded, ReceiveError> {
    signature::verify(signature_header, &body, settings.secrets, settings.tolerance_secs, now)?;
    Ok(inbox.record(body, settings.livemode, now).await?)
}
