//! Benchmark of the real `labsync` binary against both simulators.
//!
//! The simulators of GitLab and Spira run in this process, with a latency
//! on every answer and, for some scenarios, GitLab's authenticated-API rate
//! limit. Each cycle is one `labsync --sync-now` process (the release binary
//! cargo builds for benches), started through a small helper (this binary
//! run with `--measure-labsync`, see [`measure_main`]) that waits for it with
//! wait4, so that its wall time, CPU time and peak RSS are labsync's alone;
//! the requests it made are counted by the simulators, and what it did is
//! read from its exit code and the `runs` table of its database. A cycle that exits non-zero, or whose run log is
//! not "ok" with no failed item, stops the bench with exit code 1.
//!
//! Scenarios, per world of N incidents and N issues (each with comments):
//! the initial sync, settle cycles until one writes nothing, an idle cycle,
//! an incremental cycle with a share of the links edited (half in Spira,
//! half in GitLab, on distinct links), and its echo. The largest world then
//! has GitLab's rate limit turned on for an idle and an incremental cycle;
//! separate worlds run the initial sync under the rate limit. Each row
//! shows the lower bound of its time from [`min_requests`] and the ratio.
//!
//! `cargo bench --bench sync` prints a Markdown table and writes it, with
//! requests by route, to `target/bench-sync.md` (after every cycle, so a long
//! run that is stopped keeps what it measured). Knobs (environment):
//!
//! - `BENCH_QUICK=1`           preset for a quick check (about 2 minutes):
//!   N=200, rate-limited initial sync at N=50, 2 s rate window; the knobs
//!   below still override it
//! - `BENCH_N=1000,10000`      world sizes (items per side), synced at the latency
//! - `BENCH_PREBUILD=`         sizes of `BENCH_N` whose initial sync and settle
//!   cycles run at 0 ms (still reported), so that their idle and incremental
//!   cycles are measured at the latency without waiting for the initial sync
//! - `BENCH_ZERO_N=`           extra worlds at 0 ms latency (no time bound)
//! - `BENCH_LATENCY_MS=20`     latency of every answer of both simulators
//! - `BENCH_COMMENTS=2`        comments on each seeded item
//! - `BENCH_CHANGED_PCT=1`     share of the links edited for the incremental cycle
//! - `BENCH_CONCURRENCY=8`     `concurrency` in plugins.toml, and in the bound
//! - `BENCH_RATE=2000`         GitLab requests per minute (0: no rate-limited run)
//! - `BENCH_RATE_N=1000`       sizes of the worlds synced under the rate limit
//!   from the start (10000 takes at least 25 minutes by the bound itself)
//! - `BENCH_RATE_WINDOW_S=60`  GitLab's throttle window; the budget per window
//!   is scaled to it (60 is GitLab's own window)
//! - `BENCH_SWEEP=off`         `comment_sweep` in plugins.toml (off: the sweep
//!   would come due by wall time in long runs and blur the idle cycles)
//! - `BENCH_LOG_LEVEL=info`    labsync's log level (its log goes to a file)
//! - `BENCH_LABSYNC=PATH`      another labsync binary to measure
//!
//! Request counts are exact and do not depend on the machine; times are for
//! comparing rows of one run on one machine.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use labsync_sim::Seed;
use labsync_sim::faults::FaultRule;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};
use labsync_sim::spira::{SpiraSim, SpiraSimConfig};

type Fallible<T> = Result<T, String>;

/// The plugin name in the generated plugins.toml.
const PLUGIN: &str = "bench";

// ---------------------------------------------------------------------------
// The lower bound
// ---------------------------------------------------------------------------

/// Issues per page of GitLab's issue list (`per_page` at most 100). GitLab
/// says whether there is a next page, so a full last page needs no extra request.
const GITLAB_PAGE: u64 = 100;
/// Rows per page of Spira's incident search. Spira gives no total, so only a
/// short page ends the listing: a full last page costs one more request.
const SPIRA_PAGE: u64 = 500;
/// Project setup read by a cycle that has work, GitLab side: the project,
/// labels, milestones and members.
const GITLAB_SETUP: u64 = 4;
/// Project setup, Spira side: the project, 4 template lists (statuses,
/// priorities, severities, types), the custom property definitions, users
/// and releases.
const SPIRA_SETUP: u64 = 8;

/// What a cycle has to do, in terms of the APIs.
#[derive(Clone, Copy, Debug)]
enum Work {
    /// A first cycle over new, unlinked items, each with `comments` comments.
    Initial {
        incidents: u64,
        issues: u64,
        comments: u64,
    },
    /// Items changed by labsync's own writes in the previous cycle: they must
    /// be listed, and nothing else (they match what labsync stored).
    Echo { issues: u64, incidents: u64 },
    /// Linked items edited by people (fields, no new comment).
    Edits { incidents: u64, issues: u64 },
}

/// A count per side.
#[derive(Clone, Copy, Debug, Default)]
struct Sides {
    gitlab: u64,
    spira: u64,
}

impl Sides {
    fn total(self) -> u64 {
        self.gitlab + self.spira
    }
}

