//! In-memory simulators of GitLab REST v4 and Spira REST v7, for tests,
//! `labsync demo` and `labsync sim`.

pub mod config;
pub mod faults;
pub mod gitlab;
pub mod spira;
pub mod trap;

use std::str::FromStr;

/// What a simulator holds when it starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Seed {
    /// A project with users, milestones/releases, issues/incidents and
    /// comments on each side: what `labsync demo` shows.
    #[default]
    Demo,
    /// One project on each side with statuses, priorities and a few users,
    /// and nothing else.
    Empty,
}

impl FromStr for Seed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "demo" => Ok(Seed::Demo),
            "empty" => Ok(Seed::Empty),
            other => Err(format!("unknown seed '{other}': use demo or empty")),
        }
    }
}
