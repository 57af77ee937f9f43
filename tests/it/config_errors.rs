//! `labsync check --offline`: a broken configuration gets one line per
//! problem that names the file, the line, the plugin and the key, and the
//! command fails; a good one passes.

use labsync_testkit::cli;

use cli::{Scratch, VALID, assert_one_error, line_of};

/// Replaces `from` with `to` in the valid config and checks it.
fn check_with(from: &str, to: &str) -> cli::Run {
    cli::check_edited(from, to, &[])
}

#[test]
fn the_shipped_example_passes() {
    let s = Scratch::new();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins.toml.example");
    let run = s.labsync(&example, &["check", "--offline"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("plugins.toml.example is valid"));
}

#[test]
fn a_valid_config_passes() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let run = s.labsync(&config, &["check", "--offline"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("plugin 'webshop' (enabled)"));
    // No `concurrency` given: the default is said.
    assert!(run.stdout.contains("8 item(s) at once"), "{}", run.stdout);
}

#[test]
fn unknown_key_names_file_line_plugin_and_key() {
    let run = check_with("token_env = \"TEST_TOKEN\"", "tocken_env = \"TEST_TOKEN\"");
    let line = line_of("token_env");
    assert_one_error(
        &run,
        &[
            &format!("plugins.toml:{line}:"),
            "plugin 'webshop'",
            "gitlab.tocken_env",
            "unknown key 'tocken_env'",
        ],
    );
}

#[test]
fn wrong_type_names_the_key() {
    let run = check_with("schedule = \"5m\"", "schedule = \"5m\"\nenabled = \"yes\"");
    assert_one_error(&run, &["plugin 'webshop'", "enabled", "bool"]);
}

#[test]
fn bad_duration() {
    let run = check_with("time_offset = \"2m\"", "time_offset = \"2 fortnights\"");
    let line = line_of("time_offset");
    assert_one_error(
        &run,
        &[&format!(":{line}:"), "time_offset", "not a duration"],
    );
}

#[test]
fn time_offset_under_a_minute_is_refused() {
    let run = check_with("time_offset = \"2m\"", "time_offset = \"30s\"");
    assert_one_error(&run, &["time_offset", "at least 1m"]);
}

#[test]
fn concurrency_out_of_range_is_refused() {
    let run = check_with(
        "time_offset = \"2m\"",
        "time_offset = \"2m\"\nconcurrency = 0",
    );
    let line = line_of("time_offset") + 1;
    assert_one_error(
        &run,
        &[
            &format!(":{line}:"),
            "concurrency",
            "0 is out of range",
            "1 to 32",
        ],
    );
    let run = check_with(
        "time_offset = \"2m\"",
        "time_offset = \"2m\"\nconcurrency = 500",
    );
    assert_one_error(&run, &["concurrency", "500 is out of range"]);
}

#[test]
fn unknown_release_type_or_status_is_refused_with_its_line() {
    let run = check_with(
        "api_key_env = \"TEST_KEY\"",
        "api_key_env = \"TEST_KEY\"\nrelease_type = \"sprint\"",
    );
    let line = line_of("api_key_env = \"TEST_KEY\"") + 1;
    assert_one_error(
        &run,
        &[
            &format!(":{line}:"),
            "spira.release_type",
            "'sprint' is not a Spira release type",
            "iteration",
        ],
    );
    let run = check_with(
        "api_key_env = \"TEST_KEY\"",
        "api_key_env = \"TEST_KEY\"\nrelease_status = \"open\"",
    );
    assert_one_error(&run, &["spira.release_status", "planned"]);
}

#[test]
fn an_unknown_gitlab_issue_type_is_refused_naming_the_valid_ones() {
    let run = check_with(
        "time_offset = \"2m\"",
        "time_offset = \"2m\"\ngitlab_issue_types = [\"issue\", \"tasks\"]",
    );
    let line = line_of("time_offset") + 1;
    assert_one_error(
        &run,
        &[
            &format!("plugins.toml:{line}:"),
            "plugin 'webshop'",
            "gitlab_issue_types",
            "'tasks' is not a GitLab work item type",
            "issue, incident, test_case, task, objective, key_result",
        ],
    );
    let run = check_with(
        "time_offset = \"2m\"",
        "time_offset = \"2m\"\ngitlab_issue_types = []",
    );
    assert_one_error(&run, &["gitlab_issue_types", "is empty"]);
}

#[test]
fn bad_cron_expression() {
    let run = check_with("schedule = \"5m\"", "schedule = \"*/5 25 * * *\"");
    assert_one_error(
        &run,
        &[
            "plugin 'webshop'",
            "schedule",
            "not a valid cron expression",
        ],
    );
}

#[test]
fn cron_expression_is_accepted() {
    let s = Scratch::new();
    let config = s.write(
        "plugins.toml",
        &VALID.replacen("schedule = \"5m\"", "schedule = \"*/10 * * * *\"", 1),
    );
    let run = s.labsync(&config, &["check", "--offline"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("schedule cron"), "{}", run.stdout);
}

#[test]
fn a_state_without_a_primary_status() {
    let run = check_with(
        "{ spira = \"Closed\", gitlab = \"closed\", primary = true }",
        "{ spira = \"Closed\", gitlab = \"closed\" }",
    );
    assert_one_error(
        &run,
        &["projects[0].statuses", "'closed' has 0 primary statuses"],
    );
}

#[test]
fn a_state_with_two_primary_statuses() {
    let run = check_with(
        "{ spira = \"Open\", gitlab = \"opened\" }",
        "{ spira = \"Open\", gitlab = \"opened\", primary = true }",
    );
    assert_one_error(&run, &["'opened' has 2 primary statuses"]);
}

#[test]
fn an_unknown_gitlab_state() {
    let run = check_with(
        "{ spira = \"Resolved\", gitlab = \"closed\" }",
        "{ spira = \"Resolved\", gitlab = \"resolved\" }",
    );
    let line = line_of("Resolved");
    assert_one_error(
        &run,
        &[
            &format!(":{line}:"),
            "statuses[2].gitlab",
            "not a GitLab state",
        ],
    );
}

#[test]
fn duplicate_mappings() {
    let run = check_with(
        "users = [ { spira = \"alice\", gitlab = \"alice\" } ]",
        "users = [ { spira = \"alice\", gitlab = \"alice\" }, { spira = \"alice\", gitlab = \"al\" } ]",
    );
    assert_one_error(&run, &["users[1].spira", "'alice' is mapped twice"]);
    let run = check_with(
        "users = [ { spira = \"alice\", gitlab = \"alice\" } ]",
        "users = [ { spira = \"alice\", gitlab = \"alice\" }, { spira = \"bob\", gitlab = \"alice\" } ]",
    );
    assert_one_error(&run, &["users[1].gitlab", "'alice' is mapped twice"]);
}

#[test]
fn duplicate_project_mapping() {
    let run = check_with(
        "[[plugins.projects]]\nspira_project = 1",
        "[[plugins.projects]]\nspira_project = 1\ngitlab_project = \"qa/other\"\n\n[[plugins.projects]]\nspira_project = 1",
    );
    assert_one_error(
        &run,
        &[
            "projects[1].spira_project",
            "Spira project 1 is mapped twice",
        ],
    );
}

#[test]
fn no_secret_given() {
    let run = check_with("token_env = \"TEST_TOKEN\"", "");
    assert_one_error(&run, &["plugin 'webshop'", "gitlab", "missing secret"]);
}

#[test]
fn secret_given_twice() {
    let run = check_with(
        "token_env = \"TEST_TOKEN\"",
        "token_env = \"TEST_TOKEN\"\ntoken_file = \"/etc/t\"",
    );
    assert_one_error(&run, &["set only one of token, token_file and token_env"]);
}

#[test]
fn secret_env_var_not_set() {
    let run = check_with(
        "token_env = \"TEST_TOKEN\"",
        "token_env = \"NOT_SET_ANYWHERE_42\"",
    );
    assert_one_error(
        &run,
        &[
            "plugin 'webshop'",
            "gitlab.token",
            "NOT_SET_ANYWHERE_42 is not set",
        ],
    );
    // The value of a secret that is set never shows, even when another part fails.
    assert!(!run.stderr.contains("{TEST-API-KEY}"));
}

#[test]
fn secret_from_a_systemd_credential() {
    let s = Scratch::new();
    let creds = s.path("creds");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join("gitlab-token"), "glpat-from-credential\n").unwrap();
    let config = s.write(
        "plugins.toml",
        &VALID.replacen(
            "token_env = \"TEST_TOKEN\"",
            "token_file = \"gitlab-token\"",
            1,
        ),
    );
    let run = s.labsync_env(
        &config,
        &["check", "--offline"],
        &[("CREDENTIALS_DIRECTORY", creds.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_file(creds.join("gitlab-token")).unwrap();
    let run = s.labsync_env(
        &config,
        &["check", "--offline"],
        &[("CREDENTIALS_DIRECTORY", creds.to_str().unwrap())],
    );
    assert_one_error(&run, &["gitlab.token", "gitlab-token: no such file"]);
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let run = check_with(
        "base_url = \"https://gitlab.example.com\"",
        "base_url = \"http://gitlab.example.com\"",
    );
    assert_one_error(&run, &["gitlab.base_url", "plain http"]);
}

#[test]
fn toml_syntax_error_gives_the_line() {
    let run = check_with("conflict = \"newest\"", "conflict = \"newest");
    let line = line_of("conflict");
    assert_one_error(&run, &["plugins.toml", &format!("line {line}")]);
}

#[test]
fn missing_file() {
    let s = Scratch::new();
    let run = s.labsync(&s.path("nope.toml"), &["check", "--offline"]);
    assert_one_error(
        &run,
        &["nope.toml", "cannot read the configuration: no such file"],
    );
}

#[test]
fn several_problems_are_all_reported() {
    let s = Scratch::new();
    let text = VALID
        .replacen("time_offset = \"2m\"", "time_offset = \"10s\"", 1)
        .replacen("conflict = \"newest\"", "conflict = \"oldest\"", 1);
    let config = s.write("plugins.toml", &text);
    let run = s.labsync(&config, &["check", "--offline"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("time_offset"), "{}", run.stderr);
    assert!(
        run.stderr.contains("'oldest' is not a conflict policy"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_cycle_deadline_out_of_range_or_shorter_than_a_request_names_its_line() {
    let line = line_of("http_timeout") + 1;
    for (timeout, deadline, says) in [
        (
            "30s",
            "10s",
            "'10s' is too short: at least 1m for a cycle's requests to one server",
        ),
        (
            "30s",
            "2d",
            "'2d' is too long: at most 1day for a cycle's requests to one server",
        ),
        ("30s", "soon", "'soon' is not a duration"),
        (
            "5m",
            "2m",
            "'2m' is shorter than http_timeout (5m): a cycle could not finish one request",
        ),
    ] {
        let run = check_with(
            "http_timeout = \"30s\"",
            &format!("http_timeout = \"{timeout}\"\ncycle_deadline = \"{deadline}\""),
        );
        assert_one_error(
            &run,
            &[&format!("plugins.toml:{line}: cycle_deadline: {says}")],
        );
    }
    let run = check_with(
        "http_timeout = \"30s\"",
        "http_timeout = \"30s\"\ncycle_deadline = \"20m\"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn environment_overrides_the_file_and_its_errors_say_so() {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let run = s.labsync_env(
        &config,
        &["check", "--offline"],
        &[("LABSYNC_HTTP_TIMEOUT", "soon")],
    );
    assert_one_error(&run, &["http_timeout", "'soon' is not a duration"]);
    let run = s.labsync_env(
        &config,
        &["check", "--offline"],
        &[("LABSYNC_HTTP_TIMEOUT", "45s")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn an_inline_secret_in_a_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    let config = s.write(
        "plugins.toml",
        &VALID.replacen(
            "token_env = \"TEST_TOKEN\"",
            "token = \"glpat-inline-secret-value\"",
            1,
        ),
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = s.labsync(&config, &["check", "--offline"]);
    assert_eq!(run.code, 0, "a warning, not an error: {}", run.stderr);
    assert!(
        run.stdout
            .contains("readable by others (mode 644): chmod 600 it"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("glpat-inline-secret-value")
            && !run.stderr.contains("glpat-inline-secret-value")
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = s.labsync(&config, &["check", "--offline"]);
    assert!(!run.stdout.contains("readable by others"), "{}", run.stdout);
}

#[test]
fn a_private_ca_bundle_is_checked_and_announced() {
    let s = Scratch::new();
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/private-ca.pem");
    let with_ca = |path: &str| {
        VALID.replacen(
            "token_env = \"TEST_TOKEN\"",
            &format!("token_env = \"TEST_TOKEN\"\nca_file = \"{path}\""),
            1,
        )
    };
    let config = s.write("plugins.toml", &with_ca(ca.to_str().unwrap()));
    let run = s.labsync(&config, &["check", "--offline"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("gitlab.ca_file: every server whose certificate"),
        "{}",
        run.stdout
    );
    let not_pem = s.write("garbage.pem", "hello");
    let config = s.write("plugins.toml", &with_ca(not_pem.to_str().unwrap()));
    let run = s.labsync(&config, &["check", "--offline"]);
    assert_one_error(&run, &["gitlab.ca_file", "holds no PEM certificate"]);
    let config = s.write("plugins.toml", &with_ca("/nonexistent/ca.pem"));
    let run = s.labsync(&config, &["check", "--offline"]);
    assert_one_error(
        &run,
        &[
            "gitlab.ca_file",
            "cannot read /nonexistent/ca.pem: no such file",
        ],
    );
}