/// The fewest requests a cycle can make for `work`, from what the APIs force:
///
/// - listing: GitLab `max(1, ceil(changed / 100))` pages, Spira
///   `floor(changed / 500) + 1` (see [`GITLAB_PAGE`], [`SPIRA_PAGE`]); an idle
///   cycle is 1 list request per side;
/// - project setup, once per cycle that has an item to sync: 4 GitLab + 8
///   Spira reads ([`GITLAB_SETUP`], [`SPIRA_SETUP`]);
/// - per new incident with c comments: claim it for this install (GET + PUT,
///   2 Spira: so that no second install creates an issue for it too), read
///   its comments (1 Spira), create the issue (1 GitLab), c notes (c
///   GitLab), read the incident again to see the claim held and, from that
///   read, record the issue on it (GET + PUT, 2 Spira: a PUT replaces the
///   whole record);
/// - per new issue with c notes: read its notes (1 GitLab, none when c = 0:
///   `user_notes_count` says so), create the incident with the issue
///   reference and read it back (2 Spira: the create's answer is the object
///   as sent, and Spira may have replaced its status), search for other
///   incidents naming the issue (1 Spira: another install may have made one
///   at the same time), c comments (c Spira), put the footer with the
///   incident link on the issue (1 GitLab);
/// - per edited incident: read the linked issue and write it (2 GitLab),
///   read the incident's comments (1 Spira: nothing on an incident counts
///   them); per edited issue: read the incident and PUT it (2 Spira); its
///   notes need no read when `user_notes_count` matches the paired notes;
/// - an echo (labsync's own writes listed again): the listing, the setup
///   (to resolve the listed fields against the stored base), and per listed
///   incident one read of its comments (a comment added meanwhile is told
///   from our own write only by reading them); a listed issue needs nothing.
fn min_requests(work: Work) -> Sides {
    let gitlab_list = |changed: u64| changed.div_ceil(GITLAB_PAGE).max(1);
    let spira_list = |changed: u64| changed / SPIRA_PAGE + 1;
    let setup = |items: u64| {
        if items > 0 {
            Sides {
                gitlab: GITLAB_SETUP,
                spira: SPIRA_SETUP,
            }
        } else {
            Sides::default()
        }
    };
    match work {
        Work::Initial {
            incidents,
            issues,
            comments,
        } => {
            let s = setup(incidents + issues);
            Sides {
                gitlab: gitlab_list(issues)
                    + s.gitlab
                    + incidents * (1 + comments)
                    + issues * (1 + u64::from(comments > 0)),
                spira: spira_list(incidents) + s.spira + incidents * 5 + issues * (3 + comments),
            }
        }
        Work::Echo { issues, incidents } => {
            let s = setup(incidents + issues);
            Sides {
                gitlab: gitlab_list(issues) + s.gitlab,
                spira: spira_list(incidents) + s.spira + incidents,
            }
        }
        Work::Edits { incidents, issues } => {
            let s = setup(incidents + issues);
            Sides {
                gitlab: gitlab_list(issues) + s.gitlab + incidents * 2,
                spira: spira_list(incidents) + s.spira + incidents + issues * 2,
            }
        }
    }
}

/// GitLab's throttle as the simulator applies it: `budget` requests per
/// `window`, scaled from `per_minute`.
#[derive(Clone, Copy, Debug)]
struct Rate {
    per_minute: u32,
    window: Duration,
    budget: u32,
}

impl Rate {
    fn new(per_minute: u32, window: Duration) -> Rate {
        let budget = (u128::from(per_minute) * window.as_millis() / 60_000).max(1);
        Rate {
            per_minute,
            window,
            budget: u32::try_from(budget).unwrap_or(u32::MAX),
        }
    }

    /// Requests per second the simulator lets through, on average.
    fn per_second(self) -> f64 {
        f64::from(self.budget) / self.window.as_secs_f64()
    }
}

/// The least time `requests` can take: all of them at `latency`,
/// `concurrency` at a time, or GitLab's share at the rate limit, whichever
/// is longer. (The throttle's windows are aligned on the epoch, so a run
/// that starts in a fresh window may beat the rate bound by up to one window.)
fn time_bound(
    requests: Sides,
    latency: Duration,
    concurrency: usize,
    rate: Option<Rate>,
) -> Duration {
    let by_latency = latency.as_secs_f64() * requests.total() as f64 / concurrency.max(1) as f64;
    let by_rate = rate.map_or(0.0, |r| requests.gitlab as f64 / r.per_second());
    Duration::from_secs_f64(by_latency.max(by_rate))
}

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

struct Settings {
    quick: bool,
    sizes: Vec<usize>,
    prebuild: Vec<usize>,
    zero_ms: Vec<usize>,
    latency: Duration,
    comments: usize,
    changed_pct: f64,
    concurrency: usize,
    rate: Option<Rate>,
    rate_sizes: Vec<usize>,
    sweep: String,
    log_level: String,
    binary: PathBuf,
    machine: String,
}

fn env_text(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_list(name: &str, default: &str) -> Fallible<Vec<usize>> {
    let text = std::env::var(name).unwrap_or_else(|_| default.to_string());
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.replace('_', "")
                .parse()
                .map_err(|_| format!("{name}: '{s}' is not a whole number"))
        })
        .collect()
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> Fallible<T> {
    match env_text(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}: '{v}' is not a number")),
    }
}

impl Settings {
    fn from_env() -> Fallible<Settings> {
        let quick = env_text("BENCH_QUICK").is_some_and(|v| v != "0");
        let (sizes, rate_sizes, window) = if quick {
            ("200", "50", 2)
        } else {
            ("1000,10000", "1000", 60)
        };
        let concurrency = env_num("BENCH_CONCURRENCY", 8usize)?;
        if !(1..=32).contains(&concurrency) {
            return Err(format!(
                "BENCH_CONCURRENCY: {concurrency} is outside labsync's 1..32"
            ));
        }
        let per_minute = env_num("BENCH_RATE", 2000u32)?;
        let window = Duration::from_secs(env_num("BENCH_RATE_WINDOW_S", window)?.max(1));
        let changed_pct = env_num("BENCH_CHANGED_PCT", 1.0f64)?;
        if !(changed_pct > 0.0 && changed_pct <= 100.0) {
            return Err(format!(
                "BENCH_CHANGED_PCT: {changed_pct} is not in (0, 100]"
            ));
        }
        Ok(Settings {
            quick,
            sizes: env_list("BENCH_N", sizes)?,
            prebuild: env_list("BENCH_PREBUILD", "")?,
            zero_ms: env_list("BENCH_ZERO_N", "")?,
            latency: Duration::from_millis(env_num("BENCH_LATENCY_MS", 20u64)?),
            comments: env_num("BENCH_COMMENTS", 2usize)?,
            changed_pct,
            concurrency,
            rate: (per_minute > 0).then(|| Rate::new(per_minute, window)),
            rate_sizes: env_list("BENCH_RATE_N", rate_sizes)?,
            sweep: env_text("BENCH_SWEEP").unwrap_or_else(|| "off".into()),
            log_level: env_text("BENCH_LOG_LEVEL").unwrap_or_else(|| "info".into()),
            binary: labsync_binary()?,
            machine: machine(),
        })
    }

