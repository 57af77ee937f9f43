//! Logs go to stderr: human-readable on a terminal and in the journal, JSON
//! for log shippers. The level comes from --log-level, else RUST_LOG, else info.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Holds nothing today; returned so callers keep logging alive for `main`'s length.
pub struct LogGuard;

pub fn init(level: Option<&str>, format: Option<LogFormat>) -> LogGuard {
    let filter = match level {
        Some(l) => EnvFilter::try_new(l).unwrap_or_else(|e| {
            eprintln!(
                "labsync: warning: --log-level '{l}' is not a level or filter ({e}); using info"
            );
            EnvFilter::new("info")
        }),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.unwrap_or(LogFormat::Human) {
        LogFormat::Json => {
            let _ = builder.json().flatten_event(true).try_init();
        }
        LogFormat::Human => {
            let terminal = std::io::stderr().is_terminal();
            // The journal stamps each line itself.
            let journal = std::env::var_os("JOURNAL_STREAM").is_some();
            let b = builder.with_ansi(terminal).with_target(false);
            let _ = if journal {
                b.without_time().try_init()
            } else {
                b.try_init()
            };
        }
    }
    LogGuard
}
