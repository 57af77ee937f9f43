//! labsync keeps a test-management system (Spira) and GitLab's issue tracker
//! in two-way sync. The README says how to use it; this and ARCHITECTURE.md
//! say how it is built.
//!
//! # Code map
//!
//! The repository is a Cargo workspace. The modules marked with a crate below
//! are crates of their own under `crates/`, re-exported here under their
//! module names; a crate cannot name what it does not depend on, so the
//! compiler keeps their "may not depend on" column true.
//!
//! | module | what lives there | may not depend on |
//! |---|---|---|
//! | [`config`] | plugins.toml + `LABSYNC_*` (figment), validation into [`config::Config`], secret sources; what the file declares for the mapping tables, as the store's [`store::declared::Declared`] | clients, sim |
//! | [`store`] (crate `labsync_store`) | SQLite: open, migrations (`crates/store/migrations/*.sql`, embedded), one module per table group; implements the engine's `Storage` port | config, clients, sim |
//! | [`http`] (crate `labsync_http`) | the HTTP layer both clients share: timeouts, retries with backoff, rate-limit gate; per client a deadline, a circuit breaker and a heartbeat (`bounds.rs`) | config, store |
//! | [`inflight`] (`labsync_model`) | the count of items being synced, which listings wait on before reading a page in-flight writes could shift | everything |
//! | [`connectors`] | building each side's connector (in its client's crate, behind the engine's trait for it: [`sync::connector`]) from a plugin's configuration and secrets; one cycle of a plugin (`run_plugin`) | the engine's internals |
//! | [`gitlab`], [`spira`] (crates `labsync_gitlab`, `labsync_spira`) | API clients: typed requests and answers, typed errors; each crate's `connector` puts its client behind the engine's port (Spira's link-back properties, concurrency token and URLs; GitLab's footer, quick-action defusing, limits and references; each client error given its kind) | store, config |
//! | [`sim`] (crate `labsync_sim`; feature `sim`, on by default) | in-memory GitLab and Spira servers (axum) with fault injection and a movable clock | everything but `model` (it borrows [`text::spira_kept`], Spira's own cleaning) |
//! | [`mapping`] (`labsync_engine`) | resolving statuses, priorities, users, releases; the primary rule; user auto-map | store I/O, clients |
//! | [`model`] (crate `labsync_model`) | the neutral record ([`model::Ticket`]) both sides are resolved into | store, clients |
//! | [`sync`] (crate `labsync_engine`) | the engine; its ports: [`sync::connector`] (the `TestManagement` and `IssueTracker` traits, neutral records, error kinds) and [`sync::storage`] (the `Storage` trait the store implements, the rows it keeps); [`sync::settings`] what it needs of a plugin; [`sync::merge`] the per-field three-way merge | HTTP, SQLite, the clients, the connectors, the store, the configuration |
//! | [`text`] (`labsync_model`) | Spira HTML ↔ GitLab Markdown, canonical form, the nesting limit (measured without recursion), sanitizing what goes to Spira (ammonia), link-back footer and marker, GitLab's size limits | everything |
//! | [`daemon`] | `labsync run`: schedules (and backoff for an unreachable side), cycle leases (shared with `sync`), signals, systemd notify, a watchdog pinged only on progress | HTTP and SQL directly (it goes through the engine and the store) |
//! | [`demo`] (feature `sim`) | the pieces of `labsync demo`: staging the simulators and config, what moved, people editing both sides | commands |
//! | [`commands`] | what each subcommand does and prints | — |
//! | [`escape`] | text for people: control and bidi characters escaped, URLs scrubbed — every human output passes through it | everything |
//! | [`logging`] | tracing setup: human (escaped; syslog priorities under journald) or JSON on stderr; the plain `labsync: …` lines | — |
//! | [`runtime`] | the one builder of the async runtime (commands, demo, tests, bench) | everything |
//! | [`redact`] (`labsync_http`) | credentials in URLs: found (the config refuses them) and scrubbed from every error and log line | everything |
//! | [`secret`] (`labsync_http`) | the `Secret` type: redacted in `Debug`/`Display` | — |
//!
//! `src/main.rs` only parses arguments and calls [`commands`].
//!
//! The crates, the invariants every change keeps, and what the redesign has
//! not done yet: `ARCHITECTURE.md` at the repository's root.

pub mod commands;
pub mod config;
pub mod connectors;
pub mod daemon;
#[cfg(feature = "sim")]
pub mod demo;
pub mod escape;
pub mod logging;
pub mod runtime;

// The leaf crates, under the module names the rest of the code (and the tests)
// knew them by.
pub use labsync_engine as sync;
pub use labsync_engine::mapping;
pub use labsync_gitlab as gitlab;
pub use labsync_http as http;
pub use labsync_http::{redact, secret};
pub use labsync_model as model;
pub use labsync_model::inflight;
pub use labsync_model::text;
#[cfg(feature = "sim")]
pub use labsync_sim as sim;
pub use labsync_spira as spira;
pub use labsync_store as store;
