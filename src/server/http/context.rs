//! What a server function needs from its request, and how auth outcomes become
//! responses: JSON errors for the JS client, redirect + flash for plain form posts.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context;
use axum::{
    extract::ConnectInfo,
    http::{header, request::Parts, StatusCode},
};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::{
    server::{
        admin::audit::Actor,
        auth::{self, AuthError, GuardError},
        db::users::User,
        state::AppState,
    },
    views::{
        auth::{AuthForm, FormFlash, SessionUser},
        billing::Notice,
        AppError,
    },
};

use super::{
    client_ip::client_ip,
    outcome::{FormError, Next},
};

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        tracing::error!(error = format!("{error:#}"), "server function failed");
        AppError::Internal
    }
}

impl From<GuardError> for AppError {
    fn from(error: GuardError) -> Self {
        match error {
            GuardError::Anonymous => AppError::Unauthorized,
            GuardError::Forbidden => AppError::Forbidden,
            GuardError::Unexpected(e) => e.into(),
        }
    }
}

pub struct RequestCtx {
    pub state: AppState,
    pub session: Session,
    pub client_ip: IpAddr,
    /// A browser form post without JavaScript (it accepts HTML): errors go back as
    /// a redirect to the form with a flash message, not as a JSON error.
    pub plain_form_post: bool,
}

impl RequestCtx {
    pub async fn extract() -> Result<Self, AppError> {
        Ok(Self::try_extract().await?)
    }

