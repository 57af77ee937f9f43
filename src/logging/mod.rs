//! Logs go to stderr: human-readable on a terminal and in the journal, JSON
//! for log shippers. The level comes from --log-level, else RUST_LOG, else info.
//!
//! Human lines are escaped ([`human`]); under journald each starts with its
//! syslog priority (`<3>` error … `<7>` debug, sd-daemon(3)) so that
//! `journalctl -p err` works. The plain lines commands print ([`plain`])
//! follow the same format and prefix.

mod human;
pub mod plain;
pub mod progress;

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing::Level;
use tracing_subscriber::EnvFilter;

pub use plain::{Say, say};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Holds nothing today; returned so callers keep logging alive for `main`'s length.
pub struct LogGuard;

/// The format chosen at start, for the plain lines.
static FORMAT: OnceLock<LogFormat> = OnceLock::new();
/// Whether stderr goes to the journal, read once.
static JOURNAL: OnceLock<bool> = OnceLock::new();

/// The levels a `--log-level` may name.
pub const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];

pub(crate) fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or(LogFormat::Human)
}

fn under_journal() -> bool {
    *JOURNAL.get_or_init(|| std::env::var_os("JOURNAL_STREAM").is_some())
}

/// The syslog priority prefix of a human line under journald, else "".
pub(crate) fn journal_prefix(level: Level) -> &'static str {
    if format() == LogFormat::Json || !under_journal() {
        return "";
    }
    match level {
        Level::ERROR => "<3>",
        Level::WARN => "<4>",
        Level::INFO => "<6>",
        _ => "<7>",
    }
}

/// A level (`debug`) or a filter whose every directive ends in one
/// (`info,labsync::store=debug`). A bare word is refused: the filter syntax
/// would take `verbose` for a target and silently mute everything.
pub fn parse_level(text: &str) -> Result<EnvFilter, String> {
    let refuse = || {
        format!(
            "--log-level (or LABSYNC_LOG_LEVEL) '{text}' is not a level: use {}, or a filter such as info,labsync::sync=debug",
            LEVELS.join(", ")
        )
    };
    let known = |l: &str| LEVELS.contains(&l.trim().to_ascii_lowercase().as_str());
    let ok = !text.trim().is_empty()
        && text
            .split(',')
            .all(|directive| match directive.rsplit_once('=') {
                Some((target, level)) => !target.trim().is_empty() && known(level),
                None => known(directive),
            });
    if !ok {
        return Err(refuse());
    }
    EnvFilter::try_new(text.trim()).map_err(|_| refuse())
}

/// Sets up logging; an unknown level is refused with one line.
pub fn init(level: Option<&str>, format: Option<LogFormat>) -> Result<LogGuard, String> {
    let filter = match level {
        Some(l) => parse_level(l)?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let format = format.unwrap_or(LogFormat::Human);
    let _ = FORMAT.set(format);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| progress::Stderr);
    match format {
        LogFormat::Json => {
            let _ = builder.json().flatten_event(true).try_init();
        }
        LogFormat::Human => {
            let terminal = std::io::stderr().is_terminal();
            let b = builder
                .with_ansi(terminal)
                .with_target(false)
                .fmt_fields(human::EscapedFields);
            let _ = if under_journal() {
                // The journal stamps each line itself, and reads the priority.
                b.event_format(human::Prioritized(
                    tracing_subscriber::fmt::format()
                        .with_target(false)
                        .with_ansi(terminal)
                        .without_time(),
                ))
                .try_init()
            } else {
                b.try_init()
            };
        }
    }
    Ok(LogGuard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_filters_pass_bare_words_do_not() {
        for ok in [
            "info",
            "DEBUG",
            "off",
            "labsync=debug",
            "warn,labsync::sync=trace",
        ] {
            assert!(parse_level(ok).is_ok(), "{ok}");
        }
        for bad in [
            "verbose",
            "",
            "labsync",
            "info,verbose",
            "labsync=loud",
            "=info",
        ] {
            let e = parse_level(bad).unwrap_err();
            assert!(e.contains("error, warn, info, debug, trace, off"), "{e}");
        }
    }
}
