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

use crate::domain::Email;
use crate::server::{
    api_keys::{bearer::ApiCaller, KeyScope},
    db::{now, users},
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
    let user = caller_user(pool, caller, body.customer.as_deref()).await?;
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

/// The customer the report is for: the key's own, or the one a platform key names.
async fn caller_user(pool: &sqlx::AnyPool, caller: ApiCaller, named: Option<&str>) -> Result<users::User, ApiError> {
    let found = match (caller.scope, named) {
        (KeyScope::Customer(id), None) => users::find_by_id(pool, id).await,
        (KeyScope::Customer(id), Some(named)) => {
            let user = lookup(pool, named).await.map_err(|e| ApiError::internal(&e))?;
            if user.as_ref().is_some_and(|u| u.id != id) || user.is_none() {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "This key reports usage for its own customer only.",
                ));
            }
            Ok(user)
        }
        (KeyScope::Platform, Some(named)) => lookup(pool, named).await,
        (KeyScope::Platform, None) => {
            return Err(ApiError::invalid("A platform key must name the customer (a cus_… id or an email)."))
        }
    };
    found
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_customer", "No such customer."))
}

async fn lookup(pool: &sqlx::AnyPool, named: &str) -> anyhow::Result<Option<users::User>> {
    if named.starts_with("cus_") {
        users::find_by_stripe_customer(pool, named).await
    } else {
        match Email::parse(named) {
            Ok(email) => users::find_by_email(pool, &email).await,
            Err(_) => Ok(None),
        }
    }
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
