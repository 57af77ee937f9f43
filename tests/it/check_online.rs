//! `labsync check` without --offline, against both simulators on loopback:
//! the real binary, one line per finding, exit 0 unless something is wrong.

use labsync_testkit::cli;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Duration, Utc};
use cli::{Run, Scratch};
use labsync_sim::Seed;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};
use labsync_sim::spira::{SpiraSim, SpiraSimConfig};

/// Every Spira status of the seed, so that a good config has no warning.
const ALL_STATUSES: &str = r#"
  { spira = "New", gitlab = "opened", primary = true },
  { spira = "Open", gitlab = "opened" },
  { spira = "Assigned", gitlab = "opened" },
  { spira = "Reopen", gitlab = "opened" },
  { spira = "Resolved", gitlab = "closed" },
  { spira = "Closed", gitlab = "closed", primary = true },
  { spira = "Not Reproducible", gitlab = "closed" },
  { spira = "Duplicate", gitlab = "closed" },
"#;

struct Setup {
    gitlab: GitLabSim,
    spira: SpiraSim,
    scratch: Arc<Scratch>,
}

impl Setup {
    async fn start() -> Setup {
        let gitlab = GitLabSim::start(GitLabSimConfig {
            seed: Seed::Demo,
            ..GitLabSimConfig::default()
        })
        .await
        .unwrap();
        let spira = SpiraSim::start(SpiraSimConfig {
            seed: Seed::Demo,
            ..SpiraSimConfig::default()
        })
        .await
        .unwrap();
        Setup {
            gitlab,
            spira,
            scratch: Arc::new(Scratch::new()),
        }
    }

    /// plugins.toml for the sims, with the project and status rows given.
    fn config(&self, gitlab_project: &str, statuses: &str) -> PathBuf {
        let text = format!(
            r#"
[[plugins]]
name = "webshop"
schedule = "5m"

[plugins.spira]
base_url = "{spira}"
login = "{login}"
api_key_env = "LS_SPIRA_KEY"

[plugins.gitlab]
base_url = "{gitlab}"
token_env = "LS_GITLAB_TOKEN"

[[plugins.projects]]
spira_project = 1
gitlab_project = "{gitlab_project}"
statuses = [{statuses}]
priorities = [ {{ spira = "2 - High", gitlab = "priority::high" }} ]
users = [ {{ spira = "alice", gitlab = "alice" }} ]
releases = [ {{ spira = "1.0", gitlab = "Release 1.0" }} ]
"#,
            spira = self.spira.url(),
            login = self.spira.login(),
            gitlab = self.gitlab.url(),
        );
        self.scratch.write("plugins.toml", &text)
    }

    /// Runs the binary off the runtime's thread, so the sims keep serving.
    async fn labsync(&self, config: &Path, args: &[&str], token: &str, key: &str) -> Run {
        let scratch = self.scratch.clone();
        let config = config.to_path_buf();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let env = [
            ("LS_GITLAB_TOKEN".to_string(), token.to_string()),
            ("LS_SPIRA_KEY".to_string(), key.to_string()),
        ];
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            scratch.labsync_env(&config, &args, &env)
        })
        .await
        .unwrap()
    }

    async fn check_with(&self, config: &Path, token: &str, key: &str) -> Run {
        self.labsync(config, &["check"], token, key).await
    }

    async fn check(&self, config: &Path) -> Run {
        let (token, key) = (
            self.gitlab.token().to_string(),
            self.spira.api_key().to_string(),
        );
        self.check_with(config, &token, &key).await
    }
}

fn lines<'a>(run: &'a Run, prefix: &str) -> Vec<&'a str> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

/// The one line starting with `prefix` that holds every word of `parts`.
fn assert_line(run: &Run, prefix: &str, parts: &[&str]) {
    let found = lines(run, prefix)
        .into_iter()
        .any(|l| parts.iter().all(|p| l.contains(p)));
    assert!(
        found,
        "no '{prefix}' line with {parts:?}\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

fn assert_secret_hidden(run: &Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret),
        "secret in stdout: {}",
        run.stdout
    );
    assert!(
        !run.stderr.contains(secret),
        "secret in stderr: {}",
        run.stderr
    );
}

#[tokio::test]
async fn a_good_setup_passes_with_ok_lines_only() {
    let s = Setup::start().await;
    let config = s.config("demo/webshop", ALL_STATUSES);
    let run = s.check(&config).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(lines(&run, "error:").is_empty(), "{}", run.stdout);
    assert!(lines(&run, "warning:").is_empty(), "{}", run.stdout);
    assert_line(
        &run,
        "ok:",
        &["plugin 'webshop'", "Spira", "api key accepted"],
    );
    assert_line(&run, "ok:", &["Spira project PR:1 'Web Shop' readable"]);
    assert_line(&run, "ok:", &["GitLab", "labsync-bot", "scopes: api"]);
    assert_line(&run, "ok:", &["demo/webshop", "Maintainer access (40)"]);
    assert_line(
        &run,
        "ok:",
        &["PR:1 ↔ demo/webshop", "mapping tables resolve"],
    );
    assert!(!run.stderr.contains("not built"), "{}", run.stderr);
    assert_secret_hidden(&run, s.gitlab.token());
    assert_secret_hidden(&run, s.spira.api_key());
}

