//! Persistence for the user aggregate.

use anyhow::Context;
use secrecy::SecretString;
use sqlx::{Any, AnyPool, Transaction};
use stripe_shared::CustomerId;

use crate::domain::{Email, Role};

use super::now;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: Email,
    pub role: Role,
    pub stripe_customer_id: Option<String>,
    pub had_trial: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Raised when the role or password changes: sessions started under an older one are over.
    pub session_epoch: i64,
    /// When the user opened the link mailed to their address (paid actions wait for it).
    pub email_verified_at: Option<i64>,
}

impl User {
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

/// What log-in needs: kept apart from [`User`] so the hash travels no further than it must.
pub struct Credentials {
    pub user_id: i64,
    pub password_hash: SecretString,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertUserError {
    #[error("a user with this email already exists")]
    DuplicateEmail,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Booleans are BOOLEAN on Postgres and INTEGER 0/1 on SQLite (the Any driver cannot
/// decode SQLite booleans): read them as integers on both.
const USER_COLUMNS: &str = "id, email, role, stripe_customer_id, \
     CAST(had_trial AS INTEGER) AS had_trial, created_at, updated_at, session_epoch, email_verified_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    role: String,
    stripe_customer_id: Option<String>,
    had_trial: i64,
    created_at: i64,
    updated_at: i64,
    session_epoch: i64,
    email_verified_at: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = anyhow::Error;

    fn try_from(row: UserRow) -> anyhow::Result<Self> {
        Ok(User {
            id: row.id,
            email: Email::parse(&row.email).with_context(|| format!("stored email {:?} is invalid", row.email))?,
            role: row.role.parse().context("stored role is invalid")?,
            stripe_customer_id: row.stripe_customer_id,
            had_trial: row.had_trial != 0,
            created_at: row.created_at,
            updated_at: row.updated_at,
            session_epoch: row.session_epoch,
            email_verified_at: row.email_verified_at,
        })
    }
}

#[tracing::instrument(skip_all, fields(role = %role))]
pub async fn insert<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    email: &Email,
    password_hash: &str,
    role: Role,
) -> Result<User, InsertUserError> {
    let now = now();
    let result = sqlx::query_as::<_, UserRow>(&format!(
        "INSERT INTO users (email, password_hash, role, had_trial, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
    ))
    .bind(email.as_str())
    .bind(password_hash)
    .bind(role.as_str())
    .bind(false)
    .bind(now)
    .bind(now)
    .fetch_one(executor)
    .await;
    match result {
        Ok(row) => Ok(User::try_from(row)?),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(InsertUserError::DuplicateEmail),
        Err(e) => Err(anyhow::Error::new(e).context("inserting a user").into()),
    }
}

#[tracing::instrument(skip(pool))]
pub async fn find_by_id(pool: &AnyPool, id: i64) -> anyhow::Result<Option<User>> {
    sqlx::query_as::<_, UserRow>(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("loading a user by id")?
        .map(User::try_from)
        .transpose()
}

#[tracing::instrument(skip_all)]
pub async fn find_by_email(pool: &AnyPool, email: &Email) -> anyhow::Result<Option<User>> {
    sqlx::query_as::<_, UserRow>(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
        .context("loading a user by email")?
        .map(User::try_from)
        .transpose()
}

/// The user whose Stripe customer this is.
#[tracing::instrument(skip(pool))]
pub async fn find_by_stripe_customer(pool: &AnyPool, customer_id: &str) -> anyhow::Result<Option<User>> {
    sqlx::query_as::<_, UserRow>(&format!("SELECT {USER_COLUMNS} FROM users WHERE stripe_customer_id = $1"))
        .bind(customer_id)
        .fetch_optional(pool)
        .await
        .context("loading a user by Stripe customer")?
        .map(User::try_from)
        .transpose()
}

#[tracing::instrument(skip_all)]
pub async fn credentials_by_email(pool: &AnyPool, email: &Email) -> anyhow::Result<Option<Credentials>> {
    let row: Option<(i64, String)> = sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
        .context("loading credentials")?;
    Ok(row.map(|(user_id, hash)| Credentials { user_id, password_hash: SecretString::from(hash) }))
}

/// Creates the admin, or makes an existing user with that email an admin with this password.
/// The operator who set the address vouches for it: the admin's address counts as verified.
#[tracing::instrument(skip_all)]
pub async fn upsert_admin(pool: &AnyPool, email: &Email, password_hash: &str) -> anyhow::Result<User> {
    let now = now();
    let row = sqlx::query_as::<_, UserRow>(&format!(
        "INSERT INTO users (email, password_hash, role, had_trial, created_at, updated_at, email_verified_at) \
         VALUES ($1, $2, 'admin', $3, $4, $5, $5) \
         ON CONFLICT (email) DO UPDATE SET \
           password_hash = excluded.password_hash, role = 'admin', updated_at = excluded.updated_at, \
           email_verified_at = COALESCE(users.email_verified_at, excluded.email_verified_at) \
         RETURNING {USER_COLUMNS}"
    ))
    .bind(email.as_str())
    .bind(password_hash)
    .bind(false)
    .bind(now)
    .bind(now)
    .fetch_one(pool)
    .await
    .context("creating or updating the admin")?;
    User::try_from(row)
}

/// Records the user's Stripe customer id (set once, at sign-up, by the billing code).
pub async fn set_stripe_customer_id(pool: &AnyPool, user_id: i64, customer_id: &CustomerId) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET stripe_customer_id = $1, updated_at = $2 WHERE id = $3")
        .bind(customer_id.as_str())
        .bind(now())
        .bind(user_id)
        .execute(pool)
        .await
        .context("storing the Stripe customer id")?;
    Ok(())
}

/// The user's password hash (checked before a change of password or an admin bootstrap).
pub async fn password_hash(pool: &AnyPool, user_id: i64) -> anyhow::Result<Option<SecretString>> {
    let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .context("loading a password hash")?;
    Ok(hash.map(SecretString::from))
}

/// Replaces the user's password hash.
pub async fn set_password_hash<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    user_id: i64,
    password_hash: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now())
        .bind(user_id)
        .execute(executor)
        .await
        .context("storing a new password hash")?;
    Ok(())
}

/// Records that the user opened a link mailed to their address (the first time counts).
pub async fn mark_email_verified(tx: &mut Transaction<'_, Any>, user_id: i64, now: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(&mut **tx)
        .await
        .context("marking the email verified")?;
    Ok(())
}

/// Every admin's address, oldest account first: who operational and dispute alerts go to.
pub async fn admin_emails(tx: &mut Transaction<'_, Any>) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar("SELECT email FROM users WHERE role = 'admin' ORDER BY id")
        .fetch_all(&mut **tx)
        .await
        .context("listing admins")
}

pub async fn count(pool: &AnyPool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await.context("counting users")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::{test_db, Db};
    use secrecy::ExposeSecret;

    async fn db() -> (tempfile::TempDir, Db) {
        test_db(true).await
    }

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[tokio::test]
    async fn insert_then_find() {
        let (_d, db) = db().await;
        let user = insert(db.pool(), &email("a@b.co"), "hash", Role::Customer).await.unwrap();
        assert_eq!(user.role, Role::Customer);
        assert!(!user.had_trial);
        assert!(user.stripe_customer_id.is_none());
        assert!(user.created_at > 1_600_000_000);
        assert_eq!(find_by_id(db.pool(), user.id).await.unwrap(), Some(user.clone()));
        assert_eq!(find_by_email(db.pool(), &email("A@B.CO")).await.unwrap(), Some(user.clone()));
        let creds = credentials_by_email(db.pool(), &email("a@b.co")).await.unwrap().unwrap();
        assert_eq!(creds.user_id, user.id);
        assert_eq!(creds.password_hash.expose_secret(), "hash");
        assert!(find_by_id(db.pool(), user.id + 1).await.unwrap().is_none());

        set_stripe_customer_id(db.pool(), user.id, &"cus_123".into()).await.unwrap();
        let stored = find_by_id(db.pool(), user.id).await.unwrap().unwrap();
        assert_eq!(stored.stripe_customer_id.as_deref(), Some("cus_123"));
    }

    #[tokio::test]
    async fn duplicate_email_is_refused_case_insensitively() {
        let (_d, db) = db().await;
        insert(db.pool(), &email("a@b.co"), "h", Role::Customer).await.unwrap();
        let again = insert(db.pool(), &email("A@b.CO"), "h", Role::Customer).await;
        assert!(matches!(again, Err(InsertUserError::DuplicateEmail)), "{again:?}");
        assert_eq!(count(db.pool()).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn upsert_admin_creates_then_promotes_and_resets() {
        let (_d, db) = db().await;
        let created = upsert_admin(db.pool(), &email("boss@b.co"), "h1").await.unwrap();
        assert_eq!(created.role, Role::Admin);
        assert!(created.email_verified(), "the operator vouches for the admin's address");
        let again = upsert_admin(db.pool(), &email("boss@b.co"), "h2").await.unwrap();
        assert_eq!(again.id, created.id);
        assert_eq!(password_hash(db.pool(), again.id).await.unwrap().unwrap().expose_secret(), "h2");

        let customer = insert(db.pool(), &email("c@b.co"), "h", Role::Customer).await.unwrap();
        assert!(!customer.email_verified(), "a new sign-up waits for its link");
        let promoted = upsert_admin(db.pool(), &email("c@b.co"), "h3").await.unwrap();
        assert!(promoted.email_verified());
        assert_eq!(promoted.id, customer.id);
        assert_eq!(promoted.role, Role::Admin);
        assert_eq!(count(db.pool()).await.unwrap(), 2);
    }
}
