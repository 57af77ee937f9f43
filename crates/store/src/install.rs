//! Which install this database is, and which servers and projects each
//! plugin's project mapping belongs to (migration 0004).

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
pub use labsync_engine::storage::{Binding, normalized_url};

impl Store {
    /// This database's install id (random, made when the database was).
    pub fn install_id(&self) -> Result<String, StoreError> {
        self.conn()
            .query_row("SELECT id FROM install LIMIT 1", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// The binding of a project mapping, if it was ever synced.
    pub fn binding(&self, plugin: &str, spira_project: i64) -> Result<Option<Binding>, StoreError> {
        self.conn()
            .query_row(
                "SELECT tm_url, tracker_url, tracker_project FROM bindings
                 WHERE plugin = ?1 AND tm_project = ?2",
                params![plugin, spira_project],
                |r| {
                    Ok(Binding {
                        plugin: plugin.to_string(),
                        tm_project: spira_project,
                        tm_url: r.get(0)?,
                        tracker_url: r.get(1)?,
                        tracker_project: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records (or replaces) a binding.
    pub fn bind(&mut self, b: &Binding) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO bindings (plugin, tm_project, tm_url, tracker_url, tracker_project, bound_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (plugin, tm_project) DO UPDATE SET
                   tm_url = excluded.tm_url, tracker_url = excluded.tracker_url,
                   tracker_project = excluded.tracker_project, bound_at = excluded.bound_at",
                params![
                    b.plugin,
                    b.tm_project,
                    b.tm_url,
                    b.tracker_url,
                    b.tracker_project,
                    Utc::now().to_rfc3339()
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Forgets the bindings of `plugin` and, when `adopt` is given, takes
    /// that install id for this database, in one transaction. Returns the
    /// bindings forgotten; the next cycle binds each project mapping to the
    /// servers then configured.
    pub fn rebind(
        &mut self,
        plugin: &str,
        adopt: Option<&str>,
    ) -> Result<Vec<Binding>, StoreError> {
        let mut old = Vec::new();
        let projects: Vec<i64> = {
            let mut stmt = self
                .conn()
                .prepare("SELECT tm_project FROM bindings WHERE plugin = ?1 ORDER BY tm_project")
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([plugin], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        for p in projects {
            if let Some(b) = self.binding(plugin, p)? {
                old.push(b);
            }
        }
        self.in_tx(|tx| {
            tx.execute("DELETE FROM bindings WHERE plugin = ?1", [plugin])?;
            if let Some(id) = adopt {
                tx.execute("UPDATE install SET id = ?1", [id])?;
            }
            Ok(())
        })?;
        Ok(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_database_has_its_own_install_id_kept_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(&dir.path().join("a.db")).unwrap();
        let b = Store::open(&dir.path().join("b.db")).unwrap();
        let id = a.install_id().unwrap();
        assert_eq!(id.len(), 16);
        assert_ne!(id, b.install_id().unwrap());
        drop(a);
        let again = Store::open(&dir.path().join("a.db")).unwrap();
        assert_eq!(again.install_id().unwrap(), id);
    }

    #[test]
    fn a_binding_is_kept_until_rebound() {
        let mut s = Store::open_in_memory().unwrap();
        let b = Binding {
            plugin: "p".into(),
            tm_project: 1,
            tm_url: "https://spira".into(),
            tracker_url: "https://gitlab".into(),
            tracker_project: "g/p".into(),
        };
        assert_eq!(s.binding("p", 1).unwrap(), None);
        s.bind(&b).unwrap();
        assert_eq!(s.binding("p", 1).unwrap(), Some(b.clone()));
        assert_eq!(s.rebind("p", Some("00000000000000aa")).unwrap(), vec![b]);
        assert_eq!(s.binding("p", 1).unwrap(), None);
        assert_eq!(s.install_id().unwrap(), "00000000000000aa");
    }

    #[test]
    fn urls_compare_without_trailing_slash_or_host_case() {
        assert_eq!(
            normalized_url("HTTPS://GitLab.Example.com/"),
            "https://gitlab.example.com"
        );
        assert_eq!(
            normalized_url("https://h.example/Sub/Path/"),
            "https://h.example/Sub/Path"
        );
    }
}
