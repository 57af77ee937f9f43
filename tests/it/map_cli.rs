//! `labsync map`: config rows appear on load, admins add and remove their
//! own rows, bad input is refused without changing anything, and the tables
//! round-trip through export and import.

use labsync_testkit::cli;

use cli::{Run, Scratch, VALID};
use serde_json::Value;

fn ok(run: Run) -> Run {
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run
}

fn tables(s: &Scratch, config: &std::path::Path) -> Value {
    let run = ok(s.labsync(config, &["map", "list", "--json"]));
    serde_json::from_str(&run.stdout).unwrap()
}

fn statuses(v: &Value) -> Vec<(String, String, bool, String)> {
    v["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spira"].as_str().unwrap().to_string(),
                r["gitlab"].as_str().unwrap().to_string(),
                r["primary"].as_bool().unwrap(),
                r["source"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn config_rows_are_loaded_with_source_config() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    s.init_db(&config);
    let v = tables(&s, &config);
    assert_eq!(v["projects"][0]["gitlab_project"], "qa/webshop");
    assert_eq!(v["projects"][0]["source"], "config");
    let st = statuses(&v);
    assert_eq!(st.len(), 4);
    assert!(st.contains(&("Closed".into(), "closed".into(), true, "config".into())));
    // A priority that is alone on its label is that label's primary.
    assert!(
        v["priorities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["primary"] == true)
    );
    let human = ok(s.labsync(&config, &["map", "status", "list"]));
    assert!(human.stdout.contains("GITLAB STATE"), "{}", human.stdout);
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.contains("Resolved") && l.contains("closed") && l.contains("config"))
    );
}

#[test]
fn add_and_remove_a_cli_row() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    ok(s.labsync(
        &config,
        &[
            "map", "status", "add", "--spira", "Reopen", "--gitlab", "opened",
        ],
    ));
    assert!(statuses(&tables(&s, &config)).contains(&(
        "Reopen".into(),
        "opened".into(),
        false,
        "cli".into()
    )));
    ok(s.labsync(&config, &["map", "status", "remove", "--spira", "reopen"]));
    assert!(
        !statuses(&tables(&s, &config))
            .iter()
            .any(|r| r.0 == "Reopen")
    );
}

#[test]
fn refusals_name_the_problem_and_change_nothing() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    s.init_db(&config);
    let before = tables(&s, &config);
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "map",
                "status",
                "add",
                "--spira",
                "Reopen",
                "--gitlab",
                "opened",
                "--primary",
            ],
            "already has a primary status: 'New' (source config)",
        ),
        (
            &[
                "map", "status", "add", "--plugin", "nope", "--spira", "X", "--gitlab", "opened",
            ],
            "unknown plugin 'nope' (known: webshop)",
        ),
        (
            &[
                "map",
                "status",
                "add",
                "--project",
                "7",
                "--spira",
                "X",
                "--gitlab",
                "opened",
            ],
            "no project mapping for Spira project 7",
        ),
        (
            &[
                "map", "status", "add", "--spira", "Reopen", "--gitlab", "reopened",
            ],
            "'reopened' is not a GitLab state",
        ),
        (
            &[
                "map", "status", "add", "--spira", "new", "--gitlab", "closed",
            ],
            "status 'new' is already mapped to GitLab state 'opened' (source config): change it in plugins.toml",
        ),
        (
            &["map", "user", "add", "--spira", "bob", "--gitlab", "alice"],
            "GitLab user 'alice' is already mapped to Spira user 'alice'",
        ),
        (
            &[
                "map",
                "user",
                "add",
                "--spira",
                "bob",
                "--gitlab",
                "bob",
                "--primary",
            ],
            "--primary applies to status and priority",
        ),
        (
            &["map", "status", "remove", "--spira", "New"],
            "comes from plugins.toml",
        ),
        (
            &["map", "release", "remove", "--spira", "9.9"],
            "no release mapping for '9.9'",
        ),
        (
            &[
                "map",
                "project",
                "add",
                "--spira-project",
                "1",
                "--gitlab-project",
                "x/y",
            ],
            "already mapped to GitLab project qa/webshop",
        ),
        (
            &[
                "map",
                "project",
                "add",
                "--spira-project",
                "2",
                "--gitlab-project",
                "qa/webshop",
            ],
            "GitLab project qa/webshop is already mapped to Spira project 1",
        ),
    ];
    for (args, message) in cases {
        let run = s.labsync(&config, args);
        assert_eq!(run.code, 2, "{args:?} should fail: {}", run.stdout);
        assert!(
            run.stderr.contains(message),
            "{args:?}: expected '{message}' in:\n{}",
            run.stderr
        );
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "one line only: {}",
            run.stderr
        );
    }
    assert_eq!(
        tables(&s, &config),
        before,
        "a refused change must change nothing"
    );
}

#[test]
fn reloading_the_config_replaces_config_rows_and_keeps_cli_rows() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    ok(s.labsync(
        &config,
        &[
            "map", "status", "add", "--spira", "Reopen", "--gitlab", "opened",
        ],
    ));
    // The admin drops "Open" from the file and renames the project path.
    let edited = VALID
        .replacen("  { spira = \"Open\", gitlab = \"opened\" },\n", "", 1)
        .replacen("qa/webshop", "qa/shop", 1);
    std::fs::write(&config, edited).unwrap();
    let v = tables(&s, &config);
    let st = statuses(&v);
    assert!(!st.iter().any(|r| r.0 == "Open"), "{st:?}");
    assert!(st.contains(&("Reopen".into(), "opened".into(), false, "cli".into())));
    assert_eq!(v["projects"][0]["gitlab_project"], "qa/shop");
}

