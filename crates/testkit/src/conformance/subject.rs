//! What a conformance test gets: the connector under test and what the
//! suite needs beside it (its project, a way to let time pass, a connector
//! with refused credentials, the hooks a server offers).

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;
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
    /// Sets whether the project's template lets the API change statuses
    /// (Spira: `Workflow_BulkEditCanChangeStatus`), where the subject can.
    pub status_switch: Option<Box<dyn Fn(bool)>>,
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
            status_switch: None,
            tag: run_tag(),
            _server: server,
        }
    }

    pub fn with_status_switch(mut self, switch: impl Fn(bool) + 'static) -> Self {
        self.status_switch = Some(Box::new(switch));
        self
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

/// Moves an item to another project as a person would: where it went
/// (the project's path, the item's number there).
pub type Mover = Box<dyn Fn(u64) -> BoxFuture<'static, Option<(String, u64)>>>;

/// Opens a work item of a type (title, "task" …) as a person would: its
/// number, or `None` where the server does not let that type be made.
pub type WorkItemMaker = Box<dyn Fn(String, &'static str) -> BoxFuture<'static, Option<u64>>>;

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
    /// Moves an item to another project, where the subject can.
    pub mover: Option<Mover>,
    /// Opens work items of other types, where the subject can.
    pub work_item: Option<WorkItemMaker>,
    /// A user the project's items cannot be assigned to (no member of a
    /// private project), where the subject knows one.
    pub outsider: Option<String>,
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
            mover: None,
            work_item: None,
            outsider: None,
            tag: run_tag(),
            _server: server,
        }
    }

    pub fn with_delete(mut self, delete: impl Fn(u64) -> bool + 'static) -> Self {
        self.delete = Some(Box::new(delete));
        self
    }

    pub fn with_mover(mut self, mover: Mover) -> Self {
        self.mover = Some(mover);
        self
    }

    pub fn with_work_items(mut self, maker: WorkItemMaker) -> Self {
        self.work_item = Some(maker);
        self
    }

    pub fn with_outsider(mut self, username: &str) -> Self {
        self.outsider = Some(username.to_string());
        self
    }

    pub fn unique(&self, what: &str) -> String {
        format!("{what} {}", self.tag)
    }
}
