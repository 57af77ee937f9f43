//! Text anyone can write (titles, comments, server messages) made safe for a
//! terminal or a line-based log: control characters and bidirectional
//! overrides are written as visible escapes, so a title cannot forge a log
//! line (newline), move the cursor or clear the screen (ESC, C1), ring the
//! bell, or reorder what is shown (right-to-left overrides). JSON output
//! does not go through here: serde escapes exactly what JSON needs.

use std::borrow::Cow;
use std::fmt::Write;

/// True for a character shown escaped: C0 and C1 controls and DEL, the
/// bidirectional embeddings, overrides, isolates and marks, and the Unicode
/// line and paragraph separators (which some viewers break lines at).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// The text with every unsafe character escaped (`\n`, `\r`, `\t`, else
/// `\u{1b}`-style); borrowed when there is none.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// What every line for people passes through on its way out: credentials
/// scrubbed from URLs, control and bidi characters escaped.
pub fn printable(text: &str) -> Cow<'_, str> {
    match crate::redact::scrub_urls(text) {
        Cow::Borrowed(t) => escape_controls(t),
        Cow::Owned(t) => Cow::Owned(escape_controls(&t).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_become_visible_escapes() {
        assert_eq!(
            escape_controls("plain title – ünïcode"),
            "plain title – ünïcode"
        );
        assert_eq!(
            escape_controls("a\nINFO forged\r\tb"),
            "a\\nINFO forged\\r\\tb"
        );
        assert_eq!(escape_controls("\u{1b}[2J\u{7}"), "\\u{1b}[2J\\u{7}");
        assert_eq!(escape_controls("x\u{9b}31m"), "x\\u{9b}31m", "C1 CSI");
        assert_eq!(escape_controls("\u{7f}"), "\\u{7f}");
        assert_eq!(
            escape_controls("abc\u{202E}fdp.exe\u{2066}x\u{2069}"),
            "abc\\u{202e}fdp.exe\\u{2066}x\\u{2069}"
        );
        assert_eq!(escape_controls("a\u{2028}b"), "a\\u{2028}b");
    }

    #[test]
    fn printable_also_scrubs_urls() {
        assert_eq!(
            printable("at https://h/?private_token=s3cret\n"),
            "at https://h/?private_token=***\\n"
        );
    }
}
