//! A side that cannot be asked any more this cycle: its server did not
//! answer several requests in a row (the HTTP layer's breaker), or the
//! cycle's deadline for it passed. The project stops with one error naming
//! the side; its items are not queued one by one (they did not fail, the
//! server did), and the daemon tries the side again with backoff.

use super::SyncError;
use super::connector::{Down, IssueTracker, TestManagement};

/// The side that stopped answering, if either did.
pub fn of_connectors(tm: &dyn TestManagement, tracker: &dyn IssueTracker) -> Option<Down> {
    tm.down().or_else(|| tracker.down())
}

/// The side an item's error says is down, if it says so.
pub fn of_error(e: &SyncError) -> Option<Down> {
    match e {
        SyncError::Side(e) => e.down().cloned(),
        _ => None,
    }
}
