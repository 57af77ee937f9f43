//! The engine's [`Storage`] port on plain data, for engine behaviour tests
//! with no database file.
//!
//! As hard as the SQLite store where it refuses something, with the same
//! kind of [`StoreError`]: its unique and foreign key constraints (one link
//! per incident and per issue, one intent per marker, a known plugin, a
//! known run, a known trigger and result) answer `Sqlite`, its mapping
//! checks answer `Refused`, and a refused write changes nothing. It passes
//! the same conformance suite as the store
//! ([`crate::conformance::storage`]).

mod links;
mod mappings;
mod progress;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SubsecRound, Utc};
use labsync::model::Side;
use labsync::store::declared::Declared;
use labsync::sync::storage::{
    Binding, CommentLink, Intent, ItemCommit, Kind, Link, MappingRow, ProjectRow, QueuedError,
    Source, Storage, StoreError,
};

use crate::conformance::storage::{Inspect, StoredEvent, StoredRun};

/// Everything the store keeps, as values.
#[derive(Clone, Debug, Default)]
pub struct MemoryStorage {
    install_id: String,
    plugins: BTreeSet<String>,
    projects: Vec<ProjectRow>,
    mappings: BTreeMap<&'static str, Vec<MappingRow>>,
    bindings: BTreeMap<(String, i64), Binding>,
    links: BTreeMap<i64, Link>,
    comment_links: Vec<(i64, CommentLink)>,
    events: Vec<StoredEvent>,
    runs: Vec<StoredRun>,
    watermarks: BTreeMap<(String, i64, &'static str), DateTime<Utc>>,
    intents: Vec<(String, i64, Intent)>,
    errors: Vec<(String, i64, QueuedError)>,
    /// The last id given, per table (as SQLite's rowids).
    last_ids: BTreeMap<&'static str, i64>,
}

impl MemoryStorage {
    /// A storage holding what plugins.toml declares, as the store holds it
    /// after `apply_config`: the same checks refuse the same rows.
    pub fn new(declared: impl Into<Declared>) -> Result<MemoryStorage, StoreError> {
        let declared = declared.into();
        let mut s = MemoryStorage {
            install_id: new_install_id(),
            ..MemoryStorage::default()
        };
        for p in &declared.plugins {
            s.plugins.insert(p.name.clone());
        }
        for p in &declared.plugins {
            for m in &p.projects {
                let row = ProjectRow {
                    plugin: p.name.clone(),
                    tm_project: m.spira_project,
                    tracker_project: m.gitlab_project.clone(),
                    active: m.active,
                    source: Source::Config,
                };
                let in_file = |e| in_file(&declared.file, &p.name, e);
                s.put_project(row).map_err(in_file)?;
                for r in &m.rows {
                    let row = MappingRow {
                        plugin: p.name.clone(),
                        tm_project: m.spira_project,
                        tm_value: r.spira.clone(),
                        tracker_value: r.gitlab.clone(),
                        primary: r.primary,
                        source: Source::Config,
                    };
                    s.put_mapping(r.kind, &row, true).map_err(in_file)?;
                }
            }
        }
        Ok(s)
    }

    fn next_id(&mut self, table: &'static str) -> i64 {
        let id = self.last_ids.entry(table).or_default();
        *id += 1;
        *id
    }

    /// The foreign key every table but the bindings has on the plugins.
    fn known_plugin(&self, plugin: &str, table: &str) -> Result<(), StoreError> {
        if self.plugins.contains(plugin) {
            Ok(())
        } else {
            Err(constraint(format!(
                "FOREIGN KEY constraint failed ({table}.plugin '{plugin}')"
            )))
        }
    }

    /// Runs `change` on a copy and keeps it only if it succeeds: a refused
    /// write leaves everything as it was (the store's transaction).
    fn in_tx<T>(
        &mut self,
        change: impl FnOnce(&mut MemoryStorage) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut next = self.clone();
        let out = change(&mut next)?;
        *self = next;
        Ok(out)
    }
}

/// What a constraint of the database answers.
fn constraint(reason: String) -> StoreError {
    StoreError::Sqlite {
        path: "memory storage".into(),
        reason,
    }
}

fn refused(reason: String) -> StoreError {
    StoreError::Refused(reason)
}

fn in_file(file: &str, plugin: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Refused(msg) => refused(format!("{file}: plugin '{plugin}': {msg}")),
        other => other,
    }
}

/// Time as the store keeps a sortable timestamp: whole milliseconds.
fn millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

/// 16 hex digits, different for each storage made (as the store's random
/// id is for each database).
fn new_install_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}", (nanos as u64).rotate_left(16) ^ n)
}

impl Storage for MemoryStorage {
    fn install_id(&self) -> Result<String, StoreError> {
        Ok(self.install_id.clone())
    }

    fn binding(&self, plugin: &str, tm_project: i64) -> Result<Option<Binding>, StoreError> {
        Ok(self
            .bindings
            .get(&(plugin.to_string(), tm_project))
            .cloned())
    }

    fn bind(&mut self, binding: &Binding) -> Result<(), StoreError> {
        let key = (binding.plugin.clone(), binding.tm_project);
        self.bindings.insert(key, binding.clone());
        Ok(())
    }

