//! What a SQLite file is before labsync touches it: its own database (and
//! which schema version), an empty file, or another program's database.
//! Nothing here writes.

use rusqlite::Connection;

use super::{SCHEMA_VERSION, StoreError};

/// 'LSYN', written into the header by migration 0005.
pub const APPLICATION_ID: i64 = 0x4C53_594E;

/// Tables every labsync database has had since version 1: how a file from
/// before the application id (versions 1 to 4) is recognised.
const OWN_TABLES: &[&str] = &["plugins", "project_mappings", "links", "watermarks", "runs"];

/// What the file at hand holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Identity {
    /// No table at all: a new file (or one SQLite made empty).
    Empty,
    /// labsync's, at this schema version.
    Labsync(i64),
}

/// Names the file's content, or says in one line why labsync will not use it.
pub(crate) fn identify(conn: &Connection, path: &str) -> Result<Identity, StoreError> {
    let sqlite = |e: rusqlite::Error| StoreError::Sqlite {
        path: path.to_string(),
        reason: super::describe(&e),
    };
    // One statement, so one snapshot: read apart, the version and the
    // tables could straddle another process's migration.
    let (application_id, version, names): (i64, i64, String) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id()),
                    (SELECT user_version FROM pragma_user_version()),
                    (SELECT json_group_array(name) FROM sqlite_master WHERE type = 'table')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(sqlite)?;
    let tables: Vec<String> = serde_json::from_str(&names).map_err(|e| StoreError::Corrupt {
        path: path.to_string(),
        what: "sqlite_master".into(),
        reason: e.to_string(),
    })?;
    let foreign = |why: String| {
        Err(StoreError::Refused(format!(
            "{path} is not a labsync database ({why}); give labsync's database with --db"
        )))
    };
    if application_id != 0 && application_id != APPLICATION_ID {
        return foreign(format!(
            "its application id is {application_id:#x}, another program's"
        ));
    }
    if application_id == 0 {
        if tables.is_empty() && version == 0 {
            return Ok(Identity::Empty);
        }
        let ours = OWN_TABLES.iter().all(|t| tables.iter().any(|n| n == t));
        if !ours && !tables.is_empty() {
            return foreign(format!(
                "it has {} table(s) of another program",
                tables.len()
            ));
        }
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 1 {
        return Err(StoreError::Refused(format!(
            "database {path}: schema version {version} is not one labsync writes (the file was changed by hand?); restore it from a backup"
        )));
    }
    Ok(Identity::Labsync(version))
}
