//! Cron expressions as crontab(5) reads them, parsed by `croner`: minute
//! hour day-of-month month day-of-week, optionally after a seconds field;
//! 0 and 7 are Sunday, names (`mon-fri`, `jan`) and `@daily`-style
//! shortcuts are allowed. An expression that fires more often than every
//! 10 s, or never, is refused here, where the admin can see it.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use croner::parser::{CronParser, Seconds, Year};

/// The fields of a 5-field expression, in order (a 6th, leading, is seconds).
const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or jan-dec"),
    ("day-of-week", "0-7 or sun-sat, 0 and 7 are Sunday"),
];

/// The shortcuts croner knows (`@reboot` has no meaning for a daemon).
const SHORTCUTS: [&str; 6] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@hourly",
];

/// A parsed, checked cron expression.
#[derive(Clone, PartialEq)]
pub struct Cron {
    text: String,
    cron: croner::Cron,
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cron({:?})", self.text)
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Cron {
    /// Parses `text`; the error is one line naming the field at fault.
    /// `min_interval`: two fire times closer than this are refused.
    pub fn parse(text: &str, min_interval: Duration) -> Result<Cron, String> {
        let t = text.trim();
        let fields: Vec<&str> = t.split_whitespace().collect();
        if t.starts_with('@') && !SHORTCUTS.contains(&t.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "'{text}' is not a cron shortcut: use {}",
                SHORTCUTS.join(", ")
            ));
        }
        if !t.starts_with('@') && !(5..=6).contains(&fields.len()) {
            return Err(format!(
                "'{text}' has {} field(s): a cron expression has 5 (minute hour day-of-month month day-of-week), or 6 with a leading seconds field",
                fields.len()
            ));
        }
        let cron = parser(&fields).parse(t).map_err(|e| {
            let culprit = culprit(&fields).unwrap_or_else(|| one_line(&e));
            format!("'{text}' is not a valid cron expression: {culprit}")
        })?;
        let parsed = Cron {
            text: t.to_string(),
            cron,
        };
        if let Some(gap) = parsed.shortest_gap()
            && gap < min_interval
        {
            return Err(format!(
                "'{text}' fires every {} s at times: at least {} between cycles",
                gap.as_secs(),
                humantime::format_duration(min_interval)
            ));
        }
        // Without a year field an expression that can fire does so within a
        // few decades (29 February on a given weekday): search from now.
        if parsed.next_after(&Utc::now()).is_none() {
            return Err(format!(
                "'{text}' never fires (no date matches its day-of-month and month)"
            ));
        }
        Ok(parsed)
    }

    /// The first fire time strictly after `after`, in `after`'s time zone.
    pub fn next_after<Tz: TimeZone>(&self, after: &DateTime<Tz>) -> Option<DateTime<Tz>> {
        self.cron.find_next_occurrence(after, false).ok()
    }

    /// The shortest time between two fire times, as far as the seconds and
    /// minutes fields tell (a 5-field expression fires at most once a minute).
    fn shortest_gap(&self) -> Option<Duration> {
        let p = &self.cron.pattern;
        let seconds: Vec<u64> = (0..60u32)
            .filter(|s| p.second_match(*s).unwrap_or(false))
            .map(u64::from)
            .collect();
        let (first, last) = (*seconds.first()?, *seconds.last()?);
        let within = seconds.windows(2).map(|w| w[1] - w[0]).min();
        // The last second of one minute and the first of the next, when two
        // minutes in a row can fire (59 → 0 crosses the hour: assumed possible).
        let minutes: Vec<u32> = (0..60u32)
            .filter(|m| p.minute_match(*m).unwrap_or(false))
            .collect();
        let next_minute_too = minutes.iter().any(|m| minutes.contains(&((m + 1) % 60)));
        let across = next_minute_too.then_some(60 - last + first);
        [within, across]
            .into_iter()
            .flatten()
            .min()
            .map(Duration::from_secs)
    }
}

/// crontab(5): "If both fields are restricted (i.e., do not start with *),
/// the command will be run when either field matches" — Vixie cron sets its
/// DOM_STAR/DOW_STAR flags on a leading `*`, so `*/2` counts as unrestricted
/// and the day must then match both. croner treats only a bare `*` so;
/// asking it for AND whenever a field starts with `*` gives crontab's rule.
fn parser(fields: &[&str]) -> CronParser {
    let offset = fields.len().saturating_sub(5);
    let starts_with_star = |i: usize| {
        fields
            .get(offset + i)
            .is_some_and(|f| f.starts_with('*') || f.starts_with('?'))
    };
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .dom_and_dow(starts_with_star(2) || starts_with_star(4))
        .build()
}

/// The first field that does not parse on its own (the others `*`), said
/// in words: croner's own messages do not name the field.
fn culprit(fields: &[&str]) -> Option<String> {
    let names: Vec<(&str, &str)> = match fields.len() {
        5 => FIELDS.to_vec(),
        6 => std::iter::once(("seconds", "0-59")).chain(FIELDS).collect(),
        _ => return None,
    };
    names.iter().enumerate().find_map(|(at, (name, range))| {
        let mut probe = vec!["*"; fields.len()];
        probe[at] = fields[at];
        let e = parser(&probe).parse(&probe.join(" ")).err()?;
        Some(format!(
            "{name} field '{}' is not valid ({range}; * , - / allowed): {}",
            fields[at],
            one_line(&e)
        ))
    })
}

