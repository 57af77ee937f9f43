//! The [`Storage`] suite: what the engine relies on from its database,
//! written once and run against every implementation (the SQLite store in a
//! temporary directory, [`crate::memory::MemoryStorage`]).
//!
//! Each behaviour is a function taking a subject that implements the port
//! and [`Inspect`] (what the port writes but never reads back); its doc
//! comment says why the engine needs it. [`storage_suite!`] makes one
//! `#[test]` of each for a subject maker, a fn taking the declared
//! plugins ([`declared`]) and returning a [`StorageSubject`]. Where the
//! SQLite store refuses something (a unique or foreign key constraint, a
//! mapping clash), the suite asserts the kind of [`StoreError`] it answers.
//!
//! [`storage_suite!`]: crate::storage_suite

mod install;
mod links;
mod mappings;
mod progress;
mod sqlite;

pub use install::*;
pub use links::*;
pub use mappings::*;
pub use progress::*;
pub use sqlite::sqlite;

/// [`MemoryStorage`](crate::memory::MemoryStorage) holding `declared`.
pub fn memory(declared: &Declared) -> StorageSubject<crate::memory::MemoryStorage> {
    StorageSubject::new(crate::memory::MemoryStorage::new(declared.clone()).unwrap())
}

use chrono::{DateTime, Duration, TimeZone, Utc};
use labsync::model::{CreatedBy, Side, Ticket, TrackerKept};
use labsync::store::declared::{Declared, DeclaredPlugin, DeclaredProject, DeclaredRow};
use labsync::sync::storage::{CommentLink, Event, ItemCommit, Kind, Link, Storage, StoreError};

/// What the port stores but has no reader for (only `labsync explain` and
/// `labsync status` will read them): how the suite sees it was stored.
pub trait Inspect: Storage {
    /// Every audit event committed, oldest first.
    fn events(&self) -> Vec<StoredEvent>;
    /// Every run started, oldest first.
    fn runs(&self) -> Vec<StoredRun>;
}

/// An audit event as stored: the event and what it was committed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub run_id: Option<i64>,
    pub link_id: i64,
    pub incident_id: i64,
    pub issue_iid: i64,
    pub event: Event,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRun {
    pub id: i64,
    pub plugin: String,
    pub trigger: String,
    pub result: Option<String>,
    /// `{}` until the run is finished.
    pub summary: serde_json::Value,
}

/// The implementation under test, and what must live as long as it.
pub struct StorageSubject<S> {
    pub storage: S,
    _keep: Option<tempfile::TempDir>,
}

impl<S> StorageSubject<S> {
    pub fn new(storage: S) -> Self {
        StorageSubject {
            storage,
            _keep: None,
        }
    }

    /// A subject whose database lives in `dir`.
    pub fn in_dir(storage: S, dir: tempfile::TempDir) -> Self {
        StorageSubject {
            storage,
            _keep: Some(dir),
        }
    }
}

