//! [`IssueTracker`] for [`MemoryIssueTracker`].

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use labsync::inflight::InFlight;
use labsync::sync::connector::{
    Call, ConnectorError, Down, ErrorKind, IssueTracker, Listing, TrackerComment, TrackerEdit,
    TrackerItem, TrackerLabel, TrackerMilestone, TrackerNew, TrackerProject, TrackerUser,
};

use super::data::{blank, kept_body, kept_title};
use super::{MemoryIssueTracker, Stored};
use crate::memory::listing::{Row, Ties, listing};
use crate::memory::{not_found, refused};

impl IssueTracker for MemoryIssueTracker {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn project<'a>(&'a self, project: &'a str) -> Call<'a, TrackerProject> {
        async move {
            let state = self.serve()?;
            let p = state.project(project)?;
            Ok(TrackerProject {
                id: p.id,
                path: p.path.clone(),
            })
        }
        .boxed()
    }

    fn changed_since<'a>(
        &'a self,
        project: &'a str,
        since: Option<DateTime<Utc>>,
        _in_flight: InFlight,
    ) -> Listing<'a, TrackerItem> {
        listing(since, self.page_size, Ties::IdDescending, move || {
            let state = self.serve()?;
            Ok(state
                .project(project)?
                .items
                .values()
                .filter(|s| !s.deleted)
                .map(|s| Row {
                    key: s.item.id,
                    updated: s.item.updated_at,
                    item: s.item.clone(),
                })
                .collect())
        })
    }

    fn get<'a>(&'a self, project: &'a str, iid: u64) -> Call<'a, TrackerItem> {
        async move { Ok(self.serve()?.live(project, iid)?.item.clone()) }.boxed()
    }

    fn create<'a>(&'a self, project: &'a str, new: &'a TrackerNew) -> Call<'a, TrackerItem> {
        async move {
            let now = self.clock.now();
            let mut state = self.serve()?;
            state.project(project)?;
            state.catalog.ensure_labels(&new.labels);
            let item = TrackerItem {
                title: kept_title(&new.title),
                body: kept_body(&new.body),
                marker: Some((new.link.project, new.link.item)),
                labels: new.labels.clone(),
                assignee: new.assignee.and_then(|id| state.catalog.assignable(id)),
                milestone: new
                    .milestone
                    .and_then(|id| state.catalog.milestone_title(id)),
                ..blank(now)
            };
            let made = state
                .insert(project, item, Self::ME, now)
                .ok_or_else(|| not_found(project))?;
            state.writes += 1;
            if std::mem::take(&mut state.lose_create_answer) {
                return Err(ConnectorError::new(
                    ErrorKind::Item,
                    format!("creating an item in {project}: the answer was lost"),
                ));
            }
            Ok(made)
        }
        .boxed()
    }

    fn update<'a>(
        &'a self,
        project: &'a str,
        iid: u64,
        edit: &'a TrackerEdit,
    ) -> Call<'a, TrackerItem> {
        async move {
            let now = self.clock.now();
            let mut state = self.serve()?;
            if edit.is_empty() {
                return Ok(state.live(project, iid)?.item.clone());
            }
            let saved = state.edit(project, iid, edit, now)?;
            state.writes += 1;
            Ok(saved)
        }
        .boxed()
    }

    fn created_by_me_since<'a>(
        &'a self,
        project: &'a str,
        since: DateTime<Utc>,
    ) -> Call<'a, Vec<TrackerItem>> {
        async move {
            let state = self.serve()?;
            let mut mine: Vec<&Stored> = state
                .project(project)?
                .items
                .values()
                .filter(|s| !s.deleted && s.author == Self::ME && s.created_at >= since)
                .collect();
            mine.sort_by_key(|s| (s.created_at, s.item.iid));
            Ok(mine.into_iter().map(|s| s.item.clone()).collect())
        }
        .boxed()
    }

    fn comments<'a>(&'a self, project: &'a str, iid: u64) -> Call<'a, Vec<TrackerComment>> {
        async move { Ok(self.serve()?.live(project, iid)?.notes.clone()) }.boxed()
    }

    fn add_comment<'a>(
        &'a self,
        project: &'a str,
        iid: u64,
        markdown: &'a str,
    ) -> Call<'a, TrackerComment> {
        async move {
            let now = self.clock.now();
            let mut state = self.serve()?;
            state.live(project, iid)?;
            if markdown.trim().is_empty() {
                return Err(refused(
                    format!("a comment on #{iid}"),
                    "a note must not be blank",
                ));
            }
            let me = state
                .catalog
                .user(Self::ME)
                .cloned()
                .ok_or_else(|| not_found(Self::ME))?;
            let note = state.note(project, iid, &me, markdown, true, now);
            state.writes += 1;
            note.ok_or_else(|| not_found(iid))
        }
        .boxed()
    }

    fn moved_where<'a>(&'a self, project: &'a str, iid: u64) -> Call<'a, Option<String>> {
        async move { Ok(self.serve()?.live(project, iid)?.moved.clone()) }.boxed()
    }

    fn milestones<'a>(&'a self, project: &'a str) -> Call<'a, Vec<TrackerMilestone>> {
        async move {
            let state = self.serve()?;
            state.project(project)?;
            Ok(state.catalog.milestones.clone())
        }
        .boxed()
    }

    fn create_milestone<'a>(
        &'a self,
        project: &'a str,
        title: &'a str,
    ) -> Call<'a, TrackerMilestone> {
        async move {
            let mut state = self.serve()?;
            state.project(project)?;
            state.writes += 1;
            state.catalog.create_milestone(title)
        }
        .boxed()
    }

    fn labels<'a>(&'a self, project: &'a str) -> Call<'a, Vec<TrackerLabel>> {
        async move {
            let state = self.serve()?;
            state.project(project)?;
            Ok(state.catalog.labels.clone())
        }
        .boxed()
    }

    fn find_label<'a>(&'a self, project: &'a str, name: &'a str) -> Call<'a, Option<TrackerLabel>> {
        async move {
            let state = self.serve()?;
            state.project(project)?;
            Ok(state.catalog.label(name).cloned())
        }
        .boxed()
    }

    fn create_label<'a>(
        &'a self,
        project: &'a str,
        label: &'a TrackerLabel,
    ) -> Call<'a, TrackerLabel> {
        async move {
            let mut state = self.serve()?;
            state.project(project)?;
            state.writes += 1;
            Ok(state.catalog.create_label(label))
        }
        .boxed()
    }

    fn members<'a>(&'a self, project: &'a str) -> Call<'a, Vec<TrackerUser>> {
        async move {
            let state = self.serve()?;
            state.project(project)?;
            Ok(state.catalog.members())
        }
        .boxed()
    }

    fn user_id<'a>(&'a self, username: &'a str) -> Call<'a, Option<u64>> {
        async move { Ok(self.serve()?.catalog.user(username).map(|u| u.id)) }.boxed()
    }

    fn reference(&self, path: &str, iid: u64) -> String {
        format!("{path}#{iid}")
    }

    fn parse_reference(&self, path: &str, text: &str) -> Option<u64> {
        text.strip_prefix(path)?.strip_prefix('#')?.parse().ok()
    }

    fn title_as_kept(&self, title: &str) -> String {
        kept_title(title)
    }

    fn body_as_kept(&self, markdown: &str) -> String {
        kept_body(markdown)
    }

    fn server_now(&self) -> Option<DateTime<Utc>> {
        self.state().answered.then(|| self.clock.now())
    }

    fn down(&self) -> Option<Down> {
        self.state().down.then(|| crate::memory::down(Self::NAME))
    }
}
