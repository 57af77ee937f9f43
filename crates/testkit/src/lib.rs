//! labsync's test kit: the one world its integration tests (`tests/it`) and
//! its bench (`benches/sync.rs`) act in.
//!
//! - [`world`]: both simulators, a plugin between them and a store in a
//!   temporary directory; a cycle, the requests it made, the real binary run
//!   on that world.
//! - [`cli`]: the binary run in a scratch directory on a config file, with no
//!   server behind it: what a user sees of `check`, `map`, `status`, …
//! - [`daemon`]: `labsync run` and `labsync sync` as processes: the systemd
//!   notify socket, signals, waiting for the database to show progress.
//! - [`memory`]: in-memory connectors ([`memory::MemoryTestManagement`],
//!   [`memory::MemoryIssueTracker`]) for engine behaviour tests: a movable
//!   clock, deterministic ids, and the real services' hard edges where the
//!   engine depends on them.
//! - [`conformance`]: one suite per connector trait, written once and run
//!   against every implementation (the fakes, the simulators through the
//!   real connectors, and real servers when the environment names one),
//!   and one for the engine's `Storage` port.
//!
//! A dev-dependency of the root package only (a dev-dependency cycle Cargo
//! allows): the shipped binary never links it.

use std::path::PathBuf;
use std::process::Command;

pub mod cli;
pub mod conformance;
pub mod daemon;
pub mod memory;
pub mod world;

pub use world::World;

/// The labsync binary cargo built next to the running test or bench.
///
/// Cargo sets `CARGO_BIN_EXE_labsync` when it builds (and runs) the root
/// package's integration tests and benches, not this crate; without it the
/// binary is found as cargo lays it out: `target/<profile>/labsync`, one
/// level above the test's own `deps/` directory.
pub fn labsync_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_labsync") {
        return PathBuf::from(path);
    }
    let me = std::env::current_exe().expect("the test's own path");
    let profile = me
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let path = profile.join("labsync");
    assert!(
        path.is_file(),
        "{} is missing: run the tests through cargo, which builds it",
        path.display()
    );
    path
}

/// The labsync binary with none of the developer's own settings: no
/// `LABSYNC_*`, log filter, systemd or credential variables leak into a test.
pub fn labsync_command() -> Command {
    let mut cmd = Command::new(labsync_binary());
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name.starts_with("LABSYNC_")
            || [
                "RUST_LOG",
                "NOTIFY_SOCKET",
                "WATCHDOG_USEC",
                "CREDENTIALS_DIRECTORY",
                "STATE_DIRECTORY",
            ]
            .contains(&name.as_ref())
        {
            cmd.env_remove(&k);
        }
    }
    cmd
}

/// The runtime of a test that drives one itself (a property test runs a
/// world per case) and of the bench: two workers, as on the CI machines.
pub fn runtime() -> tokio::runtime::Runtime {
    labsync::runtime::runtime(labsync::runtime::Workers::Fixed(2)).expect("an async runtime")
}
