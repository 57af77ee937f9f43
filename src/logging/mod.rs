//! Logs go to stderr: human-readable on a terminal and in the journal, JSON
//! for log shippers. The level comes from --log-level (LABSYNC_LOG_LEVEL),
//! else RUST_LOG, else the configuration's `log_level` once it is loaded,
//! else info. The format likewise: --log-format (LABSYNC_LOG_FORMAT), else
//! the configuration's `log_format` once it is loaded, else human.
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
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Level;
use tracing_subscriber::layer::Layered;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

pub use plain::{Say, say};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Holds nothing today; returned so callers keep logging alive for `main`'s length.
pub struct LogGuard;

/// The subscriber the line formatter sits on: the registry under the level filter.
type Filtered = Layered<reload::Layer<EnvFilter, Registry>, Registry>;
/// The line formatter (human or JSON), swappable once the configuration is read.
type Formatter = Box<dyn Layer<Filtered> + Send + Sync>;

/// Whether lines are JSON now, for the plain lines (set at start, and by
/// the configuration's `log_format` when no option chose one).
static JSON: AtomicBool = AtomicBool::new(false);
/// The filter to set from the configuration's `log_level`, when no option
/// or variable chose the level.
static FILE_LEVEL: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();
/// The formatter to set from the configuration's `log_format`, when no
/// option or variable chose the format.
static FILE_FORMAT: OnceLock<reload::Handle<Formatter, Filtered>> = OnceLock::new();
/// Whether stderr goes to the journal, read once.
static JOURNAL: OnceLock<bool> = OnceLock::new();

/// The levels a `--log-level` may name.
pub const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];

pub(crate) fn format() -> LogFormat {
    if JSON.load(Ordering::Relaxed) {
        LogFormat::Json
    } else {
        LogFormat::Human
    }
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
            "'{text}' is not a level: use {}, or a filter such as info,labsync::sync=debug",
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
    let (filter, chosen) = match level {
        Some(l) => (
            parse_level(l).map_err(|e| format!("--log-level (or LABSYNC_LOG_LEVEL) {e}"))?,
            true,
        ),
        None => match EnvFilter::try_from_default_env() {
            Ok(f) => (f, true),
            Err(_) => (EnvFilter::new("info"), false),
        },
    };
    let chosen_format = format.is_some();
    let format = format.unwrap_or(LogFormat::Human);
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
    let (filter, handle) = reload::Layer::new(filter);
    if !chosen {
        let _ = FILE_LEVEL.set(handle);
    }
    let (layer, format_handle) = reload::Layer::new(formatter(format));
    if !chosen_format {
        let _ = FILE_FORMAT.set(format_handle);
    }
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
    Ok(LogGuard)
}

/// The line formatter of a format: JSON objects, or escaped human lines
/// (without a time and with a syslog priority under journald).
fn formatter(format: LogFormat) -> Formatter {
    let terminal = std::io::stderr().is_terminal();
    let layer = tracing_subscriber::fmt::layer().with_writer(|| progress::Stderr);
    match format {
        LogFormat::Json => layer.json().flatten_event(true).boxed(),
        LogFormat::Human => {
            let human = layer
                .with_ansi(terminal)
                .with_target(false)
                .fmt_fields(human::EscapedFields);
            if under_journal() {
                // The journal stamps each line itself, and reads the priority.
                human
                    .event_format(human::Prioritized(
                        tracing_subscriber::fmt::format()
                            .with_target(false)
                            .with_ansi(terminal)
                            .without_time(),
                    ))
                    .boxed()
            } else {
                human.boxed()
            }
        }
    }
}

/// The format a loaded configuration asks for (`log_format`, already
/// validated), used when neither --log-format nor LABSYNC_LOG_FORMAT chose one.
pub fn use_config_format(format: Option<&str>) {
    let Some(handle) = FILE_FORMAT.get() else {
        return;
    };
    // A key removed on reload means the default again.
    let format = match format.unwrap_or("human") {
        "json" => LogFormat::Json,
        "human" => LogFormat::Human,
        _ => return,
    };
    if format != self::format() && handle.reload(formatter(format)).is_ok() {
        JSON.store(format == LogFormat::Json, Ordering::Relaxed);
    }
}

/// The level a loaded configuration asks for (`log_level`), used when
/// neither --log-level/LABSYNC_LOG_LEVEL nor RUST_LOG chose one.
pub fn use_config_level(level: Option<&str>) {
    let Some(handle) = FILE_LEVEL.get() else {
        return;
    };
    // Validation refused a bad level already; a bad one here changes nothing.
    // A key removed on reload means the default again.
    if let Ok(filter) = parse_level(level.unwrap_or("info")) {
        let _ = handle.reload(filter);
    }
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
