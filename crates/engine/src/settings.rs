//! What the engine needs of a plugin's configuration: its name, how it
//! merges and in which direction, its pacing. The binary's config builds it
//! (`config::Plugin::settings`); schedules, servers and secrets stay there.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// One plugin as the engine syncs it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    /// Overlap subtracted from each watermark before reading.
    pub time_offset: Duration,
    pub conflict: ConflictPolicy,
    pub auto_map_users: bool,
    pub direction: Direction,
    pub sync_since: Option<DateTime<Utc>>,
    /// How often the comments of linked incidents are read again, for
    /// comments that do not move an incident's LastUpdateDate; `None` = off.
    pub comment_sweep: Option<Duration>,
    /// Items of one project in flight at once; writes to one item stay in order.
    pub concurrency: usize,
    /// Another install (its own database) may sync the same tracker projects:
    /// the one-install check is off; claims still keep one counterpart per item.
    pub share_projects: bool,
    /// The tracker's work item types synced (GitLab's `issue_type`): a
    /// project's issue list holds tasks and test cases too, which are not defects.
    pub tracker_item_types: Vec<String>,
    /// The servers' base URLs, as the install's bindings record them.
    pub tm_url: String,
    pub tracker_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// The side whose change is newer wins.
    Newest,
    TestManagement,
    IssueTracker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Both,
    ToIssueTracker,
    ToTestManagement,
}

impl ConflictPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::Newest => "newest",
            ConflictPolicy::TestManagement => "test-management",
            ConflictPolicy::IssueTracker => "gitlab",
        }
    }
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Both => "both",
            Direction::ToIssueTracker => "to-gitlab",
            Direction::ToTestManagement => "to-test-management",
        }
    }
}
