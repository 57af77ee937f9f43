//! Benchmark of the sync engine against both simulators, in-process.
//!
//! `cargo bench --bench sync` runs the default scenarios and prints a table;
//! the same table, with the run's settings, goes to `target/bench-sync.md`.
//! Knobs (environment):
//!
//! - `BENCH_N=200,1000`       items per side for the 0 ms backfills
//! - `BENCH_SLOW_N=200`       items per side for the backfill with latency
//! - `BENCH_LATENCY_MS=20`    the per-request latency of that backfill
//! - `BENCH_COMMENTS=2`       comments seeded on each item
//! - `BENCH_CHANGED_PCT=5`    share of items edited for the incremental cycle
//! - `BENCH_RATE_N=100`        items per side for the rate-limited run
//! - `BENCH_RATE=2000`        GitLab requests per minute in that run (0 skips it)
//!
//! Timings are for comparing runs on one machine, in one run; request counts
//! are exact and do not depend on the machine.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use labsync::config::Config;
use labsync::http::HttpSettings;
use labsync::sim::Seed;
use labsync::sim::gitlab::{GitLabSim, GitLabSimConfig};
use labsync::sim::spira::{SpiraSim, SpiraSimConfig};
use labsync::store::Store;
use labsync::sync::{CycleOptions, CycleReport, run_plugin};

/// GitLab's rate-limit window in the rate-limited run: short, so that the
/// run takes seconds, and the budget per window is scaled to match.
const RATE_WINDOW: Duration = Duration::from_secs(3);

struct World {
    gitlab: GitLabSim,
    spira: SpiraSim,
    _dir: tempfile::TempDir,
    store: Store,
    config: Config,
}

struct Setup {
    latency: Duration,
    rate_per_minute: Option<u32>,
}

