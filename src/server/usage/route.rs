//! `POST /api/v1/usage`: a usage report from the SaaS's backend, with an API key.
//!
//! Body: `{"meter": "api-calls", "value": 3, "identifier": "req_123", "timestamp": 1767225600,
//! "customer": "cus_…" | "jo@example.com"}` (`timestamp` defaults to now; `customer` is for
//! platform keys, a customer key reports for its own customer). Answers 202 `created`, or 200
//! `duplicate` when the identifier was reported before (it counts once); 401 without a valid
//! key, 402 when the spend cap is reached, 403 for another customer, 404 for an unknown one,
//! 422 for a bad report (an event older than Stripe's 35 days included).
//!
//! Batch: `{"customer": …, "events": [{"meter", "value", "identifier", "timestamp"}, …]}` (1 to
//! 1,000 events for one customer) answers 200 `{"created", "duplicate", "refused", "results"}`,
//! one result per event in order; a refused event (`"error": {"code", "message"}`, the same as
//! alone) refuses no other. One transaction writes the whole batch: the way to send volume.

use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use crate::server::{
    api_keys::{acting_for::user_acting_for, bearer::ApiCaller},
    db::now,
    http::api_error::ApiError,
    state::AppState,
};

use super::record::{record_many, MAX_BATCH};
use super::{record, Recorded, UsageError, UsageReport};

/// The largest body: a full batch of events with long identifiers.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageBody {
    meter: String,
    #[serde(default = "one")]
    value: i64,
    identifier: String,
    timestamp: Option<i64>,
    customer: Option<String>,
}

/// `{"customer": …, "events": [{meter, value, identifier, timestamp}, …]}`: up to
/// [`MAX_BATCH`] reports for one customer in one request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    events: Vec<BatchEvent>,
    customer: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchEvent {
    meter: String,
    #[serde(default = "one")]
    value: i64,
    identifier: String,
    timestamp: Option<i64>,
}

fn one() -> i64 {
    1
}

pub async fn post_usage(State(state): State<AppState>, caller: ApiCaller, body: Bytes) -> Result<Response, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid(format!("The body must be JSON with meter, value and identifier: {e}")))?;
    if value.get("events").is_some() {
        let batch: BatchBody = serde_json::from_value(value).map_err(|e| {
            ApiError::invalid(format!("A batch is {{\"events\": [{{meter, value, identifier}}, …]}}: {e}"))
        })?;
        return post_batch(&state, caller, batch).await.map(IntoResponse::into_response);
    }
    let body: UsageBody = serde_json::from_value(value)
        .map_err(|e| ApiError::invalid(format!("The body must be JSON with meter, value and identifier: {e}")))?;
    let pool = state.db.pool();
    let user = user_acting_for(pool, caller, body.customer.as_deref()).await?;
    let now = now();
    let report = UsageReport {
        meter: &body.meter,
        value: body.value,
        identifier: &body.identifier,
        occurred_at: body.timestamp.unwrap_or(now),
    };
    let catalog = &state.prices.current().catalog;
    let recorded = record(pool, catalog, &user, &report, now).await.map_err(api_error)?;
    let (status, word) = match recorded {
        Recorded::Created => (StatusCode::ACCEPTED, "created"),
        Recorded::Duplicate => (StatusCode::OK, "duplicate"),
    };
    Ok((status, Json(json!({ "status": word, "identifier": body.identifier }))).into_response())
}

/// A batch answers 200 with one result per event, in order: `created`, `duplicate`, or
/// `refused` with the error a single report would have had; a refused event refuses no other.
async fn post_batch(state: &AppState, caller: ApiCaller, batch: BatchBody) -> Result<impl IntoResponse, ApiError> {
    if batch.events.is_empty() || batch.events.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!("A batch holds 1 to {MAX_BATCH} events.")));
    }
    let pool = state.db.pool();
    let user = user_acting_for(pool, caller, batch.customer.as_deref()).await?;
    let now = now();
    let reports: Vec<UsageReport<'_>> = batch
        .events
        .iter()
        .map(|e| UsageReport {
            meter: &e.meter,
            value: e.value,
            identifier: &e.identifier,
            occurred_at: e.timestamp.unwrap_or(now),
        })
        .collect();
    let catalog = &state.prices.current().catalog;
    let answers = record_many(pool, catalog, &user, &reports, now).await.map_err(api_error)?;
    let (mut created, mut duplicate, mut refused) = (0, 0, 0);
    let results: Vec<serde_json::Value> = answers
        .into_iter()
        .zip(&batch.events)
        .map(|(answer, event)| match answer {
            Ok(Recorded::Created) => {
                created += 1;
                json!({ "identifier": event.identifier, "status": "created" })
            }
            Ok(Recorded::Duplicate) => {
                duplicate += 1;
                json!({ "identifier": event.identifier, "status": "duplicate" })
            }
            Err(error) => {
                refused += 1;
                let error = api_error(error);
                json!({ "identifier": event.identifier, "status": "refused",
                        "error": { "code": error.code, "message": error.message } })
            }
        })
        .collect();
    Ok(Json(json!({ "created": created, "duplicate": duplicate, "refused": refused, "results": results })))
}

fn api_error(error: UsageError) -> ApiError {
    match error {
        UsageError::SpendCapReached { .. } => {
            ApiError::new(StatusCode::PAYMENT_REQUIRED, "spend_cap_reached", error.to_string())
        }
        UsageError::Unexpected(e) => ApiError::internal(&e),
        other => ApiError::invalid(other.to_string()),
    }
}
