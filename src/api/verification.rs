//! Email verification: the link a sign-up mails (`/verify-email?token=…`), and a new link on
//! request from the account page.

use leptos::prelude::*;

use crate::views::AppError;

/// Spends the link's token and marks the address verified (the page calls this on load, so
/// opening the link is enough). The Stripe customer is created now, no longer at sign-up.
#[server(endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    use crate::server::{
        auth::verification::{self, VerifyError},
        billing::customers,
        db::users,
        http::context::RequestCtx,
    };
    let ctx = RequestCtx::extract().await?;
    let user_id = match verification::confirm(&ctx.state.db, &token).await {
        Ok(user_id) => user_id,
        Err(VerifyError::LinkExpired) => return Err(AppError::User(VerifyError::LinkExpired.to_string())),
        Err(VerifyError::Unexpected(e)) => return Err(e.into()),
    };
    if let Some(user) = users::find_by_id(ctx.state.db.pool(), user_id).await? {
        customers::create_customer_at_verification(&ctx.state, &user).await;
    }
    Ok(())
}

/// Mails the logged-in user a new verification link (a few an hour at most).
#[server(endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    use crate::server::{
        auth::verification::{self, ResendError, Resent},
        http::{
            context::RequestCtx,
            outcome::{refused, FormError, Next},
        },
    };
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = match verification::resend(&ctx.state.db, &ctx.links(), &user).await {
        Ok(Resent::Sent) => Ok(Next::Back(format!("We sent a new link to {}. It works for a day.", user.email))),
        Ok(Resent::AlreadyVerified) => Ok(Next::Back("Your email address is already confirmed.".into())),
        Err(ResendError::TooMany) => Err(refused(ResendError::TooMany.to_string())),
        Err(ResendError::Unexpected(e)) => Err(FormError::Unexpected(e)),
    };
    ctx.finish(outcome, "/account").await
}