/// The tests of the storage suite for `$make`, a fn taking `&Declared`
/// and returning a [`StorageSubject`] of an [`Inspect`] implementation.
#[macro_export]
macro_rules! storage_suite {
    ($make:path) => {
        $crate::storage_tests!($make;
            a_committed_item_is_all_there,
            a_refused_item_leaves_nothing,
            a_link_is_found_from_either_side,
            a_recommit_replaces_the_pairs_state,
            a_relink_points_at_the_new_issue_and_forgets_its_comments,
            an_orphaned_link_keeps_its_reason_and_leaves_the_comment_sweep,
            comment_links_belong_to_their_link_and_pair_once,
            links_due_for_a_comment_check_come_never_checked_first,
            an_intent_is_fresh_once_until_dropped,
            a_failing_item_waits_longer_each_time,
            an_item_failing_park_after_times_is_parked,
            a_cleared_error_leaves_the_queue,
            a_watermark_only_moves_forward,
            a_run_is_started_and_finished,
            projects_are_listed_by_plugin,
            mappings_are_filtered_by_plugin_and_project,
            an_added_mapping_is_listed_with_its_source,
            a_clashing_mapping_is_refused_and_changes_nothing,
            an_auto_mapping_is_replaced_in_one_step,
            the_install_id_is_stable,
            a_binding_is_kept_until_rebound,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! storage_tests {
    ($make:path; $($behaviour:ident),* $(,)?) => {
        $(
            #[test]
            fn $behaviour() {
                let mut subject = $make(&$crate::conformance::storage::declared());
                $crate::conformance::storage::$behaviour(&mut subject.storage);
            }
        )*
    };
}

/// The plugin most behaviours use, and a second one beside it.
pub const P: &str = "p";
pub const Q: &str = "q";

/// What every subject starts from: plugin `p` with projects 1 (`g/one`)
/// and 2 (`g/two`), plugin `q` with project 1 (`g/one` too: another
/// plugin's mapping may name the same project).
pub fn declared() -> Declared {
    let row = |kind, spira: &str, gitlab: &str, primary| DeclaredRow {
        kind,
        spira: spira.into(),
        gitlab: gitlab.into(),
        primary,
    };
    let project = |id, path: &str, rows| DeclaredProject {
        spira_project: id,
        gitlab_project: path.into(),
        active: true,
        rows,
    };
    let plugin = |name: &str, projects| DeclaredPlugin {
        name: name.into(),
        caption: name.to_uppercase(),
        enabled: true,
        projects,
    };
    Declared {
        file: "plugins.toml".into(),
        plugins: vec![
            plugin(
                P,
                vec![
                    project(
                        1,
                        "g/one",
                        vec![
                            row(Kind::Status, "New", "opened", true),
                            row(Kind::Status, "Closed", "closed", true),
                            row(Kind::User, "alice", "alice.gl", false),
                        ],
                    ),
                    project(2, "g/two", vec![row(Kind::Release, "R1", "m1", false)]),
                ],
            ),
            plugin(
                Q,
                vec![project(
                    1,
                    "g/one",
                    vec![row(Kind::Status, "Open", "opened", true)],
                )],
            ),
        ],
    }
}

/// A fixed instant plus `minutes`: the suite never reads the wall clock.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// The tracker project of test-management project `project`.
fn tracker_project(project: i64) -> i64 {
    100 + project
}

/// The issue id of incident `incident`'s pair (its iid is the incident's
/// number: the two differ, as on GitLab).
fn issue_id(incident: i64) -> i64 {
    5000 + incident
}

/// A new (unstored) link between incident `incident` and its issue.
fn link(plugin: &str, project: i64, incident: i64) -> Link {
    Link {
        id: 0,
        plugin: plugin.into(),
        tm_project: project,
        tm_item: incident,
        tracker_project_id: tracker_project(project),
        tracker_item_id: issue_id(incident),
        tracker_iid: incident,
        tracker_url: format!("https://gitlab.invalid/g/{project}/-/issues/{incident}"),
        created_by: CreatedBy::Side(Side::TestManagement),
        base: Ticket {
            title: format!("Incident {incident}"),
            description: "Steps".into(),
            status: Some(1),
            priority: None,
            assignee: Some(3),
            release: None,
        },
        tracker_kept: TrackerKept {
            assignee: Some(String::new()),
            ..TrackerKept::default()
        },
        last_tracker_comment: 0,
        last_tm_comment: 0,
        orphaned: None,
        comments_checked_at: None,
    }
}

fn commit(link: Link) -> ItemCommit {
    ItemCommit {
        run_id: None,
        link,
        comments: Vec::new(),
        events: Vec::new(),
        intent_id: None,
    }
}

fn comment(tm: i64, note: i64, origin: Side) -> CommentLink {
    CommentLink {
        tm_comment: tm,
        tracker_comment: note,
        origin,
    }
}

fn event(action: &str, field: Option<&str>) -> Event {
    Event {
        action: action.into(),
        field: field.map(str::to_string),
        direction: Some("to-gitlab"),
        before: Some("a".into()),
        after: Some("b".into()),
        conflict: field.is_some(),
        decision: None,
    }
}

/// Stores a new link for incident `incident`; its id.
fn stored(s: &mut impl Storage, plugin: &str, project: i64, incident: i64) -> i64 {
    s.commit_item(&commit(link(plugin, project, incident)))
        .unwrap()
}

/// The refusal a constraint of the database answers.
#[track_caller]
fn assert_constraint(result: Result<impl std::fmt::Debug, StoreError>, what: &str) {
    match result {
        Err(StoreError::Sqlite { .. }) => {}
        other => panic!("{what}: expected a database constraint refusal, got {other:?}"),
    }
}

/// A refusal of input, saying what to do.
#[track_caller]
fn assert_refused(result: Result<(), StoreError>, what: &str) {
    match result {
        Err(StoreError::Refused(_)) => {}
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}
