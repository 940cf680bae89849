//! The `/api/v1` guard: `ApiCaller` as a handler argument authenticates `Authorization: Bearer
//! tg_…` (an active key whose secret hashes to the stored hash) or answers 401 with a JSON error.

use anyhow::Context;
use axum::{extract::FromRequestParts, http::request::Parts};
use sqlx::AnyPool;

use super::{hash_secret, parse, KeyScope};
use crate::server::{db::now, http::api_error::ApiError, state::AppState};

/// The key a request was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiCaller {
    pub key: i64,
    pub scope: KeyScope,
}

/// `last_used_at` is written at most this often per key (a write per request would cost).
const LAST_USED_EVERY_SECS: i64 = 60;

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: i64,
    secret_hash: String,
    user_id: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(raw) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return Err(ApiError::unauthorized("Send an API key: Authorization: Bearer tg_…"));
        };
        authenticate(state.db.pool(), raw.trim(), now())
            .await
            .map_err(|e| ApiError::internal(&e))?
            .ok_or_else(|| ApiError::unauthorized("This API key is not valid (unknown, mistyped or revoked)."))
    }
}

/// The caller `raw` identifies, or `None` for an unknown, wrong or revoked key.
pub async fn authenticate(pool: &AnyPool, raw: &str, now: i64) -> anyhow::Result<Option<ApiCaller>> {
    let Some(presented) = parse(raw) else { return Ok(None) };
    let row: Option<KeyRow> = sqlx::query_as(
        "SELECT id, secret_hash, user_id, last_used_at, revoked_at FROM api_keys WHERE key_id = $1 AND mode = $2",
    )
    .bind(presented.key_id)
    .bind(presented.mode)
    .fetch_optional(pool)
    .await
    .context("looking up an API key")?;
    let Some(row) = row else { return Ok(None) };
    if row.revoked_at.is_some() || row.secret_hash != hash_secret(presented.secret) {
        return Ok(None);
    }
    if row.last_used_at.is_none_or(|at| at <= now - LAST_USED_EVERY_SECS) {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(row.id)
            .execute(pool)
            .await
            .context("recording an API key's use")?;
    }
    let scope = row.user_id.map_or(KeyScope::Platform, KeyScope::Customer);
    Ok(Some(ApiCaller { key: row.id, scope }))
}
