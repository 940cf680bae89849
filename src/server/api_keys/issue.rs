//! Issuing a key (admin, audited): the full key is returned once and never stored.

use anyhow::Context;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sqlx::AnyPool;

use super::{hash_secret, KeyScope, KEY_ID_HEX};
use crate::server::admin::audit::{self, Actor, Record};
use crate::server::db::begin_write;

/// A key as its holder receives it, once.
pub struct IssuedKey {
    pub id: i64,
    pub key: String,
}

pub async fn issue(
    pool: &AnyPool,
    actor: &Actor,
    scope: KeyScope,
    label: &str,
    mode: &str,
    now: i64,
) -> anyhow::Result<IssuedKey> {
    let mut rng = rand::rngs::OsRng;
    let mut id_bytes = [0u8; KEY_ID_HEX / 2];
    rng.fill_bytes(&mut id_bytes);
    let key_id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut secret_bytes = [0u8; 32];
    rng.fill_bytes(&mut secret_bytes);
    let secret = URL_SAFE_NO_PAD.encode(secret_bytes);
    let user_id = match scope {
        KeyScope::Platform => None,
        KeyScope::Customer(user) => Some(user),
    };

    let mut tx = begin_write(pool).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_keys (key_id, secret_hash, mode, user_id, label, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&key_id)
    .bind(hash_secret(&secret))
    .bind(mode)
    .bind(user_id)
    .bind(label)
    .bind(actor.user_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .context("storing the API key")?;
    let subject = format!("tg_{mode}_{key_id}");
    let after = match user_id {
        Some(user) => format!("customer key for user {user}: {label}"),
        None => format!("platform key: {label}"),
    };
    let record = Record {
        action: "api_key_issued",
        subject_type: "api_key",
        subject_id: &subject,
        customer_id: None,
        before: None,
        after: Some(&after),
    };
    audit::write(&mut tx, actor, record, now).await?;
    tx.commit().await.context("committing the API key")?;
    Ok(IssuedKey { id, key: format!("tg_{mode}_{key_id}_{secret}") })
}
