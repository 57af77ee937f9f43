//! Opening the database for commands that only read it (`status`, `map
//! list`, `plan`): never created, never migrated, never written, and
//! usable on a read-only file in a read-only directory.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::identity::{Identity, identify};
use super::{BUSY_TIMEOUT, SCHEMA_VERSION, Store, StoreError, describe};

impl Store {
    /// Opens labsync's database at `path` read-only. A missing or empty
    /// file, another program's database and an unknown schema version are
    /// refused with one line. A database of an older labsync is read
    /// through an upgraded copy in memory: the file stays as it is.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let conn = connect_read_only(path)?;
        let shown = path.display().to_string();
        match identify(&conn, &shown)? {
            Identity::Empty => Err(Store::missing(path)),
            Identity::Labsync(SCHEMA_VERSION) => Ok(Store {
                conn,
                path: path.to_path_buf(),
            }),
            Identity::Labsync(_) => copy_in_memory(&conn, path),
        }
    }

    /// A private copy of the database in memory, migrated: what `plan`
    /// runs its dry cycle on, so that nothing it does reaches the file.
    pub fn snapshot(path: &Path) -> Result<Store, StoreError> {
        let conn = connect_read_only(path)?;
        match identify(&conn, &path.display().to_string())? {
            Identity::Empty => Err(Store::missing(path)),
            Identity::Labsync(_) => copy_in_memory(&conn, path),
        }
    }
}

impl Store {
    /// The refusal of a command that needs a database where there is none.
    pub fn missing(path: &Path) -> StoreError {
        StoreError::Refused(format!(
            "no labsync database at {}: run `labsync sync` (or `labsync run`) first, or give the right --db",
            path.display()
        ))
    }
}

/// A read-only connection. In WAL mode a reader needs the -shm file; in a
/// directory it may not write, and with no -wal file left (nothing is
/// waiting to be checkpointed), the file is opened as immutable instead.
fn connect_read_only(path: &Path) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    let refuse = |reason: String| StoreError::Open {
        path: shown.clone(),
        reason,
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Store::missing(path)),
        Err(e) => return Err(refuse(e.to_string())),
        Ok(m) if !m.is_file() => return Err(refuse("not a file".into())),
        Ok(_) => {}
    }
    let conn = open_uri(path, "mode=ro").map_err(|e| refuse(describe(&e)))?;
    // The first read is where a missing -shm shows.
    match conn.query_row("PRAGMA schema_version", [], |_| Ok(())) {
        Ok(()) => Ok(conn),
        Err(e) if needs_shm(&e) && !has_pending_wal(path) => {
            drop(conn);
            let conn = open_uri(path, "immutable=1").map_err(|e| refuse(describe(&e)))?;
            conn.query_row("PRAGMA schema_version", [], |_| Ok(()))
                .map_err(|e| refuse(describe(&e)))?;
            Ok(conn)
        }
        Err(e) => Err(refuse(describe(&e))),
    }
}

fn open_uri(path: &Path, query: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        format!("file:{}?{query}", uri_path(path)),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// SQLite could not open or create the -shm file a WAL reader needs.
fn needs_shm(e: &rusqlite::Error) -> bool {
    use rusqlite::ffi::ErrorCode;
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
    )
}

/// A non-empty -wal file holds commits the main file does not have yet:
/// reading the file as immutable would miss them.
fn has_pending_wal(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).is_ok_and(|m| m.len() > 0)
}

/// The path as a URI path: the characters a URI gives a meaning escaped.
fn uri_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        match b {
            b'%' | b'?' | b'#' => out.push_str(&format!("%{b:02X}")),
            b if !(0x20..0x7f).contains(&b) => out.push_str(&format!("%{b:02X}")),
            b => out.push(b as char),
        }
    }
    out
}

/// Copies the database into memory and brings the copy to this labsync's
/// schema.
fn copy_in_memory(source: &Connection, path: &Path) -> Result<Store, StoreError> {
    let shown = path.display().to_string();
    let fail = |e: rusqlite::Error| StoreError::Open {
        path: shown.clone(),
        reason: describe(&e),
    };
    let mut memory = Connection::open_in_memory().map_err(fail)?;
    {
        let backup = rusqlite::backup::Backup::new(source, &mut memory).map_err(fail)?;
        backup
            .run_to_completion(1024, BUSY_TIMEOUT / 100, None)
            .map_err(fail)?;
    }
    let mut store = Store {
        conn: memory,
        path: path.to_path_buf(),
    };
    store.configure()?;
    store.migrate(false)?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_with_uri_characters_is_escaped() {
        assert_eq!(
            uri_path(Path::new("/var/lib/a b/x?y#z%.db")),
            "/var/lib/a b/x%3Fy%23z%25.db"
        );
    }
}
