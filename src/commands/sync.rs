//! `labsync sync` / `--sync-now` and `labsync plan`: one cycle of each
//! enabled plugin, for real or as a plan.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use super::table::Table;
use super::{Exit, Globals, fail, load_config, open_plan_store, open_store};
use crate::config::{Config, duration};
use crate::connectors::run_plugin;
use crate::connectors::{CycleMode, CycleOptions};
use crate::daemon::lease::Leases;
use crate::escape::printable;
use crate::http::HttpSettings;
use crate::logging::{Say, say};
use crate::sync::{CycleReport, Progress};

/// One cycle of every enabled plugin (or the one named); exit 0 when all
/// is done, 1 when some items failed, 2 when a plugin could not sync at all.
pub fn sync(globals: &Globals, plugin: Option<&str>) -> Exit {
    cycle(globals, plugin, None)
}

/// What the next cycle would write, without writing it.
pub fn plan(globals: &Globals, plugin: Option<&str>, json: bool) -> Exit {
    let shown = if json {
        PlanShown::Json
    } else {
        PlanShown::Lines
    };
    cycle(globals, plugin, Some(shown))
}

/// How `labsync plan` prints the plan.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PlanShown {
    Lines,
    Json,
}

/// One cycle of the plugins wanted; `plan`: only planned, shown so.
fn cycle(globals: &Globals, only: Option<&str>, plan: Option<PlanShown>) -> Exit {
    let mode = match plan {
        Some(_) => CycleMode::Plan,
        None => CycleMode::Sync,
    };
    let planning = mode == CycleMode::Plan;
    let config = match load_config(globals) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Some(name) = only
        && let Err(code) = super::known_plugin(&config, name)
    {
        return code;
    }
    // Everything that can be known offline, before the database is touched.
    let wanted = |p: &crate::config::Plugin| p.enabled && only.is_none_or(|o| o == p.name);
    if let Err(code) = super::check_secrets_of(&config, wanted) {
        return code;
    }
    // A file with no plugin, or only disabled ones, is a success that does
    // nothing: say so, or it reads like a sync that found no work.
    if !config.plugins.iter().any(wanted) {
        let file = config.source.display();
        let why = match only {
            Some(name) => format!("plugin '{name}' is disabled (enabled = false) in {file}"),
            None if config.plugins.is_empty() => format!("{file} defines no plugin"),
            None => format!("every plugin in {file} is disabled (enabled = false)"),
        };
        say(Say::Warning, format!("{why}: nothing to sync"));
    }
    let wait = match lease_wait() {
        Ok(w) => w,
        Err(e) => {
            fail(e);
            return Exit::Config;
        }
    };
    let opened = if planning {
        open_plan_store(globals, &config)
    } else {
        open_store(globals, &config)
    };
    let mut store = match opened {
        Ok(s) => s,
        Err(code) => return code,
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut options = CycleOptions {
        trigger: "sync-now",
        mode,
        http: http_settings(&config),
        stop: None,
        progress: None,
    };
    // On a terminal, a live line per plugin; without one, the log lines say it.
    let live = !planning && std::io::stderr().is_terminal();
    // A plan writes nothing, so it needs no lease.
    let mut leases = if planning {
        None
    } else {
        match Leases::open(store.path()) {
            Ok(l) => Some(l),
            Err(e) => {
                fail(e);
                return Exit::Config;
            }
        }
    };
    // A plan writes nothing: Ctrl-C may end it at once, as by default.
    let stop = leases.as_ref().map(|l| {
        let plugins = config.plugins.iter().filter(|p| wanted(p));
        let held = (store.path().to_path_buf(), l.holder().to_string());
        StopRequest::listen(&runtime, held, plugins.map(|p| p.name.clone()).collect())
    });
    options.stop = stop.as_ref().map(|s| s.flag.clone());
    let mut reports = Vec::new();
    let mut busy = false;
    for plugin in config.plugins.iter().filter(|p| wanted(p)) {
        if stop.as_ref().is_some_and(StopRequest::asked) {
            break;
        }
        let shown = live.then(|| Spinner::start(&runtime, &plugin.name));
        options.progress = shown.as_ref().map(|s| s.progress.clone());
        let cycle = run_plugin(plugin, &mut store, &options);
        let mut clock = std::time::Instant::now();
        let report = match &mut leases {
            None => runtime.block_on(cycle),
            Some(leases) => {
                let asked = stop.as_ref().map(|s| s.asked.clone());
                let waited = async {
                    match asked {
                        // Ctrl-C while another's cycle runs: stop waiting.
                        Some(asked) => tokio::select! {
                            taken = take_lease(leases, &plugin.name, wait) => Some(taken),
                            () = asked.notified() => None,
                        },
                        None => Some(take_lease(leases, &plugin.name, wait).await),
                    }
                };
                match runtime.block_on(waited) {
                    Some(true) => {}
                    Some(false) => {
                        busy = true;
                        continue;
                    }
                    None => break,
                }
                // The cycle's time, not the wait for another's to end.
                clock = std::time::Instant::now();
                runtime.block_on(leases.hold_during(&plugin.name, cycle))
            }
        };
        if let Some(spinner) = shown {
            spinner.finish(&report);
        }
        if !planning {
            crate::daemon::status::log(&report, clock.elapsed(), None);
        }
        reports.push(report);
    }
    match plan {
        Some(PlanShown::Lines) => print_plan(&reports),
        Some(PlanShown::Json) => print_plan_json(&reports),
        None => print_summary(&reports),
    }
    if let Some(code) = stop.as_ref().and_then(StopRequest::exit) {
        return code;
    }
    if busy {
        return Exit::Config;
    }
    exit_code(&reports)
}

/// Ctrl-C or SIGTERM during a cycle: the first asks it to stop after the
/// items in hand (what the daemon does; the run is recorded as
/// interrupted and the lease released), a second ends the process at once,
/// releasing the leases (a create left half-done is resolved by its intent
/// on the next cycle).
struct StopRequest {
    flag: std::sync::Arc<AtomicBool>,
    /// Wakes what waits outside a cycle (for another's lease) on the first signal.
    asked: std::sync::Arc<tokio::sync::Notify>,
    /// The signal that asked, 0 until one did.
    signal: std::sync::Arc<AtomicI32>,
}

impl StopRequest {
    /// `held`: the database and this process's lease holder name;
    /// `plugins`: the plugins whose leases it may hold.
    fn listen(
        runtime: &tokio::runtime::Runtime,
        held: (std::path::PathBuf, String),
        plugins: Vec<String>,
    ) -> StopRequest {
        let request = StopRequest {
            flag: std::sync::Arc::new(AtomicBool::new(false)),
            asked: std::sync::Arc::new(tokio::sync::Notify::new()),
            signal: std::sync::Arc::new(AtomicI32::new(0)),
        };
        let (flag, signal, asked) = (
            request.flag.clone(),
            request.signal.clone(),
            request.asked.clone(),
        );
        // The handlers are installed here, before anything is printed: made
        // inside the task, a signal could come before the task first ran
        // (a loaded machine) and end the process with its default action.
        let handlers = {
            use tokio::signal::unix::{SignalKind, signal as on};
            let _inside = runtime.enter();
            (on(SignalKind::interrupt()), on(SignalKind::terminate()))
        };
        runtime.spawn(async move {
            // Without the handlers, the signals keep their default: the
            // process ends at once, which intents make safe as well.
            let (Ok(mut int), Ok(mut term)) = handlers else {
                return;
            };
            loop {
                let number = tokio::select! {
                    _ = int.recv() => libc::SIGINT,
                    _ = term.recv() => libc::SIGTERM,
                };
                if flag.swap(true, Ordering::SeqCst) {
                    release_leases(&held.0, &held.1, &plugins);
                    say(Say::Note, "stopped at once");
                    std::process::exit(128 + number);
                }
                signal.store(number, Ordering::SeqCst);
                // notify_one keeps a permit if nothing waits yet.
                asked.notify_one();
                say(
                    Say::Note,
                    "stopping: finishing the items in hand (again to stop at once)",
                );
            }
        });
        request
    }

    fn asked(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// The exit code of a cycle a signal stopped.
    fn exit(&self) -> Option<Exit> {
        match self.signal.load(Ordering::SeqCst) {
            libc::SIGINT => Some(Exit::Interrupted),
            libc::SIGTERM => Some(Exit::Terminated),
            _ => None,
        }
    }
}

/// A spinner with live counts while a plugin's cycle runs.
struct Spinner {
    bar: indicatif::ProgressBar,
    progress: std::sync::Arc<Progress>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Spinner {
    fn start(runtime: &tokio::runtime::Runtime, plugin: &str) -> Spinner {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_prefix(plugin.to_string());
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
        {
            bar.set_style(style);
        }
        // Log lines written meanwhile hide the spinner, then it comes back.
        crate::logging::progress::show(&bar);
        let progress = std::sync::Arc::new(Progress::default());
        let (b, p) = (bar.clone(), progress.clone());
        let ticker = runtime.spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(120));
            loop {
                every.tick().await;
                b.set_message(p.describe());
                b.tick();
            }
        });
        Spinner {
            bar,
            progress,
            ticker,
        }
    }

    fn finish(self, report: &CycleReport) {
        self.ticker.abort();
        crate::logging::progress::hide();
        let t = report.totals();
        self.bar.finish_with_message(format!(
            "{} — {} written, {} failed",
            report.result(),
            t.writes(),
            t.failed
        ));
    }
}

