//! `POST /webhooks/stripe`: verify the signature over the raw body, store the event in the inbox,
//! answer at once. Processing happens in the worker, never on Stripe's clock.

use super::inbox::{InboxError, InboxWriter, Recorded};
use super::signature::{self, SignatureError};
use axum::http::StatusCode;
use secrecy::SecretString;

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
            Self::Inbox(InboxError::Malformed(_) | InboxError::BadId(_)) => StatusCode::BAD_REQUEST,
            Self::Inbox(InboxError::Unexpected(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub struct WebhookSettings<'a> {
    pub secrets: &'a [SecretString],
    pub tolerance_secs: u64,
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
    Ok(inbox.record(body, now).await?)
}
