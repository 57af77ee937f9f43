//! What a cycle did, for the summary, the exit code and the run log.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

/// Live counts of a running cycle, for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    pub tm_items: AtomicUsize,
    pub tracker_items: AtomicUsize,
    pub failed: AtomicUsize,
}

impl Progress {
    /// "12 incidents, 7 issues, 1 failed".
    pub fn describe(&self) -> String {
        let (s, g, f) = (
            self.tm_items.load(Ordering::Relaxed),
            self.tracker_items.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        );
        format!("{s} incidents, {g} issues looked at, {f} failed")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub created_issues: usize,
    pub created_incidents: usize,
    pub updated_issues: usize,
    pub updated_incidents: usize,
    #[serde(rename = "comments_to_gitlab")]
    pub comments_to_tracker: usize,
    #[serde(rename = "comments_to_spira")]
    pub comments_to_tm: usize,
    pub linked: usize,
    pub conflicts: usize,
    pub orphaned: usize,
    pub failed: usize,
}

impl Counts {
    pub fn writes(&self) -> usize {
        self.created_issues
            + self.created_incidents
            + self.updated_issues
            + self.updated_incidents
            + self.comments_to_tracker
            + self.comments_to_tm
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ProjectReport {
    #[serde(rename = "spira_project")]
    pub tm_project: i64,
    #[serde(rename = "gitlab_project")]
    pub tracker_project: String,
    pub counts: Counts,
    /// Items that failed this cycle, one line each (they wait in the error queue).
    pub failures: Vec<String>,
    /// Set when the project could not be synced at all (connection, auth, config).
    pub fatal: Option<String>,
    /// The side ("GitLab", "Spira") whose server stopped answering, or
    /// took past the cycle's deadline, when that stopped the project: the
    /// daemon tries again with backoff.
    pub unreachable: Option<&'static str>,
    /// What `labsync plan` found to write (empty for a sync).
    pub planned: Vec<super::plan::PlannedWrite>,
    /// Items left alone: they name a counterpart linked elsewhere (two
    /// installs, or a marker copied by hand). One line each, for a person.
    pub warnings: Vec<String>,
    /// Mapping rows skipped because the test-management side has no such value; `None` when
    /// the project's mapping tables were not read this cycle.
    pub stale_mappings: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CycleReport {
    pub plugin: String,
    pub projects: Vec<ProjectReport>,
    /// The cycle was asked to stop and ended early (what was done is kept).
    pub stopped: bool,
}

impl CycleReport {
    pub fn fatal(&self) -> bool {
        self.projects.iter().any(|p| p.fatal.is_some())
    }

    /// The sides that did not answer, one per project that met one.
    pub fn unreachable(&self) -> Vec<&'static str> {
        self.projects.iter().filter_map(|p| p.unreachable).collect()
    }

    pub fn failed_items(&self) -> usize {
        self.projects.iter().map(|p| p.counts.failed).sum()
    }

    /// ok | partial | failed | interrupted, as stored in the run log.
    pub fn result(&self) -> &'static str {
        if self.fatal() {
            "failed"
        } else if self.stopped {
            "interrupted"
        } else if self.failed_items() > 0 {
            "partial"
        } else {
            "ok"
        }
    }

    /// Every stale mapping row met, with its project; `None` when no
    /// project's mapping tables were read.
    pub fn stale_mappings(&self) -> Option<Vec<String>> {
        let read: Vec<&ProjectReport> = self
            .projects
            .iter()
            .filter(|p| p.stale_mappings.is_some())
            .collect();
        if read.is_empty() {
            return None;
        }
        Some(
            read.iter()
                .flat_map(|p| {
                    p.stale_mappings
                        .iter()
                        .flatten()
                        .map(move |s| format!("PR:{}: {s}", p.tm_project))
                })
                .collect(),
        )
    }

    pub fn totals(&self) -> Counts {
        let mut t = Counts::default();
        for p in &self.projects {
            let c = &p.counts;
            t.created_issues += c.created_issues;
            t.created_incidents += c.created_incidents;
            t.updated_issues += c.updated_issues;
            t.updated_incidents += c.updated_incidents;
            t.comments_to_tracker += c.comments_to_tracker;
            t.comments_to_tm += c.comments_to_tm;
            t.linked += c.linked;
            t.conflicts += c.conflicts;
            t.orphaned += c.orphaned;
            t.failed += c.failed;
        }
        t
    }
}
