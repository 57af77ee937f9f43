//! `labsync check --offline` catches what would otherwise fail later: every
//! problem that can be known without a server is found here, with the file
//! and line, and the schedule is shown as the times it will run.

mod common;

use common::{assert_one_error, line_of};

/// The valid config with `from` replaced by `to`, checked offline (in UTC,
/// so that the times shown are known).
fn check_with(from: &str, to: &str) -> common::Run {
    common::check_edited(from, to, &[("TZ", "UTC")])
}

/// Exit 2 and one error line: at the line of `key` in the valid config,
/// naming `key` and saying each of `parts`.
fn assert_refused_at(run: &common::Run, key: &str, parts: &[&str]) {
    let at = format!("plugins.toml:{}:", line_of(key));
    let mut all = vec![at.as_str(), key];
    all.extend(parts);
    assert_one_error(run, &all);
}

/// The weekdays of the "next runs" line of `check --offline`.
fn next_run_weekdays(run: &common::Run) -> Vec<String> {
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("next runs (UTC time): "))
        .unwrap_or_else(|| panic!("no next runs line:\n{}", run.stdout));
    let times = line.split("): ").nth(1).unwrap();
    times
        .split(", ")
        .map(|t| t.split_whitespace().next().unwrap().to_string())
        .collect()
}

fn schedule(expr: &str) -> common::Run {
    check_with("schedule = \"5m\"", &format!("schedule = \"{expr}\""))
}

#[test]
fn a_monday_to_friday_schedule_is_shown_running_on_working_days_only() {
    for expr in ["0 2 * * 1-5", "0 2 * * mon-fri"] {
        let run = schedule(expr);
        assert_eq!(run.code, 0, "{expr}: {}", run.stderr);
        let days = next_run_weekdays(&run);
        assert_eq!(days.len(), 3, "{}", run.stdout);
        for d in &days {
            assert!(
                !["Sat", "Sun"].contains(&d.as_str()),
                "{expr}: {}",
                run.stdout
            );
        }
        assert!(run.stdout.contains(" 02:00:00 +00:00"), "{}", run.stdout);
    }
}

#[test]
fn zero_and_seven_are_sunday_as_in_crontab() {
    for expr in ["0 2 * * 0", "0 2 * * 7"] {
        let run = schedule(expr);
        assert_eq!(run.code, 0, "{expr}: {}", run.stderr);
        assert_eq!(next_run_weekdays(&run), ["Sun", "Sun", "Sun"], "{expr}");
    }
}

#[test]
fn an_interval_says_when_it_runs() {
    let run = schedule("5m");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("first cycle when labsync run starts, then every 5m"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_cron_expression_firing_every_second_is_refused() {
    let run = schedule("* * * * * *");
    assert_refused_at(&run, "schedule", &["at least 10s between cycles"]);
}

#[test]
fn a_cron_expression_that_never_fires_is_refused() {
    let run = schedule("0 0 30 2 *");
    assert_refused_at(&run, "schedule", &["never fires"]);
}

#[test]
fn a_cron_error_is_one_readable_line_naming_the_field() {
    let run = schedule("0 25 * * *");
    assert_refused_at(&run, "schedule", &["hour field '25' is not valid (0-23"]);
    assert!(!run.stderr.trim_end().ends_with('^'), "{}", run.stderr);
}
