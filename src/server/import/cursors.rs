//! `import_cursors`: per Stripe list, the last object stored and whether the list was read to
//! its end. A page's rows and its cursor are committed in one transaction.

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};

/// Where one list stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub last_id: Option<String>,
    pub finished: bool,
}

pub async fn load(pool: &AnyPool, list: &str) -> anyhow::Result<Cursor> {
    let row: Option<(Option<String>, i64)> =
        sqlx::query_as("SELECT last_id, CAST(finished AS INTEGER) FROM import_cursors WHERE list_name = $1")
            .bind(list)
            .fetch_optional(pool)
            .await
            .with_context(|| format!("reading the import cursor of {list}"))?;
    Ok(row.map(|(last_id, finished)| Cursor { last_id, finished: finished != 0 }).unwrap_or_default())
}

/// Whether every one of `lists` was read to its end (a finished import: the next run starts over).
pub async fn all_finished(pool: &AnyPool, lists: &[&str]) -> anyhow::Result<bool> {
    for list in lists {
        if !load(pool, list).await?.finished {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Forgets every cursor: the next pass reads each list from its newest object.
pub async fn reset(pool: &AnyPool) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM import_cursors").execute(pool).await.context("resetting the import cursors")?;
    Ok(())
}

pub async fn save(tx: &mut Transaction<'_, Any>, list: &str, cursor: &Cursor, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO import_cursors (list_name, last_id, finished, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (list_name) DO UPDATE SET last_id = excluded.last_id, finished = excluded.finished, \
           updated_at = excluded.updated_at",
    )
    .bind(list)
    .bind(cursor.last_id.as_deref())
    .bind(cursor.finished)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("saving the import cursor of {list}"))?;
    Ok(())
}
