//! argon2id hashing, always off the async runtime (`spawn_blocking`).

use std::sync::OnceLock;

use anyhow::Context;
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, SaltString},
    Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version,
};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::Password;

/// argon2id, version 0x13, OWASP-recommended cost (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash =
        hasher().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(hash.to_string())
}

fn verify_blocking(hash: &str, candidate: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(hash).map_err(|e| anyhow::anyhow!("parsing a stored hash: {e}"))?;
    // The parameters stored in the hash are used, so older hashes keep verifying.
    Ok(Argon2::default().verify_password(candidate.as_bytes(), &parsed).is_ok())
}

/// Hashes a password into a PHC string (`$argon2id$v=19$…`).
pub async fn hash_password(password: Password) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(password.expose())).await.context("the hashing task failed")?
}

/// Checks a candidate against a stored hash.
pub async fn verify_password(hash: SecretString, candidate: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || verify_blocking(hash.expose_secret(), &candidate))
        .await
        .context("the verification task failed")?
}

/// Spends the same effort as a real check when the email is unknown, so response
/// times do not reveal which emails have accounts.
pub async fn verify_against_dummy(candidate: String) -> anyhow::Result<()> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    tokio::task::spawn_blocking(move || {
        let hash = match DUMMY.get() {
            Some(hash) => hash,
            None => {
                let fresh = hash_blocking("dummy password that matches nothing")?;
                DUMMY.get_or_init(|| fresh)
            }
        };
        verify_blocking(hash, &candidate).map(|_| ())
    })
    .await
    .context("the verification task failed")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hash = hash_password(Password::parse("correct horse").unwrap()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        let secret = SecretString::from(hash);
        assert!(verify_password(secret.clone(), "correct horse".into()).await.unwrap());
        assert!(!verify_password(secret, "wrong horse".into()).await.unwrap());
    }

    #[tokio::test]
    async fn same_password_gets_a_fresh_salt() {
        let a = hash_password(Password::parse("same password").unwrap()).await.unwrap();
        let b = hash_password(Password::parse("same password").unwrap()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn a_corrupt_hash_is_an_error_not_a_match() {
        assert!(verify_password(SecretString::from("garbage".to_owned()), "x".into()).await.is_err());
    }
}
