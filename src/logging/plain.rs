//! The lines commands print on stderr besides the log (`labsync: error: …`,
//! `labsync: failed: …`): one line each, escaped for people, or one JSON
//! object each under `--log-format json`, so that a log shipper reading
//! stderr gets nothing else.

use std::fmt::Display;

use super::{LogFormat, format};
use crate::escape::printable;

/// What a plain line says, which sets its label and its severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Say {
    Error,
    /// An item that failed and waits in the error queue.
    Failed,
    Warning,
    /// An item deliberately not synced.
    LeftAlone,
    Hint,
    /// Something a person waiting should know (e.g. waiting for a lease).
    Note,
}

impl Say {
    fn label(self) -> &'static str {
        match self {
            Say::Error => "error",
            Say::Failed => "failed",
            Say::Warning => "warning",
            Say::LeftAlone => "left alone",
            Say::Hint => "hint",
            Say::Note => "note",
        }
    }

    fn level(self) -> tracing::Level {
        match self {
            Say::Error | Say::Failed => tracing::Level::ERROR,
            Say::Warning | Say::LeftAlone => tracing::Level::WARN,
            Say::Hint | Say::Note => tracing::Level::INFO,
        }
    }
}

/// Prints one plain line on stderr.
pub fn say(what: Say, text: impl Display) {
    let line = format!("{}\n", render(what, &text.to_string(), format()));
    let _ = super::progress::write_around_bar(&mut std::io::stderr().lock(), line.as_bytes());
}

fn render(what: Say, text: &str, format: LogFormat) -> String {
    match format {
        LogFormat::Json => serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": what.level().as_str(),
            "kind": what.label(),
            "message": crate::redact::scrub_urls(text),
        })
        .to_string(),
        LogFormat::Human => format!(
            "{}labsync: {}: {}",
            super::journal_prefix(what.level()),
            what.label(),
            printable(text)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_is_one_line_or_one_json_object() {
        let text = "item 'a\nlabsync: error: forged\u{1b}[2J'";
        let human = render(Say::Failed, text, LogFormat::Human);
        assert_eq!(human.lines().count(), 1, "{human}");
        assert!(human.ends_with("labsync: failed: item 'a\\nlabsync: error: forged\\u{1b}[2J'"));
        let json = render(Say::Failed, text, LogFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["message"], text, "JSON keeps the text exact");
        assert_eq!(v["level"], "ERROR");
        assert_eq!(v["kind"], "failed");
    }
}
