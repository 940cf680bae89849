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

/// `POST /webhooks/stripe`: the platform's own events.
pub async fn stripe(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let secrets = state.webhook_secrets.clone();
    deliver(&state, Endpoint::Platform, &secrets, &headers, body).await
}

/// `POST /webhooks/stripe/connect`: events of connected accounts (an endpoint registered with
/// `connect=true`), signed with that endpoint's own secret (`STRIPE_CONNECT_WEBHOOK_SECRET`).
pub async fn stripe_connect(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    if state.connect_webhook_secrets.is_empty() {
        tracing::warn!("a Connect webhook arrived, but STRIPE_CONNECT_WEBHOOK_SECRET is not set");
        return (StatusCode::BAD_REQUEST, "the Connect endpoint is not configured");
    }
    let secrets = state.connect_webhook_secrets.clone();
    deliver(&state, Endpoint::Connect, &secrets, &headers, body).await
}

async fn deliver(
    state: &AppState,
    endpoint: Endpoint,
    secrets: &[SecretString],
    headers: &HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let settings = WebhookSettings {
        secrets,
        tolerance_secs: state.config.stripe.webhook_tolerance_secs,
        livemode: state.stripe.mode == StripeMode::Live,
        endpoint,
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
            tracing::warn!(%status, endpoint = endpoint.path(), error = %err, "webhook refused");
            (status, if status.is_server_error() { "could not store the event" } else { "bad request" })
        }
    }
}

/// Which of the app's two webhook endpoints a delivery came to. Stripe sends a connected
/// account's events (they carry `account`) only to Connect endpoints, and the platform's only
/// to the others: an event at the wrong one was not sent by Stripe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Platform,
    Connect,
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Self::Platform => "/webhooks/stripe",
            Self::Connect => "/webhooks/stripe/connect",
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
    #[error("a connected account's event at the platform endpoint")]
    ConnectEventAtPlatform,
    #[error("a platform event (no account) at the Connect endpoint")]
    PlatformEventAtConnect,
}

impl ReceiveError {
    /// Stripe retries on anything but 2xx: a bad request will never succeed (400); a storage
    /// failure might (500), and then nothing was stored, so the retry is safe.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Signature(_) | Self::ConnectEventAtPlatform | Self::PlatformEventAtConnect => StatusCode::BAD_REQUEST,
            Self::Inbox(
                InboxError::Malformed(_)
                | InboxError::BadId(_)
                | InboxError::BadAccount(_)
                | InboxError::WrongMode { .. },
            ) => StatusCode::BAD_REQUEST,
            Self::Inbox(InboxError::Unexpected(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub struct WebhookSettings<'a> {
    pub secrets: &'a [SecretString],
    pub tolerance_secs: u64,
    /// The mode of the app's key: an event of the other mode is refused.
    pub livemode: bool,
    pub endpoint: Endpoint,
}

/// Verifies and stores one delivery.
pub async fn receive(
    inbox: &InboxWriter,
    settings: &WebhookSettings<'_>,
    signature_header: Option<&str>,
    body: axum::body::Bytes,
    now: i64,
) -> Result<Recorded, ReceiveError> {
    // Stripe signs with its servers' real time: the tolerance is judged on the system clock,
    // also when the app follows the embedded sandbox's moved clock (`db::follow_clock`).
    signature::verify(
        signature_header,
        &body,
        settings.secrets,
        settings.tolerance_secs,
        crate::server::db::system_now(),
    )?;
    let envelope = super::inbox::parse(&body)?;
    match (settings.endpoint, envelope.account.is_some()) {
        (Endpoint::Platform, true) => return Err(ReceiveError::ConnectEventAtPlatform),
        (Endpoint::Connect, false) => return Err(ReceiveError::PlatformEventAtConnect),
        _ => {}
    }
    Ok(inbox.record_parsed(envelope, body, settings.livemode, now).await?)
}
