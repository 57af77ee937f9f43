//! Spira's date format.
//!
//! v7 writes `yyyy-MM-ddTHH:mm:ss.fffZ` and reads values without an offset as
//! UTC (reference §1, "Dates"). We write that format, and accept it, any RFC
//! 3339 offset, an offset-less value (taken as UTC) and, for old v5 servers,
//! `/Date(ms±hhmm)/`.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Formats a date the way Spira v7 does: UTC, milliseconds, `Z`.
pub fn format(date: &DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses any date form Spira is known to send or accept.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(inner) = text
        .strip_prefix("/Date(")
        .and_then(|t| t.strip_suffix(")/"))
    {
        // The offset only says how the server would display the instant.
        let digits_end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map(|(i, _)| i)
            .unwrap_or(inner.len());
        let millis: i64 = inner[..digits_end].parse().ok()?;
        return DateTime::from_timestamp_millis(millis);
    }
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some(date.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|naive| naive.and_utc())
}

/// serde `with` module for `Option<DateTime<Utc>>` fields.
pub mod optional {
    use super::*;

    pub fn serialize<S: Serializer>(date: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(d) => s.serialize_str(&format(d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) if text.trim().is_empty() => Ok(None),
            Some(text) => parse(&text)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("not a date: '{text}'"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_form_reads_as_the_same_instant() {
        let want = parse("2024-04-30T19:15:02.533Z").unwrap();
        assert_eq!(parse("2024-04-30T21:15:02.533+02:00"), Some(want));
        assert_eq!(parse("2024-04-30T19:15:02.533"), Some(want));
        assert_eq!(parse("/Date(1714504502533-0500)/"), Some(want));
        assert_eq!(format(&want), "2024-04-30T19:15:02.533Z");
        assert_eq!(parse("yesterday"), None);
    }
}
