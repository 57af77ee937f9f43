//! Dates as the Spira v7 server writes and reads them. The reference
//! (../shared/reference/spira-api.md §1 "Dates": SRV
//! `NewtonsoftJsonDispatchFormatter`, DOC "2024-04-30T19:15:02.533Z") says v7
//! writes `yyyy-MM-ddTHH:mm:ss.fffZ` and reads ISO 8601 with
//! `AssumeUniversal`: a value without an offset is UTC. The simulator's own
//! version, so that it does not borrow from the client it fakes (which also
//! reads v5's `/Date(ms)/`, a form a v7 server never sends).

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// How the server writes a date: UTC, milliseconds, `Z`.
pub(crate) fn format(date: &DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// How the server reads a date: ISO 8601, with an offset or (taken as UTC)
/// without one.
pub(crate) fn parse(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    match DateTime::parse_from_rfc3339(text) {
        Ok(date) => Some(date.with_timezone(&Utc)),
        Err(_) => NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|naive| naive.and_utc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference §1 "Dates" (SRV NewtonsoftJsonDispatchFormatter): output
    /// `yyyy-MM-ddTHH:mm:ss.fffZ`; input without an offset is UTC.
    #[test]
    fn dates_are_written_in_utc_with_milliseconds_and_read_without_offset_as_utc() {
        let date = parse("2024-04-30T21:15:02.533+02:00").unwrap();
        assert_eq!(format(&date), "2024-04-30T19:15:02.533Z");
        assert_eq!(parse("2024-04-30T19:15:02.533"), Some(date));
        assert_eq!(
            parse("2024-04-30T19:15:02Z").map(|d| format(&d)).as_deref(),
            Some("2024-04-30T19:15:02.000Z")
        );
        assert_eq!(parse("yesterday"), None);
    }
}
