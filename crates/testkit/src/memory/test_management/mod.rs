//! [`MemoryTestManagement`]: a test-management system in memory, shaped
//! like Spira where the engine depends on Spira's behaviour.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use labsync::sync::connector::{
    Choice, ConnectorError, ErrorKind, TmComment, TmItem, TmSetup, TmUser,
};

use super::MemoryClock;

mod connector;
mod data;

/// The concurrency token a read hands out (Spira's `ConcurrencyDate`):
/// a save must carry the one of the version it started from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Version(u64);

struct Stored {
    item: TmItem,
    version: u64,
    url: Option<String>,
    deleted: bool,
    comments: Vec<TmComment>,
}

struct Project {
    offer: TmSetup,
    /// Whether the connector read the setup (writes before it are refused,
    /// as the Spira connector refuses them).
    set_up: bool,
    items: BTreeMap<i64, Stored>,
}

struct State {
    projects: BTreeMap<i64, Project>,
    next_item: i64,
    next_comment: i64,
    next_release: i64,
    /// The user the connector writes as.
    api_user: i64,
    refused: bool,
    answered: bool,
    /// Every call fails as a side that stopped answering.
    down: bool,
    /// Writes answered (creates, saves that changed something, comments,
    /// claims, …): what "wrote nothing" is asserted on.
    writes: u64,
    /// Saves that find someone else saved the item just before.
    conflicts: u32,
    /// The template does not let the API change statuses.
    status_locked: bool,
}

/// A test-management system in memory: project 1 with Spira's default
/// statuses and priorities (the ids and names of the Spira simulator's
/// seed) and five users; ids from 1 up; a [`MemoryClock`].
///
/// Clones share the data: a test keeps one to act as people do while
/// the engine holds another.
#[derive(Clone)]
pub struct MemoryTestManagement {
    state: Arc<Mutex<State>>,
    clock: MemoryClock,
    page_size: usize,
}

fn choices(names: &[&str]) -> Vec<Choice> {
    (1..)
        .zip(names)
        .map(|(id, n)| Choice {
            id,
            name: n.to_string(),
        })
        .collect()
}

impl Default for MemoryTestManagement {
    fn default() -> Self {
        Self::new(MemoryClock::default())
    }
}

impl MemoryTestManagement {
    const NAME: &'static str = "Memory test management";

    pub fn new(clock: MemoryClock) -> Self {
        let users = ["administrator", "alice", "bob", "carol", "erin"];
        let offer = TmSetup {
            statuses: choices(&[
                "New",
                "Open",
                "Assigned",
                "Resolved",
                "Closed",
                "Not Reproducible",
                "Duplicate",
                "Reopen",
            ]),
            priorities: choices(&["1 - Critical", "2 - High", "3 - Medium", "4 - Low"]),
            users: (1..)
                .zip(users)
                .map(|(id, login)| TmUser {
                    id,
                    login: login.to_string(),
                    email: Some(format!("{login}@example.com")),
                    full_name: Some(login.to_string()),
                })
                .collect(),
            releases: Vec::new(),
        };
        let project = Project {
            offer,
            set_up: false,
            items: BTreeMap::new(),
        };
        MemoryTestManagement {
            state: Arc::new(Mutex::new(State {
                projects: BTreeMap::from([(1, project)]),
                next_item: 1,
                next_comment: 1,
                next_release: 1,
                api_user: 1,
                refused: false,
                answered: false,
                down: false,
                writes: 0,
                conflicts: 0,
                status_locked: false,
            })),
            clock,
            page_size: 100,
        }
    }

    /// Listings read `rows` items a page (as Spira's `number_rows`).
    pub fn with_page_size(mut self, rows: usize) -> Self {
        self.page_size = rows.max(1);
        self
    }

    pub fn clock(&self) -> &MemoryClock {
        &self.clock
    }

    /// Refuses the credentials from now on (every call is fatal).
    pub fn refuse_credentials(&self) {
        self.state().refused = true;
    }

    /// The side stops answering (`true`) or answers again.
    pub fn set_down(&self, down: bool) {
        self.state().down = down;
    }

    /// Writes answered so far (see the field).
    pub fn writes(&self) -> u64 {
        self.state().writes
    }

    /// The next `n` saves or claims find that someone saved the item just
    /// before, at the same instant (its date does not move): a save costs
    /// the connector one read and one more save, a claim is refused as
    /// busy.
    pub fn conflict_next_saves(&self, n: u32) {
        self.state().conflicts = n;
    }

    /// Whether the template lets the API change statuses (Spira's
    /// `Workflow_BulkEditCanChangeStatus`, which varies by template:
    /// spira-api.md §3.4, §3.5). When not, a status sent is ignored
    /// silently, on creates and saves alike.
    pub fn set_api_can_change_status(&self, on: bool) {
        self.state().status_locked = !on;
    }

    /// A person edits item `id` in the system's own interface.
    pub fn edit_as_person(&self, project: i64, id: i64, edit: impl FnOnce(&mut TmItem)) {
        let now = self.clock.now();
        let mut state = self.state();
        if let Some(s) = state.stored_mut(project, id) {
            edit(&mut s.item);
            s.version += 1;
            s.item.updated_at = Some(now);
        }
    }

    /// A person comments on item `id`; the item's date does not move (as
    /// on the Spira simulator's default: Spira does not document it).
    pub fn comment_as_person(&self, project: i64, id: i64, user: i64, html: &str) -> Option<i64> {
        let now = self.clock.now();
        self.state().push_comment(project, id, user, html, now)?.id
    }

    /// Every live item of the project, lowest id first.
    pub fn items(&self, project: i64) -> Vec<TmItem> {
        let state = self.state();
        let Some(p) = state.projects.get(&project) else {
            return Vec::new();
        };
        p.items
            .values()
            .filter(|s| !s.deleted)
            .map(|s| s.item.clone())
            .collect()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, after the checks every request passes.
    fn serve(&self) -> Result<MutexGuard<'_, State>, ConnectorError> {
        let mut state = self.state();
        if state.down {
            return Err(crate::memory::down_error(Self::NAME));
        }
        if state.refused {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                "the test-management system refused the credentials",
            ));
        }
        state.answered = true;
        Ok(state)
    }
}
