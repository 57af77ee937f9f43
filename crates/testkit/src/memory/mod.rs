//! In-memory connectors and storage: the engine's traits implemented on
//! plain data.
//!
//! They are as hard as the real services where the engine depends on it
//! (a stale concurrency token is refused, listing bounds are inclusive and
//! same-timestamp groups span pages, writes before a project's setup are
//! refused, unknown ids are refused, a label-only edit within a minute does
//! not move GitLab's `updated_at`), and never easier: each passes the same
//! conformance suite as the real connector it stands in for.

mod clock;
mod issue_tracker;
mod listing;
mod storage;
mod test_management;
mod tracker_catalog;

#[cfg(test)]
mod tests;

pub use clock::MemoryClock;
pub use issue_tracker::MemoryIssueTracker;
pub use storage::MemoryStorage;
pub use test_management::MemoryTestManagement;

use labsync::sync::connector::{ConnectorError, Down, ErrorKind};

fn not_found(what: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::new(ErrorKind::NotFound, format!("{what} was not found"))
}

fn refused(what: impl std::fmt::Display, why: &str) -> ConnectorError {
    ConnectorError::new(ErrorKind::Item, format!("{what}: refused: {why}"))
}

/// What a fake set down answers: the side stopped answering (as the real
/// connectors say when their breaker opens).
fn down(side: &'static str) -> Down {
    Down {
        side,
        unreachable: true,
        message: format!("{side} is unreachable: it was set down"),
    }
}

fn down_error(side: &'static str) -> ConnectorError {
    ConnectorError::new(ErrorKind::Down(down(side)), down(side).message)
}