impl World {
    async fn start(setup: &Setup) -> World {
        let window_budget = setup
            .rate_per_minute
            .map(|r| (u64::from(r) * RATE_WINDOW.as_secs() / 60).max(1) as u32);
        let gitlab = GitLabSim::start(GitLabSimConfig {
            seed: Seed::Empty,
            latency: setup.latency,
            rate_limit_per_minute: window_budget,
            rate_window: RATE_WINDOW,
            ..Default::default()
        })
        .await
        .unwrap();
        let spira = SpiraSim::start(SpiraSimConfig {
            seed: Seed::Empty,
            latency: setup.latency,
            comment_bumps_last_update: true,
            ..Default::default()
        })
        .await
        .unwrap();
        // Hourly, so that only the "quiet + sweep" cycle meets a due sweep.
        let text =
            labsync::sim::config::plugin_toml("bench", &gitlab, &spira, r#"comment_sweep = "1h""#);
        let config = Config::from_str(std::path::Path::new("plugins.toml"), &text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("labsync.db")).unwrap();
        store.apply_config(&config).unwrap();
        World {
            gitlab,
            spira,
            _dir: dir,
            store,
            config,
        }
    }

    /// N incidents and N issues, each with `comments` comments, none linked.
    fn seed(&self, n: usize, comments: usize) -> (Vec<u32>, Vec<u64>) {
        let mut incidents = Vec::with_capacity(n);
        let mut issues = Vec::with_capacity(n);
        for i in 0..n {
            let id = self.spira.add_incident(1, &format!("Incident {i}"), 1);
            self.spira.edit_incident(id, |inc| {
                inc.description = format!("<p>Steps for incident <b>{i}</b>.</p>");
                inc.priority_id = Some(1 + (i % 4) as u32);
            });
            for c in 0..comments {
                self.spira
                    .add_comment(id, 1, &format!("<p>Spira comment {c} on {i}</p>"));
            }
            incidents.push(id);
            let iid = self.gitlab.create_issue_as(
                "alice",
                &format!("Issue {i}"),
                &format!("Steps for issue **{i}**."),
            );
            for c in 0..comments {
                self.gitlab
                    .add_note_as("alice", iid, &format!("GitLab note {c} on {i}"));
            }
            issues.push(iid);
        }
        (incidents, issues)
    }

    fn advance(&self, minutes: i64) {
        self.gitlab
            .clock()
            .advance(chrono::Duration::minutes(minutes));
        self.spira
            .clock()
            .advance(chrono::Duration::minutes(minutes));
    }

    /// One cycle, measured from zeroed counters.
    async fn measure(&mut self, scenario: &str, setup: &Setup, items: usize) -> Row {
        self.gitlab.reset_counts();
        self.spira.reset_counts();
        let opts = CycleOptions {
            trigger: "sync-now",
            dry_run: false,
            http: HttpSettings::default(),
            stop: None,
            progress: None,
        };
        let cpu = cpu_seconds();
        let started = Instant::now();
        let report = run_plugin(&self.config.plugins[0], &mut self.store, &opts).await;
        let wall = started.elapsed();
        let cpu = cpu_seconds() - cpu;
        check(&report, scenario);
        let gl = |f: &str| self.gitlab.request_count(f);
        let sp = |f: &str| self.spira.request_count(f);
        Row {
            scenario: scenario.to_string(),
            latency: setup.latency,
            rate_per_minute: setup.rate_per_minute,
            items,
            wall,
            cpu,
            gitlab: Requests {
                total: gl(""),
                get: gl("GET "),
                write: gl("POST ") + gl("PUT "),
                list: gl("GET /api/v4/projects/{id}/issues")
                    - gl("GET /api/v4/projects/{id}/issues/"),
                comments: gl("/notes"),
            },
            spira: Requests {
                total: sp(""),
                get: sp("GET "),
                write: sp("POST ") + sp("PUT ") - sp("incidents/search"),
                list: sp("incidents/search"),
                comments: sp("/comments"),
            },
            throttled: self.gitlab.status_count(429),
            writes: report.totals().writes(),
            created: report.totals().created_issues + report.totals().created_incidents,
            peak_rss_mib: peak_rss_mib(),
            routes: self
                .gitlab
                .request_counts()
                .into_iter()
                .map(|(r, n)| (format!("GitLab {r}"), n))
                .chain(
                    self.spira
                        .request_counts()
                        .into_iter()
                        .map(|(r, n)| (format!("Spira {r}"), n)),
                )
                .collect(),
        }
    }
}

fn check(report: &CycleReport, scenario: &str) {
    for p in &report.projects {
        assert!(p.fatal.is_none(), "{scenario}: {:?}", p.fatal);
        assert!(
            p.failures.is_empty(),
            "{scenario}: items failed: {:?}",
            p.failures
        );
    }
}

#[derive(Default, Clone, Copy)]
struct Requests {
    total: u64,
    get: u64,
    /// POST and PUT that change something (Spira's search POST excluded).
    write: u64,
    /// Pages of the changed-items listing.
    list: u64,
    /// Notes (GitLab) or comments (Spira), read or written.
    comments: u64,
}

struct Row {
    scenario: String,
    latency: Duration,
    rate_per_minute: Option<u32>,
    /// Items the cycle had to sync (incidents + issues), for per-item figures.
    items: usize,
    wall: Duration,
    cpu: f64,
    gitlab: Requests,
    spira: Requests,
    throttled: u64,
    writes: usize,
    /// Pairs made (issues and incidents created) by the cycle.
    created: usize,
    peak_rss_mib: f64,
    /// Requests by route, both sides ("GitLab GET /api/v4/...", "Spira PUT /...").
    routes: Vec<(String, u64)>,
}

impl Row {
    fn requests(&self) -> u64 {
        self.gitlab.total + self.spira.total
    }

    /// The least time the requests can take: one at a time (the engine is
    /// sequential per project) at the simulators' latency, or GitLab's
    /// requests at the rate limit, whichever is longer.
    fn bound(&self) -> Option<Duration> {
        let by_latency = self.latency * self.requests() as u32;
        let by_rate = self
            .rate_per_minute
            .map(|r| Duration::from_secs_f64(self.gitlab.total as f64 * 60.0 / f64::from(r)));
        let b = by_latency.max(by_rate.unwrap_or_default());
        (!b.is_zero()).then_some(b)
    }

