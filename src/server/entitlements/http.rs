//! `GET /api/v1/entitlements`: the caller's entitlements as JSON, for the SaaS's own code.
//!
//! Who is asking is decided in one place, [`caller_user_id`]: an API key (`Authorization: Bearer
//! tg_…`; a platform key names the customer with `?customer=cus_…|email`) or, without one, the
//! browser's signed-in session. Everything after it only sees a user id.

use axum::{
    extract::{FromRequestParts, Query, State},
    http::{header::AUTHORIZATION, request::Parts},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::server::api_keys::{acting_for::user_acting_for, bearer::ApiCaller};
use crate::server::auth::{require_user, GuardError};
use crate::server::http::api_error::ApiError;
use crate::server::state::AppState;

/// Whoever sent the request, before it is known to be anyone.
pub enum Caller {
    /// A valid API key (a request with a bad key is refused before this).
    Key(ApiCaller),
    /// The browser's session cookie (it may name nobody).
    Session(Session),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // A request that sends a key is judged by its key alone, never by a cookie beside it.
        if parts.headers.contains_key(AUTHORIZATION) {
            return ApiCaller::from_request_parts(parts, state).await.map(Caller::Key);
        }
        match parts.extensions.get::<Session>() {
            Some(session) => Ok(Caller::Session(session.clone())),
            None => Err(ApiError::internal(&anyhow::anyhow!("no session layer"))),
        }
    }
}

/// `?customer=`: whom a platform key asks about.
#[derive(Debug, Default, Deserialize)]
pub struct ForCustomer {
    customer: Option<String>,
}

/// The user the caller is, or acts for.
pub async fn caller_user_id(state: &AppState, caller: Caller, named: Option<&str>) -> Result<i64, ApiError> {
    match caller {
        Caller::Key(key) => Ok(user_acting_for(state.db.pool(), key, named).await?.id),
        Caller::Session(session) => match require_user(&state.db, &session).await {
            Ok(user) => Ok(user.id),
            Err(GuardError::Anonymous | GuardError::Forbidden) => {
                Err(ApiError::unauthorized("Sign in, or send an API key (Authorization: Bearer tg_…)."))
            }
            Err(GuardError::Unexpected(error)) => Err(ApiError::internal(&error)),
        },
    }
}

/// `GET /api/v1/entitlements`.
pub async fn get_entitlements(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ForCustomer>,
) -> Response {
    let answer = async {
        let user_id = caller_user_id(&state, caller, query.customer.as_deref()).await?;
        super::view(&state, user_id).await.map_err(|e| ApiError::internal(&e))
    }
    .await;
    match answer {
        Ok(view) => Json(view).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}
