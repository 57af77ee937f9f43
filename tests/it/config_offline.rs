//! `labsync check --offline` catches what would otherwise fail later: every
//! problem that can be known without a server is found here, with the file
//! and line, and the schedule is shown as the times it will run.

use labsync_testkit::cli;

use cli::{Scratch, VALID, assert_one_error, line_of};

/// The valid config with `from` replaced by `to`, checked offline (in UTC,
/// so that the times shown are known).
fn check_with(from: &str, to: &str) -> cli::Run {
    cli::check_edited(from, to, &[("TZ", "UTC")])
}

/// Exit 2 and one error line: at the line of `key` in the valid config,
/// naming `key` and saying each of `parts`.
fn assert_refused_at(run: &cli::Run, key: &str, parts: &[&str]) {
    let at = format!("plugins.toml:{}:", line_of(key));
    let mut all = vec![at.as_str(), key];
    all.extend(parts);
    assert_one_error(run, &all);
}

/// The weekdays of the "next runs" line of `check --offline`.
fn next_run_weekdays(run: &cli::Run) -> Vec<String> {
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

fn schedule(expr: &str) -> cli::Run {
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

#[test]
fn zero_and_absurd_durations_are_refused_at_their_line() {
    let cases = [
        (
            "http_timeout = \"30s\"",
            "http_timeout = \"0s\"",
            "at least 1s",
        ),
        (
            "http_timeout = \"30s\"",
            "http_timeout = \"99999999999h\"",
            "at most 10m",
        ),
        (
            "time_offset = \"2m\"",
            "time_offset = \"99999999999h\"",
            "too long",
        ),
        (
            "schedule = \"5m\"",
            "schedule = \"99999999999h\"",
            "too long",
        ),
    ];
    for (from, to, says) in cases {
        let key = from.split(' ').next().unwrap();
        assert_refused_at(&check_with(from, to), key, &[says]);
    }
    let run = check_with(
        "time_offset = \"2m\"",
        "time_offset = \"2m\"\ncomment_sweep = \"99999999999h\"",
    );
    assert_one_error(&run, &["comment_sweep", "too long"]);
}

#[test]
fn an_environment_override_error_names_the_variable_not_a_line() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    for value in ["0s", "soon", "5"] {
        let run = s.labsync_env(
            &config,
            &["check", "--offline"],
            &[("LABSYNC_HTTP_TIMEOUT", value)],
        );
        assert_one_error(&run, &["LABSYNC_HTTP_TIMEOUT (environment): http_timeout:"]);
        assert!(!run.stderr.contains("plugins.toml"), "{}", run.stderr);
    }
}

#[test]
fn every_type_error_is_reported_on_a_line_of_its_own() {
    let run = check_with(
        "conflict = \"newest\"",
        "conflict = \"newest\"\nenabled = \"yes\"\nconcurrency = \"many\"",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("labsync: error:"))
        .collect();
    assert_eq!(errors.len(), 2, "{}", run.stderr);
    let line = line_of("conflict");
    for (error, (at, key)) in errors
        .iter()
        .zip([(line + 1, "enabled"), (line + 2, "concurrency")])
    {
        let want = format!("plugins.toml:{at}: plugin 'webshop': {key}:");
        assert!(error.contains(&want), "{error}");
    }
}

#[test]
fn a_ca_file_that_looks_like_pem_but_holds_no_certificate_is_refused() {
    let s = Scratch::new();
    let fake = s.write(
        "fake.pem",
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQsIG5vdCBhIGNlcnRpZmljYXRl\n-----END CERTIFICATE-----\n",
    );
    let run = check_with(
        "token_env = \"TEST_TOKEN\"",
        &format!(
            "token_env = \"TEST_TOKEN\"\nca_file = \"{}\"",
            fake.display()
        ),
    );
    assert_one_error(
        &run,
        &[
            &format!("plugins.toml:{}:", line_of("token_env") + 1),
            "gitlab.ca_file",
            "certificate 1 is not a usable X.509 certificate",
        ],
    );
}

/// Each way a secret can be missing is said at the line of the key naming it.
#[test]
fn secret_problems_give_the_line_of_the_key_naming_the_secret() {
    let s = Scratch::new();
    let empty = s.write("empty-token", "\n");
    let dir = s.path("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let cases = [
        (
            format!("token_file = \"{}\"", s.path("missing").display()),
            "no such file",
        ),
        (format!("token_file = \"{}\"", empty.display()), "is empty"),
        (
            format!("token_file = \"{}\"", dir.display()),
            "is a directory",
        ),
        (
            "token_env = \"NOT_SET_ANYWHERE_42\"".to_string(),
            "NOT_SET_ANYWHERE_42 is not set",
        ),
    ];
    for (to, says) in cases {
        let key = to.split(' ').next().unwrap();
        let run = check_with("token_env = \"TEST_TOKEN\"", &to);
        assert_one_error(
            &run,
            &[
                &format!("plugins.toml:{}:", line_of("token_env")),
                &format!("gitlab.{key}:"),
                says,
            ],
        );
    }
}

#[test]
fn sync_with_a_missing_secret_writes_nothing() {
    let s = Scratch::new();
    let config = s.write(
        "plugins.toml",
        &VALID.replacen(
            "token_env = \"TEST_TOKEN\"",
            "token_env = \"NOT_SET_ANYWHERE_42\"",
            1,
        ),
    );
    for command in ["sync", "plan", "run"] {
        let run = s.labsync(&config, &[command]);
        assert_one_error(
            &run,
            &[
                &format!("plugins.toml:{}:", line_of("token_env")),
                "gitlab.token_env",
            ],
        );
        assert!(!run.stderr.contains("Spira project 0"), "{}", run.stderr);
        assert!(
            !s.path("labsync.db").exists(),
            "{command} created the database"
        );
    }
}

#[test]
fn a_lease_wait_that_is_not_a_duration_is_refused_naming_the_variable() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let run = s.labsync_env(&config, &["sync"], &[("LABSYNC_LEASE_WAIT", "banana")]);
    assert_one_error(&run, &["LABSYNC_LEASE_WAIT", "'banana' is not a duration"]);
    assert!(!s.path("labsync.db").exists());
}

#[test]
fn a_config_that_is_too_big_or_not_a_file_is_refused_without_reading_it_all() {
    let s = Scratch::new();
    // A valid file padded with comments past 1 MiB.
    let big = format!(
        "{VALID}\n{}",
        "# padding padding padding padding\n".repeat(40_000)
    );
    let big = s.write("big.toml", &big);
    let run = s.labsync(&big, &["check", "--offline"]);
    assert_one_error(
        &run,
        &["big.toml: cannot read the configuration: larger than 1024 KiB"],
    );
    let run = s.labsync(std::path::Path::new("/dev/zero"), &["check", "--offline"]);
    assert_one_error(
        &run,
        &["/dev/zero: cannot read the configuration: is a device"],
    );
    let run = s.labsync(s.dir.path(), &["check", "--offline"]);
    assert_one_error(&run, &["cannot read the configuration: is a directory"]);
}
