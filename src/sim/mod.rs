//! In-memory simulators of GitLab REST v4 and Spira REST v7, for tests,
//! `labsync demo` and `labsync sim`.

pub mod faults;
pub mod gitlab;
pub mod spira;
