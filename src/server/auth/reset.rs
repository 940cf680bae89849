//! Password reset by a one-time link: `/forgot-password` asks for it (the same answer whether
//! or not the address has an account), the mail links to `/reset-password?token=…`, and the
//! new password posted there replaces the old one and ends every session of the user.

use super::{
    epoch, password,
    tokens::{self, NewToken, Purpose},
};
use crate::{
    domain::{Email, EmailError, Password, PasswordError},
    server::{
        billing::emails,
        db::{self, users, Db},
        http::app_url::AppUrl,
    },
};

/// What the form answers for any well-formed address, whether it has an account or not.
pub const LINK_SENT: &str =
    "If an account exists for that address, we sent it a link to choose a new password. The link works for an hour.";

/// Mails a reset link to `email` if it has an account. Either way the caller answers
/// [`LINK_SENT`]; the work differs only by two small writes (the token and the queued mail),
/// the mail itself leaves later from the outbox.
pub async fn request_link(db: &Db, links: &AppUrl, email: &str) -> Result<(), EmailError> {
    let email = Email::parse(email)?;
    let token = NewToken::generate();
    if let Err(error) = store_and_mail(db, links, &email, &token).await {
        // Said to no one: the answer must not depend on the address (the log has no address).
        tracing::error!(error = format!("{error:#}"), "queueing a password reset failed");
    }
    Ok(())
}

async fn store_and_mail(db: &Db, links: &AppUrl, email: &Email, token: &NewToken) -> anyhow::Result<()> {
    let Some(user) = users::find_by_email(db.pool(), email).await? else {
        tracing::info!("password reset asked for an address without an account");
        return Ok(());
    };
    let now = db::now();
    let mut tx = db.pool().begin().await?;
    let token_id = tokens::store(&mut tx, token, user.id, Purpose::PasswordReset, now).await?;
    let link = links.join(&format!("/reset-password?token={}", token.secret));
    emails::enqueue(&mut tx, &emails::password_reset(email.as_str(), token_id, &link), now).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "password reset link sent");
    Ok(())
}

/// Why a reset was refused. `Display` is what the user sees.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("New password: {0}")]
    InvalidPassword(#[from] PasswordError),
    #[error("This reset link has expired or was already used. Ask for a new one below.")]
    LinkExpired,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Sets the password of the link's user: spends the link and every other reset link of theirs,
/// ends all their sessions, and counts the address as verified (the link reached its inbox).
pub async fn reset_password(db: &Db, secret: &str, new: &str) -> Result<i64, ResetError> {
    let new = Password::parse(new)?;
    // A dead link costs no hashing.
    if tokens::owner(db.pool(), secret, Purpose::PasswordReset, db::now()).await?.is_none() {
        return Err(ResetError::LinkExpired);
    }
    let hash = password::hash_password(new).await?;
    let now = db::now();
    let mut tx = db.pool().begin().await.map_err(anyhow::Error::from)?;
    // Spent here, in the transaction that uses it: of two posts of one link, one wins.
    let Some(user_id) = tokens::spend(&mut tx, secret, Purpose::PasswordReset, now).await? else {
        return Err(ResetError::LinkExpired);
    };
    users::set_password_hash(&mut *tx, user_id, &hash).await?;
    epoch::end_all_sessions(&mut *tx, user_id).await?;
    users::mark_email_verified(&mut tx, user_id, now).await?;
    tokens::spend_all(&mut tx, user_id, Purpose::PasswordReset, now).await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    tracing::info!(user_id, "password reset; every session ended");
    Ok(user_id)
}
