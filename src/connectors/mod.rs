//! Building the connectors from a plugin's configuration and handing them to
//! the engine. Each connector lives in its client's crate
//! (`labsync_spira::connector`, `labsync_gitlab::connector`) behind the
//! engine's trait for its side ([`crate::sync::connector`]); this module
//! reads the secrets and settings they are built from.

pub use labsync_gitlab::connector as gitlab;
pub use labsync_spira::connector as spira;

pub use labsync_gitlab::GitLabConnector;
pub use labsync_spira::{NewReleases, SpiraConnector};

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::config::Plugin;
use crate::gitlab::GitLabClient;
use crate::http::HttpSettings;
use crate::spira::SpiraClient;
use crate::store::Store;
use crate::sync::connector::{ConnectorError, Endpoints, ErrorKind};
use crate::sync::{CycleReport, Progress, RunOptions, STOP_GRACE};

/// What a cycle does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CycleMode {
    /// Read, plan and write (the engine's [`crate::sync::run`]).
    Sync,
    /// Read and plan: report what a sync would write, and write nothing
    /// (the engine's [`crate::sync::plan_cycle`]).
    Plan,
}

/// What a cycle is given: how to run it, and how to reach the servers.
#[derive(Clone, Debug)]
pub struct CycleOptions {
    /// schedule | sync-now | demo (stored in the run log).
    pub trigger: &'static str,
    /// Sync, or only plan (`labsync plan`).
    pub mode: CycleMode,
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
    let tracker = connect_gitlab(plugin, http)?;
    let tm = connect_spira(plugin, http)?;
    Ok((tm, tracker))
}

/// The connector for `plugin`'s Spira server.
pub fn connect_spira(
    plugin: &Plugin,
    http: &HttpSettings,
) -> Result<SpiraConnector, ConnectorError> {
    let key = plugin.spira.api_key().map_err(|e| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!("plugin '{}': spira.api_key: {e}", plugin.name),
        )
    })?;
    let client = SpiraClient::new(
        plugin.spira.base_url.as_str(),
        plugin.spira.login.clone(),
        key,
        plugin.spira.http(http),
    )?;
    let releases = NewReleases {
        type_id: plugin.spira.release_type_id,
        status_id: plugin.spira.release_status_id,
    };
    Ok(SpiraConnector::new(
        client,
        plugin.spira.base_url.as_str(),
        releases,
    ))
}

/// The connector for `plugin`'s GitLab server.
pub fn connect_gitlab(
    plugin: &Plugin,
    http: &HttpSettings,
) -> Result<GitLabConnector, ConnectorError> {
    let token = plugin.gitlab.token().map_err(|e| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!("plugin '{}': gitlab.token: {e}", plugin.name),
        )
    })?;
    let client = GitLabClient::new(
        plugin.gitlab.base_url.as_str(),
        token,
        plugin.gitlab.http(http),
    )?;
    Ok(GitLabConnector::new(client))
}

/// One cycle of `plugin` between its Spira and GitLab servers (or its
/// plan, in [`CycleMode::Plan`]).
pub async fn run_plugin(plugin: &Plugin, store: &mut Store, opts: &CycleOptions) -> CycleReport {
    match connect(plugin, &opts.http) {
        Ok((tm, tracker)) => {
            let sides = Endpoints {
                tm: &tm,
                tracker: &tracker,
            };
            cycle(plugin, Ok(sides), store, opts).await
        }
        Err(e) => cycle(plugin, Err(e), store, opts).await,
    }
}

async fn cycle(
    plugin: &Plugin,
    sides: Result<Endpoints<'_>, ConnectorError>,
    store: &mut Store,
    opts: &CycleOptions,
) -> CycleReport {
    let settings = plugin.settings();
    match opts.mode {
        CycleMode::Plan => crate::sync::plan_cycle(&settings, sides, store).await,
        CycleMode::Sync => crate::sync::run(&settings, sides, store, &opts.engine()).await,
    }
}

#[cfg(test)]
mod tests;
