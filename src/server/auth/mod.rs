//! Sign-up, log-in, the admin bootstrap and the guards. Plain async functions:
//! the server functions only extract, call these and map errors.

pub mod epoch;
pub mod guard;
pub mod password;
pub mod rate_limit;
pub mod session;

use std::net::IpAddr;

use anyhow::Context;

use crate::{
    domain::{Email, EmailError, Password, PasswordError, Role},
    server::db::{
        users::{self, InsertUserError, User},
        Db,
    },
};

pub use guard::{require_admin, require_user, GuardError};
pub use rate_limit::{LoginLimiter, LoginQuotas};

/// Everything sign-up and log-in can refuse. `Display` is the message users see.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    InvalidEmail(#[from] EmailError),
    #[error(transparent)]
    InvalidPassword(#[from] PasswordError),
    #[error("An account with this email already exists. Sign in instead.")]
    DuplicateEmail,
    /// Deliberately the same for an unknown email and a wrong password.
    #[error("Invalid email or password.")]
    InvalidCredentials,
    #[error("Too many log-in attempts. Please wait a minute and try again.")]
    RateLimited,
    #[error("Too many sign-ups from your network. Try again later.")]
    TooManySignUps,
    #[error("Something went wrong on our side. Please try again.")]
    Unexpected(#[from] anyhow::Error),
}

/// Creates a customer account.
#[tracing::instrument(skip_all)]
pub async fn sign_up(db: &Db, email: &str, password: &str) -> Result<User, AuthError> {
    let email = Email::parse(email)?;
    let password = Password::parse(password)?;
    let hash = password::hash_password(password).await?;
    let user = users::insert(db.pool(), &email, &hash, Role::Customer).await.map_err(|e| match e {
        InsertUserError::DuplicateEmail => AuthError::DuplicateEmail,
        InsertUserError::Unexpected(e) => AuthError::Unexpected(e),
    })?;
    // The Stripe customer is created by the caller (`billing::customers::create_customer_at_sign_up`):
    // auth stays free of Stripe.
    tracing::info!(user_id = user.id, "user signed up");
    Ok(user)
}

/// Checks credentials, charging the per-IP and per-email limits first.
#[tracing::instrument(skip_all, fields(%client_ip))]
pub async fn log_in(
    db: &Db,
    limiter: &LoginLimiter,
    client_ip: IpAddr,
    email: &str,
    password: &str,
) -> Result<User, AuthError> {
    let parsed = Email::parse(email);
    let email_key = match &parsed {
        Ok(email) => email.as_str().to_owned(),
        Err(_) => email.trim().to_lowercase(),
    };
    if !limiter.allow(client_ip, &email_key).await? {
        tracing::warn!("log-in rate limit reached");
        return Err(AuthError::RateLimited);
    }
    let Ok(email) = parsed else {
        return Err(AuthError::InvalidCredentials);
    };
    if password.chars().count() > crate::domain::password::MAX_PASSWORD_CHARS {
        return Err(AuthError::InvalidCredentials);
    }
    let Some(credentials) = users::credentials_by_email(db.pool(), &email).await? else {
        password::verify_against_dummy(password.to_owned()).await?;
        return Err(AuthError::InvalidCredentials);
    };
    if !password::verify_password(credentials.password_hash, password.to_owned()).await? {
        return Err(AuthError::InvalidCredentials);
    }
    let user = users::find_by_id(db.pool(), credentials.user_id).await?.ok_or(AuthError::InvalidCredentials)?;
    tracing::info!(user_id = user.id, "user logged in");
    Ok(user)
}

/// Creates the admin, or sets the password of the admin with that email. An existing customer
/// account with that email is refused unless `promote` says so: a self-registered account must
/// not become the admin (with the sessions it holds) because someone set `ADMIN_EMAIL`.
#[tracing::instrument(skip_all)]
pub async fn ensure_admin(db: &Db, email: &Email, password: &Password, promote: Promote) -> anyhow::Result<User> {
    let existing = users::find_by_email(db.pool(), email).await?;
    let password_changed = match &existing {
        Some(user) if user.role != Role::Admin && promote == Promote::No => {
            anyhow::bail!(
                "{email} is a customer account: `tollgate admin create --email {email} --promote` makes it an admin \
                 (and ends its sessions)"
            )
        }
        Some(user) => match users::password_hash(db.pool(), user.id).await? {
            Some(hash) => !password::verify_password(hash, password.expose().to_owned()).await?,
            None => true,
        },
        None => false,
    };
    let hash = password::hash_password(password.clone()).await?;
    let user = users::upsert_admin(db.pool(), email, &hash).await?;
    let promoted = existing.as_ref().is_some_and(|before| before.role != Role::Admin);
    if promoted || password_changed {
        // A new role or a new password: every session started before ends.
        epoch::end_all_sessions(db.pool(), user.id).await?;
    }
    tracing::info!(user_id = user.id, promoted, password_changed, "admin account ensured");
    Ok(user)
}

/// Why a password change was refused. `Display` is what the user sees.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("Your current password is not the one you typed.")]
    WrongCurrentPassword,
    #[error("New password: {0}")]
    InvalidNew(#[from] PasswordError),
    #[error("Something went wrong on our side. Please try again.")]
    Unexpected(#[from] anyhow::Error),
}

/// Sets a new password for `user_id` after checking the current one, and ends every session of
/// the user (the caller starts a fresh one for the browser that asked).
pub async fn change_password(db: &Db, user_id: i64, current: &str, new: &str) -> Result<(), PasswordChangeError> {
    let new = Password::parse(new)?;
    let hash = users::password_hash(db.pool(), user_id).await?.context("the user is gone")?;
    if !password::verify_password(hash, current.to_owned()).await? {
        return Err(PasswordChangeError::WrongCurrentPassword);
    }
    let new_hash = password::hash_password(new).await?;
    users::set_password_hash(db.pool(), user_id, &new_hash).await?;
    epoch::end_all_sessions(db.pool(), user_id).await?;
    tracing::info!(user_id, "password changed; other sessions ended");
    Ok(())
}

/// Whether `ensure_admin` may make an existing customer account an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promote {
    Yes,
    No,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::test_db;

    async fn db() -> (tempfile::TempDir, Db) {
        test_db(true).await
    }

    fn ip() -> IpAddr {
        IpAddr::from([127, 0, 0, 1])
    }

    #[tokio::test]
    async fn sign_up_then_log_in() {
        let (_d, db) = db().await;
        let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
        let user = sign_up(&db, " New@Example.com ", "long enough").await.unwrap();
        assert_eq!(user.email.as_str(), "new@example.com");
        assert_eq!(user.role, Role::Customer);
        let again = log_in(&db, &limiter, ip(), "NEW@example.com", "long enough").await.unwrap();
        assert_eq!(again.id, user.id);
    }

    #[tokio::test]
    async fn wrong_password_and_unknown_email_are_indistinguishable() {
        let (_d, db) = db().await;
        let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
        sign_up(&db, "a@b.co", "long enough").await.unwrap();
        let wrong = log_in(&db, &limiter, ip(), "a@b.co", "not the one").await.unwrap_err();
        let unknown = log_in(&db, &limiter, ip(), "x@b.co", "long enough").await.unwrap_err();
        let malformed = log_in(&db, &limiter, ip(), "nope", "long enough").await.unwrap_err();
        assert_eq!(wrong.to_string(), "Invalid email or password.");
        assert_eq!(unknown.to_string(), wrong.to_string());
        assert_eq!(malformed.to_string(), wrong.to_string());
    }

    #[tokio::test]
    async fn sign_up_refuses_bad_input_and_duplicates() {
        let (_d, db) = db().await;
        assert!(matches!(sign_up(&db, "nope", "long enough").await, Err(AuthError::InvalidEmail(_))));
        assert!(matches!(
            sign_up(&db, "a@b.co", "short").await,
            Err(AuthError::InvalidPassword(PasswordError::TooShort))
        ));
        sign_up(&db, "a@b.co", "long enough").await.unwrap();
        assert!(matches!(sign_up(&db, "A@B.co", "long enough").await, Err(AuthError::DuplicateEmail)));
    }

    #[tokio::test]
    async fn rate_limit_applies_before_checking_the_password() {
        let (_d, db) = db().await;
        let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
        sign_up(&db, "a@b.co", "long enough").await.unwrap();
        for _ in 0..5 {
            let _ = log_in(&db, &limiter, ip(), "a@b.co", "wrong password").await;
        }
        let limited = log_in(&db, &limiter, ip(), "a@b.co", "long enough").await;
        assert!(matches!(limited, Err(AuthError::RateLimited)), "{limited:?}");
    }

    #[tokio::test]
    async fn ensure_admin_resets_the_password() {
        let (_d, db) = db().await;
        let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
        let email = Email::parse("boss@b.co").unwrap();
        let first = ensure_admin(&db, &email, &Password::parse("first password").unwrap(), Promote::No).await.unwrap();
        let epoch = epoch::current(db.pool(), first.id).await.unwrap();
        ensure_admin(&db, &email, &Password::parse("first password").unwrap(), Promote::No).await.unwrap();
        assert_eq!(epoch::current(db.pool(), first.id).await.unwrap(), epoch, "a restart keeps the admin's sessions");
        let admin = ensure_admin(&db, &email, &Password::parse("second password").unwrap(), Promote::No).await.unwrap();
        assert_eq!(admin.role, Role::Admin);
        assert_ne!(epoch::current(db.pool(), first.id).await.unwrap(), epoch, "a new password ends its sessions");
        assert!(log_in(&db, &limiter, ip(), "boss@b.co", "first password").await.is_err());
        assert!(log_in(&db, &limiter, ip(), "boss@b.co", "second password").await.is_ok());
    }

    #[tokio::test]
    async fn a_customer_account_becomes_admin_only_when_asked_and_loses_its_sessions() {
        let (_d, db) = db().await;
        let customer = sign_up(&db, "taken@b.co", "customer password").await.unwrap();
        let email = Email::parse("taken@b.co").unwrap();
        let password = Password::parse("admin password").unwrap();
        let refused = ensure_admin(&db, &email, &password, Promote::No).await.unwrap_err();
        assert!(refused.to_string().contains("--promote"), "{refused}");
        let still = users::find_by_id(db.pool(), customer.id).await.unwrap().unwrap();
        assert_eq!(still.role, Role::Customer, "nothing changed");
        let epoch = epoch::current(db.pool(), customer.id).await.unwrap();
        let admin = ensure_admin(&db, &email, &password, Promote::Yes).await.unwrap();
        assert_eq!((admin.id, admin.role), (customer.id, Role::Admin));
        assert_ne!(epoch::current(db.pool(), customer.id).await.unwrap(), epoch, "its sessions ended");
    }
}
