//! The SQLite store as a subject: a database in a temporary directory,
//! read back for [`Inspect`] through a second connection (as `labsync
//! status` reads it).

use labsync::store::Store;
use labsync::store::declared::Declared;
use labsync::sync::storage::Event;
use rusqlite::Connection;

use super::{Inspect, StorageSubject, StoredEvent, StoredRun};

/// The SQLite store in a temporary directory, with `declared` applied.
pub fn sqlite(declared: &Declared) -> StorageSubject<Store> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("labsync.db")).unwrap();
    store.apply_config(declared.clone()).unwrap();
    StorageSubject::in_dir(store, dir)
}

fn reader(store: &Store) -> Connection {
    Connection::open(store.path()).unwrap()
}

/// The `&'static str` the engine wrote as an event's direction.
fn direction(stored: Option<String>) -> Option<&'static str> {
    let known = ["to-gitlab", "to-test-management", "none"];
    stored.map(|d| {
        known
            .into_iter()
            .find(|k| *k == d)
            .unwrap_or_else(|| panic!("unknown direction {d}"))
    })
}

impl Inspect for Store {
    fn events(&self) -> Vec<StoredEvent> {
        let conn = reader(self);
        let mut stmt = conn
            .prepare(
                "SELECT run_id, link_id, incident_id, issue_iid, action, field, direction,
                        before_value, after_value, conflict, decision FROM events ORDER BY id",
            )
            .unwrap();
        stmt.query_map([], |r| {
            Ok(StoredEvent {
                run_id: r.get(0)?,
                link_id: r.get(1)?,
                incident_id: r.get(2)?,
                issue_iid: r.get(3)?,
                event: Event {
                    action: r.get(4)?,
                    field: r.get(5)?,
                    direction: direction(r.get(6)?),
                    before: r.get(7)?,
                    after: r.get(8)?,
                    conflict: r.get(9)?,
                    decision: r.get(10)?,
                },
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    fn runs(&self) -> Vec<StoredRun> {
        let conn = reader(self);
        let mut stmt = conn
            .prepare("SELECT id, plugin, trigger, result, summary FROM runs ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| {
            let summary: String = r.get(4)?;
            Ok(StoredRun {
                id: r.get(0)?,
                plugin: r.get(1)?,
                trigger: r.get(2)?,
                result: r.get(3)?,
                summary: serde_json::from_str(&summary).unwrap(),
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }
}
