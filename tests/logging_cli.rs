//! How labsync logs: levels it knows (and refuses the rest), syslog
//! priorities under journald, one line per cycle with its duration.

mod common;

use common::{Scratch, VALID};

#[test]
fn an_unknown_log_level_is_refused_naming_the_valid_ones() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    for (args, env) in [
        (&["--log-level", "verbose", "map", "list"][..], &[][..]),
        (
            &["map", "list"][..],
            &[("LABSYNC_LOG_LEVEL", "verbose")][..],
        ),
    ] {
        let run = s.labsync_env(&config, args, env);
        assert_eq!(run.code, 64, "{args:?} {env:?}: {}", run.stderr);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {}", run.stderr);
        for needed in ["'verbose'", "error", "warn", "info", "debug", "trace"] {
            assert!(lines[0].contains(needed), "lacks {needed}: {}", lines[0]);
        }
    }
}

#[test]
fn known_levels_and_filters_still_work() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    for level in [
        "WARN",
        "debug",
        "off",
        "labsync=debug",
        "info,labsync::store=warn",
    ] {
        let run = s.labsync(&config, &["--log-level", level, "map", "list"]);
        assert_eq!(run.code, 0, "{level}: {}", run.stderr);
    }
}

#[test]
fn under_journald_each_line_starts_with_its_syslog_priority() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let journal = [("JOURNAL_STREAM", "8:12345")];
    // info: the migration lines of a new database.
    let run = s.labsync_env(&config, &["map", "list"], &journal);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.is_empty());
    for line in run.stderr.lines() {
        assert!(line.starts_with("<6>"), "info is <6>: {line}");
    }
    // err: a plain error line.
    let run = s.labsync_env(&config, &["--sync-now", "check"], &journal);
    let line = run.stderr.lines().last().unwrap_or_default();
    assert!(line.starts_with("<3>labsync: error:"), "{}", run.stderr);
    // Not under journald: no prefix.
    let run = s.labsync(&config, &["map", "list"]);
    assert!(
        run.stderr.lines().all(|l| !l.starts_with('<')),
        "{}",
        run.stderr
    );
}
