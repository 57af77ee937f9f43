//! labsync's integration tests: one test binary, one module per subject.
//!
//! One binary instead of one per file: cargo links each integration test
//! file as a program of its own, and ~45 of them linked against the whole
//! dependency tree made every `cargo test` slow. Run one subject with
//! `cargo test --test it <module>::` (e.g. `cargo test --test it cost::`).
//!
//! The world the tests act in (simulators, plugin, store, the binary run on
//! them) is `labsync_testkit` (crates/testkit), shared with the bench. Data
//! files stay where they were: tests/data, tests/conformance.
//!
//! The tests share one process, so none may change process-wide state: no
//! environment variable, current directory, signal disposition or global
//! tracing subscriber is set here (a child process gets its own through
//! `Command`), and a file descriptor made by hand must be close-on-exec so
//! that another test's child does not inherit it. A new subject is a new
//! module here, not a new file directly under tests/.

mod backfill;
mod bad_answer;
mod bad_input;
mod bounded_answers;
mod check_online;
mod cli;
mod concurrency;
mod config_errors;
mod config_offline;
mod conformance_connectors;
mod conformance_storage;
mod convergence;
mod cost;
mod crash;
mod cut_answers;
mod daemon;
mod db_permissions;
// `labsync demo` and `labsync sim` exist only with the default feature
// `sim`; `cargo test --no-default-features` tests the binary without them.
#[cfg(feature = "sim")]
mod demo;
mod engine;
mod engine_on_fakes;
mod faults;
mod gitlab_client;
mod gitlab_conformance;
mod gitlab_lists;
mod gitlab_sim;
mod gitlab_writes;
mod gitlab_writes_engine;
mod hostile_links;
mod hostile_output;
mod hostile_text;
mod hung;
mod hung_daemon;
mod hung_routes;
mod interrupted_create;
mod lease;
mod logging_cli;
mod map_cli;
mod moved;
mod one_way;
mod readonly_db;
mod secrets;
// `labsync sim`, like `demo` above.
#[cfg(feature = "sim")]
mod sim_cli;
mod spira_behaviour;
mod spira_client;
mod spira_sim;
mod stale_mappings;
mod status_cli;
mod status_health;
mod store_state;
mod systemd_unit;
mod two_installs;
mod two_installs_interleavings;
mod upgrade;
mod url_credentials;
