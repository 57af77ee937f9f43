//! Links, comment links, audit events and an item's commit, with the
//! links table's constraints: one link per incident and per issue.

use chrono::{DateTime, Utc};
use labsync::model::{CreatedBy, Side};
use labsync::sync::storage::{ItemCommit, Link};

use super::{MemoryStorage, StoreError, constraint, millis};
use crate::conformance::storage::StoredEvent;

impl MemoryStorage {
    pub(super) fn find_link(&self, pred: impl Fn(&Link) -> bool) -> Option<Link> {
        self.links.values().find(|l| pred(l)).cloned()
    }

    /// The links table's unique constraints, for `link` stored as `id`.
    fn unique(&self, id: i64, link: &Link) -> Result<(), StoreError> {
        let clash = |what: &str, same: &dyn Fn(&Link) -> bool| {
            if self
                .links
                .values()
                .any(|l| l.id != id && l.plugin == link.plugin && same(l))
            {
                Err(constraint(format!(
                    "UNIQUE constraint failed: links.{what}"
                )))
            } else {
                Ok(())
            }
        };
        clash("tm_project, links.incident_id", &|l| {
            l.tm_project == link.tm_project && l.tm_item == link.tm_item
        })?;
        clash("tracker_project_id, links.issue_id", &|l| {
            l.tracker_project_id == link.tracker_project_id
                && l.tracker_item_id == link.tracker_item_id
        })
    }

    /// One item's outcome; called on a copy (see `in_tx`).
    pub(super) fn commit(&mut self, item: &ItemCommit) -> Result<i64, StoreError> {
        let l = &item.link;
        self.known_plugin(&l.plugin, "links")?;
        let checked = l.comments_checked_at.map(millis);
        let id = if l.id == 0 {
            self.unique(0, l)?;
            let id = self.next_id("links");
            let stored = Link {
                id,
                comments_checked_at: checked,
                ..l.clone()
            };
            self.links.insert(id, stored);
            id
        } else {
            // As the store's UPDATE: the pair's identity stays as stored.
            if let Some(stored) = self.links.get_mut(&l.id) {
                stored.tracker_iid = l.tracker_iid;
                stored.tracker_url.clone_from(&l.tracker_url);
                stored.base = l.base.clone();
                stored.tracker_kept = l.tracker_kept.clone();
                stored.last_tracker_comment = l.last_tracker_comment;
                stored.last_tm_comment = l.last_tm_comment;
                stored.orphaned.clone_from(&l.orphaned);
                stored.comments_checked_at = checked;
            }
            l.id
        };
        let linked = self.links.contains_key(&id);
        if !linked && (!item.comments.is_empty() || !item.events.is_empty()) {
            return Err(constraint(format!(
                "FOREIGN KEY constraint failed (link {id})"
            )));
        }
        for c in &item.comments {
            let paired = self.comment_links.iter().any(|(link, o)| {
                *link == id
                    && (o.tm_comment == c.tm_comment || o.tracker_comment == c.tracker_comment)
            });
            if !paired {
                self.comment_links.push((id, c.clone()));
            }
        }
        if let Some(run) = item.run_id
            && !item.events.is_empty()
            && !self.runs.iter().any(|r| r.id == run)
        {
            return Err(constraint(format!(
                "FOREIGN KEY constraint failed (run {run})"
            )));
        }
        for e in &item.events {
            self.events.push(StoredEvent {
                run_id: item.run_id,
                link_id: id,
                incident_id: l.tm_item,
                issue_iid: l.tracker_iid,
                event: e.clone(),
            });
        }
        // However the pair was found, a create intent for either of its
        // items is settled once it is linked; so are their queued errors.
        let (incident, issue) = (l.tm_item.to_string(), l.tracker_item_id.to_string());
        self.intents.retain(|(plugin, project, i)| {
            let settles = *plugin == l.plugin
                && *project == l.tm_project
                && ((i.kind == "issue" && i.source_id == incident)
                    || (i.kind == "incident" && i.source_id == issue));
            Some(i.id) != item.intent_id && !settles
        });
        self.errors.retain(|(plugin, project, e)| {
            let settled = *plugin == l.plugin
                && *project == l.tm_project
                && ((e.side == Side::TestManagement && e.item_id == l.tm_item)
                    || (e.side == Side::IssueTracker && e.item_id == l.tracker_iid));
            !settled
        });
        Ok(id)
    }

    /// Points a link at another issue; called on a copy.
    pub(super) fn relink(
        &mut self,
        link_id: i64,
        issue_id: i64,
        issue_iid: i64,
        issue_url: &str,
    ) -> Result<(), StoreError> {
        self.comment_links.retain(|(l, _)| *l != link_id);
        let Some(old) = self.links.get(&link_id).cloned() else {
            return Ok(());
        };
        let new = Link {
            tracker_item_id: issue_id,
            tracker_iid: issue_iid,
            tracker_url: issue_url.to_string(),
            orphaned: None,
            last_tracker_comment: 0,
            created_by: CreatedBy::Matched,
            ..old
        };
        self.unique(link_id, &new)?;
        self.links.insert(link_id, new);
        Ok(())
    }

    pub(super) fn due_for_comment_check(
        &self,
        plugin: &str,
        tm_project: i64,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Vec<Link> {
        let before = millis(before);
        let mut due: Vec<&Link> = self
            .links
            .values()
            .filter(|l| l.plugin == plugin && l.tm_project == tm_project)
            .filter(|l| l.orphaned.is_none())
            .filter(|l| l.comments_checked_at.is_none_or(|at| at < before))
            .collect();
        // Never checked first (SQLite sorts NULL first), then oldest.
        due.sort_by_key(|l| (l.comments_checked_at, l.id));
        due.into_iter().take(limit).cloned().collect()
    }
}
