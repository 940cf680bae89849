//! Idempotency keys that mean one intent. Every key starts with the installation's id (the
//! Stripe client adds it, see `StripeClient::with_key_namespace`), so installations sharing a
//! Stripe account never replay each other's requests; a key for a form's action carries the
//! form's one-submission token, so cancel → resume → cancel reaches Stripe three times while a
//! double click on one form reaches it once.

use anyhow::Context;
use sqlx::AnyPool;

use crate::server::http::outcome::FormError;

/// This installation's id, chosen at first start and kept in `app_settings`.
pub async fn installation_id(pool: &AnyPool) -> anyhow::Result<String> {
    let fresh = uuid::Uuid::new_v4().simple().to_string();
    sqlx::query("INSERT INTO app_settings (name, value) VALUES ('installation_id', $1) ON CONFLICT (name) DO NOTHING")
        .bind(&fresh)
        .execute(pool)
        .await
        .context("choosing the installation id")?;
    sqlx::query_scalar("SELECT value FROM app_settings WHERE name = 'installation_id'")
        .fetch_one(pool)
        .await
        .context("reading the installation id")
}

/// A fresh one-submission token for a form: a double submit of that form is one operation.
pub fn new_form_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Checks a posted form token before it becomes part of an idempotency key: only what
/// [`new_form_token`] makes gets through.
pub fn check_form_token(token: &str) -> Result<(), FormError> {
    if (16..=64).contains(&token.len()) && token.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(FormError::Refused("The form expired: open the page again.".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_installation_id_is_chosen_once_and_kept() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let first = installation_id(db.pool()).await.unwrap();
        assert_eq!(installation_id(db.pool()).await.unwrap(), first);
        let (_other_dir, other) = crate::server::db::test_db(true).await;
        assert_ne!(installation_id(other.pool()).await.unwrap(), first, "another installation, another id");
    }

    #[test]
    fn the_client_namespaces_every_key() {
        let secret = secrecy::SecretString::from("sk_test_x".to_owned());
        let client = crate::server::stripe::client::StripeClient::new(&secret, None).unwrap();
        assert_eq!(client.idempotency_key("customer-for-user-1"), "customer-for-user-1");
        let one = client.clone().with_key_namespace("inst1");
        let two = client.with_key_namespace("inst2");
        assert_eq!(one.idempotency_key("customer-for-user-1"), "inst1-customer-for-user-1");
        assert_ne!(one.idempotency_key("customer-for-user-1"), two.idempotency_key("customer-for-user-1"));
    }

    #[test]
    fn form_tokens_are_fresh_and_checked() {
        let (a, b) = (new_form_token(), new_form_token());
        assert_ne!(a, b);
        assert!(check_form_token(&a).is_ok());
        for bad in ["", "short", "has-dash-1234567890", &"x".repeat(65)] {
            assert!(check_form_token(bad).is_err(), "{bad}");
        }
    }
}
