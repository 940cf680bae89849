//! The webhook inbox: every verified Stripe event is stored once (unique on the event id) before
//! Stripe gets its 2xx; the worker applies it later. A duplicate delivery is not an error.

use anyhow::Context;
use serde::Deserialize;
use sqlx::AnyPool;

/// Where an event came from: a delivery, the reconcile job reading `/v1/events`, or a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Webhook,
    Reconcile,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Reconcile => "reconcile",
        }
    }
}

/// The part of Stripe's event envelope the inbox needs; the rest stays in the stored payload.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub created: i64,
    #[serde(default)]
    pub livemode: bool,
    pub data: EnvelopeData,
}

#[derive(Debug, Deserialize)]
pub struct EnvelopeData {
    pub object: EnvelopeObject,
}

#[derive(Debug, Deserialize)]
pub struct EnvelopeObject {
    pub id: Option<String>,
    pub object: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("body is not a Stripe event: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("event id {0:?} is not an event id")]
    BadId(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

pub fn parse(body: &[u8]) -> Result<Envelope, InboxError> {
    let envelope: Envelope = serde_json::from_slice(body)?;
    if !envelope.id.starts_with("evt_") || envelope.id.len() > 255 {
        return Err(InboxError::BadId(envelope.id));
    }
    Ok(envelope)
}

/// Stores a verified event body. `now` is unix seconds.
pub async fn record(
    pool: &AnyPool,
    body: &[u8],
    source: Source,
    now: i64,
) -> Result<Recorded, InboxError> {
    let envelope = parse(body)?;
    let payload = std::str::from_utf8(body).context("event body is not UTF-8")?;
    let result = sqlx::query(
        "INSERT INTO webhook_events \
           (id, event_type, object_type, object_id, livemode, stripe_created, payload, source, \
            status, attempts, next_attempt_at, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&envelope.id)
    .bind(&envelope.type_)
    .bind(&envelope.data.object.object)
    .bind(envelope.data.object.id.as_deref())
    .bind(envelope.livemode)
    .bind(envelope.created)
    .bind(payload)
    .bind(source.as_str())
    .bind(now)
    .execute(pool)
    .await
    .with_context(|| format!("storing event {}", envelope.id))?;
    Ok(if result.rows_affected() == 1 { Recorded::New } else { Recorded::Duplicate })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_envelope_and_refuses_what_is_not_an_event() {
        let body = br#"{"id":"evt_1","object":"event","type":"customer.created","created":5,
            "livemode":false,"data":{"object":{"id":"cus_1","object":"customer"}}}"#;
        let e = parse(body).unwrap();
        assert_eq!((e.id.as_str(), e.type_.as_str(), e.created), ("evt_1", "customer.created", 5));
        assert_eq!(e.data.object.id.as_deref(), Some("cus_1"));
        assert!(matches!(parse(b"not json"), Err(InboxError::Malformed(_))));
        assert!(matches!(parse(br#"{"id":"evt_1"}"#), Err(InboxError::Malformed(_))));
        let wrong_id = br#"{"id":"cus_1","type":"x","created":1,"data":{"object":{"object":"x"}}}"#;
        assert!(matches!(parse(wrong_id), Err(InboxError::BadId(_))));
    }
}
