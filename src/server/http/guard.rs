//! Route-level guards, applied before any page renders:
//! `/admin…` needs an admin, `/account…`, `/projects…` and `/creator…`, `/library…` a logged-in user.
//! Anonymous → redirect to `/login`; a customer on `/admin…` → HTTP 403
//! (the page itself renders "Forbidden"). Paths arrive canonical (see `paths`), so no other
//! spelling of `/admin` slips past.

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

use super::paths::under;
use crate::server::{
    auth::{require_admin, require_user, GuardError},
    state::AppState,
};

pub async fn route_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let admin = under(path, "/admin");
    let account =
        under(path, "/account") || under(path, "/projects") || under(path, "/creator") || under(path, "/library");
    if !admin && !account {
        return next.run(req).await;
    }
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        tracing::error!("route guard: no session layer");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let outcome =
        if admin { require_admin(&state.db, &session).await } else { require_user(&state.db, &session).await };
    match outcome {
        Ok(_) => next.run(req).await,
        Err(GuardError::Anonymous) => Redirect::to("/login").into_response(),
        Err(GuardError::Forbidden) => {
            let mut res = next.run(req).await;
            *res.status_mut() = StatusCode::FORBIDDEN;
            res
        }
        Err(GuardError::Unexpected(error)) => {
            tracing::error!(error = format!("{error:#}"), "route guard failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
