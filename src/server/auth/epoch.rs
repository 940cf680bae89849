//! A user's session epoch: raised when their role or password changes, which ends every session
//! started before (each session keeps the epoch it was started under; see `session.rs`).

use anyhow::Context;
use sqlx::{Any, AnyPool};

/// The user's current epoch (None: no such user).
pub async fn current(pool: &AnyPool, user_id: i64) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT session_epoch FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .context("reading the session epoch")
}

/// Ends every session of the user (on the pool, or inside a transaction).
pub async fn end_all_sessions<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    user_id: i64,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1")
        .bind(user_id)
        .execute(executor)
        .await
        .context("raising the session epoch")?;
    Ok(())
}
