//! [`MemoryIssueTracker`]: an issue tracker in memory, shaped like GitLab
//! where the engine depends on GitLab's behaviour.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration, Utc};
use labsync::sync::connector::{
    ConnectorError, ErrorKind, TrackerComment, TrackerItem, TrackerState,
};

use super::MemoryClock;
use super::tracker_catalog::Catalog;

mod connector;
mod data;

use data::{blank, kept_body};

/// GitLab's `TITLE_LENGTH_MAX` (`app/models/concerns/issuable.rb`).
const TITLE_MAX: usize = 255;

/// GitLab's `ThrottledTouch::TOUCH_INTERVAL`: a label or assignee change, or
/// a new note, moves `updated_at` only when it is older than this
/// (`app/models/issue.rb`; gitlab-api.md §13 rule 4).
const TOUCH_INTERVAL: Duration = Duration::minutes(1);

struct Stored {
    item: TrackerItem,
    author: String,
    created_at: DateTime<Utc>,
    deleted: bool,
    notes: Vec<TrackerComment>,
    /// Where it went ("group/other#3"), once moved.
    moved: Option<String>,
}

struct Project {
    id: u64,
    path: String,
    items: BTreeMap<u64, Stored>,
}

struct State {
    projects: Vec<Project>,
    catalog: Catalog,
    next_id: u64,
    next_note: u64,
    refused: bool,
    answered: bool,
    /// Every call fails as a side that stopped answering.
    down: bool,
    /// Writes answered (creates, saves that changed something, comments,
    /// claims, …): what "wrote nothing" is asserted on.
    writes: u64,
    /// The next create is made but its answer is lost.
    lose_create_answer: bool,
}

/// An issue tracker in memory: project "demo/webshop" (id 1) with the
/// people of the GitLab simulator's seed; labels and milestones made as
/// they are named; a [`MemoryClock`].
///
/// Clones share the data: a test keeps one to act as people do while
/// the engine holds another.
#[derive(Clone)]
pub struct MemoryIssueTracker {
    state: Arc<Mutex<State>>,
    clock: MemoryClock,
    page_size: usize,
}

impl Default for MemoryIssueTracker {
    fn default() -> Self {
        Self::new(MemoryClock::default())
    }
}

impl MemoryIssueTracker {
    /// The connector's own user.
    pub const ME: &'static str = "labsync-bot";
    pub const PROJECT: &'static str = "demo/webshop";
    const NAME: &'static str = "Memory tracker";

    pub fn new(clock: MemoryClock) -> Self {
        MemoryIssueTracker {
            state: Arc::new(Mutex::new(State {
                projects: vec![Project {
                    id: 1,
                    path: Self::PROJECT.into(),
                    items: BTreeMap::new(),
                }],
                catalog: Catalog::seeded(),
                next_id: 1,
                next_note: 1,
                refused: false,
                answered: false,
                down: false,
                writes: 0,
                lose_create_answer: false,
            })),
            clock,
            page_size: 100,
        }
    }

    /// Listings read `n` items a page (GitLab's `per_page`).
    pub fn with_page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    pub fn clock(&self) -> &MemoryClock {
        &self.clock
    }

    /// Revokes the token (every call is fatal from now on).
    pub fn revoke_token(&self) {
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

    /// The next create is made, but its answer never arrives (the
    /// connection drops after the server saved it).
    pub fn lose_next_create_answer(&self) {
        self.state().lose_create_answer = true;
    }

    /// A person opens an item in the tracker's own interface.
    pub fn create_as_person(&self, username: &str, title: &str, body: &str) -> Option<u64> {
        self.create_work_item_as(username, title, body, "issue")
    }

    /// A person opens a work item of type `kind` ("task", "incident", …):
    /// the project's issue list holds every type (gitlab-api.md §16 #9,
    /// `Issue::TYPES_FOR_LIST` in gitlab-org/gitlab `app/models/issue.rb`).
    pub fn create_work_item_as(
        &self,
        username: &str,
        title: &str,
        body: &str,
        kind: &str,
    ) -> Option<u64> {
        let now = self.clock.now();
        let mut state = self.state();
        let new = TrackerItem {
            title: title.to_string(),
            body: kept_body(body),
            kind: kind.to_string(),
            ..blank(now)
        };
        state
            .insert(Self::PROJECT, new, username, now)
            .map(|i| i.iid)
    }

    /// A person edits an item in the tracker's own interface.
    pub fn edit_as_person(&self, iid: u64, edit: impl FnOnce(&mut TrackerItem)) {
        let now = self.clock.now();
        if let Some(s) = self.state().stored_mut(Self::PROJECT, iid) {
            edit(&mut s.item);
            s.item.updated_at = now;
        }
    }

    /// A person comments (`system`: a note the tracker writes itself).
    pub fn comment_as_person(
        &self,
        username: &str,
        iid: u64,
        body: &str,
        system: bool,
    ) -> Option<u64> {
        let now = self.clock.now();
        let mut state = self.state();
        let author = state.catalog.user(username)?.clone();
        state
            .note(Self::PROJECT, iid, &author, body, !system, now)
            .map(|n| n.id)
    }

    /// Deletes an item, as an owner can (gitlab-api.md §16 #12).
    pub fn delete(&self, iid: u64) -> bool {
        let mut state = self.state();
        state
            .stored_mut(Self::PROJECT, iid)
            .map(|s| s.deleted = true)
            .is_some()
    }

    /// Moves an item to project `to` (made when missing): the original
    /// stays, closed, naming where it went (gitlab-org/gitlab
    /// `app/services/issues/move_service.rb`; gitlab-api.md §16 #3).
    pub fn move_item(&self, iid: u64, to: &str) -> Option<u64> {
        let now = self.clock.now();
        let mut state = self.state();
        if !state.projects.iter().any(|p| p.path == to) {
            let id = state.projects.len() as u64 + 1;
            state.projects.push(Project {
                id,
                path: to.into(),
                items: BTreeMap::new(),
            });
        }
        let copy = state.stored_mut(Self::PROJECT, iid)?.item.clone();
        let moved = state.insert(
            to,
            TrackerItem {
                marker: copy.marker,
                ..copy
            },
            Self::ME,
            now,
        )?;
        let bot = state.catalog.user(Self::ME)?.clone();
        let where_to = format!("{to}#{}", moved.iid);
        state.note(
            Self::PROJECT,
            iid,
            &bot,
            &format!("moved to {where_to}"),
            false,
            now,
        );
        let s = state.stored_mut(Self::PROJECT, iid)?;
        s.item.state = TrackerState::Closed;
        s.item.moved_to = Some(moved.id);
        s.item.updated_at = now;
        s.moved = Some(where_to);
        Some(moved.iid)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn serve(&self) -> Result<MutexGuard<'_, State>, ConnectorError> {
        let mut state = self.state();
        if state.down {
            return Err(crate::memory::down_error(Self::NAME));
        }
        if state.refused {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                "the tracker rejected the token (revoked)",
            ));
        }
        state.answered = true;
        Ok(state)
    }
}
