//! Credentials never travel in a URL: a configured URL that carries one is
//! refused before anything runs (file:line and key, never the value), and a
//! URL that reaches an error anyway is scrubbed.

use labsync_testkit::cli;

use std::time::Duration;

use cli::{Scratch, VALID};
use labsync::gitlab::GitLabClient;
use labsync::http::{HttpClient, HttpSettings, Idempotency};
use labsync::secret::Secret;
use labsync::spira::SpiraClient;

const SECRET: &str = "glpat-VERYSECRET1234";

fn check_with(from: &str, to: &str) -> cli::Run {
    assert!(
        VALID.contains(from),
        "test setup: '{from}' not in the config"
    );
    let s = Scratch::new();
    let config = s.write("plugins.toml", &VALID.replacen(from, to, 1));
    s.labsync(&config, &["check", "--offline"])
}

fn line_of(needle: &str) -> usize {
    VALID.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// Exit 2, and every error line names the file:line and key, never the value.
fn assert_refused(run: &cli::Run, line: usize, key: &str, what: &[&str]) {
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains("VERYSECRET"), "the value was echoed:\n{all}");
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("labsync: error:"))
        .collect();
    assert_eq!(errors.len(), what.len(), "{}", run.stderr);
    for (line_text, part) in errors.iter().zip(what) {
        for needed in [&format!("plugins.toml:{line}") as &str, key, part] {
            assert!(line_text.contains(needed), "lacks '{needed}': {line_text}");
        }
    }
}

#[test]
fn a_gitlab_token_in_the_query_is_refused_without_echo() {
    let gitlab = "base_url = \"https://gitlab.example.com\"";
    for param in ["private_token", "access_token", "job_token"] {
        let run = check_with(
            gitlab,
            &format!("base_url = \"https://gitlab.example.com/?{param}={SECRET}\""),
        );
        assert_refused(&run, line_of(gitlab), "gitlab.base_url", &[param]);
    }
}

#[test]
fn userinfo_is_refused_on_both_sides() {
    let gitlab = "base_url = \"https://gitlab.example.com\"";
    let run = check_with(
        gitlab,
        &format!("base_url = \"https://bot:{SECRET}@gitlab.example.com\""),
    );
    assert_refused(&run, line_of(gitlab), "gitlab.base_url", &["userinfo"]);
    let spira = "base_url = \"https://spira.example.com\"";
    let run = check_with(
        spira,
        &format!("base_url = \"https://bot:{SECRET}@spira.example.com\""),
    );
    assert_refused(&run, line_of(spira), "spira.base_url", &["userinfo"]);
}

#[test]
fn a_spira_key_or_login_in_the_query_is_refused() {
    let spira = "base_url = \"https://spira.example.com\"";
    let run = check_with(
        spira,
        &format!("base_url = \"https://spira.example.com/?username=bot&api-key={SECRET}\""),
    );
    // One line, naming both parameters.
    assert_refused(&run, line_of(spira), "spira.base_url", &["'username'"]);
    assert!(run.stderr.contains("'api-key'"), "{}", run.stderr);
}

#[test]
fn a_refused_url_that_is_also_plain_http_is_not_echoed_either() {
    let gitlab = "base_url = \"https://gitlab.example.com\"";
    let run = check_with(
        gitlab,
        &format!("base_url = \"http://gitlab.example.com/?private_token={SECRET}\""),
    );
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("VERYSECRET"), "{}", run.stderr);
}

#[test]
fn the_clients_never_echo_a_credential_of_their_url() {
    let settings = HttpSettings::default();
    let e = GitLabClient::new(
        &format!("https://gitlab.example.com/?private_token={SECRET}"),
        Secret::new("t"),
        settings.clone(),
    )
    .unwrap_err();
    assert!(!e.to_string().contains("VERYSECRET"), "{e}");
    let e = GitLabClient::new(
        &format!("https://bot:{SECRET}@gitlab.example.com"),
        Secret::new("t"),
        settings.clone(),
    )
    .unwrap_err();
    assert!(!e.to_string().contains("VERYSECRET"), "{e}");
    let e = SpiraClient::new(
        &format!("ftp://bot:{SECRET}@spira.example.com"),
        "bot".into(),
        Secret::new("k"),
        settings,
    )
    .unwrap_err();
    assert!(!e.to_string().contains("VERYSECRET"), "{e}");
}

#[tokio::test]
async fn a_transport_error_does_not_quote_a_credential_of_its_url() {
    // A port nobody listens on: reqwest's error names the URL it tried.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let http = HttpClient::new(HttpSettings {
        max_retries: 0,
        timeout: Duration::from_secs(5),
        ..HttpSettings::default()
    })
    .unwrap();
    let url = format!("http://bot:{SECRET}@127.0.0.1:{port}/api/v4/x?private_token={SECRET}");
    let e = http
        .send("GET x", Idempotency::Safe, |c| c.get(&url))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("127.0.0.1"), "still names the host: {text}");
    assert!(!text.contains("VERYSECRET"), "{text}");
}