    fn per_item(&self, n: u64) -> String {
        if self.items == 0 {
            "-".into()
        } else {
            format!("{:.2}", n as f64 / self.items as f64)
        }
    }
}

fn cpu_seconds() -> f64 {
    // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks (100 Hz on Linux).
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn env_one(name: &str, default: usize) -> usize {
    env_list(name, &default.to_string())
        .first()
        .copied()
        .unwrap_or(default)
}

/// Backfill, settle, quiet, sweep and incremental cycles over N items per side.
async fn run_world(n: usize, setup: &Setup, comments: usize, changed_pct: usize) -> Vec<Row> {
    let tag = |what: &str| {
        let mut s = format!("{what} N={n}");
        if !setup.latency.is_zero() {
            let _ = write!(s, " @{}ms", setup.latency.as_millis());
        }
        if let Some(r) = setup.rate_per_minute {
            let _ = write!(s, " @{r}/min");
        }
        s
    };
    let mut w = World::start(setup).await;
    let (incidents, issues) = w.seed(n, comments);
    let mut rows = Vec::new();
    rows.push(w.measure(&tag("backfill"), setup, 2 * n).await);
    if setup.rate_per_minute.is_some() {
        return rows;
    }
    // The engine's own writes moved every item: the next cycle re-reads them.
    w.advance(10);
    let settle = w.measure(&tag("settle (echo)"), setup, 2 * n).await;
    let mut busy = settle.writes > 0;
    rows.push(settle);
    // Until a cycle writes nothing (a backfill that missed items converges here).
    let mut extra = 0;
    while busy && extra < 5 {
        extra += 1;
        w.advance(10);
        let again = w
            .measure(&tag(&format!("settle {}", extra + 1)), setup, 2 * n)
            .await;
        busy = again.writes > 0;
        rows.push(again);
    }
    w.advance(10);
    rows.push(w.measure(&tag("quiet"), setup, 0).await);
    // k incidents and k issues edited, as people would. Small clock steps:
    // the comment sweep (hourly here) is not due yet.
    let k = (n * changed_pct / 100).max(1);
    w.advance(2);
    for (i, id) in incidents.iter().take(k).enumerate() {
        w.spira
            .edit_incident(*id, |inc| inc.name = format!("Incident {i} (edited)"));
    }
    for (i, iid) in issues.iter().rev().take(k).enumerate() {
        w.gitlab
            .edit_issue_as("alice", *iid, Some(&format!("Issue {i} (edited)")), None);
    }
    rows.push(
        w.measure(&tag(&format!("incremental k={k}")), setup, 2 * k)
            .await,
    );
    w.advance(2);
    rows.push(
        w.measure(&tag(&format!("its echo k={k}")), setup, 2 * k)
            .await,
    );
    // Past the comment sweep interval: one batch of linked incidents is read.
    w.advance(70);
    rows.push(w.measure(&tag("quiet + sweep"), setup, 0).await);
    rows
}

fn table(rows: &[Row]) -> String {
    let mut t = String::new();
    t.push_str("| scenario | items | wall | items/s | GitLab req (per item) | Spira req (per item) | GitLab GET/write/list/notes | Spira GET/write/search/comments | bound | wall/bound | 429s | CPU s | peak RSS MiB |\n");
    t.push_str("|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let rate = if r.items == 0 {
            "-".into()
        } else {
            format!("{:.0}", r.items as f64 / r.wall.as_secs_f64())
        };
        let (bound, ratio) = match r.bound() {
            Some(b) => (
                format!("{:.2} s", b.as_secs_f64()),
                format!("{:.2}", r.wall.as_secs_f64() / b.as_secs_f64()),
            ),
            None => ("-".into(), "-".into()),
        };
        let g = r.gitlab;
        let s = r.spira;
        let _ = writeln!(
            t,
            "| {} | {} | {:.2} s | {} | {} ({}) | {} ({}) | {}/{}/{}/{} | {}/{}/{}/{} | {} | {} | {} | {:.2} | {:.0} |",
            r.scenario,
            r.items,
            r.wall.as_secs_f64(),
            rate,
            g.total,
            r.per_item(g.total),
            s.total,
            r.per_item(s.total),
            g.get,
            g.write,
            g.list,
            g.comments,
            s.get,
            s.write,
            s.list,
            s.comments,
            bound,
            ratio,
            r.throttled,
            r.cpu,
            r.peak_rss_mib,
        );
    }
    t
}

/// Where the requests of a few rows went, route by route.
fn breakdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let wanted = ["backfill N=", "settle (echo) N=", "incremental k="];
    for prefix in wanted {
        let Some(r) = rows.iter().find(|r| r.scenario.starts_with(prefix)) else {
            continue;
        };
        let _ = writeln!(
            out,
            "\n{} ({} items): requests by route, and per item\n",
            r.scenario, r.items
        );
        out.push_str("| route | requests | per item |\n|---|---:|---:|\n");
        for (route, n) in &r.routes {
            let _ = writeln!(out, "| `{route}` | {n} | {} |", r.per_item(*n));
        }
    }
    out
}

