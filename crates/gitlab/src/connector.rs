//! GitLab as the engine's [`IssueTracker`]: issues become
//! [`TrackerItem`]s, and what only GitLab knows stays here: the link back
//! is a footer under the description whose last line is a hidden marker
//! (`text::Footer`), text copied in is defused so GitLab never runs it as
//! quick actions, titles and descriptions are cut to GitLab's limits, and
//! issues are referred to as `group/project#12`.

use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt, TryStreamExt};

use crate::{
    GitLabClient, GitLabError, Issue, IssueEdit, IssueState, Label, NewIssue, NewLabel,
    NewMilestone, Note, ProjectRef, StateEvent,
};
use labsync_engine::connector::issue_tracker::TmLink;
use labsync_engine::connector::{
    Call, ConnectorError, Down, ErrorKind, IssueTracker, Listing, StateChange, TrackerComment,
    TrackerEdit, TrackerItem, TrackerLabel, TrackerMilestone, TrackerNew, TrackerProject,
    TrackerState, TrackerUser,
};
use labsync_http::HttpError;
use labsync_model::inflight::InFlight;
use labsync_model::text::{self, Footer};

pub struct GitLabConnector {
    client: GitLabClient,
}

impl GitLabConnector {
    pub fn new(client: GitLabClient) -> Self {
        GitLabConnector { client }
    }

    pub fn client(&self) -> &GitLabClient {
        &self.client
    }

    async fn notes(&self, project: &str, iid: u64) -> Result<Vec<Note>, ConnectorError> {
        let project = ProjectRef::parse(project);
        self.client
            .list_notes(&project, iid)
            .try_collect()
            .await
            .map_err(error)
    }
}

/// The kind of a GitLab failure, for the engine.
fn kind(e: &GitLabError) -> ErrorKind {
    match e {
        GitLabError::Unauthorized { .. }
        | GitLabError::TokenExpired { .. }
        | GitLabError::InsufficientScope { .. }
        | GitLabError::BadToken { .. }
        | GitLabError::BadUrl { .. } => ErrorKind::Fatal,
        GitLabError::NotFound { .. } => ErrorKind::NotFound,
        GitLabError::Http(h) => match down_of(h) {
            Some(down) => ErrorKind::Down(down),
            None => ErrorKind::Item,
        },
        GitLabError::Forbidden { .. }
        | GitLabError::Validation { .. }
        | GitLabError::RateLimited { .. }
        | GitLabError::Server { .. }
        | GitLabError::Decode { .. } => ErrorKind::Item,
    }
}

fn error(e: GitLabError) -> ConnectorError {
    ConnectorError::new(kind(&e), e.to_string())
}

impl From<GitLabError> for ConnectorError {
    fn from(e: GitLabError) -> Self {
        error(e)
    }
}

fn item(issue: Issue) -> TrackerItem {
    let (body, marker) = text::split_footer(issue.description.as_deref().unwrap_or(""));
    let kind = issue.work_item_type().to_string();
    TrackerItem {
        id: issue.id,
        iid: issue.iid,
        project_id: issue.project_id,
        title: issue.title,
        body,
        marker,
        state: match issue.state {
            IssueState::Opened => TrackerState::Open,
            IssueState::Closed => TrackerState::Closed,
            IssueState::Other => TrackerState::Other,
        },
        labels: issue.labels,
        assignee: issue.assignees.into_iter().next().map(|u| u.username),
        milestone: issue.milestone.map(|m| m.title),
        updated_at: issue.updated_at,
        web_url: issue.web_url,
        comment_count: issue.user_notes_count,
        moved_to: issue.moved_to_id,
        kind,
    }
}

fn footer(link: &TmLink) -> Footer {
    Footer {
        spira_project: link.project,
        incident_id: link.item,
        incident_url: link.url.clone(),
    }
}

/// The description written for `body`: with the footer when there is a
/// link back.
fn description(body: &str, link: Option<&TmLink>) -> String {
    match link {
        Some(link) => text::gitlab_description(body, &footer(link)),
        None => text::gitlab_body(body),
    }
}

fn comment(note: Note) -> TrackerComment {
    TrackerComment {
        by_person: note.is_user_note() && !note.internal,
        id: note.id,
        body: note.body,
        author_username: note.author.username,
        author_name: note.author.name,
        created_at: note.created_at,
    }
}

fn label(l: Label) -> TrackerLabel {
    TrackerLabel {
        name: l.name,
        color: l.color,
        description: l.description,
    }
}

