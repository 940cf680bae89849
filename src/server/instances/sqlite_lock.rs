//! SQLite is the one-box default: its claims and leases are not shared by processes on other
//! machines, and two servers on one file would race for its single writer. A second
//! `tollgate serve` on the same SQLite file therefore refuses to start, naming the way out.

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
};

use anyhow::Context;

/// Held while `serve` runs; the lock goes with the process (even when it is killed).
#[derive(Debug)]
pub struct SqliteServeLock {
    _file: File,
}

/// The lock file beside the database: `tollgate.db` → `tollgate.db.serve-lock`.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".serve-lock");
    PathBuf::from(name)
}

/// Takes the serve lock of the SQLite database at `database`, or says who holds it.
pub fn acquire(database: &Path) -> anyhow::Result<SqliteServeLock> {
    let path = lock_path(database);
    // Before the database is opened, which would create its folder too.
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating the database directory {}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(SqliteServeLock { _file: file }),
        Err(TryLockError::WouldBlock) => anyhow::bail!(
            "another `tollgate serve` is already running on the SQLite database {}: SQLite serves one \
             instance. Stop the other one, or run several instances on PostgreSQL (README: \"Running \
             several instances\")",
            database.display()
        ),
        Err(TryLockError::Error(err)) => Err(err).with_context(|| format!("locking {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_server_on_the_same_file_is_refused_until_the_first_stops() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("data").join("tollgate.db");
        let first = acquire(&database).unwrap();
        let refused = acquire(&database).unwrap_err().to_string();
        assert!(refused.contains("already running") && refused.contains("PostgreSQL"), "{refused}");
        assert!(acquire(&dir.path().join("other.db")).is_ok(), "another file is another database");
        drop(first);
        assert!(acquire(&database).is_ok(), "free again once the first stopped");
    }
}
