//! The engine's port to its database: everything it reads and writes
//! between cycles. The SQLite store (`labsync_store`) implements it; the
//! engine names no table, no SQL and no SQLite type.
//!
//! Each method is one step the engine takes, and each write is atomic: an
//! item's outcome is committed whole by [`Storage::commit_item`], so that
//! after a crash either all of it is there or none of it is.

mod records;

pub use records::{
    Binding, CommentLink, Event, Intent, ItemCommit, Kind, Link, MappingRow, ProjectRow,
    QueuedError, Source, normalized_url,
};

use chrono::{DateTime, Utc};

use labsync_model::Side;

/// A database failure; each says which database and what went wrong.
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

/// What the engine keeps between cycles. `Send` because a cycle's items run
/// on the runtime's workers; calls are made between awaits, never across one.
pub trait Storage: Send {
    // The install and its bindings (identity).
    fn install_id(&self) -> Result<String, StoreError>;
    fn binding(&self, plugin: &str, tm_project: i64) -> Result<Option<Binding>, StoreError>;
    fn bind(&mut self, binding: &Binding) -> Result<(), StoreError>;
    fn rebind(&mut self, plugin: &str, adopt: Option<&str>) -> Result<Vec<Binding>, StoreError>;

    // What the configuration and `labsync map` declared.
    fn projects(&self, plugin: Option<&str>) -> Result<Vec<ProjectRow>, StoreError>;
    fn mappings(
        &self,
        kind: Kind,
        plugin: Option<&str>,
        project: Option<i64>,
    ) -> Result<Vec<MappingRow>, StoreError>;
    fn add_mapping(&mut self, kind: Kind, row: &MappingRow) -> Result<(), StoreError>;
    /// Replaces an auto row whose test-management value went stale.
    fn replace_auto_mapping(
        &mut self,
        kind: Kind,
        stale_tm_value: &str,
        row: &MappingRow,
    ) -> Result<(), StoreError>;

    // Runs and watermarks.
    fn start_run(&mut self, plugin: &str, trigger: &str) -> Result<i64, StoreError>;
    fn finish_run(
        &mut self,
        run_id: i64,
        result: &str,
        summary: &serde_json::Value,
    ) -> Result<(), StoreError>;
    fn watermark(
        &self,
        plugin: &str,
        project: i64,
        side: Side,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn advance_watermark(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    // Links, their comments, and an item's committed outcome.
    fn link_by_tm_item(
        &self,
        plugin: &str,
        tm_project: i64,
        incident_id: i64,
    ) -> Result<Option<Link>, StoreError>;
    fn link_by_tracker_item(
        &self,
        plugin: &str,
        tracker_project_id: i64,
        issue_id: i64,
    ) -> Result<Option<Link>, StoreError>;
    fn links_due_for_comment_check(
        &self,
        plugin: &str,
        tm_project: i64,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Link>, StoreError>;
    fn comment_links(&self, link_id: i64) -> Result<Vec<CommentLink>, StoreError>;
    fn mark_comments_checked(&mut self, link_id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;
    fn mark_orphaned(&mut self, link_id: i64, reason: &str) -> Result<(), StoreError>;
    fn relink_tracker_item(
        &mut self,
        link_id: i64,
        issue_id: i64,
        issue_iid: i64,
        issue_url: &str,
    ) -> Result<(), StoreError>;
    fn commit_item(&mut self, item: &ItemCommit) -> Result<i64, StoreError>;

    // Create intents: recorded before a create, dropped when its outcome is
    // committed or when nothing was created.
    fn add_intent(
        &mut self,
        plugin: &str,
        project: i64,
        kind: &str,
        source_id: &str,
        marker: &str,
        payload: &str,
    ) -> Result<Intent, StoreError>;
    fn drop_intent(&mut self, id: i64) -> Result<(), StoreError>;

    // The error queue.
    fn record_error(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        item_id: i64,
        cause: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    fn clear_error(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        item: i64,
    ) -> Result<(), StoreError>;
    fn queued_errors(&self, plugin: &str, project: i64) -> Result<Vec<QueuedError>, StoreError>;
}
