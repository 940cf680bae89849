//! `POST /api/v1/usage`: a usage report from the SaaS's backend, with an API key.
//!
//! Body: `{"meter": "api-calls", "value": 3, "identifier": "req_123", "timestamp": 1767225600,
//! "customer": "cus_…" | "jo@example.com"}` (`timestamp` defaults to now; `customer` is for
//! platform keys, a customer key reports for its own customer). Answers 202 `created`, or 200
//! `duplicate` when the identifier was reported before (it counts once); 401 without a valid
//! key, 402 when the spend cap is reached, 403 for another customer, 404 for an unknown one,
//! 422 for a bad report (an event older than Stripe's 35 days included).

use axum::{body::Bytes, extract::State, http::StatusCode, response::IntoResponse, Json};
use serde::Deserialize;

use crate::server::{
    api_keys::{acting_for::user_acting_for, bearer::ApiCaller},
    db::now,
    http::api_error::ApiError,
    state::AppState,
};

use super::{record, Recorded, UsageError, UsageReport};

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

fn one() -> i64 {
    1
}

pub async fn post_usage(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let body: UsageBody = serde_json::from_slice(&body)
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
    Ok((status, Json(serde_json::json!({ "status": word, "identifier": body.identifier }))))
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