    fn describe(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Machine: {}.", self.machine);
        let _ = writeln!(
            s,
            "Binary: `{}` (`labsync --sync-now`, one process per cycle, log level {}).",
            self.binary.display(),
            self.log_level
        );
        let _ = write!(
            s,
            "Settings: {} ms latency on every answer of both simulators; `concurrency = {}`; \
             {} comments per seeded item; {}% of the links edited for an incremental cycle \
             (half in Spira, half in GitLab); `comment_sweep = \"{}\"`",
            self.latency.as_millis(),
            self.concurrency,
            self.comments,
            self.changed_pct,
            self.sweep
        );
        match self.rate {
            Some(r) => {
                let _ = writeln!(
                    s,
                    "; GitLab rate limit {}/min, simulated as {} requests per {} s window \
                     ({:.0}/min; GitLab's own window is 60 s), the bound uses the same rate.",
                    r.per_minute,
                    r.budget,
                    r.window.as_secs(),
                    r.per_second() * 60.0
                );
            }
            None => s.push_str("; no rate-limited run.\n"),
        }
        if self.quick {
            s.push_str("Preset: BENCH_QUICK (small sizes, for checking the bench itself).\n");
        }
        s
    }
}

/// The binary cargo built for this bench (`cargo bench` builds the package's
/// binaries with the bench profile), or `BENCH_LABSYNC`.
fn labsync_binary() -> Fallible<PathBuf> {
    let path = env_text("BENCH_LABSYNC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_labsync")));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the labsync binary {} is missing: run the bench with `cargo bench --bench sync` \
             (which builds it), build it with `cargo build --release`, or give BENCH_LABSYNC=PATH",
            path.display()
        ))
    }
}

/// "x86_64, 2 × AMD EPYC": `uname -m`, and the CPUs of /proc/cpuinfo.
fn machine() -> String {
    let arch = Command::new("uname")
        .arg("-m")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let models: Vec<&str> = cpuinfo
        .lines()
        .filter(|l| l.starts_with("model name"))
        .filter_map(|l| l.split_once(':').map(|(_, m)| m.trim()))
        .collect();
    let count = if models.is_empty() {
        std::thread::available_parallelism().map_or(0, |n| n.get())
    } else {
        models.len()
    };
    let model = models.first().copied().unwrap_or("unknown CPU");
    format!("{arch}, {count} × {model}")
}

// ---------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------

/// Requests one simulator answered in a cycle, by kind.
#[derive(Clone, Copy, Debug, Default)]
struct Requests {
    total: u64,
    get: u64,
    /// POST, PUT and DELETE that change something (Spira's search POST excluded).
    write: u64,
    /// GitLab: every `GET …/issues` (listing pages and marker searches);
    /// Spira: every incident search.
    list: u64,
    /// Notes (GitLab) or comments (Spira), read or written.
    comments: u64,
}

impl Requests {
    fn gitlab(sim: &GitLabSim) -> Requests {
        let n = |f: &str| sim.request_count(f);
        Requests {
            total: n(""),
            get: n("GET "),
            write: n("POST ") + n("PUT ") + n("DELETE "),
            list: n("GET /api/v4/projects/{id}/issues") - n("GET /api/v4/projects/{id}/issues/"),
            comments: n("/notes"),
        }
    }

    fn spira(sim: &SpiraSim) -> Requests {
        let n = |f: &str| sim.request_count(f);
        Requests {
            total: n(""),
            get: n("GET "),
            write: n("POST ") + n("PUT ") + n("DELETE ") - n("incidents/search"),
            list: n("incidents/search"),
            comments: n("/comments"),
        }
    }
}

/// What the cycle's run log says it did.
#[derive(Clone, Copy, Debug, Default)]
struct RunCounts {
    created: u64,
    /// Creates, updates and comments copied, both ways.
    written: u64,
}

struct Row {
    scenario: String,
    /// Links the cycle had to sync (both sides' items of a pair count once).
    items: u64,
    /// Links in the database after the cycle.
    links: i64,
    latency: Duration,
    rate: Option<Rate>,
    concurrency: usize,
    wall: Duration,
    /// labsync's user + system CPU time.
    cpu: f64,
    /// labsync's peak resident set.
    rss_mib: f64,
    /// CPU time of this process (the simulators) during the cycle.
    sims_cpu: f64,
    gitlab: Requests,
    spira: Requests,
    throttled: u64,
    min: Sides,
    run: RunCounts,
    /// Requests by route, both sides ("GitLab GET /api/v4/...", "Spira PUT /...").
    routes: Vec<(String, u64)>,
}

impl Row {
    fn made(&self) -> Sides {
        Sides {
            gitlab: self.gitlab.total,
            spira: self.spira.total,
        }
    }

    fn bound(&self) -> Duration {
        time_bound(self.min, self.latency, self.concurrency, self.rate)
    }

    /// The same bound for the requests actually made: how well they were overlapped.
    fn made_bound(&self) -> Duration {
        time_bound(self.made(), self.latency, self.concurrency, self.rate)
    }

    fn per_item(&self, n: u64) -> String {
        if self.items == 0 {
            "-".into()
        } else {
            format!("{:.2}", n as f64 / self.items as f64)
        }
    }
}

