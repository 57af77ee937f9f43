//! `labsync run`: every enabled plugin on its schedule, one cycle at a time.
//!
//! - [`schedule`] says when each plugin is due (interval or cron, jitter).
//! - [`lease`] keeps a cycle exclusive across processes: the daemon and a
//!   `labsync --sync-now` never sync the same plugin at once.
//! - [`notify`] tells systemd READY, STATUS, WATCHDOG and STOPPING.
//!
//! Signals only set flags (signals.rs); the loop acts on them between
//! cycles, and the running cycle checks the stop flag between items (and is
//! abandoned when its items do not finish within a few seconds). The
//! watchdog is pinged only while the daemon makes progress (watchdog.rs);
//! status.rs words the STATUS= line.
//!
//! A plugin whose cycle a side stopped (unreachable, or past the cycle's
//! deadline) is tried again with backoff ([`backoff`]), whatever its
//! schedule, until a cycle finishes with both sides again.
//!
//! Two daemons on one database: the second refuses to start while the
//! first holds the daemon lease ([`crate::store::lease::DAEMON`]).

pub mod backoff;
pub mod lease;
pub mod notify;
pub mod schedule;
mod signals;
pub(crate) mod status;
mod watchdog;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use crate::config::{Config, Plugin};
use crate::connectors::run_plugin;
use crate::connectors::{CycleMode, CycleOptions};
use crate::http::{Heartbeat, HttpSettings};
use crate::store::lease::DAEMON;
use crate::store::{Store, StoreError};
use backoff::Backoff;

use lease::{Leases, RENEW_EVERY};
use notify::Notifier;
use signals::Flags;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("labsync run is already running on this database (pid {pid}, holder {holder})")]
    AlreadyRunning { pid: String, holder: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
}

/// The daemon's state between cycles.
struct Daemon {
    config_path: PathBuf,
    config: Config,
    store: Store,
    leases: Leases,
    notifier: Notifier,
    flags: Flags,
    /// When each enabled plugin is due next.
    next: BTreeMap<String, DateTime<Utc>>,
    /// Plugins whose last cycles a side stopped.
    backoff: Backoff,
    /// Beaten by the loop, by each cycle's end and by every HTTP answer.
    heartbeat: Heartbeat,
    /// How often the watchdog task looks at the heartbeat, if systemd asks.
    watchdog_every: Option<std::time::Duration>,
}

/// Runs until SIGTERM or SIGINT; the cycle in hand finishes its item first.
pub async fn run(config_path: PathBuf, config: Config, store: Store) -> Result<(), DaemonError> {
    let mut leases = Leases::open(store.path())?;
    if let Some(other) = leases.try_take(DAEMON)? {
        return Err(DaemonError::AlreadyRunning {
            pid: other.pid.map_or("?".into(), |p| p.to_string()),
            holder: other.holder,
        });
    }
    let notifier = Notifier::from_env();
    let flags = match signals::listen(notifier.clone()) {
        Ok(f) => f,
        Err(e) => {
            leases.release(DAEMON);
            return Err(DaemonError::Signals(e));
        }
    };
    let heartbeat = Heartbeat::default();
    let watchdog_every = notify::watchdog_interval();
    if let Some(every) = watchdog_every {
        watchdog::spawn(every, heartbeat.clone(), notifier.clone());
    }
    let mut daemon = Daemon {
        config_path,
        config,
        store,
        leases,
        notifier,
        flags,
        next: BTreeMap::new(),
        backoff: Backoff::default(),
        heartbeat,
        watchdog_every,
    };
    daemon.reschedule(None);
    daemon.publish_schedule();
    tracing::info!(
        plugins = daemon.next.len(),
        holder = %daemon.leases.holder(),
        "labsync run started"
    );
    daemon.notifier.ready();
    daemon.notifier.status("started; no cycle yet");
    daemon.main_loop().await;
    daemon.next.clear();
    daemon.publish_schedule();
    daemon.leases.release(DAEMON);
    tracing::info!("labsync run stopped");
    Ok(())
}

