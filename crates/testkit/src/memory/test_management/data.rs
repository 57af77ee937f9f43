//! The data of a [`super::MemoryTestManagement`] and the rules a write
//! follows.

use chrono::{DateTime, Utc};
use labsync::sync::connector::{
    Carried, Choice, ConnectorError, ErrorKind, TmComment, TmEdit, TmItem, TmSetup, TrackerLink,
};
use labsync::text::spira_kept;

use super::{Project, State, Stored, Version};
use crate::memory::{not_found, refused};

impl State {
    pub(super) fn project(&self, project: i64) -> Result<&Project, ConnectorError> {
        self.projects.get(&project).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!("project {project} does not exist"),
            )
        })
    }

    pub(super) fn set_up(&mut self, project: i64) -> Result<&mut Project, ConnectorError> {
        match self.projects.get_mut(&project) {
            Some(p) if p.set_up => Ok(p),
            Some(_) => Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!("project {project}: written before its setup was read"),
            )),
            None => Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!("project {project} does not exist"),
            )),
        }
    }

    pub(super) fn stored_mut(&mut self, project: i64, id: i64) -> Option<&mut Stored> {
        let s = self.projects.get_mut(&project)?.items.get_mut(&id)?;
        (!s.deleted).then_some(s)
    }

    pub(super) fn live(&self, project: i64, id: i64) -> Result<&Stored, ConnectorError> {
        self.project(project)?
            .items
            .get(&id)
            .filter(|s| !s.deleted)
            .ok_or_else(|| not_found(format!("item {id} of project {project}")))
    }

    pub(super) fn push_comment(
        &mut self,
        project: i64,
        id: i64,
        user: i64,
        html: &str,
        now: DateTime<Utc>,
    ) -> Option<TmComment> {
        let comment = TmComment {
            id: Some(self.next_comment),
            html: html.to_string(),
            author_id: Some(user),
            author_name: self.user_name(project, user),
            created_at: Some(now),
            deleted: false,
        };
        self.stored_mut(project, id)?.comments.push(comment.clone());
        self.next_comment += 1;
        Some(comment)
    }

    pub(super) fn user_name(&self, project: i64, user: i64) -> Option<String> {
        let p = self.projects.get(&project)?;
        p.offer
            .users
            .iter()
            .find(|u| u.id == user)
            .and_then(|u| u.full_name.clone())
    }
}

/// An item as handed out: with the token of the version it shows.
pub(super) fn read(s: &Stored) -> TmItem {
    TmItem {
        carried: Carried::new(Version(s.version)),
        ..s.item.clone()
    }
}

/// What of `edit` the system keeps: the description as Spira cleans it
/// (scripts, event attributes and `javascript:` URLs stripped: spira-api.md
/// §13 row 6, release notes v5 IN:3204), and no status when the template
/// does not let the API change statuses (spira-api.md §3.4, §3.5:
/// `Workflow_BulkEditCanChangeStatus` off, the status is silently ignored).
pub(super) fn kept_edit(edit: &TmEdit, status_locked: bool) -> TmEdit {
    TmEdit {
        description: edit.description.as_deref().map(spira_kept),
        status: edit.status.filter(|_| !status_locked),
        ..edit.clone()
    }
}

/// Checks the ids an edit names against what the project offers (Spira
/// refuses unknown lookup ids and users).
pub(super) fn check(offer: &TmSetup, edit: &TmEdit) -> Result<(), ConnectorError> {
    let known = |list: &[Choice], id: i64| list.iter().any(|c| c.id == id);
    let bad = |what: &str, id: i64| Err(refused(format!("{what} {id}"), "unknown id"));
    if let Some(s) = edit.status.filter(|s| !known(&offer.statuses, *s)) {
        return bad("status", s);
    }
    if let Some(p) = edit
        .priority
        .flatten()
        .filter(|p| !known(&offer.priorities, *p))
    {
        return bad("priority", p);
    }
    if let Some(o) = edit
        .owner
        .flatten()
        .filter(|o| !offer.users.iter().any(|u| u.id == *o))
    {
        return bad("user", o);
    }
    if let Some(r) = edit
        .release
        .flatten()
        .filter(|r| !offer.releases.iter().any(|x| x.id == *r))
    {
        return bad("release", r);
    }
    Ok(())
}

/// Copies `edit` onto an item; true when anything changed.
pub(super) fn apply(item: &mut TmItem, url: &mut Option<String>, edit: &TmEdit) -> bool {
    let before = (item.clone(), url.clone());
    if let Some(t) = &edit.title {
        item.title = t.clone();
    }
    if let Some(d) = &edit.description {
        item.description = d.clone();
    }
    if let Some(s) = edit.status {
        item.status = Some(s);
    }
    if let Some(p) = edit.priority {
        item.priority = p;
    }
    if let Some(o) = edit.owner {
        item.owner = o;
    }
    if let Some(r) = edit.release {
        item.release = r;
    }
    if let Some(TrackerLink { marker, url: u }) = &edit.link {
        item.marker = Some(marker.clone());
        if u.is_some() {
            *url = u.clone();
        }
    }
    let same = |a: &TmItem, b: &TmItem| {
        (
            &a.title,
            &a.description,
            a.status,
            a.priority,
            a.owner,
            a.release,
            &a.marker,
        ) == (
            &b.title,
            &b.description,
            b.status,
            b.priority,
            b.owner,
            b.release,
            &b.marker,
        )
    };
    !same(&before.0, item) || before.1 != *url
}
