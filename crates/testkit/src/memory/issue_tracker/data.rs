//! The data of a [`super::MemoryIssueTracker`] and GitLab's rules for
//! what a write keeps and when it moves `updated_at`.

use chrono::{DateTime, Utc};
use labsync::sync::connector::{
    ConnectorError, StateChange, TrackerComment, TrackerEdit, TrackerItem, TrackerState,
    TrackerUser,
};

use super::{Project, State, Stored, TITLE_MAX, TOUCH_INTERVAL};
use crate::memory::not_found;

pub(super) fn blank(now: DateTime<Utc>) -> TrackerItem {
    TrackerItem {
        id: 0,
        iid: 0,
        project_id: 0,
        title: String::new(),
        body: String::new(),
        marker: None,
        state: TrackerState::Open,
        labels: Vec::new(),
        assignee: None,
        milestone: None,
        updated_at: now,
        web_url: String::new(),
        comment_count: 0,
        moved_to: None,
        kind: "issue".into(),
    }
}

/// What GitLab keeps of a description: `\r` deleted, trailing whitespace
/// stripped (`app/services/issuable_base_service.rb`; gitlab-api.md §16 #2).
pub(super) fn kept_body(markdown: &str) -> String {
    markdown.replace('\r', "").trim_end().to_string()
}

pub(super) fn kept_title(title: &str) -> String {
    title.chars().take(TITLE_MAX).collect()
}

/// Whether a touch (labels, assignees, a note) moves `updated_at` now.
pub(super) fn touch(item: &mut TrackerItem, now: DateTime<Utc>) {
    if now - item.updated_at >= TOUCH_INTERVAL {
        item.updated_at = now;
    }
}

impl State {
    pub(super) fn project(&self, project: &str) -> Result<&Project, ConnectorError> {
        self.projects
            .iter()
            .find(|p| p.path == project || p.id.to_string() == project)
            .ok_or_else(|| not_found(format!("project {project}")))
    }

    pub(super) fn project_mut(&mut self, project: &str) -> Result<&mut Project, ConnectorError> {
        self.projects
            .iter_mut()
            .find(|p| p.path == project || p.id.to_string() == project)
            .ok_or_else(|| not_found(format!("project {project}")))
    }

    pub(super) fn stored_mut(&mut self, project: &str, iid: u64) -> Option<&mut Stored> {
        let p = self.project_mut(project).ok()?;
        p.items.get_mut(&iid).filter(|s| !s.deleted)
    }

    pub(super) fn live(&self, project: &str, iid: u64) -> Result<&Stored, ConnectorError> {
        self.project(project)?
            .items
            .get(&iid)
            .filter(|s| !s.deleted)
            .ok_or_else(|| not_found(format!("item #{iid} of {project}")))
    }

    pub(super) fn insert(
        &mut self,
        project: &str,
        mut item: TrackerItem,
        author: &str,
        now: DateTime<Utc>,
    ) -> Option<TrackerItem> {
        let id = self.next_id;
        let p = self.project_mut(project).ok()?;
        let iid = p.items.keys().next_back().map_or(1, |last| last + 1);
        item.labels.sort();
        item.labels.dedup();
        item = TrackerItem {
            id,
            iid,
            project_id: p.id,
            web_url: format!("memory://tracker/{}/-/issues/{iid}", p.path),
            updated_at: now,
            ..item
        };
        p.items.insert(
            iid,
            Stored {
                item: item.clone(),
                author: author.into(),
                created_at: now,
                deleted: false,
                notes: Vec::new(),
                moved: None,
            },
        );
        self.next_id += 1;
        Some(item)
    }

    pub(super) fn note(
        &mut self,
        project: &str,
        iid: u64,
        author: &TrackerUser,
        body: &str,
        by_person: bool,
        now: DateTime<Utc>,
    ) -> Option<TrackerComment> {
        let note = TrackerComment {
            id: self.next_note,
            body: body.to_string(),
            author_username: author.username.clone(),
            author_name: author.name.clone(),
            created_at: now,
            by_person,
        };
        let s = self.stored_mut(project, iid)?;
        s.notes.push(note.clone());
        s.item.comment_count += u64::from(by_person);
        // A note touches its item (`Note#touch_noteable`), throttled.
        touch(&mut s.item, now);
        self.next_note += 1;
        Some(note)
    }

    /// Applies an edit as GitLab does: column changes move `updated_at`,
    /// label and assignee changes only touch it.
    pub(super) fn edit(
        &mut self,
        project: &str,
        iid: u64,
        edit: &TrackerEdit,
        now: DateTime<Utc>,
    ) -> Result<TrackerItem, ConnectorError> {
        self.catalog.ensure_labels(&edit.add_labels);
        let assignee = match &edit.assignees {
            None => None,
            Some(ids) if ids.is_empty() => Some(None),
            // Free tier keeps the first; one who may not be assigned is
            // dropped and the assignee stays (gitlab-api.md §5, §16 #5).
            Some(ids) => ids
                .first()
                .and_then(|id| self.catalog.assignable(*id))
                .map(Some),
        };
        let milestone = edit
            .milestone
            .map(|m| m.and_then(|id| self.catalog.milestone_title(id)));
        let s = self
            .stored_mut(project, iid)
            .ok_or_else(|| not_found(format!("item #{iid} of {project}")))?;
        let it = &mut s.item;
        let before = it.clone();
        if let Some(t) = &edit.title {
            it.title = kept_title(t);
        }
        if let Some(b) = &edit.body {
            it.body = kept_body(b);
            it.marker = edit.link.as_ref().map(|l| (l.project, l.item));
        }
        match edit.state {
            Some(StateChange::Close) => it.state = TrackerState::Closed,
            Some(StateChange::Reopen) => it.state = TrackerState::Open,
            None => {}
        }
        if let Some(m) = milestone {
            it.milestone = m;
        }
        let column = (&it.title, &it.body, &it.marker, it.state, &it.milestone)
            != (
                &before.title,
                &before.body,
                &before.marker,
                before.state,
                &before.milestone,
            );
        it.labels.retain(|l| !edit.remove_labels.contains(l));
        it.labels.extend(edit.add_labels.iter().cloned());
        it.labels.sort();
        it.labels.dedup();
        if let Some(a) = assignee {
            it.assignee = a;
        }
        if column {
            it.updated_at = now;
        } else if (&it.labels, &it.assignee) != (&before.labels, &before.assignee) {
            touch(it, now);
        }
        Ok(it.clone())
    }
}
