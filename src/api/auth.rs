//! Sign-up, log-in, log-out and the session user.
//!
//! The forms are `ActionForm`s: with JavaScript they call these functions with
//! `fetch`; without it the browser posts the form to the same URL, and errors come
//! back as a redirect to the form carrying a one-time flash message.

use leptos::prelude::*;

use crate::views::{
    auth::{AuthForm, FormFlash, SessionUser},
    AppError,
};

#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    use crate::server::http::context::RequestCtx;
    RequestCtx::extract().await?.session_user().await
}

#[server(endpoint = "take_flash")]
pub async fn take_flash(form: AuthForm) -> Result<Option<FormFlash>, AppError> {
    use crate::server::http::context::RequestCtx;
    RequestCtx::extract().await?.take_flash(form).await
}

/// Signs up, or tells the owner of a taken address by mail: either way the browser gets the
/// same answer (a redirect to /login with the same notice, no one logged in), so the form does
/// not tell who has an account.
#[server(endpoint = "signup")]
pub async fn signup(email: String, password: String) -> Result<(), AppError> {
    use crate::server::{
        auth,
        http::{abuse::Action, context::RequestCtx, outcome::Next},
    };
    let ctx = RequestCtx::extract().await?;
    if !ctx.state.abuse.allow(Action::SignUp, ctx.client_ip).await.map_err(AppError::from)? {
        return Err(ctx.refuse(AuthForm::Signup, &email, auth::AuthError::TooManySignUps).await);
    }
    match auth::sign_up(&ctx.state.db, &ctx.links(), &email, &password).await {
        Ok(auth::SignUp::Created(_) | auth::SignUp::AddressTaken) => {
            ctx.finish(Ok(Next::Back(auth::SIGNED_UP.into())), "/login").await
        }
        Err(error) => Err(ctx.refuse(AuthForm::Signup, &email, error).await),
    }
}

#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::server::{auth, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let outcome = auth::log_in(&ctx.state.db, &ctx.state.login_limiter, ctx.client_ip, &email, &password).await;
    match outcome {
        Ok(user) => ctx.start_session(user.id, "/account").await,
        Err(error) => Err(ctx.refuse(AuthForm::Login, &email, error).await),
    }
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::http::context::RequestCtx;
    RequestCtx::extract().await?.end_session("/").await
}

#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    use crate::server::{
        auth::{self, PasswordChangeError},
        http::{
            context::RequestCtx,
            outcome::{FormError, Next},
        },
    };
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = match auth::change_password(&ctx.state.db, user.id, &current, &new).await {
        Ok(()) => {
            // Every other session ended; this browser goes on under a fresh one.
            ctx.restart_session(user.id).await?;
            Ok(Next::Back("Your password is changed. Every other session was logged out.".into()))
        }
        Err(PasswordChangeError::Unexpected(e)) => Err(FormError::Unexpected(e)),
        Err(refused) => Err(FormError::Refused(refused.to_string())),
    };
    let back = if outcome.is_ok() { "/account" } else { "/account/password" };
    ctx.finish(outcome, back).await
}
