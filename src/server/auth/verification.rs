//! Email verification: sign-up mails a one-time link; opening it (`GET /verify-email?token=…`)
//! marks the address verified. Paid actions wait for it (`billing::require_verified_email`).

use sqlx::{Any, Transaction};

use super::tokens::{self, NewToken, Purpose};
use crate::{
    domain::Email,
    server::{
        billing::emails,
        db::{self, users, users::User, Db},
        http::app_url::AppUrl,
    },
};

/// Verification links a user may be sent per hour (the one at sign-up included): enough for a
/// lost mail or two, too few to flood an inbox from one account.
pub const LINKS_PER_HOUR: i64 = 3;

/// Stores a new verification token for the user and queues the mail carrying its link.
pub async fn send_link(
    tx: &mut Transaction<'_, Any>,
    links: &AppUrl,
    user_id: i64,
    email: &Email,
    now: i64,
) -> anyhow::Result<()> {
    let token = NewToken::generate();
    let token_id = tokens::store(tx, &token, user_id, Purpose::VerifyEmail, now).await?;
    let link = links.join(&format!("/verify-email?token={}", token.secret));
    emails::enqueue(tx, &emails::verify_email(email.as_str(), token_id, &link), now).await?;
    Ok(())
}

/// What a request for a new link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resent {
    Sent,
    AlreadyVerified,
}

#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    #[error(
        "We already sent you several links in the last hour. Check your inbox (and spam folder), or try again later."
    )]
    TooMany,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Mails the user a fresh verification link, at most [`LINKS_PER_HOUR`] an hour.
pub async fn resend(db: &Db, links: &AppUrl, user: &User) -> Result<Resent, ResendError> {
    if user.email_verified() {
        return Ok(Resent::AlreadyVerified);
    }
    let now = db::now();
    if tokens::issued_since(db.pool(), user.id, Purpose::VerifyEmail, now - 3600).await? >= LINKS_PER_HOUR {
        return Err(ResendError::TooMany);
    }
    let mut tx = db.pool().begin().await.map_err(anyhow::Error::from)?;
    send_link(&mut tx, links, user.id, &user.email, now).await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    tracing::info!(user_id = user.id, "verification link sent again");
    Ok(Resent::Sent)
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "This link has expired or was already used. If your address is not confirmed yet, log in and send \
         yourself a new link from your account page."
    )]
    LinkExpired,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Spends a verification link and marks its user's address verified; returns the user's id.
pub async fn confirm(db: &Db, secret: &str) -> Result<i64, VerifyError> {
    let now = db::now();
    let mut tx = db.pool().begin().await.map_err(anyhow::Error::from)?;
    let Some(user_id) = tokens::spend(&mut tx, secret, Purpose::VerifyEmail, now).await? else {
        return Err(VerifyError::LinkExpired);
    };
    users::mark_email_verified(&mut tx, user_id, now).await?;
    // The other links in the inbox have nothing left to do.
    tokens::spend_all(&mut tx, user_id, Purpose::VerifyEmail, now).await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    tracing::info!(user_id, "email address verified");
    Ok(user_id)
}
