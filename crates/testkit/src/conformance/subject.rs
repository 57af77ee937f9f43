//! What a conformance test gets: the connector under test and what the
//! suite needs beside it (its project, a way to let time pass, a connector
//! with refused credentials, the hooks a server offers).

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

use labsync::sync::connector::{IssueTracker, TestManagement, TmSetup};
use labsync_sim::faults::SimClock;

use crate::memory::MemoryClock;

/// How time passes for the server under test.
pub enum Clock {
    Memory(MemoryClock),
    Sim(SimClock),
    /// A real server: only waiting lets its clock pass.
    Wall,
}

impl Clock {
    /// Lets the server's clock pass, so that the next write is stamped
    /// later than the last (stamps have whole milliseconds, and on a real
    /// Spira maybe whole seconds).
    pub async fn tick(&self) {
        let step = chrono::Duration::seconds(2);
        match self {
            Clock::Memory(c) => c.advance(step),
            Clock::Sim(c) => c.advance(step),
            // Not synchronisation: a real server stamps by its wall clock.
            Clock::Wall => tokio::time::sleep(std::time::Duration::from_millis(1100)).await,
        }
    }
}

/// A name no earlier run used, so that runs against one real server (and
/// tests at once against one project) never find each other's items.
fn run_tag() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub struct TmSubject {
    pub connector: Box<dyn TestManagement>,
    pub project: i64,
    pub clock: Clock,
    /// Items a listing page holds (the connector's page size).
    pub page_size: usize,
    /// The same connector with credentials the server refuses.
    pub refused: Box<dyn TestManagement>,
    pub(super) tag: String,
    /// Keeps the server running while the subject lives.
    pub(super) _server: Box<dyn Any>,
}

impl TmSubject {
    pub fn new(
        connector: Box<dyn TestManagement>,
        project: i64,
        clock: Clock,
        page_size: usize,
        refused: Box<dyn TestManagement>,
        server: Box<dyn Any>,
    ) -> Self {
        TmSubject {
            connector,
            project,
            clock,
            page_size,
            refused,
            tag: run_tag(),
            _server: server,
        }
    }

    /// `what`, made unique to this subject.
    pub fn unique(&self, what: &str) -> String {
        format!("{what} {}", self.tag)
    }

    /// The project's setup, read as the engine reads it before any write.
    pub async fn ready(&self) -> TmSetup {
        self.connector.setup(self.project).await.unwrap()
    }
}

type Hook = Box<dyn Fn(u64) -> bool>;

pub struct TrackerSubject {
    pub connector: Box<dyn IssueTracker>,
    /// The project's path ("group/project").
    pub project: String,
    pub clock: Clock,
    pub page_size: usize,
    /// The connector with a token the server refuses.
    pub revoked: Box<dyn IssueTracker>,
    /// The username the connector writes as.
    pub me: String,
    /// Deletes an item as an owner would, where the subject can.
    pub delete: Option<Hook>,
    pub(super) tag: String,
    pub(super) _server: Box<dyn Any>,
}

impl TrackerSubject {
    pub fn new(
        connector: Box<dyn IssueTracker>,
        project: &str,
        clock: Clock,
        page_size: usize,
        revoked: Box<dyn IssueTracker>,
        me: &str,
        server: Box<dyn Any>,
    ) -> Self {
        TrackerSubject {
            connector,
            project: project.to_string(),
            clock,
            page_size,
            revoked,
            me: me.to_string(),
            delete: None,
            tag: run_tag(),
            _server: server,
        }
    }

    pub fn with_delete(mut self, delete: impl Fn(u64) -> bool + 'static) -> Self {
        self.delete = Some(Box::new(delete));
        self
    }

    pub fn unique(&self, what: &str) -> String {
        format!("{what} {}", self.tag)
    }
}
