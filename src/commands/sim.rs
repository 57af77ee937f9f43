//! `labsync sim`: the simulators alone, for trying a configuration safely.

use std::net::SocketAddr;

use super::{Exit, not_built};
use crate::sim::Seed;

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
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
}

fn parse_seed(s: &str) -> Result<Seed, String> {
    s.parse()
}

pub fn sim(_args: SimArgs) -> Exit {
    not_built("sim", "the simulators")
}
