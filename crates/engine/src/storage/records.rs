//! What the engine keeps between cycles, as its [`Storage`](super::Storage)
//! port reads and writes it: links and their bases, comment links, audit
//! events, create intents, the error queue, the mapping rows, the install's
//! bindings. Plain values; the SQLite store maps them to its tables.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use labsync_model::{CreatedBy, Side, Ticket, TrackerKept};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// 0 for a link not stored yet.
    pub id: i64,
    pub plugin: String,
    pub tm_project: i64,
    /// The test-management item's id.
    pub tm_item: i64,
    /// The issue tracker's project id and item: its global id, its number
    /// in the project (GitLab's iid) and web address.
    pub tracker_project_id: i64,
    pub tracker_item_id: i64,
    pub tracker_iid: i64,
    pub tracker_url: String,
    pub created_by: CreatedBy,
    /// The merged record after the last successful sync of the pair.
    pub base: Ticket,
    /// What the issue tracker kept of the base otherwise than labsync sent it.
    pub tracker_kept: TrackerKept,
    /// The newest comment of each side already considered.
    pub last_tracker_comment: i64,
    pub last_tm_comment: i64,
    pub orphaned: Option<String>,
    /// When the test-management item's comments were last read, by its clock.
    pub comments_checked_at: Option<DateTime<Utc>>,
}

/// A comment copied across, so that it is never copied back or twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentLink {
    pub tm_comment: i64,
    pub tracker_comment: i64,
    /// The side the comment was written on.
    pub origin: Side,
}

/// One audit line (see `labsync explain`, to come).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub action: String,
    pub field: Option<String>,
    pub direction: Option<&'static str>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub conflict: bool,
    pub decision: Option<String>,
}

/// Everything one item's sync produced, committed together.
#[derive(Clone, Debug)]
pub struct ItemCommit {
    pub run_id: Option<i64>,
    pub link: Link,
    pub comments: Vec<CommentLink>,
    pub events: Vec<Event>,
    /// The intent this item's create fulfilled.
    pub intent_id: Option<i64>,
}

/// Which mapping table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Status,
    Priority,
    User,
    Release,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Status, Kind::Priority, Kind::User, Kind::Release];

    /// Status and priority tables map many Spira values to one GitLab value,
    /// with one primary used in the GitLab → Spira direction.
    pub fn has_primary(self) -> bool {
        matches!(self, Kind::Status | Kind::Priority)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Status => "status",
            Kind::Priority => "priority",
            Kind::User => "user",
            Kind::Release => "release",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Config,
    Cli,
    Auto,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Cli => "cli",
            Source::Auto => "auto",
        }
    }

    pub fn parse(s: &str) -> Result<Source, String> {
        match s {
            "config" => Ok(Source::Config),
            "cli" => Ok(Source::Cli),
            "auto" => Ok(Source::Auto),
            other => Err(format!("unknown source '{other}'")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRow {
    pub plugin: String,
    // `labsync map export` files name them so.
    #[serde(rename = "spira_project")]
    pub tm_project: i64,
    #[serde(rename = "gitlab_project")]
    pub tracker_project: String,
    pub active: bool,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRow {
    pub plugin: String,
    // `labsync map export` files name them so.
    #[serde(rename = "spira_project")]
    pub tm_project: i64,
    /// The test-management side's value (id as digits, or a name).
    #[serde(rename = "spira")]
    pub tm_value: String,
    /// The issue tracker's value (state, label, username, milestone).
    #[serde(rename = "gitlab")]
    pub tracker_value: String,
    #[serde(default)]
    pub primary: bool,
    pub source: Source,
}

/// A create that was about to happen when it was recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    pub id: i64,
    pub kind: String,
    pub source_id: String,
    /// Looked for on the other side before creating again.
    pub marker: String,
    pub payload: String,
    /// Made by this call: no earlier attempt can have created anything.
    pub fresh: bool,
    /// When it was first recorded, by this machine's clock.
    pub created_at: DateTime<Utc>,
}

/// An item waiting in the error queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedError {
    pub side: Side,
    pub item_id: i64,
    pub cause: String,
    pub attempts: i64,
    pub next_try: DateTime<Utc>,
    pub parked: bool,
}

/// The servers and projects a project mapping syncs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub plugin: String,
    pub tm_project: i64,
    pub tm_url: String,
    pub tracker_url: String,
    pub tracker_project: String,
}

impl Binding {
    /// "GitLab <url> project <path>, Spira <url> project PR:<n>".
    pub fn describe(&self) -> String {
        format!(
            "GitLab {} project {}, Spira {} project PR:{}",
            self.tracker_url, self.tracker_project, self.tm_url, self.tm_project
        )
    }
}

/// A base URL as compared: without a trailing slash, scheme and host in
/// lower case (the rest as written).
pub fn normalized_url(url: &str) -> String {
    let trimmed = url.trim().trim_end_matches('/');
    match trimmed.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let mut out = format!("{}://{}", scheme.to_lowercase(), host.to_lowercase());
            if !path.is_empty() {
                out.push('/');
                out.push_str(path);
            }
            out
        }
        None => trimmed.to_string(),
    }
}
