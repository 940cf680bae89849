//! Revoking a key (admin, audited): it stops working at once; the row stays for the audit trail.

use anyhow::Context;
use sqlx::AnyPool;

use crate::server::admin::audit::{self, Actor, Record};
use crate::server::db::begin_write;

/// False when the key does not exist or was revoked already.
pub async fn revoke(pool: &AnyPool, actor: &Actor, id: i64, now: i64) -> anyhow::Result<bool> {
    let mut tx = begin_write(pool).await?;
    let revoked: Option<(String, String)> = sqlx::query_as(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING mode, key_id",
    )
    .bind(now)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .context("revoking the API key")?;
    let Some((mode, key_id)) = revoked else {
        return Ok(false);
    };
    let subject = format!("tg_{mode}_{key_id}");
    let record = Record {
        action: "api_key_revoked",
        subject_type: "api_key",
        subject_id: &subject,
        customer_id: None,
        before: Some("active"),
        after: Some("revoked"),
    };
    audit::write(&mut tx, actor, record, now).await?;
    tx.commit().await.context("committing the revocation")?;
    Ok(true)
}
