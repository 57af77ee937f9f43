//! The command line itself: help, argument mistakes, logging formats.

use labsync_testkit::cli;

use cli::{Scratch, VALID};

#[test]
fn help_lists_every_command() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_labsync"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let listed = |cmd: &str| help.lines().any(|l| l.trim_start().starts_with(cmd));
    for cmd in ["run", "sync", "check", "status", "plan", "map"] {
        assert!(listed(cmd), "--help lacks {cmd}:\n{help}");
    }
    // The simulators are in the binary with the default feature `sim` only.
    for cmd in ["demo", "sim"] {
        assert_eq!(listed(cmd), cfg!(feature = "sim"), "{cmd}:\n{help}");
    }
    for opt in [
        "--config",
        "--db",
        "--sync-now",
        "--log-level",
        "--log-format",
    ] {
        assert!(help.contains(opt), "--help lacks {opt}");
    }
}

#[test]
fn sync_now_with_another_command_is_a_usage_error() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let run = s.labsync(&config, &["--sync-now", "check"]);
    assert_eq!(run.code, 64);
    assert!(
        run.stderr.contains("--sync-now runs a cycle by itself"),
        "{}",
        run.stderr
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let add = ["map", "user", "add", "--spira", "bob", "--gitlab", "bob"];
    let run = s.labsync(&config, &[&["--log-format", "json"][..], &add].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        !lines.is_empty(),
        "opening a new database logs its migration"
    );
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
    }
}

#[test]
fn log_level_filters() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let add = ["map", "user", "add", "--spira", "bob", "--gitlab", "bob"];
    let run = s.labsync(&config, &[&["--log-level", "warn"][..], &add].concat());
    assert_eq!(run.code, 0);
    assert!(
        !run.stderr.contains("applied migration"),
        "info lines must be filtered out: {}",
        run.stderr
    );
}

#[test]
fn an_unusable_database_path_is_one_clear_line() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_labsync"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--db",
            "/nonexistent/dir/labsync.db",
            "map",
            "user",
            "add",
            "--spira",
            "bob",
            "--gitlab",
            "bob",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("database /nonexistent/dir/labsync.db: cannot open: directory /nonexistent/dir does not exist"), "{stderr}");
}

/// Several commands started at once on a new database: one creates the
/// tables, the others wait for it and find them (issue: "table plugins
/// already exists", exit 2).
#[test]
fn commands_started_together_on_a_new_database_all_succeed() {
    for round in 0..5 {
        let s = Scratch::new();
        let config = s.write("plugins.toml", VALID);
        // All started before any is waited for.
        let children: Vec<_> = ["ann", "bob", "cid", "dan"]
            .iter()
            .map(|user| {
                std::process::Command::new(env!("CARGO_BIN_EXE_labsync"))
                    .arg("--config")
                    .arg(&config)
                    .arg("--db")
                    .arg(s.path("labsync.db"))
                    .args(["map", "user", "add", "--spira", user, "--gitlab", user])
                    .env("TEST_TOKEN", "t")
                    .env("TEST_KEY", "k")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A sync with nothing to do because nothing is configured says so, rather
/// than printing an empty table as if it had found no work.
#[test]
fn a_sync_of_a_file_without_enabled_plugins_says_there_is_nothing_to_sync() {
    let s = Scratch::new();
    let empty = s.write("empty.toml", "");
    for args in [&["--sync-now"][..], &["plan"][..]] {
        let run = s.labsync(&empty, args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("empty.toml defines no plugin: nothing to sync"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let disabled = VALID.replacen(
        "direction = \"both\"\n",
        "direction = \"both\"\nenabled = false\n",
        1,
    );
    assert_ne!(disabled, VALID);
    let config = s.write("disabled.toml", &disabled);
    let run = s.labsync(&config, &["--sync-now"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("every plugin in")
            && run
                .stderr
                .contains("is disabled (enabled = false): nothing to sync"),
        "{}",
        run.stderr
    );
}
