//! Every duration option has a floor and a ceiling: "0s" would make every
//! request time out at once, and "99999999999h" means a typo, not a wish.
//! Both are refused when the file is checked, not when the value is used.

use std::time::Duration;

const MINUTE: u64 = 60;
const DAY: u64 = 24 * 60 * MINUTE;

/// What one duration option may be, and why not less.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub min: Duration,
    pub max: Duration,
    /// Completes "at least {min}", e.g. " between cycles".
    pub why_min: &'static str,
    /// Completes "at most {max}", e.g. ": use a cron expression for rarer cycles".
    pub why_max: &'static str,
}

/// `http_timeout`: one request, end to end.
pub const HTTP_TIMEOUT: Bounds = Bounds {
    min: Duration::from_secs(1),
    max: Duration::from_secs(10 * MINUTE),
    why_min: " for one request",
    why_max: " for one request",
};

/// `cycle_deadline`: all of one cycle's requests to one server.
pub const CYCLE_DEADLINE: Bounds = Bounds {
    min: Duration::from_secs(MINUTE),
    max: Duration::from_secs(DAY),
    why_min: " for a cycle's requests to one server",
    why_max: " for a cycle's requests to one server",
};

/// An interval `schedule`.
pub const INTERVAL: Bounds = Bounds {
    min: Duration::from_secs(10),
    max: Duration::from_secs(31 * DAY),
    why_min: " between cycles",
    why_max: ": use a cron expression for rarer cycles",
};

/// GitLab's state change does not move `updated_at` for 60 s after an edit
/// (ThrottledTouch), so a smaller overlap can miss changes.
pub const TIME_OFFSET: Bounds = Bounds {
    min: Duration::from_secs(MINUTE),
    max: Duration::from_secs(7 * DAY),
    why_min: ", because GitLab does not move an issue's updated_at for changes within 60 s of the last one",
    why_max: " of overlap (each cycle reads that much again)",
};

/// `comment_sweep`: each sweep reads the comments of every linked incident.
pub const COMMENT_SWEEP: Bounds = Bounds {
    min: Duration::from_secs(MINUTE),
    max: Duration::from_secs(31 * DAY),
    why_min: ": each sweep reads the comments of every linked incident",
    why_max: "",
};

/// `LABSYNC_LEASE_WAIT`: how long `labsync sync` waits for a cycle elsewhere.
pub const LEASE_WAIT: Bounds = Bounds {
    min: Duration::ZERO,
    max: Duration::from_secs(DAY),
    why_min: "",
    why_max: " of waiting for another cycle",
};

/// "5m", "90s", "1h 30m", within `bounds`; the error is one line.
pub fn parse(text: &str, bounds: Bounds) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("'{text}' is not a duration like 90s, 5m or 1h: {e}"))?;
    let shown = |d: Duration| humantime::format_duration(d).to_string();
    if d < bounds.min {
        return Err(format!(
            "'{text}' is too short: at least {}{}",
            shown(bounds.min),
            bounds.why_min
        ));
    }
    if d > bounds.max {
        return Err(format!(
            "'{text}' is too long: at most {}{}",
            shown(bounds.max),
            bounds.why_max
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_absurd_values_are_refused_with_the_limits() {
        let err = parse("0s", HTTP_TIMEOUT).unwrap_err();
        assert_eq!(err, "'0s' is too short: at least 1s for one request");
        let err = parse("99999999999h", HTTP_TIMEOUT).unwrap_err();
        assert_eq!(
            err,
            "'99999999999h' is too long: at most 10m for one request"
        );
        for bounds in [INTERVAL, TIME_OFFSET, COMMENT_SWEEP, LEASE_WAIT] {
            assert!(
                parse("99999999999h", bounds)
                    .unwrap_err()
                    .contains("too long")
            );
        }
        assert!(
            parse("30s", TIME_OFFSET)
                .unwrap_err()
                .contains("at least 1m")
        );
        assert_eq!(parse(" 45s ", HTTP_TIMEOUT), Ok(Duration::from_secs(45)));
        assert_eq!(parse("0s", LEASE_WAIT), Ok(Duration::ZERO));
        assert!(
            parse("banana", LEASE_WAIT)
                .unwrap_err()
                .contains("not a duration")
        );
    }
}