#[tokio::test]
async fn a_wrong_spira_api_key_is_an_error_that_does_not_show_the_key() {
    let s = Setup::start().await;
    let config = s.config("demo/webshop", ALL_STATUSES);
    let wrong = "{0BADC0DE-1111-2222-3333-444455556666}";
    let token = s.gitlab.token().to_string();
    let run = s.check_with(&config, &token, wrong).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_line(
        &run,
        "error:",
        &["plugin 'webshop'", "Spira", "not accepted"],
    );
    assert_secret_hidden(&run, wrong);
    assert_secret_hidden(&run, &token);
    // GitLab is still checked: one broken side does not hide the other.
    assert_line(&run, "ok:", &["demo/webshop", "Maintainer access"]);
}

#[tokio::test]
async fn an_unknown_gitlab_token_is_an_error() {
    let s = Setup::start().await;
    let config = s.config("demo/webshop", ALL_STATUSES);
    let key = s.spira.api_key().to_string();
    let run = s
        .check_with(&config, "glpat-not-a-real-token-x", &key)
        .await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_line(
        &run,
        "error:",
        &["plugin 'webshop'", "GitLab", "token not accepted"],
    );
    assert_secret_hidden(&run, "glpat-not-a-real-token-x");
}

#[tokio::test]
async fn an_unreadable_token_skips_gitlab_and_still_checks_spira() {
    let s = Setup::start().await;
    let config = s.config("demo/webshop", ALL_STATUSES);
    let key = s.spira.api_key().to_string();
    let run = s.check_with(&config, "", &key).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_line(
        &run,
        "error:",
        &[
            "plugin 'webshop'",
            "GitLab",
            "not contacted",
            "LS_GITLAB_TOKEN",
        ],
    );
    assert_line(&run, "ok:", &["Spira project PR:1 'Web Shop' readable"]);
    assert_eq!(s.gitlab.request_count(""), 0, "GitLab was contacted");
}

#[tokio::test]
async fn a_read_only_token_is_an_error() {
    let s = Setup::start().await;
    let config = s.config("demo/webshop", ALL_STATUSES);
    let token = s.gitlab.add_token("labsync-bot", &["read_api"], None);
    let key = s.spira.api_key().to_string();
    let run = s.check_with(&config, &token, &key).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_line(&run, "error:", &["GitLab", "read_api", "not `api`"]);
    assert_secret_hidden(&run, &token);
}

#[tokio::test]
async fn a_token_expiring_within_two_weeks_is_a_warning_only() {
    let s = Setup::start().await;
    let config = s.config("demo/webshop", ALL_STATUSES);
    let soon = Utc::now().date_naive() + Duration::days(5);
    let token = s.gitlab.add_token("labsync-bot", &["api"], Some(soon));
    let key = s.spira.api_key().to_string();
    let run = s.check_with(&config, &token, &key).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_line(
        &run,
        "warning:",
        &["GitLab", &soon.to_string(), "in 5 day(s)"],
    );
    assert!(lines(&run, "error:").is_empty(), "{}", run.stdout);
}

#[tokio::test]
async fn an_expired_token_is_an_error() {
    let s = Setup::start().await;
    let config = s.config("demo/webshop", ALL_STATUSES);
    let today = Utc::now().date_naive();
    let token = s.gitlab.add_token("labsync-bot", &["api"], Some(today));
    let key = s.spira.api_key().to_string();
    let run = s.check_with(&config, &token, &key).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_line(&run, "error:", &["plugin 'webshop'", "GitLab", "expired"]);
    assert_secret_hidden(&run, &token);
}

#[tokio::test]
async fn a_guest_cannot_create_issues() {
    let s = Setup::start().await;
    let config = s.config("demo/webshop", ALL_STATUSES);
    let token = s.gitlab.add_token("dave", &["api"], None);
    let key = s.spira.api_key().to_string();
    let run = s.check_with(&config, &token, &key).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_line(
        &run,
        "error:",
        &[
            "demo/webshop",
            "'dave'",
            "Guest access (10)",
            "Reporter (20)",
        ],
    );
}

#[tokio::test]
async fn an_unknown_gitlab_project_is_named() {
    let s = Setup::start().await;
    let config = s.config("demo/no-such-project", ALL_STATUSES);
    let run = s.check(&config).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_line(
        &run,
        "error:",
        &["GitLab project demo/no-such-project not found"],
    );
}

