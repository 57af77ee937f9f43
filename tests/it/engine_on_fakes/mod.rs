//! The engine on the in-memory connectors (crates/testkit `memory`) and a
//! in-memory storage (`MemoryStorage`, which passes the SQLite store's
//! conformance suite): no simulator, no HTTP, no database. Each test
//! is a behaviour a user relies on, stated as what each side holds after
//! cycles; "wrote nothing" is the fakes' write counters standing still.

mod comments;
mod failures;
mod fields;
mod kinds;

use chrono::{DateTime, Duration, Utc};
use labsync::config::Config;
use labsync::model::Side;
use labsync::sync::connector::{Endpoints, IssueTracker, TestManagement, TmEdit, TrackerItem};
use labsync::sync::storage::Storage;
use labsync::sync::{CycleReport, RunOptions, STOP_GRACE, run};
use labsync_testkit::conformance::storage::Inspect;
use labsync_testkit::memory::{
    MemoryClock, MemoryIssueTracker, MemoryStorage, MemoryTestManagement,
};

/// The fakes' project on each side.
const TM_PROJECT: i64 = 1;
const PROJECT: &str = MemoryIssueTracker::PROJECT;

/// The plugin between the fakes; `{extra}` goes into its block.
const CONFIG: &str = r#"
[[plugins]]
name = "fakes"
{extra}
[plugins.spira]
base_url = "https://spira.invalid"
login = "administrator"
api_key = "{00000000-0000-0000-0000-000000000000}"
[plugins.gitlab]
base_url = "https://gitlab.invalid"
token = "glpat-fakes"
[[plugins.projects]]
spira_project = 1
gitlab_project = "demo/webshop"
statuses = [
  { spira = "New", gitlab = "opened", primary = true },
  { spira = "Closed", gitlab = "closed", primary = true },
]
priorities = [
  { spira = "1 - Critical", gitlab = "priority::critical" },
]
{project_extra}
"#;

/// Two fakes, a plugin between them and its store.
struct Fakes {
    config: Config,
    store: MemoryStorage,
    clock: MemoryClock,
    tm: MemoryTestManagement,
    tracker: MemoryIssueTracker,
}

impl Fakes {
    /// `extra`: lines for the plugin block (`conflict = "gitlab"`).
    async fn new(extra: &str) -> Fakes {
        Self::with(extra, "").await
    }

    /// `project_extra`: lines for the project mapping's block.
    async fn with(extra: &str, project_extra: &str) -> Fakes {
        let text = CONFIG
            .replace("{extra}", extra)
            .replace("{project_extra}", project_extra);
        let config = Config::from_str(std::path::Path::new("plugins.toml"), &text).unwrap();
        let store = MemoryStorage::new(&config).unwrap();
        let clock = MemoryClock::default();
        let tm = MemoryTestManagement::new(clock.clone());
        let tracker = MemoryIssueTracker::new(clock.clone());
        // A tester's writes below go through the connector, which wants
        // the setup read first (as the engine does).
        tm.setup(TM_PROJECT).await.unwrap();
        Fakes {
            config,
            store,
            clock,
            tm,
            tracker,
        }
    }

    async fn cycle(&mut self) -> CycleReport {
        let options = RunOptions {
            trigger: "sync-now",
            stop_grace: STOP_GRACE,
            stop: None,
            progress: None,
        };
        let sides = Endpoints {
            tm: &self.tm,
            tracker: &self.tracker,
        };
        run(
            &self.config.plugins[0].settings(),
            Ok(sides),
            &mut self.store,
            &options,
        )
        .await
    }

    /// Lets `minutes` pass on both servers.
    fn later(&self, minutes: i64) {
        self.clock.advance(Duration::minutes(minutes));
    }

    /// A tester files an incident.
    async fn incident(&self, title: &str, html: &str) -> i64 {
        let filed = TmEdit {
            title: Some(title.into()),
            description: Some(html.into()),
            ..TmEdit::default()
        };
        self.tm
            .create(TM_PROJECT, &filed)
            .await
            .unwrap()
            .id
            .unwrap()
    }

    /// A tester files an incident and a cycle makes its issue: both ids.
    async fn pair(&mut self, title: &str) -> (i64, u64) {
        let id = self.incident(title, &format!("<p>{title}</p>")).await;
        self.later(1);
        let r = self.cycle().await;
        assert_eq!(r.totals().created_issues, 1, "{r:?}");
        let iid = self.issue_of(id).await.expect("no issue made").iid;
        self.later(2);
        (id, iid)
    }

    /// The tracker items whose link back names incident `id`.
    async fn issues_of(&self, id: i64) -> Vec<TrackerItem> {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        let mine = self.tracker.created_by_me_since(PROJECT, epoch).await;
        mine.unwrap()
            .into_iter()
            .filter(|i| i.marker == Some((TM_PROJECT, id)))
            .collect()
    }

    async fn issue_of(&self, id: i64) -> Option<TrackerItem> {
        let mut found = self.issues_of(id).await;
        assert!(found.len() <= 1, "two issues for incident {id}: {found:?}");
        found.pop()
    }

    /// Writes answered by each side so far: (test management, tracker).
    fn writes(&self) -> (u64, u64) {
        (self.tm.writes(), self.tracker.writes())
    }

    fn watermarks(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let mark = |side| self.store.watermark("fakes", TM_PROJECT, side).unwrap();
        (mark(Side::TestManagement), mark(Side::IssueTracker))
    }

    /// Rows of the audit log marked as conflicts.
    fn conflict_events(&self) -> usize {
        let events = self.store.events();
        events.iter().filter(|e| e.event.conflict).count()
    }
}

/// A cycle that wrote nothing on either side and failed nothing.
#[track_caller]
fn assert_quiet(r: &CycleReport, before: (u64, u64), f: &Fakes) {
    assert_eq!(r.totals().writes(), 0, "{r:?}");
    assert_eq!(r.totals().failed, 0, "{r:?}");
    assert_eq!(f.writes(), before, "a side was written to: {r:?}");
}

#[tokio::test]
async fn an_incident_becomes_an_issue_and_the_next_cycle_writes_nothing() {
    let mut f = Fakes::new("").await;
    let (id, _) = f.pair("Checkout button does nothing").await;
    let linked = f.tm.get(TM_PROJECT, id).await.unwrap();
    assert!(linked.marker.is_some(), "no link back on the incident");
    f.later(5);
    let before = f.writes();
    let second = f.cycle().await;
    assert_quiet(&second, before, &f);
    f.later(5);
    let third = f.cycle().await;
    assert_quiet(&third, before, &f);
}
