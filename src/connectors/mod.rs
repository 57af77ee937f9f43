//! The connectors: each side's client behind the engine's trait for it
//! ([`crate::sync::connector`]). Commands build them from a plugin's
//! configuration and hand them to the engine.

pub mod gitlab;
pub mod spira;

pub use gitlab::GitLabConnector;
pub use spira::SpiraConnector;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::config::Plugin;
use crate::http::{HttpError, HttpSettings};
use crate::store::Store;
use crate::sync::connector::{ConnectorError, Down, Endpoints};
use crate::sync::{CycleReport, Progress, RunOptions, STOP_GRACE};

/// What a cycle is given: how to run it, and how to reach the servers.
#[derive(Clone, Debug)]
pub struct CycleOptions {
    /// schedule | sync-now | demo (stored in the run log).
    pub trigger: &'static str,
    /// Compute and report what would be written; write nothing.
    pub dry_run: bool,
    pub http: HttpSettings,
    /// Set by SIGTERM/SIGINT: the cycle stops after the items in hand, and
    /// watermarks move only past what was done.
    pub stop: Option<Arc<AtomicBool>>,
    /// Counts items as they are done, for a progress display.
    pub progress: Option<Arc<Progress>>,
}

impl CycleOptions {
    /// The engine's part: the items in hand get a request's timeout to
    /// finish after a stop, at most [`STOP_GRACE`].
    fn engine(&self) -> RunOptions {
        RunOptions {
            trigger: self.trigger,
            dry_run: self.dry_run,
            stop_grace: STOP_GRACE.min(self.http.timeout),
            stop: self.stop.clone(),
            progress: self.progress.clone(),
        }
    }
}

/// The connectors of `plugin`'s two servers.
pub fn connect(
    plugin: &Plugin,
    http: &HttpSettings,
) -> Result<(SpiraConnector, GitLabConnector), ConnectorError> {
    let tracker = GitLabConnector::connect(plugin, http)?;
    let tm = SpiraConnector::connect(plugin, http)?;
    Ok((tm, tracker))
}

/// One cycle of `plugin` between its Spira and GitLab servers.
pub async fn run_plugin(plugin: &Plugin, store: &mut Store, opts: &CycleOptions) -> CycleReport {
    let run = opts.engine();
    let settings = plugin.settings();
    match connect(plugin, &opts.http) {
        Ok((tm, tracker)) => {
            let sides = Endpoints {
                tm: &tm,
                tracker: &tracker,
            };
            crate::sync::run(&settings, Ok(sides), store, &run).await
        }
        Err(e) => crate::sync::run(&settings, Err(e), store, &run).await,
    }
}

/// The side a failure says is down: the breaker opened (the server did
/// not answer several requests in a row) or the cycle's deadline for it
/// passed.
pub(crate) fn down_of(side: &'static str, e: &HttpError) -> Option<Down> {
    let (unreachable, message) = match e {
        HttpError::Unreachable { cause, .. } => (true, format!("{side} is unreachable: {cause}")),
        // A cycle at full cost at the next tick would meet the same slow
        // server: the daemon backs off as from one that does not answer.
        HttpError::Deadline { after, .. } => (
            true,
            format!(
                "{side} took too long: the cycle's deadline for it ({}) passed; the rest waits for the next cycle",
                humantime::format_duration(*after)
            ),
        ),
        _ => return None,
    };
    Some(Down {
        side,
        unreachable,
        message,
    })
}

#[cfg(test)]
mod tests;
