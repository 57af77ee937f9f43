//! `labsync sim`: the simulators alone, for trying a configuration safely.

use std::net::SocketAddr;

use std::time::Duration;

use super::{Exit, fail};
use crate::sim::Seed;
use crate::sim::gitlab::{GitLabSim, GitLabSimConfig};
use crate::sim::spira::{SpiraSim, SpiraSimConfig};

#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// Where the GitLab simulator listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub gitlab_addr: SocketAddr,
    /// Where the Spira simulator listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub spira_addr: SocketAddr,
    /// demo: projects with issues, incidents, comments; empty: projects, users and lookups only.
    #[arg(long, default_value = "demo", value_parser = parse_seed)]
    pub seed: Seed,
    /// GitLab token to accept [default: random, printed].
    #[arg(long)]
    pub gitlab_token: Option<String>,
    /// Spira login to accept [default: administrator].
    #[arg(long)]
    pub spira_login: Option<String>,
    /// Spira api key to accept [default: random, printed].
    #[arg(long)]
    pub spira_api_key: Option<String>,
    /// GitLab requests allowed per minute and token (429 beyond).
    #[arg(long)]
    pub rate_limit_per_minute: Option<u32>,
    /// Delay added to every answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of requests (0.0 to 1.0) answered with a fault: 5xx, dropped connection or 429.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub fault_rate: f64,
}

fn parse_seed(s: &str) -> Result<Seed, String> {
    s.parse()
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("'{s}' is not a share between 0.0 and 1.0")),
    }
}

/// Starts both simulators, prints one line of JSON saying where they are
/// and how to sign in, and serves until SIGTERM or SIGINT.
pub fn sim(args: SimArgs) -> Exit {
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(serve(args))
}

async fn serve(args: SimArgs) -> Exit {
    let latency = Duration::from_millis(args.latency_ms);
    let gitlab = GitLabSim::start(GitLabSimConfig {
        addr: args.gitlab_addr,
        seed: args.seed,
        token: args.gitlab_token.clone(),
        rate_limit_per_minute: args.rate_limit_per_minute,
        latency,
        fault_rate: args.fault_rate,
        ..GitLabSimConfig::default()
    })
    .await;
    let gitlab = match gitlab {
        Ok(g) => g,
        Err(e) => {
            fail(format!(
                "GitLab simulator: cannot listen on {}: {e}",
                args.gitlab_addr
            ));
            return Exit::Config;
        }
    };
    let spira = SpiraSim::start(SpiraSimConfig {
        addr: args.spira_addr,
        seed: args.seed,
        login: args.spira_login.clone(),
        api_key: args.spira_api_key.clone(),
        latency,
        fault_rate: args.fault_rate,
        ..SpiraSimConfig::default()
    })
    .await;
    let spira = match spira {
        Ok(s) => s,
        Err(e) => {
            fail(format!(
                "Spira simulator: cannot listen on {}: {e}",
                args.spira_addr
            ));
            gitlab.shutdown().await;
            return Exit::Config;
        }
    };
    // The one line a script reads; these are the simulators' own
    // throw-away credentials, printed by design.
    let line = serde_json::json!({
        "gitlab_url": gitlab.url(),
        "gitlab_token": gitlab.token(),
        "gitlab_project": gitlab.project_path(),
        "spira_url": spira.url(),
        "spira_login": spira.login(),
        "spira_api_key": spira.api_key(),
        "spira_project_id": spira.project_id(),
    });
    println!("{line}");
    tracing::info!(gitlab = %gitlab.url(), spira = %spira.url(), "simulators listening; stop with Ctrl-C or SIGTERM");
    wait_for_stop().await;
    gitlab.shutdown().await;
    spira.shutdown().await;
    Exit::Ok
}

async fn wait_for_stop() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
