//! The store as the engine's [`Storage`] port: each method is the store's
//! own, so the engine's calls and every other caller's meet the same SQL.

use chrono::{DateTime, Utc};

use labsync_engine::storage::{
    Binding, CommentLink, Intent, ItemCommit, Kind, Link, MappingRow, ProjectRow, QueuedError,
    Storage,
};
use labsync_model::Side;

use crate::{Store, StoreError};

impl Storage for Store {
    fn install_id(&self) -> Result<String, StoreError> {
        Store::install_id(self)
    }

    fn binding(&self, plugin: &str, tm_project: i64) -> Result<Option<Binding>, StoreError> {
        Store::binding(self, plugin, tm_project)
    }

    fn bind(&mut self, binding: &Binding) -> Result<(), StoreError> {
        Store::bind(self, binding)
    }

    fn rebind(&mut self, plugin: &str, adopt: Option<&str>) -> Result<Vec<Binding>, StoreError> {
        Store::rebind(self, plugin, adopt)
    }

    fn replace_auto_mapping(
        &mut self,
        kind: Kind,
        stale_tm_value: &str,
        row: &MappingRow,
    ) -> Result<(), StoreError> {
        Store::replace_auto_mapping(self, kind, stale_tm_value, row)
    }

    fn projects(&self, plugin: Option<&str>) -> Result<Vec<ProjectRow>, StoreError> {
        Store::projects(self, plugin)
    }

    fn mappings(
        &self,
        kind: Kind,
        plugin: Option<&str>,
        project: Option<i64>,
    ) -> Result<Vec<MappingRow>, StoreError> {
        Store::mappings(self, kind, plugin, project)
    }

    fn add_mapping(&mut self, kind: Kind, row: &MappingRow) -> Result<(), StoreError> {
        Store::add_mapping(self, kind, row)
    }

    fn start_run(&mut self, plugin: &str, trigger: &str) -> Result<i64, StoreError> {
        Store::start_run(self, plugin, trigger)
    }

    fn finish_run(
        &mut self,
        run_id: i64,
        result: &str,
        summary: &serde_json::Value,
    ) -> Result<(), StoreError> {
        Store::finish_run(self, run_id, result, summary)
    }

    fn watermark(
        &self,
        plugin: &str,
        project: i64,
        side: Side,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Store::watermark(self, plugin, project, side)
    }

    fn advance_watermark(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Store::advance_watermark(self, plugin, project, side, at)
    }

    fn link_by_tm_item(
        &self,
        plugin: &str,
        tm_project: i64,
        incident_id: i64,
    ) -> Result<Option<Link>, StoreError> {
        Store::link_by_tm_item(self, plugin, tm_project, incident_id)
    }

    fn link_by_tracker_item(
        &self,
        plugin: &str,
        tracker_project_id: i64,
        issue_id: i64,
    ) -> Result<Option<Link>, StoreError> {
        Store::link_by_tracker_item(self, plugin, tracker_project_id, issue_id)
    }

    fn links_due_for_comment_check(
        &self,
        plugin: &str,
        tm_project: i64,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Link>, StoreError> {
        Store::links_due_for_comment_check(self, plugin, tm_project, before, limit)
    }

    fn comment_links(&self, link_id: i64) -> Result<Vec<CommentLink>, StoreError> {
        Store::comment_links(self, link_id)
    }

    fn mark_comments_checked(&mut self, link_id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        Store::mark_comments_checked(self, link_id, at)
    }

    fn mark_orphaned(&mut self, link_id: i64, reason: &str) -> Result<(), StoreError> {
        Store::mark_orphaned(self, link_id, reason)
    }

    fn relink_tracker_item(
        &mut self,
        link_id: i64,
        issue_id: i64,
        issue_iid: i64,
        issue_url: &str,
    ) -> Result<(), StoreError> {
        Store::relink_tracker_item(self, link_id, issue_id, issue_iid, issue_url)
    }

    fn commit_item(&mut self, item: &ItemCommit) -> Result<i64, StoreError> {
        Store::commit_item(self, item)
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
        Store::add_intent(self, plugin, project, kind, source_id, marker, payload)
    }

    fn drop_intent(&mut self, id: i64) -> Result<(), StoreError> {
        Store::drop_intent(self, id)
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
        Store::record_error(self, plugin, project, side, item_id, cause, now)
    }

    fn clear_error(
        &mut self,
        plugin: &str,
        project: i64,
        side: Side,
        item: i64,
    ) -> Result<(), StoreError> {
        Store::clear_error(self, plugin, project, side, item)
    }

    fn queued_errors(&self, plugin: &str, project: i64) -> Result<Vec<QueuedError>, StoreError> {
        Store::queued_errors(self, plugin, project)
    }
}
