//! Stripe's hosted onboarding: a one-time link to it, and the two ways back. Stripe sends the
//! creator to `return_url` when they leave the flow (finished or not: the account says which)
//! and to `refresh_url` when the link expired or was used; that one makes a fresh link.

use anyhow::Context;
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};
use tower_sessions::Session;

use super::{of_user, sync};
use crate::server::auth::{require_user, GuardError};
use crate::server::http::app_url::AppUrl;
use crate::server::{db, state::AppState};

pub const RETURN_PATH: &str = "/creator/onboarding/return";
pub const REFRESH_PATH: &str = "/creator/onboarding/refresh";

/// A fresh onboarding link for `account_id` (links are single-use and expire within minutes).
pub async fn link(state: &AppState, account_id: &str) -> anyhow::Result<String> {
    let app = AppUrl::new(state.config.app_url.as_str());
    let create = CreateAccountLink::new(account_id, CreateAccountLinkType::AccountOnboarding)
        .refresh_url(app.join(REFRESH_PATH))
        .return_url(app.join(RETURN_PATH));
    let link = state.stripe_client.send(&create, None).await.context("creating an onboarding link")?;
    Ok(link.url)
}

/// `GET /creator/onboarding/return`: re-reads the account (the webhook may not have come yet)
/// and shows the creator page.
pub async fn returned(State(state): State<AppState>, session: Session) -> Response {
    let account_id = match creator_of_session(&state, &session).await {
        Ok(account_id) => account_id,
        Err(response) => return response,
    };
    if let Err(err) = sync::refresh(state.db.pool(), &state.stripe_client, &account_id, db::now()).await {
        // The page shows what the app last knew; `account.updated` will bring the rest.
        tracing::warn!(error = %format!("{err:#}"), "re-reading a creator's account after onboarding failed");
    }
    Redirect::to("/creator").into_response()
}

/// `GET /creator/onboarding/refresh`: the link expired or was used; a fresh one.
pub async fn refresh(State(state): State<AppState>, session: Session) -> Response {
    let account_id = match creator_of_session(&state, &session).await {
        Ok(account_id) => account_id,
        Err(response) => return response,
    };
    match link(&state, &account_id).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "a fresh onboarding link failed");
            Redirect::to("/creator").into_response()
        }
    }
}

/// The connected account of the logged-in creator, or where to send the browser instead.
async fn creator_of_session(state: &AppState, session: &Session) -> Result<String, Response> {
    let user = match require_user(&state.db, session).await {
        Ok(user) => user,
        Err(GuardError::Anonymous) => return Err(Redirect::to("/login").into_response()),
        Err(err) => {
            tracing::error!(error = %err, "reading the session failed");
            return Err(Redirect::to("/creator").into_response());
        }
    };
    match of_user(state.db.pool(), user.id).await {
        Ok(Some(creator)) => Ok(creator.account_id),
        Ok(None) => Err(Redirect::to("/creator").into_response()),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "reading the creator failed");
            Err(Redirect::to("/creator").into_response())
        }
    }
}
