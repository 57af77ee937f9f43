//! SQLite: opening, migrating, and one module per table group.
//!
//! The database is the memory that makes labsync safe: links, bases,
//! watermarks and intents. It is opened in WAL mode with foreign keys on, and
//! a database written by a newer labsync is refused rather than damaged.
//!
//! The store knows neither the configuration (the binary hands it what
//! plugins.toml declares as a [`declared::Declared`]) nor the clients, the
//! simulators or the engine: its Cargo.toml names none of them.

pub mod declared;
pub mod exchange;
pub mod identity;
pub mod install;
pub mod lease;
pub mod links;
pub mod mappings;
mod private;
pub mod progress;
mod readonly;
pub mod report;
pub mod schedule;
mod storage;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use identity::{Identity, identify};

/// Schema migrations, applied in order; the index + 1 is the version.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init.sql", include_str!("../migrations/0001_init.sql")),
    (
        "0002_comment_sweep.sql",
        include_str!("../migrations/0002_comment_sweep.sql"),
    ),
    (
        "0003_leases.sql",
        include_str!("../migrations/0003_leases.sql"),
    ),
    (
        "0004_install.sql",
        include_str!("../migrations/0004_install.sql"),
    ),
    (
        "0005_identity.sql",
        include_str!("../migrations/0005_identity.sql"),
    ),
    (
        "0006_health.sql",
        include_str!("../migrations/0006_health.sql"),
    ),
    (
        "0007_neutral_sides.sql",
        include_str!("../migrations/0007_neutral_sides.sql"),
    ),
];

/// How long a write waits for another process's write before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub use labsync_engine::storage::StoreError;

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
        private::create_private(path).map_err(|e| StoreError::Open {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        // Opened to write: an older release's readable files become private.
        private::report(&private::tighten(path));
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
        store.migrate(true)?;
        Ok(store)
    }

    /// An in-memory database, for tests and `labsync plan` without a database.
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
        store.migrate(false)?;
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

    /// Connection settings, then the file's journal mode: a file that is
    /// not labsync's is refused before the switch to WAL rewrites its header.
    fn configure(&mut self) -> Result<(), StoreError> {
        // A concurrent `labsync --sync-now` and the daemon share the file:
        // wait for the other's write instead of failing at once.
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.open_err(e))?;
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(|e| self.open_err(e))?;
        identify(&self.conn, &self.path.display().to_string())?;
        self.use_wal()
    }

    /// Switches to WAL (once per file; it is persistent). The switch needs
    /// the file to itself, and SQLite answers "busy" at once instead of
    /// waiting when another process is opening the same fresh file: so
    /// retry for as long as the busy timeout would have waited.
    fn use_wal(&self) -> Result<(), StoreError> {
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(5);
        loop {
            // WAL does not apply to in-memory databases; it answers "memory".
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            {
                Ok(_) => return Ok(()),
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                Err(e) => return Err(self.open_err(e)),
            }
        }
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

    /// Brings the schema to [`SCHEMA_VERSION`]; `announce` logs each
    /// migration applied (not for a copy in memory: the file is unchanged).
    fn migrate(&mut self, announce: bool) -> Result<(), StoreError> {
        let path = self.path.display().to_string();
        if identify(&self.conn, &path)? == Identity::Labsync(SCHEMA_VERSION) {
            return Ok(());
        }
        let sqlite = |e: rusqlite::Error| StoreError::Sqlite {
            path: path.clone(),
            reason: describe(&e),
        };
        // A migration that rebuilds a table must not set off the ON DELETE
        // actions of the tables pointing at it when it drops the old one,
        // and the pragma cannot change inside a transaction: foreign keys
        // are off while migrating, checked before the commit, on again after.
        self.conn
            .execute_batch("PRAGMA foreign_keys = OFF")
            .map_err(sqlite)?;
        let migrated = self.migrate_unchecked(&path, announce);
        let restored = self.conn.execute_batch("PRAGMA foreign_keys = ON");
        migrated?;
        restored.map_err(sqlite)
    }

    /// The migrations still to apply, in one transaction, with foreign
    /// keys off (see [`Store::migrate`]).
    fn migrate_unchecked(&mut self, path: &str, announce: bool) -> Result<(), StoreError> {
        let sqlite = |e: rusqlite::Error| StoreError::Sqlite {
            path: path.to_string(),
            reason: describe(&e),
        };
        // One process migrates; others started at the same moment wait on
        // this write lock (busy timeout), then read the version it left.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        // Another program's file, or a version labsync never wrote, is
        // refused before anything is written to it.
        let found = match identify(&tx, path)? {
            Identity::Empty => 0,
            Identity::Labsync(version) => version,
        };
        let pending = &MIGRATIONS[found as usize..];
        for (index, (name, sql)) in pending.iter().enumerate() {
            let version = found + index as i64 + 1;
            let fail = |e: rusqlite::Error| StoreError::Migration {
                path: path.to_string(),
                name: name.to_string(),
                reason: describe(&e),
            };
            tx.execute_batch(sql).map_err(fail)?;
            tx.pragma_update(None, "user_version", version)
                .map_err(fail)?;
        }
        if let Some((name, _)) = pending.last() {
            foreign_keys_hold(&tx).map_err(|reason| StoreError::Migration {
                path: path.to_string(),
                name: name.to_string(),
                reason,
            })?;
        }
        // Schema and version move together or not at all.
        tx.commit().map_err(sqlite)?;
        for (name, _) in pending.iter().filter(|_| announce) {
            tracing::info!(database = %path, "applied migration {name}");
        }
        Ok(())
    }
}

/// Every row's foreign keys point at a row that exists; the first that
/// does not is named.
fn foreign_keys_hold(conn: &Connection) -> Result<(), String> {
    let dangling = conn
        .query_row("PRAGMA foreign_key_check", [], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .optional()
        .map_err(|e| describe(&e))?;
    match dangling {
        None => Ok(()),
        Some((table, row, parent)) => Err(format!(
            "foreign key check: {table} row {} points at a missing {parent} row",
            row.map_or_else(|| "?".to_string(), |r| r.to_string())
        )),
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    use rusqlite::ffi::ErrorCode;
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
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
        // SQLite's own message, never the statement it came from (a
        // migration is a page of SQL).
        _ => match e {
            rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
            other => other
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        },
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

    /// Several commands started at once on a fresh file: each migrates or
    /// waits for the one migrating, none sees a half-made schema.
    #[test]
    fn concurrent_opens_of_a_fresh_database_all_succeed() {
        const OPENERS: usize = 4;
        for round in 0..25 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("labsync.db");
            let start = std::sync::Arc::new(std::sync::Barrier::new(OPENERS));
            let handles: Vec<_> = (0..OPENERS)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        Store::open(&path).map(|s| s.schema_version().unwrap())
                    })
                })
                .collect();
            for h in handles {
                match h.join().unwrap() {
                    Ok(version) => assert_eq!(version, SCHEMA_VERSION),
                    Err(e) => panic!("round {round}: {e}"),
                }
            }
        }
    }

    #[test]
    fn a_new_database_and_its_wal_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labsync.db");
        let mut store = Store::open(&path).unwrap();
        // A write, so that the -wal and -shm files exist while it is open.
        assert!(
            store
                .try_acquire("web", "1@a:x", chrono::Duration::minutes(1))
                .unwrap()
        );
        for suffix in ["", "-wal", "-shm"] {
            let file = dir.path().join(format!("labsync.db{suffix}"));
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
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