#[tokio::test]
async fn an_unknown_spira_status_in_the_mapping_is_an_error() {
    let s = Setup::start().await;
    let statuses = ALL_STATUSES.replace("\"Reopen\"", "\"Triage\"");
    let config = s.config("demo/webshop", &statuses);
    let run = s.check(&config).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_line(
        &run,
        "error:",
        &["PR:1 ↔ demo/webshop", "status mapping 'Triage'"],
    );
    // Reopen lost its row, so it is reported as unmapped too.
    assert_line(&run, "warning:", &["'Reopen' is active but not mapped"]);
}

#[tokio::test]
async fn an_unmapped_status_warns_until_a_cli_row_maps_it() {
    let s = Setup::start().await;
    let statuses = ALL_STATUSES.replace("  { spira = \"Reopen\", gitlab = \"opened\" },\n", "");
    let config = s.config("demo/webshop", &statuses);
    let run = s.check(&config).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_line(
        &run,
        "warning:",
        &["Spira status 'Reopen' is active but not mapped"],
    );
    assert_eq!(lines(&run, "warning:").len(), 1, "{}", run.stdout);

    // A row added with `labsync map` counts as much as one from the file.
    let add = [
        "map", "status", "add", "--spira", "Reopen", "--gitlab", "opened",
    ];
    let added = s.labsync(&config, &add, "", "").await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    let run = s.check(&config).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(lines(&run, "warning:").is_empty(), "{}", run.stdout);
}

/// Reference §13 row 7 (the v7.0 OAS says timesheet retrieval "does not
/// apply timezone offsets to filters", implying others may; Inflectra's
/// data-sync `DataSync.cs` carries a TimeOffsetHours knob): a server that
/// reads date filters in its own time zone (here UTC-3) would skip three
/// hours of changes. The probe measures
/// it on a scratch incident, says what to set, and deletes the incident.
#[tokio::test]
async fn the_probe_measures_a_date_filter_offset_and_cleans_up() {
    let s = Setup::start().await;
    s.spira.set_date_filter_offset(Duration::hours(-3));
    let before = s.spira.incidents(1).len();
    let config = s.config("demo/webshop", ALL_STATUSES);
    let run = s.check(&config).await;
    assert_line(
        &run,
        "ok:",
        &["scratch incident", "deleted after the probe"],
    );
    assert_line(
        &run,
        "warning:",
        &[
            "PR:1",
            "date filters run up to 3 h late",
            "time_offset = \"3h\"",
        ],
    );
    assert_eq!(
        s.spira.incidents(1).len(),
        before,
        "the scratch incident is gone"
    );
}

/// The probe tells whether a comment moves LastUpdateDate, and what that
/// means for `comment_sweep`.
#[tokio::test]
async fn the_probe_says_whether_comments_move_last_update_date() {
    let s = Setup::start().await;
    let config = s.config("demo/webshop", ALL_STATUSES);
    let run = s.check(&config).await;
    assert_line(
        &run,
        "ok:",
        &["date filters find a change from its own LastUpdateDate"],
    );
    assert_line(
        &run,
        "ok:",
        &[
            "a comment does not move LastUpdateDate",
            "keep comment_sweep on",
        ],
    );
    s.spira.set_comment_bumps_last_update(true);
    let run = s.check(&config).await;
    assert_line(
        &run,
        "ok:",
        &["a comment moves LastUpdateDate", "comment_sweep = \"off\""],
    );
}

/// A check only reads: it creates no database, and leaves an existing one
/// byte for byte as it was (the file's rows are applied to a copy in
/// memory), while still reading the rows `labsync map` added.
#[tokio::test]
async fn a_check_writes_no_database() {
    let s = Setup::start().await;
    let statuses = ALL_STATUSES.replace("  { spira = \"Reopen\", gitlab = \"opened\" },\n", "");
    let config = s.config("demo/webshop", &statuses);
    let db = s.scratch.path("labsync.db");
    let run = s.check(&config).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!db.exists(), "a check created {}", db.display());
    // A missing secret is an error, and still no database.
    let run = s.check_with(&config, "", "").await;
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!db.exists(), "a failed check created {}", db.display());

    // A database that exists, with a row from `labsync map`.
    let add = [
        "map", "status", "add", "--spira", "Reopen", "--gitlab", "opened",
    ];
    let added = s.labsync(&config, &add, "", "").await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    let before = std::fs::read(&db).unwrap();
    // The file changes (a row more) but the database must not follow.
    let edited = std::fs::read_to_string(&config)
        .unwrap()
        .replace("{ spira = \"1.0\", gitlab = \"Release 1.0\" }", "");
    std::fs::write(&config, edited).unwrap();
    let run = s.check(&config).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        lines(&run, "warning:")
            .iter()
            .all(|l| !l.contains("Reopen")),
        "the map row is read: {}",
        run.stdout
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "check wrote the database"
    );
}