impl Daemon {
    async fn main_loop(&mut self) {
        let mut renewed = tokio::time::Instant::now();
        loop {
            // Between cycles the loop itself is the progress.
            self.heartbeat.beat();
            if self.flags.stop.load(Ordering::SeqCst) {
                return;
            }
            if self.flags.reload.swap(false, Ordering::SeqCst) {
                self.reload();
            }
            if renewed.elapsed() >= RENEW_EVERY {
                self.leases.renew();
                renewed = tokio::time::Instant::now();
            }
            let now = Utc::now();
            let due = self
                .next
                .iter()
                .filter(|(_, at)| **at <= now)
                .min_by_key(|(_, at)| **at)
                .map(|(name, _)| name.clone());
            if let Some(name) = due {
                self.cycle(&name).await;
                renewed = tokio::time::Instant::now();
                continue;
            }
            let earliest = self.next.values().min().copied();
            let mut pause = earliest
                .and_then(|t| (t - now).to_std().ok())
                .unwrap_or(RENEW_EVERY)
                .min(RENEW_EVERY);
            if let Some(every) = self.watchdog_every {
                pause = pause.min(every);
            }
            pause = pause.max(std::time::Duration::from_millis(10));
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.flags.wake.notified() => {}
            }
        }
    }

    /// One cycle of the plugin, if its lease can be had.
    async fn cycle(&mut self, name: &str) {
        let started = Utc::now();
        let Some(plugin) = self.config.plugin(name).cloned() else {
            self.next.remove(name);
            self.publish_schedule();
            return;
        };
        let next = schedule::next_run(&plugin.schedule, started, &mut rand::rng());
        self.next.insert(name.to_string(), next);
        self.publish_schedule();
        match self.leases.try_take(name) {
            Ok(None) => {}
            Ok(Some(other)) => {
                tracing::info!(plugin = name, holder = %other.holder, "cycle skipped: another labsync is running one");
                return;
            }
            Err(e) => {
                tracing::error!(plugin = name, cause = %e, "cycle skipped: cannot take the lease");
                return;
            }
        }
        let options = cycle_options(&self.config, &self.flags, &self.heartbeat);
        let clock = std::time::Instant::now();
        let report = self
            .leases
            .hold_during(name, run_plugin(&plugin, &mut self.store, &options))
            .await;
        self.heartbeat.beat();
        let next = self.after_unreachable(name, &report).unwrap_or(next);
        status::log(&report, clock.elapsed(), Some(next));
        self.notifier
            .status(&status::line(&report, started, Some(next)));
    }

    /// When a side stopped the cycle (it did not answer, or took past the
    /// cycle's deadline): the next try, sooner or later than the schedule
    /// says. A cycle that both sides finished puts the plugin back on its
    /// schedule.
    fn after_unreachable(
        &mut self,
        name: &str,
        report: &crate::sync::CycleReport,
    ) -> Option<DateTime<Utc>> {
        let retry = self.backoff.after(name, report, Utc::now())?;
        tracing::warn!(
            plugin = name,
            side = retry.sides.join(", "),
            tries = retry.tries,
            retry_in = %humantime::format_duration(retry.wait),
            "unreachable: trying again with backoff"
        );
        self.next.insert(name.to_string(), retry.at);
        Some(retry.at)
    }

    /// SIGHUP: a config that does not load is refused and the old one kept.
    fn reload(&mut self) {
        let new = match Config::load(&self.config_path) {
            Ok(c) => c,
            Err(e) => {
                let problems = e.problems();
                for line in &problems {
                    tracing::error!("reload refused: {line}");
                }
                tracing::error!("reload refused: keeping the configuration in use");
                self.notifier.status(&format!(
                    "reload refused ({} problem(s), first: {}); running the previous configuration",
                    problems.len(),
                    problems.first().map_or("", String::as_str)
                ));
                return;
            }
        };
        if new.database != self.config.database {
            tracing::warn!("`database` changed: it takes effect when labsync run restarts");
        }
        if let Err(e) = self.store.apply_config(&new) {
            tracing::error!(cause = %e, "reload refused: keeping the configuration in use");
            return;
        }
        let changes = crate::config::changes(&self.config, &new);
        // Unless an option or variable chose them, the file's level and format.
        crate::logging::use_config_level(new.log_level.as_deref());
        crate::logging::use_config_format(new.log_format.as_deref());
        let old = std::mem::replace(&mut self.config, new);
        self.reschedule(Some(&old));
        self.publish_schedule();
        tracing::info!(
            plugins = self.next.len(),
            changes = changes.len(),
            "configuration reloaded"
        );
        for change in &changes {
            tracing::info!("reload changed {change}");
        }
    }

    /// Records the next cycle of each plugin for `labsync status`.
    fn publish_schedule(&mut self) {
        if let Err(e) = self.store.record_schedule(&self.next) {
            tracing::warn!(cause = %e, "could not record the next cycle times for labsync status");
        }
    }

    /// Plans every enabled plugin; a plugin whose schedule did not change
    /// keeps its next time.
    fn reschedule(&mut self, old: Option<&Config>) {
        let now = Utc::now();
        let mut rng = rand::rng();
        let mut next = BTreeMap::new();
        for p in self.config.plugins.iter().filter(|p| p.enabled) {
            let unchanged = old
                .and_then(|o| o.plugin(&p.name))
                .is_some_and(|o: &Plugin| o.enabled && o.schedule == p.schedule);
            let at = match self.next.get(&p.name) {
                Some(at) if unchanged => *at,
                _ => schedule::first_run(&p.schedule, now, &mut rng),
            };
            next.insert(p.name.clone(), at);
        }
        self.next = next;
    }
}

fn cycle_options(config: &Config, flags: &Flags, heartbeat: &Heartbeat) -> CycleOptions {
    CycleOptions {
        trigger: "schedule",
        mode: CycleMode::Sync,
        http: HttpSettings {
            heartbeat: heartbeat.clone(),
            ..config.http()
        },
        stop: Some(Arc::clone(&flags.stop)),
        progress: None,
    }
}
