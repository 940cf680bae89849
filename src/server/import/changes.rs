//! Whether storing one Stripe object changed anything: the rows it touches are read before and
//! after the write (inside a savepoint), and a write that changed nothing but bookkeeping
//! (`synced_at`, `updated_at`) is rolled back, so a second import leaves every table as it was.

use anyhow::Context;
use sqlx::{Any, Transaction};

/// What storing one object did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

/// The rows an object's write may touch: `(table, column)` pairs, each read `WHERE column = id`.
/// The first names the object's own row (its absence before the write means "created").
pub type Watched = &'static [(&'static str, &'static str)];

/// Columns that only say when a row was last written.
const BOOKKEEPING: [&str; 2] = ["synced_at", "updated_at"];

type Snapshot = Vec<Vec<Vec<Option<String>>>>;

/// The queries that read an object's watched rows, every column as text (the `Any` driver
/// cannot decode SQLite's booleans as they are).
pub struct Watcher {
    queries: Vec<String>,
}

impl Watcher {
    pub async fn new(tx: &mut Transaction<'_, Any>, watched: Watched) -> anyhow::Result<Self> {
        let columns_of = if tx.backend_name() == "PostgreSQL" {
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        } else {
            "SELECT name FROM pragma_table_info($1) ORDER BY cid"
        };
        let mut queries = Vec::with_capacity(watched.len());
        for (table, key) in watched {
            let columns: Vec<String> = sqlx::query_scalar(columns_of)
                .bind(table)
                .fetch_all(&mut **tx)
                .await
                .with_context(|| format!("reading the columns of {table}"))?;
            let read: Vec<String> = columns
                .iter()
                .filter(|c| !BOOKKEEPING.contains(&c.as_str()))
                .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
                .collect();
            anyhow::ensure!(!read.is_empty(), "table {table} has no columns");
            // Table and column names come from this module's callers and the schema, never input.
            queries.push(format!("SELECT {} FROM {table} WHERE {key} = $1", read.join(", ")));
        }
        Ok(Self { queries })
    }

    /// Starts one object's write: a savepoint and the rows as they are.
    pub async fn begin(&self, tx: &mut Transaction<'_, Any>, id: &str) -> anyhow::Result<Snapshot> {
        sqlx::query("SAVEPOINT import_object").execute(&mut **tx).await.context("starting a savepoint")?;
        self.snapshot(tx, id).await
    }

    /// Ends it: compares the rows with `before`; an unchanged object's write is rolled back.
    pub async fn finish(&self, tx: &mut Transaction<'_, Any>, id: &str, before: Snapshot) -> anyhow::Result<Change> {
        let after = self.snapshot(tx, id).await?;
        let change = if before.first().is_none_or(Vec::is_empty) {
            Change::Created
        } else if before == after {
            Change::Unchanged
        } else {
            Change::Updated
        };
        if change == Change::Unchanged {
            sqlx::query("ROLLBACK TO SAVEPOINT import_object").execute(&mut **tx).await.context("rolling back")?;
        }
        sqlx::query("RELEASE SAVEPOINT import_object").execute(&mut **tx).await.context("ending the savepoint")?;
        Ok(change)
    }

    async fn snapshot(&self, tx: &mut Transaction<'_, Any>, id: &str) -> anyhow::Result<Snapshot> {
        let mut tables = Vec::with_capacity(self.queries.len());
        for query in &self.queries {
            let rows = sqlx::query(query).bind(id).fetch_all(&mut **tx).await.context("reading stored rows")?;
            let mut rows: Vec<Vec<Option<String>>> = rows
                .iter()
                .map(|row| (0..sqlx::Row::len(row)).map(|i| sqlx::Row::try_get(row, i)).collect())
                .collect::<Result<_, _>>()
                .context("reading stored rows as text")?;
            rows.sort();
            tables.push(rows);
        }
        Ok(tables)
    }
}
