//! A side that cannot be asked any more this cycle: its server did not
//! answer several requests in a row (the HTTP layer's breaker), or the
//! cycle's deadline for it passed. The project stops with one error naming
//! the side; its items are not queued one by one (they did not fail, the
//! server did), and the daemon tries the side again with backoff.

use crate::gitlab::{GitLabClient, GitLabError};
use crate::http::HttpError;
use crate::spira::{SpiraClient, SpiraError};

use super::SyncError;

#[derive(Clone, Debug)]
pub struct SideDown {
    /// "GitLab" or "Spira".
    pub side: &'static str,
    /// The breaker opened (as opposed to the deadline passing).
    pub unreachable: bool,
    /// The project's one error line.
    pub message: String,
}

impl SideDown {
    fn of(side: &'static str, e: &HttpError) -> Option<SideDown> {
        let down = crate::connectors::down_of(side, e)?;
        Some(SideDown {
            side: down.side,
            unreachable: down.unreachable,
            message: down.message,
        })
    }

    /// The side that stopped answering, if either did.
    pub fn of_clients(gitlab: &GitLabClient, spira: &SpiraClient) -> Option<SideDown> {
        let spira_down = spira.down().and_then(|e| SideDown::of("Spira", &e));
        spira_down.or_else(|| gitlab.down().and_then(|e| SideDown::of("GitLab", &e)))
    }

    /// The side an item's error says is down, if it says so.
    pub fn of_error(e: &SyncError) -> Option<SideDown> {
        match e {
            SyncError::GitLab(GitLabError::Http(h)) => SideDown::of("GitLab", h),
            SyncError::Spira(SpiraError::Http(h)) => SideDown::of("Spira", h),
            _ => None,
        }
    }
}
