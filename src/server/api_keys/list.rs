//! The keys for the admin page (never their secrets).

use anyhow::Context;
use sqlx::AnyPool;

use crate::views::admin::usage::ApiKeyItem;

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: i64,
    key_id: String,
    mode: String,
    label: String,
    customer_email: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

pub async fn all(pool: &AnyPool) -> anyhow::Result<Vec<ApiKeyItem>> {
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT k.id, k.key_id, k.mode, k.label, u.email AS customer_email, k.created_at, k.last_used_at, \
           k.revoked_at \
         FROM api_keys k LEFT JOIN users u ON u.id = k.user_id ORDER BY k.id DESC LIMIT 500",
    )
    .fetch_all(pool)
    .await
    .context("reading API keys")?;
    Ok(rows
        .into_iter()
        .map(|r| ApiKeyItem {
            id: r.id,
            prefix: format!("tg_{}_{}", r.mode, r.key_id),
            label: r.label,
            customer_email: r.customer_email,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
        .collect())
}
