//! How labsync logs: levels it knows (and refuses the rest), syslog
//! priorities under journald, one line per cycle with its duration.

use labsync_testkit::cli;
use labsync_testkit::world;

use cli::{Scratch, VALID};

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
    // `map list` reads a database; it never creates one.
    s.init_db(&config);
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
    let add = ["map", "user", "add", "--spira", "bob", "--gitlab", "bob"];
    let run = s.labsync_env(&config, &add, &journal);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_now_cycle_logs_one_summary_line_with_its_duration() {
    let w = world::World::new("").await;
    w.spira.add_incident(1, "Logged with a duration", 1);
    let out = w.labsync(&["sync"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let done: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("cycle done"))
        .collect();
    assert_eq!(done.len(), 1, "one summary line per cycle:\n{}", out.stderr);
    assert!(
        done[0].contains("duration=") && done[0].contains("created=1"),
        "{}",
        done[0]
    );
    assert!(
        !done[0].contains("next="),
        "--sync-now has no next run: {}",
        done[0]
    );
}

/// Someone deletes labsync's footer from an issue and nothing else: the
/// cycle puts it back, and neither the log nor the table calls that an
/// update of the issue's fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_footer_only_write_is_logged_as_such_and_not_counted() {
    let mut w = world::World::new("").await;
    w.spira.add_incident(1, "Footer gets deleted", 1);
    w.cycle().await;
    let issue = w.issue_titled("Footer gets deleted");
    let iid = issue["iid"].as_u64().unwrap();
    let (body, marker) = labsync::text::split_footer(issue["description"].as_str().unwrap());
    assert!(marker.is_some(), "test setup: the issue has a footer");
    let edit = labsync::gitlab::IssueEdit {
        description: Some(body),
        ..Default::default()
    };
    let project = labsync::gitlab::ProjectRef::parse(w.gitlab.project_path());
    w.gitlab_as("alice")
        .edit_issue(&project, iid, &edit)
        .await
        .unwrap();
    w.advance(chrono::Duration::minutes(2));
    let out = w.labsync(&["sync"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("fields=[]"), "{}", out.stderr);
    assert!(
        out.stderr.contains("wrote the link footer on the issue"),
        "{}",
        out.stderr
    );
    let updated_logged = out.stderr.matches("updated issue").count();
    let row = out.stdout.lines().nth(1).unwrap_or_default();
    let updated_shown: usize = row.split_whitespace().nth(6).unwrap().parse().unwrap();
    assert_eq!(
        (updated_logged, updated_shown),
        (0, 0),
        "the log and the table agree:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    let (_, marker) = labsync::text::split_footer(
        w.gitlab.issue(iid).unwrap()["description"]
            .as_str()
            .unwrap(),
    );
    assert!(marker.is_some(), "the footer is back");
}

#[test]
fn the_config_files_log_level_is_used_and_checked() {
    let with_level = |s: &Scratch, level: &str| {
        let text = VALID.replace(
            "http_timeout = \"30s\"",
            &format!("http_timeout = \"30s\"\nlog_level = \"{level}\""),
        );
        s.write("plugins.toml", &text)
    };
    // A map edit on a new database: its migrations log at info.
    let add = ["map", "user", "add", "--spira", "bob", "--gitlab", "bob"];
    let s = Scratch::new();
    let run = s.labsync(&with_level(&s, "warn"), &add);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("applied migration"),
        "log_level = \"warn\" filters info lines out: {}",
        run.stderr
    );
    // --log-level wins over the file (a new database: its migrations log).
    let s = Scratch::new();
    let run = s.labsync(
        &with_level(&s, "warn"),
        &[&["--log-level", "info"][..], &add].concat(),
    );
    assert!(run.stderr.contains("applied migration"), "{}", run.stderr);
    let run = s.labsync(&with_level(&s, "verbose"), &["check", "--offline"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("plugins.toml:3")
            && run.stderr.contains("log_level")
            && run.stderr.contains("'verbose' is not a level"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_config_files_log_format_is_used_unless_an_option_chose_one() {
    let json_config = |s: &Scratch| {
        let text = VALID.replace(
            "http_timeout = \"30s\"",
            "http_timeout = \"30s\"\nlog_format = \"json\"",
        );
        s.write("plugins.toml", &text)
    };
    // A map edit on a new database: its migrations log at info, then the
    // command's own plain line.
    let add = ["map", "user", "add", "--spira", "bob", "--gitlab", "bob"];
    let s = Scratch::new();
    let run = s.labsync(&json_config(&s), &add);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("applied migration"), "{}", run.stderr);
    for line in run.stderr.lines() {
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(line);
        assert!(
            parsed.is_ok_and(|v| v.is_object()),
            "log_format = \"json\": every line a JSON object, not: {line}"
        );
    }
    // --log-format (and its variable) win over the file.
    for (args, env) in [
        (&["--log-format", "human"][..], &[][..]),
        (&[][..], &[("LABSYNC_LOG_FORMAT", "human")][..]),
    ] {
        let s = Scratch::new();
        let run = s.labsync_env(&json_config(&s), &[args, &add].concat(), env);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains("applied migration"), "{}", run.stderr);
        assert!(
            run.stderr.lines().all(|l| !l.starts_with('{')),
            "{args:?} {env:?} keeps human lines: {}",
            run.stderr
        );
    }
}