fn ratio(wall: Duration, bound: Duration) -> String {
    if bound.is_zero() {
        "-".into()
    } else {
        format!("{:.2}", wall.as_secs_f64() / bound.as_secs_f64())
    }
}

fn seconds(d: Duration) -> String {
    if d.is_zero() {
        "-".into()
    } else {
        format!("{:.2}", d.as_secs_f64())
    }
}

fn timeval_secs(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// User + system CPU seconds of this process so far.
fn own_cpu() -> f64 {
    // SAFETY: getrusage fills the struct it is given; an all-zero rusage is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage owned by this frame.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    timeval_secs(usage.ru_utime) + timeval_secs(usage.ru_stime)
}

/// How labsync ended, and what it used.
struct Ended {
    /// The exit code, or a description of the signal that killed it.
    code: Result<i32, String>,
    /// From spawn to exit.
    wall: Duration,
    /// User + system CPU seconds.
    cpu: f64,
    /// Peak resident set (ru_maxrss, KiB on Linux).
    rss_kib: i64,
}

impl Ended {
    fn write(&self, path: &Path) -> std::io::Result<()> {
        let (code, how) = match &self.code {
            Ok(c) => (Some(*c), None),
            Err(how) => (None, Some(how.clone())),
        };
        let json = serde_json::json!({
            "code": code,
            "how": how,
            "wall_s": self.wall.as_secs_f64(),
            "cpu_s": self.cpu,
            "rss_kib": self.rss_kib,
        });
        std::fs::write(path, json.to_string())
    }

    fn read(path: &Path) -> Fallible<Ended> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let num = |k: &str| {
            v[k].as_f64()
                .ok_or_else(|| format!("{}: no '{k}' in {text}", path.display()))
        };
        let code = match (v["code"].as_i64(), v["how"].as_str()) {
            (Some(c), _) => Ok(i32::try_from(c).unwrap_or(i32::MAX)),
            (None, Some(how)) => Err(how.to_string()),
            (None, None) => Err("ended, how is not known".to_string()),
        };
        Ok(Ended {
            code,
            wall: Duration::from_secs_f64(num("wall_s")?.max(0.0)),
            cpu: num("cpu_s")?,
            rss_kib: num("rss_kib")? as i64,
        })
    }
}

/// Waits for `pid` with wait4, which returns its resource usage alone.
fn wait_child(pid: libc::pid_t, started: Instant) -> Fallible<Ended> {
    let mut status: libc::c_int = 0;
    // SAFETY: as in own_cpu.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our own child, reaped only here.
        let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if got == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("waiting for labsync (pid {pid}): {e}"));
        }
    }
    let wall = started.elapsed();
    let code = if libc::WIFEXITED(status) {
        Ok(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Err(format!("killed by signal {}", libc::WTERMSIG(status)))
    } else {
        Err(format!("ended with wait status {status}"))
    };
    Ok(Ended {
        code,
        wall,
        cpu: timeval_secs(usage.ru_utime) + timeval_secs(usage.ru_stime),
        rss_kib: usage.ru_maxrss,
    })
}

/// First argument of this binary run as the measuring helper.
const MEASURE: &str = "--measure-labsync";

