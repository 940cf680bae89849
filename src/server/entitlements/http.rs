//! `GET /api/v1/entitlements`: the caller's entitlements as JSON, for the SaaS's own code.
//!
//! Who is asking is decided in one place, [`caller_user_id`]: today a signed-in session; an API
//! key extractor goes beside it (one more [`Caller`] variant), and everything after it only sees
//! a user id.

use axum::{
    extract::{FromRequestParts, State},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;
use tower_sessions::Session;

use crate::server::auth::{require_user, GuardError};
use crate::server::state::AppState;

/// Whoever sent the request, before it is known to be anyone.
pub enum Caller {
    /// The browser's session cookie (it may name nobody).
    Session(Session),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiRefusal;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Session>() {
            Some(session) => Ok(Caller::Session(session.clone())),
            None => Err(ApiRefusal::Unexpected(anyhow::anyhow!("no session layer"))),
        }
    }
}

/// Why an API request is refused, as JSON.
#[derive(Debug)]
pub enum ApiRefusal {
    /// Nobody signed in (and no valid key).
    Unauthenticated,
    Unexpected(anyhow::Error),
}

impl IntoResponse for ApiRefusal {
    fn into_response(self) -> Response {
        let (status, kind, message) = match self {
            ApiRefusal::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "authentication_required",
                "Sign in, or send an API key, to read entitlements.".to_string(),
            ),
            ApiRefusal::Unexpected(error) => {
                tracing::error!(error = format!("{error:#}"), "API request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "api_error", "Something went wrong on our side.".to_string())
            }
        };
        (status, Json(json!({ "error": { "type": kind, "message": message } }))).into_response()
    }
}

/// The user the caller is: the one function that turns "who is asking" into a user id.
pub async fn caller_user_id(state: &AppState, caller: Caller) -> Result<i64, ApiRefusal> {
    match caller {
        Caller::Session(session) => match require_user(&state.db, &session).await {
            Ok(user) => Ok(user.id),
            Err(GuardError::Anonymous | GuardError::Forbidden) => Err(ApiRefusal::Unauthenticated),
            Err(GuardError::Unexpected(error)) => Err(ApiRefusal::Unexpected(error)),
        },
    }
}

/// `GET /api/v1/entitlements`.
pub async fn get_entitlements(State(state): State<AppState>, caller: Caller) -> Response {
    let answer = async {
        let user_id = caller_user_id(&state, caller).await?;
        super::view(&state, user_id).await.map_err(ApiRefusal::Unexpected)
    }
    .await;
    match answer {
        Ok(view) => Json(view).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}