/// Gives back the leases `holder` may hold, through a connection of its
/// own (the cycle's is busy); one that cannot be released expires.
fn release_leases(db: &std::path::Path, holder: &str, plugins: &[String]) {
    let Ok(mut store) = crate::store::Store::open(db) else {
        return;
    };
    for plugin in plugins {
        let _ = store.release(plugin, holder);
    }
}

/// Waits (up to $LABSYNC_LEASE_WAIT, default 60 s) for a cycle of the
/// plugin run by someone else to end; false when it did not, after saying so.
async fn take_lease(leases: &mut Leases, plugin: &str, wait: Duration) -> bool {
    let held = match leases.try_take(plugin) {
        Ok(None) => return true,
        Ok(Some(_)) => {
            say(
                Say::Note,
                format!(
                    "plugin '{plugin}': a cycle is running elsewhere; waiting up to {}",
                    humantime::format_duration(wait)
                ),
            );
            leases.wait_take(plugin, wait).await
        }
        Err(e) => Err(e),
    };
    match held {
        Ok(None) => true,
        Ok(Some(other)) => {
            fail(format!(
                "a cycle of plugin '{plugin}' is already running (held by {}); nothing was synced for it",
                other.holder
            ));
            false
        }
        Err(e) => {
            fail(e);
            false
        }
    }
}

