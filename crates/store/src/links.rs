//! Links between incidents and issues, their bases, and comment links.
//!
//! An item's outcome — its link and base, the comments copied, the audit
//! events, the intent it fulfilled, the error it cleared — is committed in
//! one transaction by [`Store::commit_item`]: after a crash, either all of it
//! is there or none of it is.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Store, StoreError};
use serde::{Deserialize, Serialize};

pub use labsync_engine::storage::{CommentLink, Event, ItemCommit, Link};
use labsync_model::{CreatedBy, Side, Ticket, TrackerKept, stable_hash};

/// The `base` column: the record, and what GitLab kept of it only when it
/// kept something, so that rows written before look as they did.
#[derive(Serialize, Deserialize)]
struct StoredBase {
    #[serde(flatten)]
    ticket: Ticket,
    #[serde(default, skip_serializing_if = "TrackerKept::is_empty")]
    // The JSON key stored bases have had since the first release.
    gitlab_kept: TrackerKept,
}

const LINK_COLUMNS: &str = "id, plugin, tm_project, incident_id, tracker_project_id, issue_id, issue_iid, issue_url, \
     created_by, base, base_hash, last_note_id, last_comment_id, orphaned, comments_checked_at";

impl Store {
    pub fn link_by_tm_item(
        &self,
        plugin: &str,
        spira_project: i64,
        incident_id: i64,
    ) -> Result<Option<Link>, StoreError> {
        self.one_link(
            "plugin = ?1 AND tm_project = ?2 AND incident_id = ?3",
            params![plugin, spira_project, incident_id],
        )
    }

    pub fn link_by_tracker_item(
        &self,
        plugin: &str,
        gitlab_project_id: i64,
        issue_id: i64,
    ) -> Result<Option<Link>, StoreError> {
        self.one_link(
            "plugin = ?1 AND tracker_project_id = ?2 AND issue_id = ?3",
            params![plugin, gitlab_project_id, issue_id],
        )
    }

    fn one_link(
        &self,
        filter: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Option<Link>, StoreError> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM links WHERE {filter}");
        let raw = self
            .conn()
            .query_row(&sql, params, raw_link)
            .optional()
            .map_err(|e| self.err(e))?;
        raw.map(|r| self.decode(r)).transpose()
    }

