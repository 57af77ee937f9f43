//! How far a side's listing may move its watermark: to the server's clock
//! when the listing began (or the newest item seen), held back before the
//! first item that failed; not at all when the listing was cut short.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::report::ProjectReport;

use super::run::Run;

/// Where a first cycle starts when no sync_since is given.
pub(crate) fn beginning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Tracks how far a side's read may move its watermark.
#[derive(Default)]
pub(crate) struct SideProgress {
    /// The server's clock when the read began: everything changed before it was seen.
    read_start: Option<DateTime<Utc>>,
    max_seen: Option<DateTime<Utc>>,
    first_failed: Option<DateTime<Utc>>,
    pub complete: bool,
}

impl SideProgress {
    /// Notes the server's clock at the first answer of the listing.
    pub(crate) fn started(&mut self, server_now: Option<DateTime<Utc>>) {
        if self.read_start.is_none() {
            // The Date header has whole seconds: step back one to stay safe.
            self.read_start = server_now.map(|t| t - Duration::seconds(1));
        }
    }

    pub(crate) fn seen(&mut self, at: Option<DateTime<Utc>>) {
        self.max_seen = self.max_seen.max(at);
    }

    pub(crate) fn failed(&mut self, at: Option<DateTime<Utc>>) {
        if let Some(t) = at {
            self.first_failed = Some(self.first_failed.map_or(t, |f| f.min(t)));
        }
    }

    /// Ends a side's listing: read to its end (the watermark may move), or
    /// not (cut short, or the side could not be read: the project did not
    /// sync, exit 2; the other side still does).
    pub(crate) fn listed(
        &mut self,
        read: Result<(), String>,
        run: &Run<'_>,
        report: &mut ProjectReport,
        what: (&str, &str),
    ) {
        let (plugin, what) = what;
        match read {
            Ok(()) => self.complete = !run.cut(),
            Err(e) => {
                tracing::error!(plugin, project = report.tm_project, cause = %e, "cannot read {what}");
                report.fatal.get_or_insert(format!("reading {what}: {e}"));
            }
        }
    }

    /// The new watermark: the read's start (or the newest item seen), held
    /// back before the first item that failed.
    pub(crate) fn watermark(&self) -> Option<DateTime<Utc>> {
        if !self.complete {
            return None;
        }
        let mark = self.read_start.or(self.max_seen)?;
        Some(match self.first_failed {
            Some(f) => mark.min(f - Duration::milliseconds(1)),
            None => mark,
        })
    }
}
