//! The test-management side (Spira today): where testers file defects.
//! Its items are the engine's "incidents"; ids are the system's own
//! numbers, descriptions are HTML.

use chrono::{DateTime, Utc};

use labsync_model::inflight::InFlight;

use super::{Call, Carried, Down, Listing};

/// One item as the test-management system holds it, in neutral terms.
#[derive(Clone, Debug, Default)]
pub struct TmItem {
    /// `None` when the system listed it without one (bad data about it).
    pub id: Option<i64>,
    pub title: String,
    /// HTML.
    pub description: String,
    pub status: Option<i64>,
    pub priority: Option<i64>,
    pub owner: Option<i64>,
    pub release: Option<i64>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The link back to the tracker item, as written by [`TrackerLink`]
    /// (or a claim): Spira's "GitLab Issue" property.
    pub marker: Option<String>,
    /// The connector's own copy (see [`Carried`]).
    pub carried: Carried,
}

/// What the test-management item says about its tracker counterpart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerLink {
    /// The marker: the tracker's reference of the item ("group/project#12").
    pub marker: String,
    /// Where people find the tracker item.
    pub url: Option<String>,
}

/// The fields a write sets; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TmEdit {
    pub title: Option<String>,
    /// HTML.
    pub description: Option<String>,
    /// A status is never cleared, only set.
    pub status: Option<i64>,
    /// `Some(None)` clears.
    pub priority: Option<Option<i64>>,
    pub owner: Option<Option<i64>>,
    pub release: Option<Option<i64>>,
    pub link: Option<TrackerLink>,
}

/// One comment on an item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TmComment {
    pub id: Option<i64>,
    /// HTML.
    pub html: String,
    pub author_id: Option<i64>,
    /// The author's full name, when the system gives it.
    pub author_name: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub deleted: bool,
}

/// A status or priority the project offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmUser {
    pub id: i64,
    pub login: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmRelease {
    pub id: i64,
    pub name: String,
    pub version: String,
}

/// What a project offers, read once per cycle before its first item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TmSetup {
    pub statuses: Vec<Choice>,
    pub priorities: Vec<Choice>,
    pub users: Vec<TmUser>,
    pub releases: Vec<TmRelease>,
}

/// A test-management system, as the engine uses it. `project` is the
/// system's project id (the mapping's test-management project).
pub trait TestManagement: Send + Sync {
    /// The side's name for people ("Spira").
    fn name(&self) -> &'static str;

    /// What `project` offers (statuses, priorities, users, releases). Read
    /// before any write to the project: a connector may keep what it
    /// needs to write (Spira: its property definitions). A project that
    /// cannot hold a link back is a [`super::ErrorKind::Fatal`] error.
    fn setup(&self, project: i64) -> Call<'_, TmSetup>;

    /// Items changed at or after `since`, oldest change first, page by
    /// page; each once per listing (again only if it changed meanwhile).
    /// Inside a group of one timestamp it reads on only when none of
    /// `in_flight` is left (a write would shift the rows).
    fn changed_since(
        &self,
        project: i64,
        since: DateTime<Utc>,
        in_flight: InFlight,
    ) -> Listing<'_, TmItem>;

    /// The whole item, read now.
    fn get(&self, project: i64, id: i64) -> Call<'_, TmItem>;

    /// Creates an item with every field of `new` and returns it as the
    /// system then holds it (its defaults filled in).
    fn create<'a>(&'a self, project: i64, new: &'a TmEdit) -> Call<'a, TmItem>;

    /// Writes `edit` onto item `id`, starting from `from` (a whole copy
    /// just read) or reading it first. When someone saves it in between,
    /// it reads and writes once more; a second conflict is
    /// [`super::ErrorKind::Busy`]. An edit that changes nothing sends
    /// nothing. Returns the item as read after the write when `read_back`
    /// or the edit sets a status (a workflow may keep another), else as
    /// sent with its description as [`TestManagement::description_as_kept`]
    /// says: never a value the system did not keep.
    fn update<'a>(
        &'a self,
        project: i64,
        id: i64,
        from: Option<TmItem>,
        edit: &'a TmEdit,
        read_back: bool,
    ) -> Call<'a, TmItem>;

    /// Sets the item's marker to `marker` only if nobody saved the item
    /// since `item` was read (compare-and-set); otherwise
    /// [`super::ErrorKind::Busy`] and nothing is written.
    fn claim<'a>(&'a self, project: i64, item: &'a TmItem, marker: &'a str) -> Call<'a, ()>;

    fn delete(&self, project: i64, id: i64) -> Call<'_, ()>;

    /// The items whose marker is exactly `marker`, lowest id first.
    fn find_by_marker<'a>(&'a self, project: i64, marker: &'a str) -> Call<'a, Vec<TmItem>>;

    /// The item's comments, oldest first.
    fn comments(&self, project: i64, id: i64) -> Call<'_, Vec<TmComment>>;

    /// Adds a comment (HTML) by `author` when the system lets it be set.
    fn add_comment<'a>(
        &'a self,
        project: i64,
        id: i64,
        html: &'a str,
        author: Option<i64>,
    ) -> Call<'a, TmComment>;

    /// Creates a release named `title` (the system's defaults for the rest).
    fn create_release<'a>(&'a self, project: i64, title: &'a str) -> Call<'a, TmRelease>;

    /// The marker `item` carries (its link back to the tracker item). A
    /// connector that learns where markers are kept only with the project's
    /// setup finds it here in an item listed before the setup was read.
    fn marker(&self, project: i64, item: &TmItem) -> Option<String> {
        let _ = project;
        item.marker.clone()
    }

    /// Where people see the marker, for messages ("its \"GitLab Issue\"
    /// property").
    fn marker_name(&self) -> &'static str {
        "its link back"
    }

    /// Where people find the item in the system's web interface.
    fn web_url(&self, project: i64, id: i64) -> String;

    /// The description the system keeps when `html` is written (Spira
    /// strips dangerous HTML): what a write sent reads back as, and is not
    /// an edit.
    fn description_as_kept(&self, html: &str) -> String;

    /// The server's clock as of its last answer.
    fn server_now(&self) -> Option<DateTime<Utc>>;

    /// Whether the side stopped answering this cycle.
    fn down(&self) -> Option<Down>;
}
