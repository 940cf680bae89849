//! Sign-up, log-in, the admin bootstrap and the guards. Plain async functions:
//! the server functions only extract, call these and map errors.

pub mod epoch;
pub mod guard;
pub mod password;
pub mod rate_limit;
pub mod reset;
pub mod session;
pub mod tokens;
pub mod verification;

use std::net::IpAddr;

use anyhow::Context;

use crate::{
    domain::{Email, EmailError, Password, PasswordError, Role},
    server::{
        billing::emails,
        db::{
            self,
            users::{self, InsertUserError, User},
            Db,
        },
        http::app_url::AppUrl,
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

/// What the sign-up form answers for a new address and for one that has an account alike: it
/// logs no one in, and says only that a mail is on its way.
pub const SIGNED_UP: &str =
    "Check your inbox: we sent a message to confirm your address. Log in below; paying waits until the address is confirmed.";

/// What a sign-up did. The form must answer both the same (see [`SIGNED_UP`]): which one
/// happened is for tests and logs only.
#[derive(Debug)]
pub enum SignUp {
    /// A new customer account, its verification link queued.
    Created(User),
    /// The address has an account: its owner is told by mail, nothing else changes.
    AddressTaken,
}

/// Creates a customer account and mails its verification link; for an address that has an
/// account, mails the owner a notice instead. Both hash the password and queue one mail, so
/// the two take about as long.
#[tracing::instrument(skip_all)]
pub async fn sign_up(db: &Db, links: &AppUrl, email: &str, password: &str) -> Result<SignUp, AuthError> {
    let email = Email::parse(email)?;
    let password = Password::parse(password)?;
    let hash = password::hash_password(password).await?;
    let now = db::now();
    let mut tx = db.pool().begin().await.context("starting a sign-up")?;
    match users::insert(&mut *tx, &email, &hash, Role::Customer).await {
        Ok(user) => {
            verification::send_link(&mut tx, links, user.id, &email, now).await?;
            tx.commit().await.context("committing a sign-up")?;
            tracing::info!(user_id = user.id, "user signed up");
            Ok(SignUp::Created(user))
        }
        Err(InsertUserError::DuplicateEmail) => {
            // The failed insert ends this transaction on Postgres: the notice gets its own.
            drop(tx);
            notify_owner(db, links, &email, now).await?;
            Ok(SignUp::AddressTaken)
        }
        Err(InsertUserError::Unexpected(e)) => Err(AuthError::Unexpected(e)),
    }
}

/// Tells the owner of `email` that someone tried to sign up with it (at most once an hour).
async fn notify_owner(db: &Db, links: &AppUrl, email: &Email, now: i64) -> anyhow::Result<()> {
    let owner = users::find_by_email(db.pool(), email).await?.context("the account that took the address is gone")?;
    let notice = emails::sign_up_attempt(
        email.as_str(),
        owner.id,
        now / 3600,
        &links.join("/login"),
        &links.join("/forgot-password"),
    );
    let mut tx = db.pool().begin().await?;
    emails::enqueue(&mut tx, &notice, now).await?;
    tx.commit().await?;
    tracing::info!(user_id = owner.id, "sign-up tried with a taken address; owner told by mail");
    Ok(())
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

    fn links() -> AppUrl {
        AppUrl::new("https://billing.example.com")
    }

    /// Signs up a new customer, failing if the address was taken.
    async fn sign_up_new(db: &Db, email: &str, password: &str) -> User {
        match sign_up(db, &links(), email, password).await.unwrap() {
            SignUp::Created(user) => user,
            SignUp::AddressTaken => panic!("{email} was taken"),
        }
    }

    /// The (kind, to, body) of every queued mail, oldest first.
    async fn outbox(db: &Db) -> Vec<(String, String, String)> {
        sqlx::query_as("SELECT kind, to_address, body FROM emails ORDER BY id").fetch_all(db.pool()).await.unwrap()
    }

    /// The token in the last link queued to `to` for `path` (e.g. `/verify-email`).
    async fn last_link_token(db: &Db, to: &str, path: &str) -> String {
        let prefix = format!("https://billing.example.com{path}?token=");
        let mails = outbox(db).await;
        let body = mails.iter().rev().find(|(_, address, _)| address == to).map(|m| m.2.clone()).unwrap();
        let at = body.find(&prefix).unwrap_or_else(|| panic!("no {path} link in {body}")) + prefix.len();
        body[at..].split_whitespace().next().unwrap().to_owned()
    }

    #[tokio::test]
    async fn sign_up_then_log_in() {
        let (_d, db) = db().await;
        let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
        let user = sign_up_new(&db, " New@Example.com ", "long enough").await;
        assert_eq!(user.email.as_str(), "new@example.com");
        assert_eq!(user.role, Role::Customer);
        let again = log_in(&db, &limiter, ip(), "NEW@example.com", "long enough").await.unwrap();
        assert_eq!(again.id, user.id);
    }

    #[tokio::test]
    async fn wrong_password_and_unknown_email_are_indistinguishable() {
        let (_d, db) = db().await;
        let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
        sign_up_new(&db, "a@b.co", "long enough").await;
        let wrong = log_in(&db, &limiter, ip(), "a@b.co", "not the one").await.unwrap_err();
        let unknown = log_in(&db, &limiter, ip(), "x@b.co", "long enough").await.unwrap_err();
        let malformed = log_in(&db, &limiter, ip(), "nope", "long enough").await.unwrap_err();
        assert_eq!(wrong.to_string(), "Invalid email or password.");
        assert_eq!(unknown.to_string(), wrong.to_string());
        assert_eq!(malformed.to_string(), wrong.to_string());
    }

    #[tokio::test]
    async fn sign_up_refuses_bad_input() {
        let (_d, db) = db().await;
        assert!(matches!(sign_up(&db, &links(), "nope", "long enough").await, Err(AuthError::InvalidEmail(_))));
        assert!(matches!(
            sign_up(&db, &links(), "a@b.co", "short").await,
            Err(AuthError::InvalidPassword(PasswordError::TooShort))
        ));
        assert!(outbox(&db).await.is_empty());
    }

    #[tokio::test]
    async fn a_new_account_is_unverified_until_its_link_is_opened_once() {
        let (_d, db) = db().await;
        let user = sign_up_new(&db, "new@b.co", "long enough").await;
        assert!(!user.email_verified());
        let mails = outbox(&db).await;
        assert_eq!(mails.len(), 1);
        assert_eq!((mails[0].0.as_str(), mails[0].1.as_str()), ("verify_email", "new@b.co"));
        let token = last_link_token(&db, "new@b.co", "/verify-email").await;
        assert_eq!(verification::confirm(&db, &token).await.unwrap(), user.id);
        assert!(users::find_by_id(db.pool(), user.id).await.unwrap().unwrap().email_verified());
        assert!(matches!(verification::confirm(&db, &token).await, Err(verification::VerifyError::LinkExpired)));
    }

    #[tokio::test]
    async fn a_taken_address_changes_nothing_and_tells_its_owner_once_an_hour() {
        let (_d, db) = db().await;
        let owner = sign_up_new(&db, "a@b.co", "long enough").await;
        for _ in 0..2 {
            assert!(matches!(sign_up(&db, &links(), "A@B.co", "another one").await, Ok(SignUp::AddressTaken)));
        }
        let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
        assert_eq!(log_in(&db, &limiter, ip(), "a@b.co", "long enough").await.unwrap().id, owner.id, "unchanged");
        assert!(log_in(&db, &limiter, ip(), "a@b.co", "another one").await.is_err());
        let kinds: Vec<String> = outbox(&db).await.into_iter().map(|(kind, ..)| kind).collect();
        assert_eq!(kinds, ["verify_email", "sign_up_attempt"], "one notice for two tries within the hour");
        assert_eq!(users::count(db.pool()).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn resending_the_link_is_limited_per_hour() {
        let (_d, db) = db().await;
        let user = sign_up_new(&db, "new@b.co", "long enough").await;
        for _ in 1..verification::LINKS_PER_HOUR {
            assert_eq!(verification::resend(&db, &links(), &user).await.unwrap(), verification::Resent::Sent);
        }
        let refused = verification::resend(&db, &links(), &user).await;
        assert!(matches!(refused, Err(verification::ResendError::TooMany)), "{refused:?}");
        assert_eq!(outbox(&db).await.len() as i64, verification::LINKS_PER_HOUR);
    }

    #[tokio::test]
    async fn a_reset_link_sets_the_password_once_and_spends_the_others() {
        let (_d, db) = db().await;
        let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
        let user = sign_up_new(&db, "a@b.co", "long enough").await;
        reset::request_link(&db, &links(), "A@b.co").await.unwrap();
        let first = last_link_token(&db, "a@b.co", "/reset-password").await;
        reset::request_link(&db, &links(), "a@b.co").await.unwrap();
        let second = last_link_token(&db, "a@b.co", "/reset-password").await;
        assert_ne!(first, second);
        let epoch = epoch::current(db.pool(), user.id).await.unwrap();

        let short = reset::reset_password(&db, &second, "short").await;
        assert!(matches!(short, Err(reset::ResetError::InvalidPassword(_))), "{short:?}");
        assert_eq!(reset::reset_password(&db, &second, "a new password").await.unwrap(), user.id);
        assert_ne!(epoch::current(db.pool(), user.id).await.unwrap(), epoch, "every session ended");
        assert!(log_in(&db, &limiter, ip(), "a@b.co", "a new password").await.is_ok());
        assert!(users::find_by_id(db.pool(), user.id).await.unwrap().unwrap().email_verified());
        for spent in [&second, &first] {
            let again = reset::reset_password(&db, spent, "yet another one").await;
            assert!(matches!(again, Err(reset::ResetError::LinkExpired)), "{again:?}");
        }
        assert!(log_in(&db, &limiter, ip(), "a@b.co", "a new password").await.is_ok(), "still the new password");
    }

    #[tokio::test]
    async fn a_reset_for_an_unknown_address_queues_nothing() {
        let (_d, db) = db().await;
        reset::request_link(&db, &links(), "nobody@b.co").await.unwrap();
        assert!(outbox(&db).await.is_empty());
        assert!(reset::request_link(&db, &links(), "not an address").await.is_err());
    }

    #[tokio::test]
    async fn rate_limit_applies_before_checking_the_password() {
        let (_d, db) = db().await;
        let limiter = LoginLimiter::new(db.pool().clone(), Default::default());
        sign_up_new(&db, "a@b.co", "long enough").await;
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
        let customer = sign_up_new(&db, "taken@b.co", "customer password").await;
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