fn some_if_any(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

impl IssueTracker for GitLabConnector {
    fn name(&self) -> &'static str {
        "GitLab"
    }

    fn project<'a>(&'a self, project: &'a str) -> Call<'a, TrackerProject> {
        async move {
            let p = self
                .client
                .project(&ProjectRef::parse(project))
                .await
                .map_err(error)?;
            Ok(TrackerProject {
                id: p.id,
                path: p.path_with_namespace,
            })
        }
        .boxed()
    }

    fn changed_since<'a>(
        &'a self,
        project: &'a str,
        since: Option<DateTime<Utc>>,
        in_flight: InFlight,
    ) -> Listing<'a, TrackerItem> {
        self.client
            .list_issues_updated_since_settling(&ProjectRef::parse(project), since, in_flight)
            .map_ok(item)
            .map_err(error)
            .boxed()
    }

    fn get<'a>(&'a self, project: &'a str, iid: u64) -> Call<'a, TrackerItem> {
        async move {
            let issue = self
                .client
                .get_issue(&ProjectRef::parse(project), iid)
                .await
                .map_err(error)?;
            Ok(item(issue))
        }
        .boxed()
    }

    fn create<'a>(&'a self, project: &'a str, new: &'a TrackerNew) -> Call<'a, TrackerItem> {
        async move {
            let issue = NewIssue {
                title: text::gitlab_title(&new.title),
                description: Some(description(&new.body, Some(&new.link))),
                labels: some_if_any(&new.labels),
                assignee_ids: new.assignee.map(|id| vec![id]),
                milestone_id: new.milestone,
                ..NewIssue::default()
            };
            let created = self
                .client
                .create_issue(&ProjectRef::parse(project), &issue)
                .await
                .map_err(error)?;
            Ok(item(created))
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
            let sent = IssueEdit {
                title: edit.title.as_deref().map(text::gitlab_title),
                description: edit
                    .body
                    .as_deref()
                    .map(|b| description(b, edit.link.as_ref())),
                add_labels: some_if_any(&edit.add_labels),
                remove_labels: some_if_any(&edit.remove_labels),
                assignee_ids: edit.assignees.clone(),
                milestone_id: edit.milestone.map(|m| m.unwrap_or(0)),
                state_event: edit.state.map(|s| match s {
                    StateChange::Close => StateEvent::Close,
                    StateChange::Reopen => StateEvent::Reopen,
                }),
                ..IssueEdit::default()
            };
            let answer = self
                .client
                .edit_issue(&ProjectRef::parse(project), iid, &sent)
                .await
                .map_err(error)?;
            Ok(item(answer))
        }
        .boxed()
    }

    fn created_by_me_since<'a>(
        &'a self,
        project: &'a str,
        since: DateTime<Utc>,
    ) -> Call<'a, Vec<TrackerItem>> {
        async move {
            let issues = self
                .client
                .own_issues_created_since(&ProjectRef::parse(project), since)
                .await
                .map_err(error)?;
            Ok(issues.into_iter().map(item).collect())
        }
        .boxed()
    }

    fn comments<'a>(&'a self, project: &'a str, iid: u64) -> Call<'a, Vec<TrackerComment>> {
        async move {
            let notes = self.notes(project, iid).await?;
            Ok(notes.into_iter().map(comment).collect())
        }
        .boxed()
    }

    fn add_comment<'a>(
        &'a self,
        project: &'a str,
        iid: u64,
        markdown: &'a str,
    ) -> Call<'a, TrackerComment> {
        async move {
            // Text copied to GitLab is only ever text: no line runs as a
            // quick action.
            let body = text::defuse_quick_actions(markdown);
            let note = self
                .client
                .create_note(&ProjectRef::parse(project), iid, &body)
                .await
                .map_err(error)?;
            Ok(comment(note))
        }
        .boxed()
    }

    fn moved_where<'a>(&'a self, project: &'a str, iid: u64) -> Call<'a, Option<String>> {
        async move {
            // GitLab's system note on the original says where it went
            // ("moved to group/project#12"; `SystemNotes::IssuablesService#noteable_moved`).
            // A project id alone cannot be resolved to a path without admin
            // rights (`GET /issues/:id` is for administrators only).
            let notes = self.notes(project, iid).await?;
            let Some(reference) = notes
                .iter()
                .rev()
                .filter(|n| n.system)
                .find_map(|n| n.body.strip_prefix("moved to ").map(str::trim))
            else {
                return Ok(None);
            };
            // The note names a project of the same namespace by its path
            // alone ("moved to archive#3": `Project#to_reference_base`);
            // people reading it elsewhere need the whole path.
            let Some((target, number)) = reference.split_once('#') else {
                return Ok(Some(reference.to_string()));
            };
            if target.contains('/') {
                return Ok(Some(reference.to_string()));
            }
            let own_path = match project.contains('/') {
                true => project.to_string(),
                false => self.project(project).await?.path,
            };
            Ok(Some(match own_path.rsplit_once('/') {
                Some((namespace, _)) => format!("{namespace}/{target}#{number}"),
                None => reference.to_string(),
            }))
        }
        .boxed()
    }

    fn milestones<'a>(&'a self, project: &'a str) -> Call<'a, Vec<TrackerMilestone>> {
        async move {
            let found = self
                .client
                .list_milestones(&ProjectRef::parse(project))
                .await
                .map_err(error)?;
            Ok(found
                .into_iter()
                .map(|m| TrackerMilestone {
                    id: m.id,
                    title: m.title,
                })
                .collect())
        }
        .boxed()
    }

    fn create_milestone<'a>(
        &'a self,
        project: &'a str,
        title: &'a str,
    ) -> Call<'a, TrackerMilestone> {
        async move {
            let new = NewMilestone {
                title: title.to_string(),
                ..NewMilestone::default()
            };
            let m = self
                .client
                .create_milestone(&ProjectRef::parse(project), &new)
                .await
                .map_err(error)?;
            Ok(TrackerMilestone {
                id: m.id,
                title: m.title,
            })
        }
        .boxed()
    }

    fn labels<'a>(&'a self, project: &'a str) -> Call<'a, Vec<TrackerLabel>> {
        async move {
            let labels = self
                .client
                .list_labels(&ProjectRef::parse(project))
                .await
                .map_err(error)?;
            Ok(labels.into_iter().map(label).collect())
        }
        .boxed()
    }

    fn find_label<'a>(&'a self, project: &'a str, name: &'a str) -> Call<'a, Option<TrackerLabel>> {
        async move {
            let found = self
                .client
                .find_label(&ProjectRef::parse(project), name)
                .await
                .map_err(error)?;
            Ok(found.map(label))
        }
        .boxed()
    }

    fn create_label<'a>(
        &'a self,
        project: &'a str,
        new: &'a TrackerLabel,
    ) -> Call<'a, TrackerLabel> {
        async move {
            let new = NewLabel {
                name: new.name.clone(),
                color: new.color.clone(),
                description: new.description.clone(),
            };
            let made = self
                .client
                .create_label(&ProjectRef::parse(project), &new)
                .await
                .map_err(error)?;
            Ok(label(made))
        }
        .boxed()
    }

    fn members<'a>(&'a self, project: &'a str) -> Call<'a, Vec<TrackerUser>> {
        async move {
            let members = self
                .client
                .list_members(&ProjectRef::parse(project))
                .await
                .map_err(error)?;
            Ok(members
                .into_iter()
                .map(|m| TrackerUser {
                    id: m.id,
                    username: m.username,
                    name: m.name,
                })
                .collect())
        }
        .boxed()
    }

    fn user_id<'a>(&'a self, username: &'a str) -> Call<'a, Option<u64>> {
        async move {
            let found = self
                .client
                .find_user_by_username(username)
                .await
                .map_err(error)?;
            Ok(found.map(|u| u.id))
        }
        .boxed()
    }

    fn reference(&self, path: &str, iid: u64) -> String {
        format!("{path}#{iid}")
    }

    fn parse_reference(&self, path: &str, text: &str) -> Option<u64> {
        text.strip_prefix(path)?.strip_prefix('#')?.parse().ok()
    }

    fn title_as_kept(&self, title: &str) -> String {
        text::gitlab_title(title)
    }

    fn body_as_kept(&self, markdown: &str) -> String {
        // GitLab deletes `\r` and strips the trailing whitespace of a
        // description it saves (gitlab-org/gitlab
        // `lib/gitlab/quick_actions/extractor.rb`; gitlab-api.md §16 #2).
        let kept = text::gitlab_body(markdown).replace('\r', "");
        text::split_footer(kept.trim_end()).0
    }

    fn server_now(&self) -> Option<DateTime<Utc>> {
        self.client.server_now()
    }

    fn down(&self) -> Option<Down> {
        self.client.down().and_then(|e| down_of(&e))
    }
}

/// A failure that says GitLab is down (see [`HttpError::side_down`]).
fn down_of(e: &HttpError) -> Option<Down> {
    e.side_down("GitLab").map(|d| Down {
        side: "GitLab",
        unreachable: d.unreachable,
        message: d.message,
    })
}
