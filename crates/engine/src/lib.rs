//! The sync engine: read, resolve, merge, plan, write, commit (DESIGN,
//! "Data flow of one cycle").
//!
//! - [`cycle`] runs one plugin: per project mapping, both sides since their
//!   watermarks, then the error queue, then the watermarks.
//! - [`context`] loads what a project needs before any item.
//! - [`pair`] syncs one incident/issue pair (creates are idempotent);
//!   [`counterpart`] keeps it to one counterpart per item across installs.
//! - [`identity`] binds a database to its servers and refuses a second install.
//! - [`resolve`] turns each side into a neutral [`labsync_model::Ticket`];
//!   [`merge`] merges per field against the base; [`write`] carries fields
//!   across; [`comments`] copies comments both ways.
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
pub mod report;
pub mod resolve;
pub mod settings;
pub mod storage;
pub mod write;

pub use cycle::{RunOptions, STOP_GRACE, run};
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