    fn rebind(&mut self, plugin: &str, adopt: Option<&str>) -> Result<Vec<Binding>, StoreError> {
        let (old, kept) = std::mem::take(&mut self.bindings)
            .into_iter()
            .partition(|((p, _), _)| p == plugin);
        self.bindings = kept;
        if let Some(id) = adopt {
            self.install_id = id.to_string();
        }
        let old: BTreeMap<_, _> = old;
        Ok(old.into_values().collect())
    }

    fn projects(&self, plugin: Option<&str>) -> Result<Vec<ProjectRow>, StoreError> {
        Ok(self.projects_of(plugin))
    }

    fn mappings(
        &self,
        kind: Kind,
        plugin: Option<&str>,
        project: Option<i64>,
    ) -> Result<Vec<MappingRow>, StoreError> {
        Ok(self.mappings_of(kind, plugin, project))
    }

    fn add_mapping(&mut self, kind: Kind, row: &MappingRow) -> Result<(), StoreError> {
        self.in_tx(|s| s.put_mapping(kind, row, false))
    }

    fn replace_auto_mapping(
        &mut self,
        kind: Kind,
        stale_tm_value: &str,
        row: &MappingRow,
    ) -> Result<(), StoreError> {
        self.in_tx(|s| {
            s.table(kind).retain(|r| {
                !(r.plugin == row.plugin
                    && r.tm_project == row.tm_project
                    && r.tm_value == stale_tm_value
                    && r.source == Source::Auto)
            });
            s.put_mapping(kind, row, false)
        })
    }

    fn start_run(&mut self, plugin: &str, trigger: &str) -> Result<i64, StoreError> {
        self.start(plugin, trigger)
    }

    fn finish_run(
        &mut self,
        run_id: i64,
        result: &str,
        summary: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.finish(run_id, result, summary)
    }

    fn watermark(
        &self,
        plugin: &str,
        project: i64,
        side: Side,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .watermarks
            .get(&(plugin.to_string(), project, side.stored_name()))
            .copied())
    }

    fn advance_watermark(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.advance(plugin, project, side, at)
    }

    fn link_by_tm_item(
        &self,
        plugin: &str,
        tm_project: i64,
        incident_id: i64,
    ) -> Result<Option<Link>, StoreError> {
        Ok(self.find_link(|l| {
            l.plugin == plugin && l.tm_project == tm_project && l.tm_item == incident_id
        }))
    }

    fn link_by_tracker_item(
        &self,
        plugin: &str,
        tracker_project_id: i64,
        issue_id: i64,
    ) -> Result<Option<Link>, StoreError> {
        Ok(self.find_link(|l| {
            l.plugin == plugin
                && l.tracker_project_id == tracker_project_id
                && l.tracker_item_id == issue_id
        }))
    }

    fn links_due_for_comment_check(
        &self,
        plugin: &str,
        tm_project: i64,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Link>, StoreError> {
        Ok(self.due_for_comment_check(plugin, tm_project, before, limit))
    }

    fn comment_links(&self, link_id: i64) -> Result<Vec<CommentLink>, StoreError> {
        Ok(self
            .comment_links
            .iter()
            .filter(|(l, _)| *l == link_id)
            .map(|(_, c)| c.clone())
            .collect())
    }

    fn mark_comments_checked(&mut self, link_id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(l) = self.links.get_mut(&link_id) {
            l.comments_checked_at = Some(millis(at));
        }
        Ok(())
    }

    fn mark_orphaned(&mut self, link_id: i64, reason: &str) -> Result<(), StoreError> {
        if let Some(l) = self.links.get_mut(&link_id) {
            l.orphaned = Some(reason.to_string());
        }
        Ok(())
    }

    fn relink_tracker_item(
        &mut self,
        link_id: i64,
        issue_id: i64,
        issue_iid: i64,
        issue_url: &str,
    ) -> Result<(), StoreError> {
        self.in_tx(|s| s.relink(link_id, issue_id, issue_iid, issue_url))
    }

    fn commit_item(&mut self, item: &ItemCommit) -> Result<i64, StoreError> {
        self.in_tx(|s| s.commit(item))
    }

    fn add_intent(
        &mut self,
        plugin: &str,
        project: i64,
        kind: &str,
        source_id: &str,
        marker: &str,
        payload: &str,
    ) -> Result<Intent, StoreError> {
        self.intend(plugin, project, kind, source_id, marker, payload)
    }

    fn drop_intent(&mut self, id: i64) -> Result<(), StoreError> {
        self.intents.retain(|(_, _, i)| i.id != id);
        Ok(())
    }

    fn record_error(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        item_id: i64,
        cause: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.queue_error(plugin, project, side, item_id, cause, now)
    }

    fn clear_error(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        item: i64,
    ) -> Result<(), StoreError> {
        self.errors.retain(|(p, pr, e)| {
            !(p == plugin && *pr == project && e.side == side && e.item_id == item)
        });
        Ok(())
    }

    fn queued_errors(&self, plugin: &str, project: i64) -> Result<Vec<QueuedError>, StoreError> {
        let mut out: Vec<QueuedError> = self
            .errors
            .iter()
            .filter(|(p, pr, _)| p == plugin && *pr == project)
            .map(|(_, _, e)| e.clone())
            .collect();
        out.sort_by_key(|e| e.next_try);
        Ok(out)
    }
}

impl Inspect for MemoryStorage {
    fn events(&self) -> Vec<StoredEvent> {
        self.events.clone()
    }

    fn runs(&self) -> Vec<StoredRun> {
        self.runs.clone()
    }
}
