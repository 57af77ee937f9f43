//! The one live progress line (`labsync --sync-now` on a terminal) and the
//! log share stderr: every line written while it is shown hides it first
//! and draws it again after, so a log line never lands inside the spinner.

use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};

use indicatif::ProgressBar;

static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Lines written from now on hide `bar` while they are written.
pub fn show(bar: &ProgressBar) {
    *SHOWN.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
}

/// The bar is gone; lines are written as they are.
pub fn hide() {
    *SHOWN.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

/// Writes `bytes` to `out`, with the shown bar (if any) hidden meanwhile.
pub(super) fn write_around_bar(out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    let bar = SHOWN.lock().unwrap_or_else(PoisonError::into_inner).clone();
    match bar {
        Some(bar) => bar.suspend(|| out.write_all(bytes).and_then(|()| out.flush())),
        None => out.write_all(bytes),
    }
}

/// stderr, as the log's writer: each event is one `write` of a whole line.
/// URLs are scrubbed here whatever the format (the JSON encoder writes
/// fields as they are; the human format scrubbed them already).
pub(super) struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let clean = crate::redact::scrub_urls(&text);
        write_around_bar(&mut io::stderr().lock(), clean.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A terminal that records what is done to it, in order.
    #[derive(Debug, Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl Recorder {
        fn push(&self, what: String) -> io::Result<()> {
            self.0.lock().unwrap().push(what);
            Ok(())
        }
    }

    impl indicatif::TermLike for Recorder {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, n: usize) -> io::Result<()> {
            self.push(format!("up {n}"))
        }
        fn move_cursor_down(&self, n: usize) -> io::Result<()> {
            self.push(format!("down {n}"))
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.push(format!("bar {s}"))
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.push(format!("bar {s}"))
        }
        fn clear_line(&self) -> io::Result<()> {
            self.push("clear".into())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The log's side of the same terminal.
    struct LogSide(Recorder);

    impl Write for LogSide {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .push(format!("log {}", String::from_utf8_lossy(buf).trim_end()))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_log_line_is_written_with_the_spinner_cleared_and_drawn_again_after() {
        let term = Recorder::default();
        let bar = ProgressBar::new_spinner().with_message("syncing");
        bar.set_draw_target(indicatif::ProgressDrawTarget::term_like(Box::new(
            term.clone(),
        )));
        bar.suspend(|| ()); // forces a first draw
        show(&bar);
        write_around_bar(&mut LogSide(term.clone()), b"INFO created issue\n").unwrap();
        hide();
        let events = term.0.lock().unwrap().clone();
        let line = events
            .iter()
            .position(|e| e == "log INFO created issue")
            .unwrap();
        let drawn = |e: &String| e.starts_with("bar ") && e.contains("syncing");
        let last_draw_before = events[..line].iter().rposition(drawn).unwrap();
        assert!(
            events[last_draw_before..line].iter().any(|e| e == "clear"),
            "the spinner was cleared before the line: {events:?}"
        );
        assert!(
            events[line..].iter().any(drawn),
            "and drawn again after it: {events:?}"
        );
    }
}
