//! When a plugin's next cycle is due: an interval or a cron expression,
//! plus a little jitter so that plugins (and daemons) sharing a server do
//! not all knock at the same second.

use std::time::Duration;

use chrono::{DateTime, Local, TimeZone, Utc};
use rand::Rng;

use crate::config::Schedule;

/// Jitter is at most this share of the interval…
const JITTER_SHARE: f64 = 0.05;
/// …and never more than this.
const MAX_JITTER: Duration = Duration::from_secs(30);

/// The most jitter added to a cycle whose interval is `interval`.
pub fn jitter_bound(interval: Duration) -> Duration {
    interval.mul_f64(JITTER_SHARE).min(MAX_JITTER)
}

fn jitter(interval: Duration, rng: &mut impl Rng) -> chrono::Duration {
    let bound = jitter_bound(interval).as_millis() as i64;
    chrono::Duration::milliseconds(rng.random_range(0..=bound))
}

/// The first cycle: at once (after the jitter) for an interval, at the next
/// fire time for a cron expression.
pub fn first_run(schedule: &Schedule, now: DateTime<Utc>, rng: &mut impl Rng) -> DateTime<Utc> {
    match schedule {
        Schedule::Every(d) => later(now, jitter(*d, rng)),
        Schedule::Cron(_) => next_run(schedule, now, rng),
    }
}

/// The cycle after one that started at `after`. Cron expressions are read
/// in local time, as an admin writing "0 2 * * *" means it.
pub fn next_run(schedule: &Schedule, after: DateTime<Utc>, rng: &mut impl Rng) -> DateTime<Utc> {
    next_run_in(schedule, after, &Local, rng)
}

fn next_run_in<Tz: TimeZone>(
    schedule: &Schedule,
    after: DateTime<Utc>,
    tz: &Tz,
    rng: &mut impl Rng,
) -> DateTime<Utc> {
    match schedule {
        Schedule::Every(d) => {
            let interval = chrono::Duration::from_std(*d).unwrap_or(chrono::TimeDelta::MAX);
            later(later(after, interval), jitter(*d, rng))
        }
        Schedule::Cron(cron) => {
            let Some(next) = cron.next_after(&after.with_timezone(tz)) else {
                // Validation refuses an expression that never fires; should
                // the clock be past croner's horizon, look again in a day
                // rather than spin.
                return after + chrono::Duration::days(1);
            };
            let period = cron
                .next_after(&next)
                .and_then(|n| (n - next.clone()).to_std().ok())
                .unwrap_or(MAX_JITTER);
            later(next.with_timezone(&Utc), jitter(period, rng))
        }
    }
}

/// The next `n` fire times of a cron schedule after `after`, in `tz`,
/// without jitter: what `check` shows an admin. Empty for an interval,
/// whose cycles count from the daemon's start.
pub fn next_fire_times<Tz: TimeZone>(
    schedule: &Schedule,
    after: DateTime<Utc>,
    tz: &Tz,
    n: usize,
) -> Vec<DateTime<Tz>> {
    let Schedule::Cron(cron) = schedule else {
        return Vec::new();
    };
    let mut out: Vec<DateTime<Tz>> = Vec::with_capacity(n);
    let mut at = after.with_timezone(tz);
    while out.len() < n {
        let Some(next) = cron.next_after(&at) else {
            break;
        };
        at = next.clone();
        out.push(next);
    }
    out
}

/// The first retry of a plugin whose cycle found a side unreachable…
const RETRY_FIRST: Duration = Duration::from_secs(30);
/// …doubling with each cycle that still does, up to this.
const RETRY_MOST: Duration = Duration::from_secs(15 * 60);

/// How long after its `tries`-th cycle in a row that found a side
/// unreachable a plugin is tried again: 30 s, 1 min, 2 min… at most 15 min.
pub fn retry_unreachable(tries: u32) -> Duration {
    let doublings = tries.saturating_sub(1).min(16);
    (RETRY_FIRST * (1u32 << doublings)).min(RETRY_MOST)
}

/// `t + by`, saturating: an absurdly long interval from the config means
/// "not in this lifetime", not a panic.
fn later(t: DateTime<Utc>, by: chrono::Duration) -> DateTime<Utc> {
    t.checked_add_signed(by).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn cron(expr: &str) -> Schedule {
        let cron = crate::config::Cron::parse(expr, Duration::from_secs(10)).unwrap();
        Schedule::Cron(Box::new(cron))
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, h, m, s).unwrap()
    }

    #[test]
    fn an_absurd_interval_is_far_away_not_a_panic() {
        let schedule = Schedule::Every(Duration::from_secs(u64::MAX / 4));
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(
            next_run_in(&schedule, at(14, 0, 0), &Utc, &mut rng),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn an_unreachable_side_is_tried_again_after_30s_then_doubling_up_to_15_min() {
        let waits: Vec<u64> = (1..=7).map(|n| retry_unreachable(n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900]);
        assert_eq!(retry_unreachable(u32::MAX), RETRY_MOST);
    }

    #[test]
    fn jitter_is_a_few_percent_of_the_interval_and_at_most_30s() {
        assert_eq!(
            jitter_bound(Duration::from_secs(10)),
            Duration::from_millis(500)
        );
        assert_eq!(
            jitter_bound(Duration::from_secs(300)),
            Duration::from_secs(15)
        );
        assert_eq!(jitter_bound(Duration::from_secs(3600)), MAX_JITTER);
    }

    #[test]
    fn an_interval_runs_after_the_interval_plus_bounded_jitter() {
        let schedule = Schedule::Every(Duration::from_secs(300));
        let mut rng = StdRng::seed_from_u64(7);
        let start = at(14, 0, 0);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let next = next_run_in(&schedule, start, &Utc, &mut rng);
            assert!(next >= at(14, 5, 0), "{next}");
            assert!(next <= at(14, 5, 15), "{next}");
            seen.insert(next);
            let first = first_run(&schedule, start, &mut rng);
            assert!(first >= start && first <= at(14, 0, 15), "{first}");
        }
        // It is jitter, not a constant offset.
        assert!(seen.len() > 10);
    }

    #[test]
    fn a_cron_expression_fires_at_its_next_time_plus_bounded_jitter() {
        // Every 10 minutes: the period is 600 s, so the jitter is at most 30 s.
        let schedule = cron("0 */10 * * * *");
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let next = next_run_in(&schedule, at(14, 3, 20), &Utc, &mut rng);
            assert!(next >= at(14, 10, 0) && next <= at(14, 10, 30), "{next}");
        }
        // Exactly on a fire time, the next one is the one after.
        let next = next_run_in(&schedule, at(14, 10, 0), &Utc, &mut rng);
        assert!(next >= at(14, 20, 0) && next <= at(14, 20, 30), "{next}");
        // Daily at 02:00, in the zone given.
        let daily = cron("0 0 2 * * *");
        let next = next_run_in(&daily, at(14, 0, 0), &Utc, &mut rng);
        let tomorrow = Utc.with_ymd_and_hms(2026, 3, 11, 2, 0, 0).unwrap();
        assert!(next >= tomorrow && next <= tomorrow + chrono::Duration::seconds(30));
        let plus_two = chrono::FixedOffset::east_opt(2 * 3600).unwrap();
        let next = next_run_in(&daily, at(14, 0, 0), &plus_two, &mut rng);
        let tomorrow_there = Utc.with_ymd_and_hms(2026, 3, 11, 0, 0, 0).unwrap();
        assert!(next >= tomorrow_there && next <= tomorrow_there + chrono::Duration::seconds(30));
    }
}
