//! The engine's two boundaries: [`TestManagement`] (Spira today) and
//! [`IssueTracker`] (GitLab today), one trait each, in the engine's terms.
//! A connector turns its vendor's items into the neutral records here and
//! back, and says what kind each failure is ([`ErrorKind`]), so the engine
//! never takes a vendor's item or error apart.
//!
//! Why boxed futures and not `impl Future` in the traits: the engine then
//! holds `&dyn TestManagement` / `&dyn IssueTracker` and stays one
//! non-generic piece of code (its ~20 functions that take a project's
//! context need no type parameters), the command picks the connectors at
//! run time, and a fake is one more implementation. The price is one
//! allocation per call, nothing beside the request it makes.

pub mod issue_tracker;
pub mod test_management;

pub use issue_tracker::{
    IssueTracker, StateChange, TrackerComment, TrackerEdit, TrackerItem, TrackerLabel,
    TrackerMilestone, TrackerNew, TrackerProject, TrackerState, TrackerUser,
};
pub use test_management::{
    Choice, TestManagement, TmComment, TmEdit, TmItem, TmRelease, TmSetup, TmUser, TrackerLink,
};

use std::any::Any;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

/// The two connectors a plugin syncs between.
#[derive(Clone, Copy)]
pub struct Endpoints<'a> {
    pub tm: &'a dyn TestManagement,
    pub tracker: &'a dyn IssueTracker,
}

/// One call to a side: its answer, or an error that says its kind.
pub type Call<'a, T> = BoxFuture<'a, Result<T, ConnectorError>>;

/// A listing read page by page as the consumer pulls; it ends after the
/// first error.
pub type Listing<'a, T> = BoxStream<'a, Result<T, ConnectorError>>;

/// A side that cannot be asked any more this cycle: its server did not
/// answer several requests in a row (the breaker opened), or the cycle's
/// deadline for it passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Down {
    /// The side's name ("Spira", "GitLab").
    pub side: &'static str,
    /// The daemon tries again with backoff: the breaker opened, or the
    /// cycle's deadline for the side passed.
    pub unreachable: bool,
    /// The project's one error line, naming the side.
    pub message: String,
}

/// What a failure means for the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// No item can get past it: credentials refused, configuration wrong.
    /// The project stops; nothing is queued.
    Fatal,
    /// The item asked for does not exist (any more).
    NotFound,
    /// Something about one item (refused, unreadable, a server error): the
    /// item is queued and retried.
    Item,
    /// Someone else saved the item meanwhile (a concurrency conflict): not
    /// synced this round, retried.
    Busy,
    /// The side stopped answering (see [`Down`]).
    Down(Down),
}

/// A side's failure: one line for people (naming the item, never a
/// secret), and its kind for the engine.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConnectorError {
    kind: ErrorKind,
    message: String,
}

impl ConnectorError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    pub fn is_fatal(&self) -> bool {
        self.kind == ErrorKind::Fatal
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    pub fn is_busy(&self) -> bool {
        self.kind == ErrorKind::Busy
    }

    /// The side this error says is down, if it says so.
    pub fn down(&self) -> Option<&Down> {
        match &self.kind {
            ErrorKind::Down(d) => Some(d),
            _ => None,
        }
    }
}

/// A connector's own copy of an item, carried inside a neutral record so
/// that a write can start from exactly what was read (Spira's concurrency
/// token, fields labsync does not sync) without reading it again. Only the
/// connector that made it looks inside; to everyone else it is opaque.
#[derive(Clone, Default)]
pub struct Carried(Option<Arc<dyn Any + Send + Sync>>);

impl Carried {
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        Carried(Some(Arc::new(value)))
    }

    /// The copy, when it is a `T` (made by the connector asking).
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.as_deref()?.downcast_ref()
    }
}

impl std::fmt::Debug for Carried {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Carried(..)"
        } else {
            "Carried(none)"
        })
    }
}