/// croner's message in a few words (its own speak of bit positions, and of
/// the field after names were replaced by numbers).
fn one_line(e: &croner::errors::CronError) -> String {
    let text = e.to_string();
    if text.contains("out of bounds") {
        "a number is out of range".to_string()
    } else if text.contains("illegal character") {
        "unexpected characters (names are three letters: mon, jan)".to_string()
    } else {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Weekday};

    const TEN_S: Duration = Duration::from_secs(10);

    fn parse(text: &str) -> Cron {
        Cron::parse(text, TEN_S).unwrap()
    }

    /// The next `n` fire times after `from`, in UTC.
    fn fires(text: &str, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let cron = parse(text);
        let mut out = Vec::new();
        let mut at = from;
        for _ in 0..n {
            at = cron.next_after(&at).unwrap();
            out.push(at);
        }
        out
    }

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn monday_to_friday_never_fires_on_a_weekend() {
        // 2026-03-07 is a Saturday.
        assert_eq!(day(2026, 3, 7).weekday(), Weekday::Sat);
        for text in ["0 2 * * 1-5", "0 2 * * mon-fri", "0 0 2 * * MON-FRI"] {
            let got = fires(text, day(2026, 3, 7), 15);
            for t in &got {
                assert!(
                    !matches!(t.weekday(), Weekday::Sat | Weekday::Sun),
                    "{text} fired on {t}"
                );
            }
            // Three whole weeks of working days, starting Monday the 9th at 02:00.
            assert_eq!(got[0], Utc.with_ymd_and_hms(2026, 3, 9, 2, 0, 0).unwrap());
            assert_eq!(got[4].weekday(), Weekday::Fri);
            assert_eq!(got[5], Utc.with_ymd_and_hms(2026, 3, 16, 2, 0, 0).unwrap());
        }
    }

    #[test]
    fn zero_and_seven_are_both_sunday() {
        for text in ["0 2 * * 0", "0 2 * * 7", "0 2 * * sun", "@weekly"] {
            for t in fires(text, day(2026, 3, 7), 4) {
                assert_eq!(t.weekday(), Weekday::Sun, "{text} fired on {t}");
            }
        }
        assert_eq!(
            fires("0 2 * * 7", day(2026, 3, 7), 1)[0],
            Utc.with_ymd_and_hms(2026, 3, 8, 2, 0, 0).unwrap()
        );
    }

    #[test]
    fn names_and_shortcuts() {
        // January only, on the first at midnight.
        let got = fires("0 0 1 jan *", day(2026, 3, 7), 2);
        assert_eq!(got, vec![day(2027, 1, 1), day(2028, 1, 1)]);
        assert_eq!(fires("@daily", day(2026, 3, 7), 1), vec![day(2026, 3, 8)]);
        assert_eq!(fires("@monthly", day(2026, 3, 7), 1), vec![day(2026, 4, 1)]);
    }

    #[test]
    fn day_of_month_or_day_of_week_when_both_are_restricted() {
        // crontab(5): the 13th, and every Friday, not only Friday the 13th.
        // From Sunday 2026-03-01: Fri 6th, Fri 13th, Fri 20th, Fri 27th, Fri 3 Apr, Mon 13 Apr.
        let got = fires("0 0 13 * 5", day(2026, 3, 1), 6);
        let days: Vec<u32> = got.iter().map(|t| t.day()).collect();
        assert_eq!(days, vec![6, 13, 20, 27, 3, 10]);
        let got = fires("0 0 13 * 5", day(2026, 4, 10), 2);
        assert_eq!(got, vec![day(2026, 4, 13), day(2026, 4, 17)]);
        // A field starting with * is unrestricted: */2 with Monday means odd
        // days that are Mondays (Vixie cron's DOM_STAR), not either.
        let got = fires("0 0 */2 * 1", day(2026, 3, 1), 3);
        for t in &got {
            assert_eq!(t.weekday(), Weekday::Mon, "{t}");
            assert_eq!(t.day() % 2, 1, "{t}");
        }
    }

    #[test]
    fn every_second_or_every_five_is_too_frequent() {
        for text in ["* * * * * *", "*/5 * * * * *", "0,55 * * * * *"] {
            let err = Cron::parse(text, TEN_S).unwrap_err();
            assert!(err.contains("at least 10s between cycles"), "{text}: {err}");
        }
        // Every 10 s, every minute, and 0,55 in one minute of the hour are fine.
        for text in ["*/10 * * * * *", "* * * * *", "0,55 0 * * * *"] {
            assert!(Cron::parse(text, TEN_S).is_ok(), "{text}");
        }
    }

    #[test]
    fn an_expression_that_never_fires_is_refused() {
        for text in ["0 0 30 2 *", "0 0 31 4 *"] {
            let err = Cron::parse(text, TEN_S).unwrap_err();
            assert!(err.contains("never fires"), "{text}: {err}");
        }
        // 29 February does come.
        assert!(Cron::parse("0 0 29 2 *", TEN_S).is_ok());
    }

    #[test]
    fn errors_name_the_field_in_one_line() {
        let err = Cron::parse("*/5 25 * * *", TEN_S).unwrap_err();
        assert!(err.contains("hour field '25' is not valid (0-23"), "{err}");
        let err = Cron::parse("0 2 * * 8", TEN_S).unwrap_err();
        assert!(err.contains("day-of-week field '8'"), "{err}");
        let err = Cron::parse("61 0 2 * * *", TEN_S).unwrap_err();
        assert!(err.contains("seconds field '61'"), "{err}");
        let err = Cron::parse("0 2 * * * * 2027", TEN_S).unwrap_err();
        assert!(err.contains("has 7 field(s)"), "{err}");
        for text in ["*/5 25 * * *", "0 2 * * 8", "0 2 * * monday", "@reboot"] {
            let err = Cron::parse(text, TEN_S).unwrap_err();
            assert!(!err.contains('\n') && !err.ends_with('^'), "{err}");
        }
    }
}
