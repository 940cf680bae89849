//! A migrated database's schema and contents read back whole: tests compare two of them.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;
use tollgate::server::{config::Backend, db::Db};

/// Every (table, column) of a migrated database, without sqlx's own bookkeeping table.
pub async fn tables_and_columns(db: &Db) -> BTreeSet<(String, String)> {
    let query = match db.backend() {
        Backend::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'"
        }
    };
    sqlx::query_as::<_, (String, String)>(query).fetch_all(db.pool()).await.unwrap().into_iter().collect()
}

/// Every row of every table but `except`, each column cast to text (the `Any` driver cannot
/// decode SQLite's booleans), sorted: table → rows.
pub async fn dump_tables(db: &Db, except: &[&str]) -> BTreeMap<String, Vec<Vec<Option<String>>>> {
    let mut columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, column) in tables_and_columns(db).await {
        if !except.contains(&table.as_str()) {
            columns.entry(table).or_default().push(format!("CAST(\"{column}\" AS TEXT)"));
        }
    }
    let mut dump = BTreeMap::new();
    for (table, columns) in columns {
        let query = format!("SELECT {} FROM {table}", columns.join(", "));
        let rows = sqlx::query(&query).fetch_all(db.pool()).await.unwrap_or_else(|e| panic!("{table}: {e}"));
        let mut rows: Vec<Vec<Option<String>>> =
            rows.iter().map(|row| (0..row.len()).map(|i| row.try_get(i).unwrap()).collect()).collect();
        rows.sort();
        dump.insert(table, rows);
    }
    dump
}