    async fn try_extract() -> anyhow::Result<Self> {
        let state = use_context::<AppState>().context("AppState missing from the Leptos context")?;
        let parts = use_context::<Parts>().context("request parts missing from the context")?;
        let session =
            parts.extensions.get::<Session>().cloned().context("no session: is the session layer installed?")?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr)
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
        let client_ip = client_ip(peer, &parts.headers, state.config.trust_proxy_headers);
        let plain_form_post =
            parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
        Ok(Self { state, session, client_ip, plain_form_post })
    }

    pub async fn current_user(&self) -> Result<Option<User>, AppError> {
        match auth::require_user(&self.state.db, &self.session).await {
            Ok(user) => Ok(Some(user)),
            Err(GuardError::Anonymous) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn session_user(&self) -> Result<Option<SessionUser>, AppError> {
        Ok(self
            .current_user()
            .await?
            .map(|user| SessionUser { email: user.email.to_string(), is_admin: user.role.is_admin() }))
    }

    /// The logged-in user; `Unauthorized` otherwise (a plain form post is sent to /login).
    pub async fn require_user(&self) -> Result<User, AppError> {
        match auth::require_user(&self.state.db, &self.session).await {
            Ok(user) => Ok(user),
            Err(error) => {
                if self.plain_form_post && matches!(error, GuardError::Anonymous) {
                    leptos_axum::redirect("/login");
                }
                Err(error.into())
            }
        }
    }

    pub async fn require_admin(&self) -> Result<User, AppError> {
        Ok(auth::require_admin(&self.state.db, &self.session).await?)
    }

    /// The admin making this request, as the audit log records them (who, and from where).
    pub async fn require_admin_actor(&self) -> Result<Actor, AppError> {
        let admin = self.require_admin().await?;
        Ok(Actor { user_id: Some(admin.id), email: admin.email.to_string(), ip: Some(self.client_ip.to_string()) })
    }

    /// Absolute links to the app (for mails).
    pub fn links(&self) -> super::app_url::AppUrl {
        super::app_url::AppUrl::new(self.state.config.app_url.as_str())
    }

    /// Logs `user_id` in under a fresh session id and sends the browser to `to`.
    pub async fn start_session(&self, user_id: i64, to: &str) -> Result<(), AppError> {
        self.restart_session(user_id).await?;
        leptos_axum::redirect(to);
        Ok(())
    }

    /// Logs `user_id` in under a fresh session id, at the user's current epoch.
    pub async fn restart_session(&self, user_id: i64) -> Result<(), AppError> {
        let epoch = auth::epoch::current(self.state.db.pool(), user_id).await?.unwrap_or_default();
        auth::session::log_in(&self.session, user_id, epoch, crate::server::db::now()).await?;
        Ok(())
    }

    /// Ends the session and sends the browser to `to`.
    pub async fn end_session(&self, to: &str) -> Result<(), AppError> {
        auth::session::log_out(&self.session).await?;
        leptos_axum::redirect(to);
        Ok(())
    }

    /// Turns a refused sign-up or log-in into the error the form shows.
    pub async fn refuse(&self, form: AuthForm, email: &str, error: AuthError) -> AppError {
        // For the JS client, a status that says what went wrong (not a 500).
        let status = match &error {
            AuthError::InvalidEmail(_) | AuthError::InvalidPassword(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AuthError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AuthError::RateLimited | AuthError::TooManySignUps => StatusCode::TOO_MANY_REQUESTS,
            AuthError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if !self.plain_form_post {
            if let Some(res) = use_context::<ResponseOptions>() {
                res.set_status(status);
            }
        }
        let app_error = match error {
            AuthError::Unexpected(e) => AppError::from(e),
            other => AppError::User(other.to_string()),
        };
        if self.plain_form_post {
            // Only what an address can be (RFC 5321: 254 characters) is kept for the form.
            let email: String = email.trim().chars().take(254).collect();
            let flash = FormFlash { message: app_error.to_string(), email };
            if let Err(e) = self.session.insert(flash_key(form), flash).await {
                tracing::error!(error = %e, "storing a form flash failed");
            }
            leptos_axum::redirect(form.path());
        }
        app_error
    }

    /// Reads and removes the flash left by a refused plain form post.
    pub async fn take_flash(&self, form: AuthForm) -> Result<Option<FormFlash>, AppError> {
        let flash = self.session.remove::<FormFlash>(flash_key(form)).await.context("reading a form flash")?;
        Ok(flash)
    }
}

impl RequestCtx {
    /// Counts one `action` by this client's network: refused when over its limit.
    pub async fn limit(&self, action: crate::server::http::abuse::Action) -> Result<(), FormError> {
        if self.state.abuse.allow(action, self.client_ip).await.map_err(FormError::Unexpected)? {
            Ok(())
        } else {
            Err(FormError::Refused(action.refusal().into()))
        }
    }

    /// Ends a billing form post: to Stripe (Checkout, the portal), or back to `back` with a
    /// notice. A JS client gets refusals as errors with a 4xx status instead.
    pub async fn finish(&self, outcome: Result<Next, FormError>, back: &str) -> Result<(), AppError> {
        let (notice, error) = match outcome {
            Ok(Next::Redirect(url)) => {
                leptos_axum::redirect(&url);
                return Ok(());
            }
            Ok(Next::Back(message)) => (Notice { message, is_error: false }, None),
            Err(FormError::Refused(message)) => {
                (Notice { message: message.clone(), is_error: true }, Some(AppError::User(message)))
            }
            Err(FormError::Unexpected(e)) => {
                let error = AppError::from(e);
                (Notice { message: error.to_string(), is_error: true }, Some(error))
            }
        };
        if let Some(error) = &error {
            if !self.plain_form_post {
                let status = match error {
                    AppError::User(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                if let Some(res) = use_context::<ResponseOptions>() {
                    res.set_status(status);
                }
                return Err(error.clone());
            }
        }
        if let Err(e) = self.session.insert(NOTICE_KEY, notice).await {
            tracing::error!(error = %e, "storing a billing notice failed");
        }
        leptos_axum::redirect(back);
        error.map_or(Ok(()), Err)
    }

    /// A server function's answer to a page's own script (JSON, no redirect): a refusal is a 422
    /// carrying the words for the user, anything else a 500.
    pub fn answer<T>(&self, outcome: Result<T, FormError>) -> Result<T, AppError> {
        outcome.map_err(|e| {
            let error = AppError::from(e);
            let status = match error {
                AppError::User(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if let Some(res) = use_context::<ResponseOptions>() {
                res.set_status(status);
            }
            error
        })
    }

    /// Reads and removes the notice a billing form post left.
    pub async fn take_notice(&self) -> Result<Option<Notice>, AppError> {
        Ok(self.session.remove::<Notice>(NOTICE_KEY).await.context("reading a notice")?)
    }
}

const NOTICE_KEY: &str = "flash.billing";

fn flash_key(form: AuthForm) -> &'static str {
    match form {
        AuthForm::Signup => "flash.signup",
        AuthForm::Login => "flash.login",
    }
}
