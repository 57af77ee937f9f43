//! The shared state of one project's pass: the store, what was done,
//! planned and warned about, and the claims that keep two items from
//! matching the same counterpart at once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::storage::Storage;

use super::lock;
use super::plan::PlannedWrite;
use super::report::Counts;

/// The shared state of a project's pass: what to do, and what was done.
/// Items in flight together share it; its locks are never held across an
/// await.
pub struct Pass<'s> {
    pub store: Mutex<&'s mut dyn Storage>,
    pub run_id: Option<i64>,
    counts: Mutex<Counts>,
    /// What a plan would write, with the order of the item it is about
    /// (items finish out of order).
    planned: Mutex<Vec<(u64, PlannedWrite)>>,
    pub progress: Option<std::sync::Arc<super::report::Progress>>,
    /// Pairs being matched by marker right now, so two items that name the
    /// same counterpart are matched one after the other.
    claims: Mutex<HashMap<Claim, Arc<tokio::sync::Mutex<()>>>>,
    /// Incidents listed this cycle that held nothing new: their issues are
    /// still looked at from the issue tracker's side.
    unchanged: Mutex<HashSet<i64>>,
    /// This database's install id (claims on the servers carry it).
    pub install: String,
    /// Items left alone because they name a counterpart linked elsewhere.
    warnings: Mutex<Vec<(u64, String)>>,
    /// Incidents whose issue has a note newer than any seen (found by the
    /// comment sweep): their notes are read whatever their count says.
    new_notes: Mutex<HashSet<i64>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Claim {
    Incident(i64),
    Issue(i64),
}

tokio::task_local! {
    /// The listing order of the item a future works on (for the plan's order).
    pub static ITEM_ORDER: u64;
}

impl<'s> Pass<'s> {
    pub fn new(
        store: &'s mut dyn Storage,
        run_id: Option<i64>,
        progress: Option<std::sync::Arc<super::report::Progress>>,
    ) -> Pass<'s> {
        Pass {
            store: Mutex::new(store),
            run_id,
            counts: Mutex::default(),
            planned: Mutex::default(),
            progress,
            claims: Mutex::default(),
            unchanged: Mutex::default(),
            install: String::new(),
            warnings: Mutex::default(),
            new_notes: Mutex::default(),
        }
    }

    /// Marks the incident's issue as holding a note newer than any seen.
    pub fn note_is_new(&self, incident_id: i64) {
        lock(&self.new_notes).insert(incident_id);
    }

    /// Reports an item left alone (a conflict between counterparts for a
    /// person to settle): logged, counted, listed in the cycle's report.
    pub fn warn(&self, plugin: &str, line: String) {
        tracing::warn!(plugin, "{line}");
        let order = ITEM_ORDER.try_with(|o| *o).unwrap_or(u64::MAX);
        lock(&self.warnings).push((order, line));
        self.count(|c| c.conflicts += 1);
    }

    /// Whether the sweep found a note newer than any seen on the incident's issue.
    pub fn has_new_note(&self, incident_id: i64) -> bool {
        lock(&self.new_notes).contains(&incident_id)
    }

    /// Notes that the incident was listed this cycle but held nothing new.
    pub fn held_nothing_new(&self, incident_id: i64) {
        lock(&self.unchanged).insert(incident_id);
    }

    /// True when the incident was listed this cycle but held nothing new.
    pub fn found_unchanged(&self, incident_id: i64) -> bool {
        lock(&self.unchanged).contains(&incident_id)
    }

    /// The database, for one statement or transaction (never across an await).
    pub fn store(&self) -> MutexGuard<'_, &'s mut dyn Storage> {
        lock(&self.store)
    }

    pub fn count(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut lock(&self.counts));
    }

    /// Notes a write of the plan.
    pub fn plan(&self, write: PlannedWrite) {
        let order = ITEM_ORDER.try_with(|o| *o).unwrap_or(u64::MAX);
        lock(&self.planned).push((order, write));
    }

    /// Waits until no other item is matching a pair through `claim`.
    pub async fn claim(&self, claim: Claim) -> tokio::sync::OwnedMutexGuard<()> {
        let cell = lock(&self.claims).entry(claim).or_default().clone();
        cell.lock_owned().await
    }

    /// What was done (counts), planned and warned about, in the order items
    /// were listed.
    pub fn into_outcome(self) -> (Counts, Vec<PlannedWrite>, Vec<String>) {
        let counts = self
            .counts
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut planned = self
            .planned
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut warnings = self
            .warnings
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        planned.sort_by_key(|(order, _)| *order);
        warnings.sort_by_key(|(order, _)| *order);
        let planned = planned.into_iter().map(|(_, w)| w).collect();
        let warnings = warnings.into_iter().map(|(_, l)| l).collect();
        (counts, planned, warnings)
    }
}
