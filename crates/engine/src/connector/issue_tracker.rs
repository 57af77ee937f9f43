//! The issue-tracker side (GitLab today): where developers work the
//! defects. Its items have an instance-wide `id` and a number in their
//! project (`iid`, what people and URLs use); descriptions are Markdown.
//! `project` is the tracker's project reference: a path
//! ("group/project") or its id as text.

use chrono::{DateTime, Utc};

use labsync_model::inflight::InFlight;

use super::{Call, Down, Listing};

/// Open or closed, as the status mapping table names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackerState {
    Open,
    Closed,
    /// A state the tracker added since: no status maps to it.
    Other,
}

impl TrackerState {
    /// The name the status mapping table uses ("opened", "closed").
    pub fn name(self) -> Option<&'static str> {
        match self {
            TrackerState::Open => Some("opened"),
            TrackerState::Closed => Some("closed"),
            TrackerState::Other => None,
        }
    }
}

/// One tracker item, in neutral terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerItem {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
    /// The description without labsync's link back (Markdown, as people
    /// wrote it).
    pub body: String,
    /// The test-management item the link back names: (project, item).
    pub marker: Option<(i64, i64)>,
    pub state: TrackerState,
    pub labels: Vec<String>,
    /// The first assignee's username.
    pub assignee: Option<String>,
    /// The milestone's title.
    pub milestone: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub web_url: String,
    /// Comments people wrote (system notes not counted).
    pub comment_count: u64,
    /// Set when the item was moved to another project (the id it has there).
    pub moved_to: Option<u64>,
    /// The work item type ("issue", "task", …).
    pub kind: String,
}

/// The link back a tracker item carries to its test-management item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmLink {
    pub project: i64,
    pub item: i64,
    /// Where people find the test-management item.
    pub url: String,
}

/// A new tracker item: every field, and its link back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerNew {
    pub title: String,
    /// Markdown; written with the link back under it.
    pub body: String,
    pub link: TmLink,
    pub labels: Vec<String>,
    pub assignee: Option<u64>,
    pub milestone: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateChange {
    Close,
    Reopen,
}

/// The fields an edit sets; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackerEdit {
    pub title: Option<String>,
    /// Markdown; written with `link` under it.
    pub body: Option<String>,
    /// The link back written under `body` (only with a body).
    pub link: Option<TmLink>,
    pub state: Option<StateChange>,
    pub add_labels: Vec<String>,
    pub remove_labels: Vec<String>,
    /// `Some(vec![])` unassigns everyone.
    pub assignees: Option<Vec<u64>>,
    /// `Some(None)` removes the milestone.
    pub milestone: Option<Option<u64>>,
}

impl TrackerEdit {
    pub fn is_empty(&self) -> bool {
        *self == TrackerEdit::default()
    }
}

/// One comment on a tracker item, oldest first in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerComment {
    pub id: u64,
    /// Markdown.
    pub body: String,
    pub author_username: String,
    pub author_name: String,
    pub created_at: DateTime<Utc>,
    /// Written by a person and shown to everyone: not a system note, not
    /// internal. Only these are synced.
    pub by_person: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerProject {
    pub id: u64,
    /// "group/project".
    pub path: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerMilestone {
    pub id: u64,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerLabel {
    pub name: String,
    /// `#RRGGBB`.
    pub color: String,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerUser {
    pub id: u64,
    pub username: String,
    pub name: String,
}

/// An issue tracker, as the engine uses it.
pub trait IssueTracker: Send + Sync {
    /// The side's name for people ("GitLab").
    fn name(&self) -> &'static str;

    fn project<'a>(&'a self, project: &'a str) -> Call<'a, TrackerProject>;

    /// Items updated at or after `since` (all when `None`), oldest update
    /// first, page by page, each once. Inside a group of one timestamp it
    /// reads on only when none of `in_flight` is left.
    fn changed_since<'a>(
        &'a self,
        project: &'a str,
        since: Option<DateTime<Utc>>,
        in_flight: InFlight,
    ) -> Listing<'a, TrackerItem>;

    fn get<'a>(&'a self, project: &'a str, iid: u64) -> Call<'a, TrackerItem>;

    fn create<'a>(&'a self, project: &'a str, new: &'a TrackerNew) -> Call<'a, TrackerItem>;

    /// Writes `edit` and returns the item as the tracker answered (what it
    /// kept). An empty edit reads the item.
    fn update<'a>(
        &'a self,
        project: &'a str,
        iid: u64,
        edit: &'a TrackerEdit,
    ) -> Call<'a, TrackerItem>;

    /// Items this connector's user created at or after `since`, oldest
    /// first: where a create whose answer was lost is found again (by its
    /// marker).
    fn created_by_me_since<'a>(
        &'a self,
        project: &'a str,
        since: DateTime<Utc>,
    ) -> Call<'a, Vec<TrackerItem>>;

    /// Every comment of the item, oldest first, system notes included.
    fn comments<'a>(&'a self, project: &'a str, iid: u64) -> Call<'a, Vec<TrackerComment>>;

    /// Adds a comment; its text is only ever text (never run as a command).
    fn add_comment<'a>(
        &'a self,
        project: &'a str,
        iid: u64,
        markdown: &'a str,
    ) -> Call<'a, TrackerComment>;

    /// Where the item went, as the tracker tells it ("group/other#12"),
    /// for an item moved to another project.
    fn moved_where<'a>(&'a self, project: &'a str, iid: u64) -> Call<'a, Option<String>>;

    fn milestones<'a>(&'a self, project: &'a str) -> Call<'a, Vec<TrackerMilestone>>;

    fn create_milestone<'a>(
        &'a self,
        project: &'a str,
        title: &'a str,
    ) -> Call<'a, TrackerMilestone>;

    fn labels<'a>(&'a self, project: &'a str) -> Call<'a, Vec<TrackerLabel>>;

    fn find_label<'a>(&'a self, project: &'a str, name: &'a str) -> Call<'a, Option<TrackerLabel>>;

    /// Creates a label; when one of that name exists, returns that one.
    fn create_label<'a>(
        &'a self,
        project: &'a str,
        label: &'a TrackerLabel,
    ) -> Call<'a, TrackerLabel>;

    fn members<'a>(&'a self, project: &'a str) -> Call<'a, Vec<TrackerUser>>;

    /// The id of the user with this username, if there is one.
    fn user_id<'a>(&'a self, username: &'a str) -> Call<'a, Option<u64>>;

    /// How people refer to item `iid` of the project at `path`
    /// ("group/project#12"): the marker the test-management item keeps.
    fn reference(&self, path: &str, iid: u64) -> String;

    /// The item a [`IssueTracker::reference`] of the project at `path` names.
    fn parse_reference(&self, path: &str, text: &str) -> Option<u64>;

    /// The title the tracker keeps when `title` is written (cut to its limit).
    fn title_as_kept(&self, title: &str) -> String;

    /// The body the tracker keeps when `markdown` is written (commands
    /// defused, cut to its limit), without the link back.
    fn body_as_kept(&self, markdown: &str) -> String;

    /// The server's clock as of its last answer.
    fn server_now(&self) -> Option<DateTime<Utc>>;

    /// Whether the side stopped answering this cycle.
    fn down(&self) -> Option<Down>;
}
