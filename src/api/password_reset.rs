//! Password reset by emailed link: ask for it on /forgot-password, set the new password on
//! /reset-password?token=…. Plain forms; each post ends in a redirect with a notice.

use leptos::prelude::*;

use crate::views::AppError;

/// Mails a reset link if the address has an account. The answer is the same either way.
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use crate::server::{
        auth::reset,
        http::{
            abuse::Action,
            context::RequestCtx,
            outcome::{refused, Next},
        },
    };
    let ctx = RequestCtx::extract().await?;
    let outcome = match ctx.limit(Action::PasswordReset).await {
        Ok(()) => match reset::request_link(&ctx.state.db, &ctx.links(), &email).await {
            Ok(()) => Ok(Next::Back(reset::LINK_SENT.into())),
            Err(invalid) => Err(refused(invalid.to_string())),
        },
        Err(limited) => Err(limited),
    };
    ctx.finish(outcome, "/forgot-password").await
}

/// Sets the password of the link's user, ending every session of theirs.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use crate::server::{
        auth::{
            reset::{self, ResetError},
            tokens,
        },
        http::{
            context::RequestCtx,
            outcome::{refused, FormError, Next},
        },
    };
    let ctx = RequestCtx::extract().await?;
    let (outcome, back) = match reset::reset_password(&ctx.state.db, &token, &password).await {
        Ok(_) => (
            Ok(Next::Back(
                "Your password is set and every session of your account was logged out. Log in with it.".into(),
            )),
            "/login".to_owned(),
        ),
        // Back to the same link (only a token that could be one goes into the redirect).
        Err(invalid @ ResetError::InvalidPassword(_)) if tokens::well_formed(&token) => {
            (Err(refused(invalid.to_string())), format!("/reset-password?token={token}"))
        }
        Err(ResetError::Unexpected(e)) => (Err(FormError::Unexpected(e)), "/forgot-password".to_owned()),
        Err(_) => (Err(refused(ResetError::LinkExpired.to_string())), "/forgot-password".to_owned()),
    };
    ctx.finish(outcome, &back).await
}