/// $LABSYNC_LEASE_WAIT (default 60 s); a value that is not a duration is
/// refused naming the variable, not taken for the default.
fn lease_wait() -> Result<Duration, String> {
    match std::env::var("LABSYNC_LEASE_WAIT") {
        Err(std::env::VarError::NotPresent) => Ok(Duration::from_secs(60)),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err("LABSYNC_LEASE_WAIT (environment): is not UTF-8 text".to_string())
        }
        Ok(v) => duration::parse(&v, duration::LEASE_WAIT)
            .map_err(|e| format!("LABSYNC_LEASE_WAIT (environment): {e}")),
    }
}

pub(crate) fn http_settings(config: &Config) -> HttpSettings {
    config.http()
}

pub(crate) fn exit_code(reports: &[CycleReport]) -> Exit {
    if reports.iter().any(CycleReport::fatal) {
        Exit::Config
    } else if reports.iter().any(|r| r.failed_items() > 0) {
        Exit::ItemsFailed
    } else {
        Exit::Ok
    }
}

fn print_summary(reports: &[CycleReport]) {
    print!("{}", summary_table(reports));
    print_failures(reports);
}

/// One row per plugin and project: what the cycle created, updated and copied.
pub(super) fn summary_table(reports: &[CycleReport]) -> String {
    let mut table = Table::new(&[
        "PLUGIN",
        "PROJECT",
        "NEW ISSUES",
        "NEW INCIDENTS",
        "ISSUES UPDATED",
        "INCIDENTS UPDATED",
        "COMMENTS →GL",
        "COMMENTS →SPIRA",
        "CONFLICTS",
        "FAILED",
    ]);
    for r in reports {
        for p in &r.projects {
            let c = &p.counts;
            table.row(vec![
                r.plugin.clone(),
                format!("{} ↔ {}", p.tm_project, p.tracker_project),
                c.created_issues.to_string(),
                c.created_incidents.to_string(),
                c.updated_issues.to_string(),
                c.updated_incidents.to_string(),
                c.comments_to_tracker.to_string(),
                c.comments_to_tm.to_string(),
                c.conflicts.to_string(),
                c.failed.to_string(),
            ]);
        }
    }
    table.render()
}

/// Fatal problems and failed items, on stderr.
pub(super) fn print_failures(reports: &[CycleReport]) {
    for r in reports {
        for p in &r.projects {
            if let Some(f) = &p.fatal {
                fail(format!(
                    "plugin '{}', Spira project {}: {f}",
                    r.plugin, p.tm_project
                ));
            }
            for (what, lines) in [(Say::Failed, &p.failures), (Say::LeftAlone, &p.warnings)] {
                for line in lines {
                    say(
                        what,
                        format!(
                            "plugin '{}', Spira project {}: {line}",
                            r.plugin, p.tm_project
                        ),
                    );
                }
            }
        }
    }
}

/// `plan --json`: `{"plugins": [{"plugin", "projects": [{"tm_project",
/// "tracker_project", "cannot_plan", "writes": [{"write": "create_issue", …}]}]}]}`.
fn print_plan_json(reports: &[CycleReport]) {
    let plugins: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let projects: Vec<serde_json::Value> = r
                .projects
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "tm_project": p.tm_project,
                        "tracker_project": p.tracker_project,
                        "cannot_plan": p.fatal,
                        "writes": p.planned,
                    })
                })
                .collect();
            serde_json::json!({ "plugin": r.plugin, "projects": projects })
        })
        .collect();
    println!("{}", serde_json::json!({ "plugins": plugins }));
}

fn print_plan(reports: &[CycleReport]) {
    // Plan lines quote titles: escaped, one line each.
    let show = |line: String| println!("{}", printable(&line));
    for r in reports {
        for p in &r.projects {
            show(format!(
                "plugin '{}', Spira project {} ↔ GitLab {}:",
                r.plugin, p.tm_project, p.tracker_project
            ));
            if let Some(f) = &p.fatal {
                show(format!("  cannot plan: {f}"));
                continue;
            }
            if p.planned.is_empty() {
                show("  nothing to do".to_string());
            }
            for line in &p.planned {
                show(format!("  {line}"));
            }
        }
    }
}