#[test]
fn a_config_row_takes_over_a_cli_row_with_the_same_key() {
    let s = Scratch::new();
    let without_statuses = without_status_table(VALID);
    let config = s.write("plugins.toml", &without_statuses);
    ok(s.labsync(
        &config,
        &[
            "map", "status", "add", "--spira", "Closed", "--gitlab", "closed",
        ],
    ));
    std::fs::write(&config, VALID).unwrap();
    let st = statuses(&tables(&s, &config));
    assert!(
        st.contains(&("Closed".into(), "closed".into(), true, "config".into())),
        "{st:?}"
    );
}

/// plugins.toml wins a clash with a row of `labsync map`: loading it never
/// fails (that would stop every command and the daemon), the cli row loses
/// its primary flag and the change is logged (issue 13, item 5).
#[test]
fn a_config_primary_clashing_with_a_cli_primary_takes_over_on_load() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", &without_status_table(VALID));
    ok(s.labsync(
        &config,
        &[
            "map",
            "status",
            "add",
            "--spira",
            "Reopen",
            "--gitlab",
            "opened",
            "--primary",
        ],
    ));
    std::fs::write(&config, VALID).unwrap();
    let run = ok(s.labsync(&config, &["map", "list"]));
    assert!(
        run.stderr.contains("plugins.toml makes status 'New' the primary of 'opened': status 'Reopen' (source cli) is no longer primary"),
        "{}",
        run.stderr
    );
    let st = statuses(&tables(&s, &config));
    assert!(
        st.contains(&("New".into(), "opened".into(), true, "config".into())),
        "{st:?}"
    );
    assert!(
        st.contains(&("Reopen".into(), "opened".into(), false, "cli".into())),
        "{st:?}"
    );
}

fn without_status_table(config: &str) -> String {
    let start = config.find("statuses = [").unwrap();
    let end = start + config[start..].find("]\n").unwrap() + 2;
    format!("{}{}", &config[..start], &config[end..])
}

#[test]
fn export_then_import_round_trips() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    ok(s.labsync(
        &config,
        &[
            "map", "status", "add", "--spira", "Reopen", "--gitlab", "opened",
        ],
    ));
    ok(s.labsync(
        &config,
        &[
            "map", "user", "add", "--spira", "bob", "--gitlab", "bob.dev",
        ],
    ));
    ok(s.labsync(
        &config,
        &[
            "map",
            "project",
            "add",
            "--spira-project",
            "2",
            "--gitlab-project",
            "42",
            "--inactive",
        ],
    ));
    ok(s.labsync(
        &config,
        &[
            "map",
            "priority",
            "add",
            "--project",
            "2",
            "--spira",
            "3 - Medium",
            "--gitlab",
            "priority::medium",
        ],
    ));
    let exported = s.path("mappings.toml");
    ok(s.labsync(
        &config,
        &["map", "export", "--output", exported.to_str().unwrap()],
    ));
    let original = tables(&s, &config);

    // A fresh database with the same configuration.
    let other = Scratch::new();
    let config2 = other.write("plugins.toml", VALID);
    let run = ok(other.labsync(&config2, &["map", "import", exported.to_str().unwrap()]));
    assert!(run.stdout.contains("4 row(s) added"), "{}", run.stdout);
    assert_eq!(tables(&other, &config2), original);

    // Importing again changes nothing.
    let run = ok(other.labsync(&config2, &["map", "import", exported.to_str().unwrap()]));
    assert!(run.stdout.contains("0 row(s) added"), "{}", run.stdout);
    assert_eq!(tables(&other, &config2), original);
}

#[test]
fn a_bad_import_imports_nothing() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    s.init_db(&config);
    let before = tables(&s, &config);
    let file = s.write(
        "bad.toml",
        r#"
[[users]]
plugin = "webshop"
spira_project = 1
spira = "carol"
gitlab = "carol"
source = "cli"

[[statuses]]
plugin = "webshop"
spira_project = 1
spira = "Reopen"
gitlab = "opened"
primary = true
source = "cli"
"#,
    );
    let run = s.labsync(&config, &["map", "import", file.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bad.toml: statuses[0]:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("nothing was imported"),
        "{}",
        run.stderr
    );
    assert_eq!(
        tables(&s, &config),
        before,
        "the valid user row must not be imported either"
    );

    let garbled = s.write("garbled.toml", "[[users]]\nplugin = 3\n");
    let run = s.labsync(&config, &["map", "import", garbled.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("garbled.toml"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// `labsync map` works on any database it can open: when plugins.toml's
/// rows cannot be loaded into it, it says so and shows and edits the tables
/// as they are, so the admin can repair them (issue 13, item 5).
#[test]
fn map_works_when_the_config_rows_cannot_be_loaded() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    ok(s.labsync(
        &config,
        &[
            "map",
            "project",
            "add",
            "--spira-project",
            "2",
            "--gitlab-project",
            "qa/mobile",
        ],
    ));
    // plugins.toml now maps another Spira project to the same GitLab project.
    let clashing = format!(
        "{VALID}\n[[plugins.projects]]\nspira_project = 3\ngitlab_project = \"qa/mobile\"\n"
    );
    let config = s.write("plugins.toml", &clashing);
    let run = ok(s.labsync(&config, &["map", "list"]));
    assert!(
        run.stderr.contains("labsync: warning:")
            && run
                .stderr
                .contains("qa/mobile is already mapped to Spira project 2"),
        "{}",
        run.stderr
    );
    ok(s.labsync(
        &config,
        &["map", "project", "remove", "--spira-project", "2"],
    ));
    // Repaired: the file's rows load again, without a warning.
    let run = ok(s.labsync(&config, &["map", "list", "--json"]));
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let projects: Vec<i64> = v["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["spira_project"].as_i64().unwrap())
        .collect();
    assert_eq!(projects, [1, 3]);
}
