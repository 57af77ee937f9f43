//! The sync engine: read, link, resolve, merge, plan, apply, commit
//! (DESIGN, "Data flow of one cycle"), each stage a module.
//!
//! - [`cycle`] runs one plugin: [`run`] syncs each project mapping
//!   (`project::sync`), [`plan_cycle`] plans it (`project::plan`).
//! - [`read`] lists both sides since their watermarks; [`link`] finds what
//!   each changed item comes to (reads only); [`context`] loads what a
//!   project needs before any item.
//! - [`pair`] resolves a pair ([`resolve`]) and plans it: [`plan`] holds the
//!   writes as values and the pure functions that decide them ([`merge`]
//!   per field against the base).
//! - [`apply`] carries a plan out ([`create`] idempotently, [`mod@write`],
//!   [`comments`], [`kept`]) and commits; [`preview`] records it instead,
//!   for `labsync plan`; [`queue`] keeps what failed for later; [`sweep`]
//!   reads comments again now and then.
//! - [`counterpart`] keeps one counterpart per item across installs;
//!   [`identity`] binds a database to its servers and refuses a second install.
//!
//! The engine talks to the sides only through the traits of [`connector`]
//! (the command hands it the connectors) and to its database only through
//! [`storage::Storage`] (the binary hands it the SQLite store). This crate
//! depends on neither HTTP nor SQLite: `cargo tree -p labsync_engine` shows it.
//! [`settings`] is what it needs of a plugin's configuration; [`mapping`]
//! resolves values through the mapping tables.

pub mod apply;
pub mod comments;
pub mod connector;
pub mod context;
pub mod counterpart;
pub mod create;
pub mod cycle;
pub mod down;
pub mod identity;
pub mod kept;
pub mod link;
pub mod mapping;
pub mod merge;
pub mod moved;
pub mod pair;
pub mod pass;
pub mod plan;
pub mod preview;
pub mod project;
pub mod queue;
pub mod read;
pub mod report;
pub mod resolve;
pub mod settings;
pub mod storage;
pub mod sweep;
pub mod write;

pub use cycle::{RunOptions, STOP_GRACE, plan_cycle, run};
pub use report::{Counts, CycleReport, Progress, ProjectReport};

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::storage::StoreError;

use connector::ConnectorError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A side's failure, which says its kind.
    #[error(transparent)]
    Side(#[from] ConnectorError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Config(String),
    /// An answer about one item lacks what the engine needs of it (its id):
    /// bad data about that item, not about the project. Queued and retried.
    #[error("{side} answered {item} without {field}")]
    BadAnswer {
        side: &'static str,
        item: String,
        field: &'static str,
    },
    /// Another writer holds the item (its claim, a concurrent save): not
    /// synced this round, retried later.
    #[error("{0}")]
    Busy(String),
}

impl SyncError {
    /// Failures that no item can get past: refused credentials, a broken
    /// database or configuration. The project stops; nothing is queued.
    pub fn is_fatal(&self) -> bool {
        match self {
            SyncError::Side(e) => e.is_fatal(),
            SyncError::Store(_) | SyncError::Config(_) => true,
            SyncError::BadAnswer { .. } | SyncError::Busy(_) => false,
        }
    }
}

/// Locks state shared by the items in flight. Held only between awaits; a
/// panic elsewhere does not make the data unusable, so poison is ignored.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
