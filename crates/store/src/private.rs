//! The database holds titles, descriptions and comments: its files are
//! readable by their owner only. A new file is created 0600 before SQLite
//! opens it; a file made by an older release (0644) is tightened when
//! labsync opens it to write, never by a command that only reads.

use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Creates a missing database file readable by its owner only, before
/// SQLite writes anything into it. SQLite gives the -wal and -shm files
/// the database file's mode.
pub(crate) fn create_private(path: &Path) -> std::io::Result<()> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        // Another process created it first: that one made it private.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}

/// What [`tighten`] found: files others could read, by their old mode.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Tightened {
    /// Ours: now 0600.
    pub(crate) made_private: Vec<(PathBuf, u32)>,
    /// Another user's (or the change failed): left as they are.
    pub(crate) left: Vec<(PathBuf, u32)>,
}

/// Makes the database at `path` and its -wal and -shm files 0600 where
/// group or others could read or write them and this process owns them.
/// Never fails: a file it cannot change is reported, not an error.
pub(crate) fn tighten(path: &Path) -> Tightened {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let mut found = Tightened::default();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        // A -wal or -shm that does not exist (yet) is nothing to do.
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 == 0 || !meta.is_file() {
            continue;
        }
        let private = std::fs::Permissions::from_mode(mode & 0o700 | 0o600);
        if meta.uid() == me && std::fs::set_permissions(&file, private).is_ok() {
            found.made_private.push((file, mode));
        } else {
            found.left.push((file, mode));
        }
    }
    found
}

/// One warning for the files made private, one for those left as they are.
pub(crate) fn report(found: &Tightened) {
    let list = |files: &[(PathBuf, u32)]| {
        files
            .iter()
            .map(|(f, mode)| format!("{} (mode {mode:o})", f.display()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !found.made_private.is_empty() {
        tracing::warn!(
            "database files were readable by other users, made private (mode 600): {}",
            list(&found.made_private)
        );
    }
    if !found.left.is_empty() {
        tracing::warn!(
            "database files are readable by other users and not this user's to change: {}; \
             chmod 600 them as their owner",
            list(&found.left)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// An older release's database: 0644, its -wal and -shm too (held open
    /// by another connection, as while a daemon runs).
    fn old_release_database(dir: &Path) -> (PathBuf, rusqlite::Connection) {
        let path = dir.join("labsync.db");
        drop(Store::open(&path).unwrap());
        chmod(&path, 0o644);
        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .execute_batch("CREATE TABLE IF NOT EXISTS scratch(x); INSERT INTO scratch VALUES (1);")
            .unwrap();
        for suffix in ["-wal", "-shm"] {
            let file = dir.join(format!("labsync.db{suffix}"));
            chmod(&file, 0o644);
        }
        (path, other)
    }

    #[test]
    fn opening_to_write_makes_an_old_readable_database_private() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _other) = old_release_database(dir.path());
        let found = tighten(&path);
        let named: Vec<_> = found
            .made_private
            .iter()
            .map(|(f, m)| (f.file_name().unwrap().to_str().unwrap().to_string(), *m))
            .collect();
        assert_eq!(
            named,
            [
                ("labsync.db".to_string(), 0o644),
                ("labsync.db-wal".to_string(), 0o644),
                ("labsync.db-shm".to_string(), 0o644)
            ]
        );
        assert!(found.left.is_empty());
        for suffix in ["", "-wal", "-shm"] {
            assert_eq!(mode(&dir.path().join(format!("labsync.db{suffix}"))), 0o600);
        }
        // Through the store's own open, too; and once private, nothing to say.
        chmod(&path, 0o640);
        drop(Store::open(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
        assert_eq!(tighten(&path), Tightened::default());
    }

    #[test]
    fn reading_never_changes_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let (path, other) = old_release_database(dir.path());
        drop(other);
        chmod(&path, 0o644);
        drop(Store::open_read_only(&path).unwrap());
        drop(Store::snapshot(&path).unwrap());
        assert_eq!(mode(&path), 0o644);
    }

    /// Someone else's file (root runs the tests: the file is given away).
    #[test]
    fn another_users_file_is_left_and_reported_not_refused() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: needs root to give a file to another user");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (path, other) = old_release_database(dir.path());
        drop(other);
        chmod(&path, 0o644);
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
        let found = tighten(&path);
        assert_eq!(found.left, [(path.clone(), 0o644)]);
        assert!(found.made_private.is_empty());
        assert_eq!(mode(&path), 0o644);
        // The open goes on.
        assert!(Store::open(&path).is_ok());
    }
}