    pub fn links(&self, plugin: &str, spira_project: i64) -> Result<Vec<Link>, StoreError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE plugin = ?1 AND tm_project = ?2 ORDER BY incident_id"
        );
        let mut stmt = self.conn().prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![plugin, spira_project], raw_link)
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(self.decode(r.map_err(|e| self.err(e))?)?);
        }
        Ok(out)
    }

    /// Linked pairs whose Spira comments were last read before `before`
    /// (or never), oldest first: the comment sweep's next batch.
    pub fn links_due_for_comment_check(
        &self,
        plugin: &str,
        spira_project: i64,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Link>, StoreError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE plugin = ?1 AND tm_project = ?2 AND orphaned IS NULL
             AND (comments_checked_at IS NULL OR comments_checked_at < ?3) ORDER BY comments_checked_at, id LIMIT ?4"
        );
        let mut stmt = self.conn().prepare(&sql).map_err(|e| self.err(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(
                params![plugin, spira_project, sortable(before), limit],
                raw_link,
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(self.decode(r.map_err(|e| self.err(e))?)?);
        }
        Ok(out)
    }

    /// Records that a link's Spira comments were read at `at` (Spira's clock).
    pub fn mark_comments_checked(
        &mut self,
        link_id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE links SET comments_checked_at = ?2 WHERE id = ?1",
                params![link_id, sortable(at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn comment_links(&self, link_id: i64) -> Result<Vec<CommentLink>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT tm_comment_id, tracker_note_id, origin FROM comment_links WHERE link_id = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([link_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (spira_comment_id, gitlab_note_id, origin) = r.map_err(|e| self.err(e))?;
            let origin = Side::from_stored("comment_links.origin", &origin)
                .map_err(|e| self.corrupt("comment_links", e.to_string()))?;
            out.push(CommentLink {
                tm_comment: spira_comment_id,
                tracker_comment: gitlab_note_id,
                origin,
            });
        }
        Ok(out)
    }

    /// Stores one item's outcome in a single transaction; returns the link id.
    pub fn commit_item(&mut self, item: &ItemCommit) -> Result<i64, StoreError> {
        let now = Utc::now().to_rfc3339();
        let stored = StoredBase {
            ticket: item.link.base.clone(),
            gitlab_kept: item.link.tracker_kept.clone(),
        };
        let base = serde_json::to_string(&stored)
            .map_err(|e| self.corrupt("links.base", e.to_string()))?;
        let hash = stable_hash(&stored);
        let l = &item.link;
        let checked = l.comments_checked_at.map(sortable);
        self.in_tx(|tx| {
            let id = if l.id == 0 {
                tx.execute(
                    "INSERT INTO links (plugin, tm_project, incident_id, tracker_project_id, issue_id, issue_iid, issue_url,
                        created_by, base, base_hash, last_note_id, last_comment_id, orphaned, comments_checked_at, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15, ?14, ?14)",
                    params![
                        l.plugin, l.tm_project, l.tm_item, l.tracker_project_id, l.tracker_item_id, l.tracker_iid, l.tracker_url,
                        l.created_by.stored_name(), base, hash, l.last_tracker_comment, l.last_tm_comment, l.orphaned, now, checked
                    ],
                )?;
                tx.last_insert_rowid()
            } else {
                tx.execute(
                    "UPDATE links SET issue_iid = ?2, issue_url = ?3, base = ?4, base_hash = ?5, last_note_id = ?6,
                        last_comment_id = ?7, orphaned = ?8, updated_at = ?9, comments_checked_at = ?10 WHERE id = ?1",
                    params![l.id, l.tracker_iid, l.tracker_url, base, hash, l.last_tracker_comment, l.last_tm_comment, l.orphaned, now, checked],
                )?;
                l.id
            };
            for c in &item.comments {
                tx.execute(
                    "INSERT INTO comment_links (link_id, tm_comment_id, tracker_note_id, origin, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    params![id, c.tm_comment, c.tracker_comment, c.origin.stored_name(), now],
                )?;
            }
            for e in &item.events {
                tx.execute(
                    "INSERT INTO events (run_id, plugin, tm_project, link_id, incident_id, issue_iid, action, field,
                        direction, before_value, after_value, conflict, decision, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                    params![
                        item.run_id, l.plugin, l.tm_project, id, l.tm_item, l.tracker_iid, e.action, e.field,
                        e.direction, e.before, e.after, e.conflict, e.decision, now
                    ],
                )?;
            }
            if let Some(intent) = item.intent_id {
                tx.execute("DELETE FROM intents WHERE id = ?1", [intent])?;
            }
            // However the pair was found, a create intent for either of its
            // items is settled once it is linked.
            tx.execute(
                "DELETE FROM intents WHERE plugin = ?1 AND tm_project = ?2
                 AND ((kind = 'issue' AND source_id = ?3) OR (kind = 'incident' AND source_id = ?4))",
                params![l.plugin, l.tm_project, l.tm_item.to_string(), l.tracker_item_id.to_string()],
            )?;
            tx.execute(
                "DELETE FROM errors WHERE plugin = ?1 AND tm_project = ?2
                 AND ((side = ?3 AND item_id = ?4) OR (side = ?5 AND item_id = ?6))",
                params![
                    l.plugin, l.tm_project,
                    Side::TestManagement.stored_name(), l.tm_item,
                    Side::IssueTracker.stored_name(), l.tracker_iid
                ],
            )?;
            Ok(id)
        })
    }

    /// Points a link at another issue (the one its incident names, made by
    /// another install), forgetting the paired comments of the old one.
    pub fn relink_tracker_item(
        &mut self,
        link_id: i64,
        issue_id: i64,
        issue_iid: i64,
        issue_url: &str,
    ) -> Result<(), StoreError> {
        let now = Utc::now().to_rfc3339();
        self.in_tx(|tx| {
            tx.execute("DELETE FROM comment_links WHERE link_id = ?1", [link_id])?;
            tx.execute(
                "UPDATE links SET issue_id = ?2, issue_iid = ?3, issue_url = ?4, orphaned = NULL,
                    last_note_id = 0, created_by = ?6, updated_at = ?5 WHERE id = ?1",
                params![
                    link_id,
                    issue_id,
                    issue_iid,
                    issue_url,
                    now,
                    CreatedBy::Matched.stored_name()
                ],
            )?;
            Ok(())
        })
    }

    /// Marks a link whose incident or issue is gone; nothing is deleted on the other side.
    pub fn mark_orphaned(&mut self, link_id: i64, reason: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE links SET orphaned = ?2, updated_at = ?3 WHERE id = ?1",
                params![link_id, reason, Utc::now().to_rfc3339()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn decode(&self, r: RawLink) -> Result<Link, StoreError> {
        let what = format!(
            "link {} (incident {} ↔ issue #{})",
            r.id, r.incident_id, r.issue_iid
        );
        let stored: StoredBase = serde_json::from_str(&r.base)
            .map_err(|e| self.corrupt(&what, format!("base record: {e}")))?;
        if stable_hash(&stored) != r.base_hash {
            return Err(self.corrupt(
                &what,
                "base record does not match its hash (edited by hand?)".into(),
            ));
        }
        let created_by = CreatedBy::from_stored("links.created_by", &r.created_by)
            .map_err(|e| self.corrupt(&what, e.to_string()))?;
        Ok(Link {
            id: r.id,
            plugin: r.plugin,
            tm_project: r.spira_project,
            tm_item: r.incident_id,
            tracker_project_id: r.gitlab_project_id,
            tracker_item_id: r.issue_id,
            tracker_iid: r.issue_iid,
            tracker_url: r.issue_url,
            created_by,
            base: stored.ticket,
            tracker_kept: stored.gitlab_kept,
            last_tracker_comment: r.last_note_id,
            last_tm_comment: r.last_comment_id,
            orphaned: r.orphaned,
            comments_checked_at: r
                .comments_checked_at
                .as_deref()
                .map(|t| parse_time(self, &what, t))
                .transpose()?,
        })
    }

    pub(crate) fn corrupt(&self, what: &str, reason: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.display().to_string(),
            what: what.to_string(),
            reason,
        }
    }
}

struct RawLink {
    id: i64,
    plugin: String,
    spira_project: i64,
    incident_id: i64,
    gitlab_project_id: i64,
    issue_id: i64,
    issue_iid: i64,
    issue_url: String,
    created_by: String,
    base: String,
    base_hash: String,
    last_note_id: i64,
    last_comment_id: i64,
    orphaned: Option<String>,
    comments_checked_at: Option<String>,
}

fn raw_link(r: &Row) -> rusqlite::Result<RawLink> {
    Ok(RawLink {
        id: r.get(0)?,
        plugin: r.get(1)?,
        spira_project: r.get(2)?,
        incident_id: r.get(3)?,
        gitlab_project_id: r.get(4)?,
        issue_id: r.get(5)?,
        issue_iid: r.get(6)?,
        issue_url: r.get(7)?,
        created_by: r.get(8)?,
        base: r.get(9)?,
        base_hash: r.get(10)?,
        last_note_id: r.get(11)?,
        last_comment_id: r.get(12)?,
        orphaned: r.get(13)?,
        comments_checked_at: r.get(14)?,
    })
}

/// Timestamps are stored as RFC 3339 text; a bad one names its table.
pub(crate) fn parse_time(
    store: &Store,
    what: &str,
    text: &str,
) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| store.corrupt(what, format!("timestamp '{text}': {e}")))
}

/// A timestamp whose text sorts like the time it names (fixed width, UTC).
fn sortable(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod stored_base_tests {
    use super::*;

    /// Rows written before `gitlab_kept` existed keep their hash and read as before.
    #[test]
    fn a_base_without_a_kept_record_is_stored_as_the_record_alone() {
        let ticket = Ticket {
            title: "A".into(),
            assignee: Some(3),
            ..Ticket::default()
        };
        let stored = StoredBase {
            ticket: ticket.clone(),
            gitlab_kept: TrackerKept::default(),
        };
        assert_eq!(
            serde_json::to_string(&stored).unwrap(),
            serde_json::to_string(&ticket).unwrap()
        );
        assert_eq!(stable_hash(&stored), ticket.stable_hash());
        let kept = StoredBase {
            ticket,
            gitlab_kept: TrackerKept {
                assignee: Some(String::new()),
                ..TrackerKept::default()
            },
        };
        let back: StoredBase =
            serde_json::from_str(&serde_json::to_string(&kept).unwrap()).unwrap();
        assert_eq!(back.gitlab_kept.assignee.as_deref(), Some(""));
    }
}
