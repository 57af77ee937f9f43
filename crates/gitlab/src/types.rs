//! GitLab's JSON entities as the sync engine uses them, and the bodies it sends.
//! Unknown fields are ignored; fields GitLab may omit or null are optional.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

/// A project, by numeric id or by full path ("group/project").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProjectRef {
    Id(u64),
    Path(String),
}

/// Everything but RFC 3986's unreserved characters, so `/` becomes `%2F`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one URL path segment.
fn encode_segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

impl ProjectRef {
    /// Digits are an id; anything else a path.
    pub fn parse(text: &str) -> Self {
        match text.trim().parse() {
            Ok(id) => ProjectRef::Id(id),
            Err(_) => ProjectRef::Path(text.trim().trim_matches('/').to_string()),
        }
    }

    /// The `:id` URL segment: the id, or the path with `/` as `%2F`.
    pub fn segment(&self) -> String {
        match self {
            ProjectRef::Id(id) => id.to_string(),
            ProjectRef::Path(path) => encode_segment(path),
        }
    }
}

impl fmt::Display for ProjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectRef::Id(id) => write!(f, "project {id}"),
            ProjectRef::Path(path) => f.write_str(path),
        }
    }
}

impl From<u64> for ProjectRef {
    fn from(id: u64) -> Self {
        ProjectRef::Id(id)
    }
}

impl From<&str> for ProjectRef {
    fn from(text: &str) -> Self {
        ProjectRef::parse(text)
    }
}

/// UserBasic, plus the private fields `GET /user` adds.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Only on `GET /user` (and for admins).
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub public_email: Option<String>,
    #[serde(default)]
    pub bot: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum IssueState {
    Opened,
    Closed,
    /// Anything newer GitLab may add (e.g. "locked" on merge requests).
    #[serde(other)]
    Other,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct References {
    pub short: String,
    pub full: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Issue {
    /// Global id: stable across the instance.
    pub id: u64,
    /// Per-project number shown as `#iid`; what URLs use.
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub state: IssueState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closed_by: Option<User>,
    /// Names, sorted by GitLab.
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub milestone: Option<Milestone>,
    #[serde(default)]
    pub assignees: Vec<User>,
    pub author: User,
    pub web_url: String,
    #[serde(default)]
    pub references: Option<References>,
    #[serde(default)]
    pub user_notes_count: u64,
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// The work item type ("issue", "incident", "task", "test_case", …);
    /// absent before GitLab 13.
    #[serde(default)]
    pub issue_type: Option<String>,
    /// Set on an issue moved to another project: GitLab keeps this
    /// original, closed, and made a new issue with this id there.
    #[serde(default)]
    pub moved_to_id: Option<u64>,
}

impl Issue {
    pub fn is_open(&self) -> bool {
        self.state == IssueState::Opened
    }

    /// The work item type; an answer without one is an issue.
    pub fn work_item_type(&self) -> &str {
        self.issue_type.as_deref().unwrap_or("issue")
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Note {
    pub id: u64,
    pub body: String,
    pub author: User,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// GitLab's own activity notes ("changed the description", "assigned
    /// to @bob", "mentioned in #3"): never synced as comments.
    #[serde(default)]
    pub system: bool,
    #[serde(default)]
    pub noteable_id: Option<u64>,
    #[serde(default)]
    pub noteable_iid: Option<u64>,
    #[serde(default)]
    pub internal: bool,
}

impl Note {
    /// A comment a person wrote, as opposed to a system note.
    pub fn is_user_note(&self) -> bool {
        !self.system
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Label {
    pub id: u64,
    pub name: String,
    pub color: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub text_color: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MilestoneState {
    Active,
    Closed,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Milestone {
    pub id: u64,
    pub iid: u64,
    /// Absent on group milestones, which carry `group_id`.
    #[serde(default)]
    pub project_id: Option<u64>,
    #[serde(default)]
    pub group_id: Option<u64>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub state: MilestoneState,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub expired: Option<bool>,
    #[serde(default)]
    pub web_url: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct AccessLevel {
    pub access_level: u32,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Permissions {
    #[serde(default)]
    pub project_access: Option<AccessLevel>,
    #[serde(default)]
    pub group_access: Option<AccessLevel>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Project {
    pub id: u64,
    pub name: String,
    pub path_with_namespace: String,
    pub web_url: String,
    /// Absent on old versions or for callers who cannot see it: assume on.
    #[serde(default)]
    pub issues_enabled: Option<bool>,
    #[serde(default)]
    pub permissions: Option<Permissions>,
}

impl Project {
    /// The caller's best access level, direct or through the group.
    pub fn access_level(&self) -> Option<u32> {
        let p = self.permissions.as_ref()?;
        let levels = [&p.project_access, &p.group_access];
        levels
            .iter()
            .filter_map(|l| l.as_ref())
            .map(|l| l.access_level)
            .max()
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Member {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub access_level: u32,
}

/// `GET /personal_access_tokens/self`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub user_id: u64,
    #[serde(default)]
    pub expires_at: Option<NaiveDate>,
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Hook {
    pub id: u64,
    pub url: String,
    #[serde(default)]
    pub issues_events: bool,
    #[serde(default)]
    pub note_events: bool,
    #[serde(default)]
    pub confidential_issues_events: bool,
    #[serde(default)]
    pub confidential_note_events: bool,
    #[serde(default)]
    pub enable_ssl_verification: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths_are_one_encoded_segment() {
        assert_eq!(
            ProjectRef::parse("demo/webshop").segment(),
            "demo%2Fwebshop"
        );
        assert_eq!(ProjectRef::parse("42").segment(), "42");
        assert_eq!(ProjectRef::parse("a b/c.d").segment(), "a%20b%2Fc.d");
    }
}
