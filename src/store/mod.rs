//! SQLite: opening, migrating, and one module per table group.
//!
//! The database is the memory that makes labsync safe: links, bases,
//! watermarks and intents. It is opened in WAL mode with foreign keys on, and
//! a database written by a newer labsync is refused rather than damaged.

pub mod exchange;
pub mod install;
pub mod lease;
pub mod links;
pub mod mappings;
pub mod progress;
pub mod report;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Schema migrations, applied in order; the index + 1 is the version.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_init.sql",
        include_str!("../../migrations/0001_init.sql"),
    ),
    (
        "0002_comment_sweep.sql",
        include_str!("../../migrations/0002_comment_sweep.sql"),
    ),
    (
        "0003_leases.sql",
        include_str!("../../migrations/0003_leases.sql"),
    ),
    (
        "0004_install.sql",
        include_str!("../../migrations/0004_install.sql"),
    ),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: cannot open: {reason}")]
    Open { path: String, reason: String },
    #[error(
        "database {path} has schema version {found}, newer than this labsync understands ({supported}); upgrade labsync or use another --db"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("database {path}: migration {name} failed: {reason}")]
    Migration {
        path: String,
        name: String,
        reason: String,
    },
    #[error("database {path}: {reason}")]
    Sqlite { path: String, reason: String },
    #[error("database {path}: {what}: unexpected content: {reason}")]
    Corrupt {
        path: String,
        what: String,
        reason: String,
    },
    /// Refused input; the message says what to do.
    #[error("{0}")]
    Refused(String),
}

/// An open labsync database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            return Err(StoreError::Open {
                path: shown,
                reason: format!("directory {} does not exist", dir.display()),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Open {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// An in-memory database, for tests and `labsync plan` dry runs.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Open {
            path: ":memory:".into(),
            reason: e.to_string(),
        })?;
        let mut store = Store {
            conn,
            path: PathBuf::from(":memory:"),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Wraps a rusqlite error with the database path.
    pub(crate) fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.display().to_string(),
            reason: describe(&e),
        }
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        // A concurrent `labsync --sync-now` and the daemon share the file:
        // wait for the other's write instead of failing at once.
        self.conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| self.open_err(e))?;
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(|e| self.open_err(e))?;
        // WAL does not apply to in-memory databases; it answers "memory".
        let _mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| self.open_err(e))?;
        Ok(())
    }

    fn open_err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::Open {
            path: self.path.display().to_string(),
            reason: describe(&e),
        }
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.open_err(e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.display().to_string(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let version = index as i64 + 1;
            let path = self.path.display().to_string();
            let fail = |e: rusqlite::Error| StoreError::Migration {
                path: path.clone(),
                name: name.to_string(),
                reason: describe(&e),
            };
            // Schema and version move together or not at all.
            let tx = self.conn.transaction().map_err(fail)?;
            tx.execute_batch(sql).map_err(fail)?;
            tx.pragma_update(None, "user_version", version)
                .map_err(fail)?;
            tx.commit().map_err(fail)?;
            tracing::info!(database = %self.path.display(), version, "applied migration {name}");
        }
        Ok(())
    }
}

/// rusqlite's messages, with the cases an operator meets made plain.
fn describe(e: &rusqlite::Error) -> String {
    use rusqlite::ffi::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => {
            "the database is read-only (check file and directory permissions)".into()
        }
        Some(ErrorCode::NotADatabase) => {
            "the file is not a labsync database (or is corrupted)".into()
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            "the database file is corrupted; restore it from a backup".into()
        }
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            "the database is busy (another labsync holds a long write); try again".into()
        }
        Some(ErrorCode::CannotOpen) => {
            "cannot open the file (check the path and permissions)".into()
        }
        Some(ErrorCode::DiskFull) => "the disk is full".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_an_empty_database_and_reopening_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labsync.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let tables: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let again: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, again);
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[test]
    fn refuses_a_database_from_a_newer_labsync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labsync.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("newer than this labsync understands"), "{err}");
        // Nothing was changed by the refusal.
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION + 1);
    }

    #[test]
    fn a_file_that_is_not_a_database_gets_a_plain_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labsync.db");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("not a labsync database"), "{err}");
    }
}
