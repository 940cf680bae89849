//! One-time links mailed to a user (verify the address, reset the password). The token is 32
//! random bytes, URL-safe base64 in the link; the table keeps only its SHA-256, so a copy of the
//! database opens no account. A token is spent once used, and when a newer one replaces it.

use anyhow::Context;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyPool, Transaction};

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::PasswordReset => "password_reset",
        }
    }

    /// How long a link works: a reset link an hour (it replaces a password); a verification
    /// link a day (it grants nothing but the right to pay, and a new one is a click away).
    fn lifetime_secs(self) -> i64 {
        match self {
            Purpose::VerifyEmail => 24 * 3600,
            Purpose::PasswordReset => 3600,
        }
    }
}

/// A token made but not yet stored: the secret goes into the mail, the hash into the table.
pub struct NewToken {
    pub secret: String,
    hash: String,
}

impl NewToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash(&secret);
        Self { secret, hash }
    }
}

/// Length of [`NewToken::secret`]: 32 bytes in unpadded base64.
const SECRET_CHARS: usize = 43;

/// Whether `secret` could be a token this module made (anything else is refused before any
/// query, and never ends up in a redirect).
pub fn well_formed(secret: &str) -> bool {
    secret.len() == SECRET_CHARS && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores `token` for `user_id`; returns its row id (the mail's cause key names it).
pub async fn store(
    tx: &mut Transaction<'_, Any>,
    token: &NewToken,
    user_id: i64,
    purpose: Purpose,
    now: i64,
) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO account_tokens (user_id, purpose, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(&token.hash)
    .bind(now)
    .bind(now + purpose.lifetime_secs())
    .fetch_one(&mut **tx)
    .await
    .context("storing a one-time token")
}

/// The user a live (unused, unexpired) token of `purpose` belongs to; spends nothing.
pub async fn owner(pool: &AnyPool, secret: &str, purpose: Purpose, now: i64) -> anyhow::Result<Option<i64>> {
    if !well_formed(secret) {
        return Ok(None);
    }
    sqlx::query_scalar(
        "SELECT user_id FROM account_tokens \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(hash(secret))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(pool)
    .await
    .context("looking up a one-time token")
}

/// Spends a live token of `purpose`, returning its user; `None` if it is unknown, expired or
/// already spent. Of two requests racing with one token, one gets the user.
pub async fn spend(
    tx: &mut Transaction<'_, Any>,
    secret: &str,
    purpose: Purpose,
    now: i64,
) -> anyhow::Result<Option<i64>> {
    if !well_formed(secret) {
        return Ok(None);
    }
    sqlx::query_scalar(
        "UPDATE account_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
    )
    .bind(now)
    .bind(hash(secret))
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await
    .context("spending a one-time token")
}

/// Spends every outstanding token of `purpose` the user has.
pub async fn spend_all(tx: &mut Transaction<'_, Any>, user_id: i64, purpose: Purpose, now: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE account_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
        .bind(now)
        .bind(user_id)
        .bind(purpose.as_str())
        .execute(&mut **tx)
        .await
        .context("spending a user's one-time tokens")?;
    Ok(())
}

/// How many tokens of `purpose` the user was given since `since` (limits how often they are mailed).
pub async fn issued_since(pool: &AnyPool, user_id: i64, purpose: Purpose, since: i64) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM account_tokens WHERE user_id = $1 AND purpose = $2 AND created_at >= $3")
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(since)
        .fetch_one(pool)
        .await
        .context("counting a user's one-time tokens")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::test_db;

    async fn user(pool: &AnyPool) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO users (email, password_hash, role, had_trial, created_at, updated_at) \
             VALUES ('t@b.co', 'x', 'customer', FALSE, 0, 0) RETURNING id",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    }

    async fn issue(pool: &AnyPool, user_id: i64, purpose: Purpose, now: i64) -> NewToken {
        let token = NewToken::generate();
        let mut tx = pool.begin().await.unwrap();
        store(&mut tx, &token, user_id, purpose, now).await.unwrap();
        tx.commit().await.unwrap();
        token
    }

    async fn spend_now(pool: &AnyPool, secret: &str, purpose: Purpose, now: i64) -> Option<i64> {
        let mut tx = pool.begin().await.unwrap();
        let user = spend(&mut tx, secret, purpose, now).await.unwrap();
        tx.commit().await.unwrap();
        user
    }

    #[tokio::test]
    async fn only_the_hash_is_stored() {
        let (_d, db) = test_db(true).await;
        let user_id = user(db.pool()).await;
        let token = issue(db.pool(), user_id, Purpose::PasswordReset, 1_000).await;
        assert!(well_formed(&token.secret), "{}", token.secret);
        let stored: String =
            sqlx::query_scalar("SELECT token_hash FROM account_tokens").fetch_one(db.pool()).await.unwrap();
        assert_ne!(stored, token.secret);
        assert_eq!(stored.len(), 64, "hex SHA-256");
        assert!(!stored.contains(&token.secret));
    }

    #[tokio::test]
    async fn a_token_works_once_for_its_purpose_until_it_expires() {
        let (_d, db) = test_db(true).await;
        let pool = db.pool();
        let user_id = user(pool).await;
        let reset = issue(pool, user_id, Purpose::PasswordReset, 1_000).await;
        assert_eq!(spend_now(pool, &reset.secret, Purpose::VerifyEmail, 1_001).await, None, "another purpose");
        assert_eq!(owner(pool, &reset.secret, Purpose::PasswordReset, 1_001).await.unwrap(), Some(user_id));
        assert_eq!(spend_now(pool, &reset.secret, Purpose::PasswordReset, 1_001).await, Some(user_id));
        assert_eq!(spend_now(pool, &reset.secret, Purpose::PasswordReset, 1_002).await, None, "single use");
        assert_eq!(owner(pool, &reset.secret, Purpose::PasswordReset, 1_002).await.unwrap(), None);

        let late = issue(pool, user_id, Purpose::PasswordReset, 1_000).await;
        assert_eq!(spend_now(pool, &late.secret, Purpose::PasswordReset, 1_000 + 3600).await, None, "an hour");
        let verify = issue(pool, user_id, Purpose::VerifyEmail, 1_000).await;
        assert_eq!(spend_now(pool, &verify.secret, Purpose::VerifyEmail, 1_000 + 3600).await, Some(user_id));
        assert_eq!(spend_now(pool, "not a token", Purpose::VerifyEmail, 1_000).await, None);
    }

    #[tokio::test]
    async fn spending_all_of_a_purpose_leaves_the_others() {
        let (_d, db) = test_db(true).await;
        let pool = db.pool();
        let user_id = user(pool).await;
        let first = issue(pool, user_id, Purpose::PasswordReset, 1_000).await;
        let second = issue(pool, user_id, Purpose::PasswordReset, 1_000).await;
        let verify = issue(pool, user_id, Purpose::VerifyEmail, 1_000).await;
        assert_eq!(issued_since(pool, user_id, Purpose::PasswordReset, 1_000).await.unwrap(), 2);
        let mut tx = pool.begin().await.unwrap();
        spend_all(&mut tx, user_id, Purpose::PasswordReset, 1_001).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(spend_now(pool, &first.secret, Purpose::PasswordReset, 1_002).await, None);
        assert_eq!(spend_now(pool, &second.secret, Purpose::PasswordReset, 1_002).await, None);
        assert_eq!(spend_now(pool, &verify.secret, Purpose::VerifyEmail, 1_002).await, Some(user_id));
    }
}