/// The measuring helper: `sync --measure-labsync REPORT PROGRAM ARGS...`
/// runs PROGRAM (stdio and environment inherited), waits for it with wait4
/// and writes its exit, wall time, CPU time and peak RSS to REPORT as JSON.
///
/// Why a helper: on Linux, exec records the high-water RSS of the address
/// space it replaces in the new program's ru_maxrss, and a child spawned by
/// the bench starts as (or shares) the bench's address space, simulators and
/// all: labsync would show the bench's peak. The helper is small when it
/// spawns labsync (a few MiB, below labsync's own), so the figure is labsync's.
fn measure_main(args: &[std::ffi::OsString]) -> ExitCode {
    let [report, program, rest @ ..] = args else {
        eprintln!("bench: usage: {MEASURE} REPORT PROGRAM [ARGS...]");
        return ExitCode::from(64);
    };
    let started = Instant::now();
    let ended = Command::new(program)
        .args(rest)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", Path::new(program).display()))
        .and_then(|child| {
            let pid = libc::pid_t::try_from(child.id())
                .map_err(|_| format!("pid {} out of range", child.id()))?;
            wait_child(pid, started)
        });
    match ended.map(|e| e.write(Path::new(report))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("bench: writing {}: {e}", Path::new(report).display());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The last `lines` lines of a file, for error messages.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

// ---------------------------------------------------------------------------
// A world: the test kit's (two simulators, a plugins.toml and a database),
// seeded with N items per side and measured
// ---------------------------------------------------------------------------

struct World {
    n: usize,
    world: labsync_testkit::World,
    /// Seeded items (the people's), by index.
    incidents: Vec<u32>,
    issues: Vec<u64>,
    latency: Duration,
    rate: Option<Rate>,
    concurrency: usize,
    log_level: String,
    binary: PathBuf,
    last_run: i64,
    edit_rounds: usize,
}

impl World {
    async fn start(
        s: &Settings,
        n: usize,
        latency: Duration,
        rate: Option<Rate>,
    ) -> Fallible<World> {
        let gitlab = GitLabSimConfig {
            seed: Seed::Empty,
            latency,
            rate_limit_per_minute: rate.map(|r| r.budget),
            rate_window: rate.map_or(Duration::from_secs(60), |r| r.window),
            ..Default::default()
        };
        let spira = SpiraSimConfig {
            seed: Seed::Empty,
            latency,
            comment_bumps_last_update: true,
            ..Default::default()
        };
        let extra = format!(
            "concurrency = {}\ncomment_sweep = \"{}\"",
            s.concurrency, s.sweep
        );
        let mut world = World {
            n,
            world: labsync_testkit::World::for_plugin(PLUGIN, &extra, gitlab, spira).await,
            incidents: Vec::new(),
            issues: Vec::new(),
            latency,
            rate,
            concurrency: s.concurrency,
            log_level: s.log_level.clone(),
            binary: s.binary.clone(),
            last_run: 0,
            edit_rounds: 0,
        };
        world.seed(s.comments);
        Ok(world)
    }

    /// N incidents and N issues, each with `comments` comments, none linked.
    fn seed(&mut self, comments: usize) {
        for i in 0..self.n {
            let id = self
                .world
                .spira
                .add_incident(1, &format!("Incident {i}"), 1);
            self.world.spira.edit_incident(id, |inc| {
                inc.description = format!("<p>Steps for incident <b>{i}</b>.</p>");
                inc.priority_id = Some(1 + (i % 4) as u32);
            });
            for c in 0..comments {
                self.world
                    .spira
                    .add_comment(id, 1, &format!("<p>Spira comment {c} on {i}</p>"));
            }
            self.incidents.push(id);
            let iid = self.world.gitlab.create_issue_as(
                "alice",
                &format!("Issue {i}"),
                &format!("Steps for issue **{i}**."),
            );
            for c in 0..comments {
                self.world
                    .gitlab
                    .add_note_as("alice", iid, &format!("GitLab note {c} on {i}"));
            }
            self.issues.push(iid);
        }
    }

    fn set_latency(&mut self, latency: Duration) {
        let rule = FaultRule {
            latency,
            ..FaultRule::default()
        };
        self.world.gitlab.faults().set_default(rule.clone());
        self.world.spira.faults().set_default(rule);
        self.latency = latency;
    }

    fn set_rate(&mut self, rate: Option<Rate>) {
        self.world.gitlab.set_rate_limit(
            rate.map(|r| r.budget),
            rate.map_or(Duration::from_secs(60), |r| r.window),
        );
        self.rate = rate;
    }

    fn tag(&self, what: &str) -> String {
        let mut s = format!("{what} N={} @{}ms", self.n, self.latency.as_millis());
        if let Some(r) = self.rate {
            let _ = write!(s, " @{}/min", r.per_minute);
        }
        s
    }

    /// One `labsync --sync-now`, measured from zeroed counters.
    async fn cycle(&mut self, what: &str, work: Work, items: u64) -> Fallible<Row> {
        let scenario = self.tag(what);
        self.world.reset_counts();
        let out_path = self.world.dir.path().join("cycle.out");
        let err_path = self.world.dir.path().join("cycle.err");
        let file = |p: &Path| File::create(p).map_err(|e| format!("{}: {e}", p.display()));
        let (out, err) = (file(&out_path)?, file(&err_path)?);
        // Through the measuring helper (see `measure_main`): labsync's own
        // peak RSS cannot be had from a child of this big process.
        let me = std::env::current_exe().map_err(|e| format!("this bench's own path: {e}"))?;
        let report = self.world.dir.path().join("cycle.rusage.json");
        let _ = std::fs::remove_file(&report);
        let mut command = Command::new(me);
        command
            .arg(MEASURE)
            .arg(&report)
            .arg(&self.binary)
            .arg("--config")
            .arg(labsync_testkit::world::config_path(&self.world))
            .arg("--db")
            .arg(self.world.store.path())
            .arg("--log-level")
            .arg(&self.log_level)
            .arg("--sync-now")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("LABSYNC_") || name == "RUST_LOG" || name == "NOTIFY_SOCKET" {
                command.env_remove(&key);
            }
        }
        let sims_cpu = own_cpu();
        let mut helper = command
            .spawn()
            .map_err(|e| format!("{scenario}: starting the measuring helper: {e}"))?;
        let helper_status = tokio::task::spawn_blocking(move || helper.wait())
            .await
            .map_err(|e| format!("{scenario}: waiting for labsync: {e}"))?
            .map_err(|e| format!("{scenario}: waiting for labsync: {e}"))?;
        let sims_cpu = own_cpu() - sims_cpu;
        let ended = Ended::read(&report).map_err(|e| {
            format!(
                "{scenario}: the measuring helper ({helper_status}) gave no figures: {e}\n\
                 --- its stderr, last lines:\n{}",
                tail(&err_path, 30)
            )
        })?;
        let wall = ended.wall;
        let failed = |why: String| {
            format!(
                "{scenario}: {why}\n--- labsync stdout:\n{}\n--- labsync stderr, last lines:\n{}",
                tail(&out_path, 20),
                tail(&err_path, 30)
            )
        };
        let (run, links) = match ended.code {
            Ok(0) => self.read_run().map_err(failed)?,
            Ok(code) => return Err(failed(format!("labsync exited with code {code}"))),
            Err(how) => return Err(failed(format!("labsync {how}"))),
        };
        Ok(Row {
            scenario,
            items,
            links,
            latency: self.latency,
            rate: self.rate,
            concurrency: self.concurrency,
            wall,
            cpu: ended.cpu,
            rss_mib: ended.rss_kib as f64 / 1024.0,
            sims_cpu,
            gitlab: Requests::gitlab(&self.world.gitlab),
            spira: Requests::spira(&self.world.spira),
            throttled: self.world.gitlab.status_count(429),
            min: min_requests(work),
            run,
            routes: self
                .world
                .gitlab
                .request_counts()
                .into_iter()
                .map(|(r, n)| (format!("GitLab {r}"), n))
                .chain(
                    self.world
                        .spira
                        .request_counts()
                        .into_iter()
                        .map(|(r, n)| (format!("Spira {r}"), n)),
                )
                .collect(),
        })
    }

    /// The cycle's entry in the run log: new, finished, "ok", nothing failed.
    fn read_run(&mut self) -> Fallible<(RunCounts, i64)> {
        let store = &self.world.store;
        let run = store
            .latest_run(PLUGIN)
            .map_err(|e| format!("reading the run log: {e}"))?
            .ok_or("the run log has no cycle of the plugin")?;
        if run.id <= self.last_run {
            return Err(format!(
                "the run log has no new cycle (latest id {}, before {})",
                run.id, self.last_run
            ));
        }
        self.last_run = run.id;
        if run.finished_at.is_none() || run.result.as_deref() != Some("ok") {
            return Err(format!(
                "the cycle did not end ok: result {:?}, summary {}",
                run.result, run.summary
            ));
        }
        let field = |name: &str| {
            run.summary
                .get(name)
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| format!("the run summary has no count '{name}': {}", run.summary))
        };
        if field("failed")? != 0 {
            return Err(format!("items failed: {}", run.summary));
        }
        let created = field("created_issues")? + field("created_incidents")?;
        let written = created
            + field("updated_issues")?
            + field("updated_incidents")?
            + field("comments_to_gitlab")?
            + field("comments_to_spira")?;
        let links = store
            .link_counts(PLUGIN, i64::from(self.world.spira.project_id()))
            .map_err(|e| format!("counting links: {e}"))?;
        Ok((RunCounts { created, written }, links.total))
    }

    /// Both sides hold every item once, and every pair is linked.
    fn check_complete(&self) -> Fallible<()> {
        let want = 2 * self.n;
        let issues = self.world.gitlab.issues().len();
        let incidents = self
            .world
            .spira
            .incidents(self.world.spira.project_id())
            .len();
        let links = (self.world.store)
            .link_counts(PLUGIN, i64::from(self.world.spira.project_id()))
            .map_err(|e| format!("counting links: {e}"))?
            .total;
        if issues != want || incidents != want || links != want as i64 {
            return Err(format!(
                "N={}: after settling, {issues} issues, {incidents} incidents and {links} links; \
                 {want} of each expected",
                self.n
            ));
        }
        Ok(())
    }

    /// Edits `changed_pct` % of the links: half the incidents in Spira, half
    /// the issues in GitLab, each on a link of its own. Returns (incidents, issues).
    fn edit(&mut self, changed_pct: f64) -> (usize, usize) {
        let links = 2 * self.n;
        let k = ((links as f64 * changed_pct / 100.0).round() as usize).clamp(2, links);
        let (in_spira, in_gitlab) = ((k / 2).min(self.n), (k - k / 2).min(self.n));
        let round = self.edit_rounds;
        self.edit_rounds += 1;
        let pick = |len: usize, count: usize, j: usize| (j * (len / count.max(1)) + round) % len;
        for j in 0..in_spira {
            let id = self.incidents[pick(self.n, in_spira, j)];
            self.world
                .spira
                .edit_incident(id, |inc| inc.name = format!("{} (edit {round})", inc.name));
        }
        for j in 0..in_gitlab {
            let iid = self.issues[pick(self.n, in_gitlab, j)];
            let title = format!("Issue {iid} (edit {round})");
            self.world
                .gitlab
                .edit_issue_as("alice", iid, Some(&title), None);
        }
        (in_spira, in_gitlab)
    }

    /// Every edit of `round` reached the other side.
    fn check_edits(&self, round: usize, count: usize) -> Fallible<()> {
        let mark = format!("(edit {round})");
        let issues = self
            .world
            .gitlab
            .issues()
            .iter()
            .filter(|i| i["title"].as_str().is_some_and(|t| t.contains(&mark)))
            .count();
        let incidents = self
            .world
            .spira
            .incidents(self.world.spira.project_id())
            .iter()
            .filter(|i| i.name.contains(&mark))
            .count();
        if issues != count || incidents != count {
            return Err(format!(
                "N={}: edit round {round}: {issues} issues and {incidents} incidents carry the \
                 edit; {count} of each expected",
                self.n
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// Collects rows and rewrites the report after each one.
struct Bench<'a> {
    settings: &'a Settings,
    rows: Vec<Row>,
}

impl Bench<'_> {
    fn push(&mut self, row: Row) {
        eprintln!(
            "bench: {}: {:.2} s, {} + {} requests (min {} + {}), {} written, CPU {:.2} s, RSS {:.1} MiB",
            row.scenario,
            row.wall.as_secs_f64(),
            row.gitlab.total,
            row.spira.total,
            row.min.gitlab,
            row.min.spira,
            row.run.written,
            row.cpu,
            row.rss_mib
        );
        self.rows.push(row);
        write_report(&report(self.settings, &self.rows, None));
    }

    /// Cycles after one with writes, until a cycle writes nothing. The first
    /// (`label`) lists `first` (labsync's own writes); the ideal engine
    /// needs no later one ("settle 2", ...).
    async fn settle(
        &mut self,
        w: &mut World,
        label: &str,
        first: Work,
        items: u64,
    ) -> Fallible<()> {
        for i in 1..=5 {
            w.world.advance(chrono::Duration::minutes(10));
            let (work, items) = if i == 1 {
                (first, items)
            } else {
                (
                    Work::Echo {
                        issues: 0,
                        incidents: 0,
                    },
                    0,
                )
            };
            let name = if i == 1 {
                label.to_string()
            } else {
                format!("settle {i} (after {label})")
            };
            let row = w.cycle(&name, work, items).await?;
            let quiet = row.run.written == 0;
            self.push(row);
            if quiet {
                return Ok(());
            }
        }
        Err(format!(
            "{}: still writing after 5 settle cycles",
            w.tag(label)
        ))
    }

    /// An idle cycle, then an incremental one and its echo.
    async fn idle_and_edits(&mut self, w: &mut World) -> Fallible<()> {
        w.world.advance(chrono::Duration::minutes(10));
        let idle = Work::Echo {
            issues: 0,
            incidents: 0,
        };
        let row = w.cycle("idle", idle, 0).await?;
        self.push(row);
        w.world.advance(chrono::Duration::minutes(2));
        let round = w.edit_rounds;
        let (incidents, issues) = w.edit(self.settings.changed_pct);
        let k = (incidents + issues) as u64;
        let edits = Work::Edits {
            incidents: incidents as u64,
            issues: issues as u64,
        };
        let row = w.cycle(&format!("incremental k={k}"), edits, k).await?;
        self.push(row);
        // The issues written for Spira's edits and the incidents for GitLab's.
        let echo = Work::Echo {
            issues: incidents as u64,
            incidents: issues as u64,
        };
        self.settle(w, &format!("echo k={k}"), echo, k).await?;
        w.check_edits(round, incidents + issues)
    }

    /// A world from seeding to its idle and incremental cycles. When it
    /// fails, its files stay for a look.
    async fn world(
        &mut self,
        n: usize,
        latency: Duration,
        build_at_zero: bool,
        rate: Option<Rate>,
        rate_after: Option<Rate>,
    ) -> Fallible<()> {
        let first = if build_at_zero {
            Duration::ZERO
        } else {
            latency
        };
        eprintln!(
            "bench: world N={n}: initial sync at {} ms{}",
            first.as_millis(),
            rate.map_or(String::new(), |r| format!(", {}/min", r.per_minute))
        );
        let mut w = World::start(self.settings, n, first, rate).await?;
        let result = self
            .world_cycles(&mut w, latency, build_at_zero, rate_after)
            .await;
        result.map_err(|why| {
            w.world.dir.disable_cleanup(true);
            format!(
                "{why}\n--- kept for a look: {} (plugins.toml, labsync.db, cycle.out, cycle.err)",
                w.world.dir.path().display()
            )
        })
    }

    async fn world_cycles(
        &mut self,
        w: &mut World,
        latency: Duration,
        build_at_zero: bool,
        rate_after: Option<Rate>,
    ) -> Fallible<()> {
        let s = self.settings;
        let (n64, c) = (w.n as u64, s.comments as u64);
        let initial = Work::Initial {
            incidents: n64,
            issues: n64,
            comments: c,
        };
        let row = w.cycle("initial", initial, 2 * n64).await?;
        self.push(row);
        // Every item was written: n created and n updated on each side.
        let echo = Work::Echo {
            issues: 2 * n64,
            incidents: 2 * n64,
        };
        self.settle(w, "settle 1", echo, 2 * n64).await?;
        w.check_complete()?;
        if build_at_zero {
            w.set_latency(latency);
        }
        self.idle_and_edits(w).await?;
        if let Some(r) = rate_after {
            w.set_rate(Some(r));
            self.idle_and_edits(w).await?;
        }
        Ok(())
    }

    async fn run(&mut self) -> Fallible<()> {
        let s = self.settings;
        for &n in &s.zero_ms {
            self.world(n, Duration::ZERO, false, None, None).await?;
        }
        let largest = s.sizes.iter().copied().max();
        for &n in &s.sizes {
            let rate_after = s.rate.filter(|_| Some(n) == largest);
            let prebuilt = s.prebuild.contains(&n);
            self.world(n, s.latency, prebuilt, None, rate_after).await?;
        }
        if let Some(rate) = s.rate {
            for &n in &s.rate_sizes {
                self.world(n, s.latency, false, Some(rate), None).await?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

fn table(machine: &str, rows: &[Row]) -> String {
    let mut t = String::new();
    t.push_str(
        "| machine | scenario | items | links | wall s | GitLab req (per item) | Spira req (per item) \
         | GitLab GET/write/list/notes | Spira GET/write/search/comments | min req GitLab+Spira \
         | bound s | wall/bound | made/min | wall/made-bound | 429s | written (created) | CPU s \
         | peak RSS MiB | sims CPU s |\n",
    );
    t.push_str(
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let (g, s) = (r.gitlab, r.spira);
        let _ = writeln!(
            t,
            "| {machine} | {} | {} | {} | {:.2} | {} ({}) | {} ({}) | {}/{}/{}/{} | {}/{}/{}/{} \
             | {}+{}={} | {} | {} | {:.2} | {} | {} | {} ({}) | {:.2} | {:.1} | {:.2} |",
            r.scenario,
            r.items,
            r.links,
            r.wall.as_secs_f64(),
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
            r.min.gitlab,
            r.min.spira,
            r.min.total(),
            seconds(r.bound()),
            ratio(r.wall, r.bound()),
            r.made().total() as f64 / r.min.total().max(1) as f64,
            ratio(r.wall, r.made_bound()),
            r.throttled,
            r.run.written,
            r.run.created,
            r.cpu,
            r.rss_mib,
            r.sims_cpu,
        );
    }
    t
}

const LEGEND: &str = "\
Columns: *wall* = the labsync process, from spawn to exit (a cycle of `labsync --sync-now`, \
process start included); *items* = links the cycle had to sync; *links* = links in the database after it; \
*min req* = the fewest requests the scenario needs (`min_requests` in benches/sync.rs); \
*bound* = max(min req / concurrency × latency, GitLab's min req / rate limit); \
*made/min* = requests made / min req (waste); *wall/made-bound* = wall time over the same bound \
for the requests actually made (how well they were overlapped); *written* = creates, updates \
and comments copied, from the run log; *CPU s* and *peak RSS* are the labsync process's \
(wait4), *sims CPU s* the simulators' (this process) during the cycle.\n";

/// Targets of issue 8, each with the figures that decide it.
fn findings(rows: &[Row]) -> String {
    let mut f = String::new();
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    for r in rows.iter().filter(|r| r.scenario.starts_with("idle")) {
        let ok = r.gitlab.total <= r.min.gitlab && r.spira.total <= r.min.spira;
        let _ = writeln!(
            f,
            "- {} over {} links: {} GitLab + {} Spira requests ({} issue list, {} incident search); \
             target 1 list request per side: {}.",
            r.scenario,
            r.links,
            r.gitlab.total,
            r.spira.total,
            r.gitlab.list,
            r.spira.list,
            met(ok)
        );
    }
    let initial = rows
        .iter()
        .filter(|r| r.scenario.starts_with("initial") && !r.latency.is_zero() && r.rate.is_none())
        .max_by_key(|r| r.items);
    if let Some(r) = initial {
        let x = r.wall.as_secs_f64() / r.bound().as_secs_f64();
        let _ = writeln!(
            f,
            "- {}: {:.2} s against a bound of {:.2} s = {x:.2}×; target within 1.2×: {}. \
             Requests made are {:.2}× the minimum; the wall time is {:.2}× the bound of the \
             requests made.",
            r.scenario,
            r.wall.as_secs_f64(),
            r.bound().as_secs_f64(),
            met(x <= 1.2),
            r.made().total() as f64 / r.min.total().max(1) as f64,
            r.wall.as_secs_f64() / r.made_bound().as_secs_f64(),
        );
    }
    let limited: Vec<&Row> = rows.iter().filter(|r| r.rate.is_some()).collect();
    for r in limited.iter().filter(|r| r.scenario.starts_with("initial")) {
        let x = r.wall.as_secs_f64() / r.bound().as_secs_f64();
        let used = r.gitlab.total as f64 * 60.0 / r.wall.as_secs_f64();
        let _ = writeln!(
            f,
            "- {}: {:.2} s against a bound of {:.2} s = {x:.2}×, {} 429s, GitLab requests at \
             {used:.0}/min on average; target within 1.1× and no 429: {}.",
            r.scenario,
            r.wall.as_secs_f64(),
            r.bound().as_secs_f64(),
            r.throttled,
            met(x <= 1.1 && r.throttled == 0)
        );
    }
    if !limited.is_empty() {
        let throttled: u64 = limited.iter().map(|r| r.throttled).sum();
        let _ = writeln!(
            f,
            "- 429 answers over all {} rate-limited cycles: {throttled}; target none: {}.",
            limited.len(),
            met(throttled == 0)
        );
    }
    if let Some(r) = rows.iter().max_by(|a, b| a.rss_mib.total_cmp(&b.rss_mib)) {
        let most = rows.iter().map(|r| r.links).max().unwrap_or(0);
        let _ = writeln!(
            f,
            "- Peak RSS of labsync: {:.1} MiB at most ({}, {} links); up to {most} links in this run; \
             target under 64 MiB at 10k links: {}.",
            r.rss_mib,
            r.scenario,
            r.links,
            if most >= 10_000 {
                met(r.rss_mib < 64.0)
            } else {
                "not measured (fewer than 10k links)"
            }
        );
    }
    // Cost per changed item beyond the idle cycle just before it.
    let mut idle: Option<&Row> = None;
    for r in rows {
        if r.scenario.starts_with("idle") {
            idle = Some(r);
        }
        if let (true, Some(i)) = (r.scenario.starts_with("incremental"), idle) {
            let extra = r.made().total().saturating_sub(i.made().total());
            let _ = writeln!(
                f,
                "- {} over {} links: {} requests beyond the idle cycle = {:.2} per changed link \
                 (minimum {:.2}, the 12 setup reads included); {:.2} s, {:.3} s of labsync CPU.",
                r.scenario,
                i.links,
                extra,
                extra as f64 / r.items.max(1) as f64,
                r.min.total().saturating_sub(i.min.total()) as f64 / r.items.max(1) as f64,
                r.wall.as_secs_f64(),
                r.cpu
            );
        }
    }
    f
}

/// Where the requests of a few rows went, route by route.
fn breakdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let largest = rows.iter().map(|r| r.links).max().unwrap_or(0);
    let picks = [
        rows.iter().find(|r| r.scenario.starts_with("initial")),
        rows.iter().find(|r| r.scenario.starts_with("settle 1")),
        rows.iter()
            .find(|r| r.scenario.starts_with("idle") && r.links == largest),
        rows.iter()
            .find(|r| r.scenario.starts_with("incremental") && r.links == largest),
    ];
    for r in picks.into_iter().flatten() {
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

fn report(settings: &Settings, rows: &[Row], failure: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(why) = failure {
        let _ = writeln!(
            out,
            "**BENCH FAILED** — the rows below are the cycles before the failure.\n\n```\n{why}\n```\n"
        );
    }
    out.push_str(&settings.describe());
    out.push('\n');
    out.push_str(&table(&settings.machine, rows));
    out.push('\n');
    out.push_str(LEGEND);
    out.push('\n');
    out.push_str(&findings(rows));
    out.push_str(&breakdown(rows));
    out
}

fn report_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-sync.md")
}

fn write_report(text: &str) {
    let path = report_path();
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("bench: could not write {}: {e}", path.display());
    }
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == MEASURE) {
        return measure_main(&args[1..]);
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprint!("bench: {}", settings.describe());
    let runtime = match labsync::runtime::runtime(labsync::runtime::Workers::Fixed(2)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut bench = Bench {
        settings: &settings,
        rows: Vec::new(),
    };
    let result = runtime.block_on(bench.run());
    let rows = bench.rows;
    match result {
        Ok(()) => {
            let text = report(&settings, &rows, None);
            println!("{text}");
            write_report(&text);
            eprintln!("bench: report written to {}", report_path().display());
            ExitCode::SUCCESS
        }
        Err(why) => {
            let text = report(&settings, &rows, Some(&why));
            write_report(&text);
            eprintln!("\nbench: FAILED\n{why}\n");
            eprintln!(
                "bench: no figure is reported for the failed cycle; the {} cycles before it are in {}",
                rows.len(),
                report_path().display()
            );
            ExitCode::FAILURE
        }
    }
}