/// Ratios between rows of the same run, in words.
fn findings(rows: &[Row]) -> String {
    let mut f = String::new();
    fn find<'a>(rows: &'a [Row], prefix: &'a str) -> impl Iterator<Item = &'a Row> {
        rows.iter().filter(move |r| r.scenario.starts_with(prefix))
    }
    for r in find(rows, "backfill") {
        let _ = writeln!(
            f,
            "- {}: {:.2} GitLab + {:.2} Spira requests per item; {} writes; {:.0} items/s; {} of {} counterparts created in this cycle.",
            r.scenario,
            r.gitlab.total as f64 / r.items as f64,
            r.spira.total as f64 / r.items as f64,
            r.writes,
            r.items as f64 / r.wall.as_secs_f64(),
            r.created,
            r.items,
        );
    }
    for r in find(rows, "settle").filter(|r| r.created > 0) {
        let _ = writeln!(
            f,
            "- {}: {} counterparts created that the backfill cycle did not reach.",
            r.scenario, r.created
        );
    }
    let quiet: Vec<&Row> = find(rows, "quiet N").collect();
    for q in &quiet {
        let _ = writeln!(
            f,
            "- {}: {} GitLab + {} Spira requests ({} issue list page(s), {} incident search page(s)), {} writes, {:.3} s.",
            q.scenario,
            q.gitlab.total,
            q.spira.total,
            q.gitlab.list,
            q.spira.list,
            q.writes,
            q.wall.as_secs_f64()
        );
    }
    for r in find(rows, "incremental") {
        let _ = writeln!(
            f,
            "- {}: {:.2} requests per changed item (both sides, fixed cycle cost included).",
            r.scenario,
            r.requests() as f64 / r.items as f64
        );
    }
    let fast = rows
        .iter()
        .find(|r| r.scenario.starts_with("backfill") && r.latency.is_zero());
    for slow in
        find(rows, "backfill").filter(|r| !r.latency.is_zero() && r.rate_per_minute.is_none())
    {
        if let Some(fast) = fast.filter(|f| f.items == slow.items) {
            let _ = writeln!(
                f,
                "- {} is {:.1}x slower than at 0 ms; {} requests x {} ms = {:.1} s of it is waiting.",
                slow.scenario,
                slow.wall.as_secs_f64() / fast.wall.as_secs_f64(),
                slow.requests(),
                slow.latency.as_millis(),
                slow.bound().unwrap_or_default().as_secs_f64()
            );
        }
    }
    for r in find(rows, "backfill").filter(|r| r.rate_per_minute.is_some()) {
        let limit = f64::from(r.rate_per_minute.unwrap_or(1));
        let used = r.gitlab.total as f64 * 60.0 / r.wall.as_secs_f64();
        let _ = writeln!(
            f,
            "- {}: {} 429 answers; GitLab requests at {:.0}/min = {:.0}% of the {:.0}/min budget.",
            r.scenario,
            r.throttled,
            used,
            100.0 * used / limit,
            limit
        );
    }
    f
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sizes = env_list("BENCH_N", "200,1000");
    let slow_n = env_one("BENCH_SLOW_N", 200);
    let latency = Duration::from_millis(env_one("BENCH_LATENCY_MS", 20) as u64);
    let comments = env_one("BENCH_COMMENTS", 2);
    let changed_pct = env_one("BENCH_CHANGED_PCT", 5);
    let rate_n = env_one("BENCH_RATE_N", 100);
    let rate = env_one("BENCH_RATE", 2000) as u32;
    let mut rows = Vec::new();
    runtime.block_on(async {
        let fast = Setup {
            latency: Duration::ZERO,
            rate_per_minute: None,
        };
        for &n in &sizes {
            eprintln!("bench: N={n} at 0 ms");
            rows.extend(run_world(n, &fast, comments, changed_pct).await);
        }
        if slow_n > 0 && !latency.is_zero() {
            eprintln!("bench: N={slow_n} at {} ms", latency.as_millis());
            let slow = Setup {
                latency,
                rate_per_minute: None,
            };
            rows.extend(run_world(slow_n, &slow, comments, changed_pct).await);
        }
        if rate > 0 && rate_n > 0 {
            eprintln!("bench: N={rate_n} at {rate}/min");
            let limited = Setup {
                latency: Duration::ZERO,
                rate_per_minute: Some(rate),
            };
            rows.extend(run_world(rate_n, &limited, comments, changed_pct).await);
        }
    });
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Settings: {comments} comments per item, {changed_pct}% of items edited for the incremental cycle, GitLab rate window {} s.\n",
        RATE_WINDOW.as_secs()
    );
    out.push_str(&table(&rows));
    out.push('\n');
    out.push_str(&findings(&rows));
    out.push_str(&breakdown(&rows));
    println!("{out}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-sync.md");
    match std::fs::write(&path, &out) {
        Ok(()) => eprintln!("bench: report written to {}", path.display()),
        Err(e) => eprintln!("bench: could not write {}: {e}", path.display()),
    }
}
