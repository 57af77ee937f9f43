//! `labsync status` and `labsync retry` through the binary, on a database
//! built with the library's store API as the engine would leave it.

use labsync_testkit::cli;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use cli::{Run, Scratch, VALID};
use labsync::config::Config;
use labsync::model::{CreatedBy, Side, Ticket};
use labsync::store::Store;
use labsync::store::links::{ItemCommit, Link};
use labsync::store::progress::PARK_AFTER;
use serde_json::Value;

const SPIRA_CAUSE: &str = "Spira answered HTTP 500 to incident IN:101";
const GITLAB_CAUSE: &str = "issue #7: refused by GitLab: title is too long";

fn link(incident: i64) -> Link {
    Link {
        id: 0,
        plugin: "webshop".into(),
        tm_project: 1,
        tm_item: incident,
        tracker_project_id: 10,
        tracker_item_id: 1000 + incident,
        tracker_iid: incident,
        tracker_url: format!("https://gitlab.example.com/qa/webshop/-/issues/{incident}"),
        created_by: CreatedBy::Side(Side::TestManagement),
        base: Ticket {
            title: format!("Incident {incident}"),
            ..Ticket::default()
        },
        last_tracker_comment: 0,
        last_tm_comment: 0,
        orphaned: None,
        comments_checked_at: None,
        tracker_kept: labsync::model::TrackerKept::default(),
    }
}

/// Three links (one orphaned), a finished run, both watermarks and two
/// queued errors, the second one parked.
fn setup() -> (Scratch, PathBuf) {
    let s = Scratch::new();
    let config = s.write("plugins.toml", VALID);
    let mut store = Store::open(&s.path("labsync.db")).unwrap();
    store
        .apply_config(&Config::from_str(Path::new("plugins.toml"), VALID).unwrap())
        .unwrap();
    for incident in [1, 2, 3] {
        let id = store
            .commit_item(&ItemCommit {
                run_id: None,
                link: link(incident),
                comments: vec![],
                events: vec![],
                intent_id: None,
            })
            .unwrap();
        if incident == 3 {
            store.mark_orphaned(id, "issue deleted in GitLab").unwrap();
        }
    }
    let run = store.start_run("webshop", "sync-now").unwrap();
    store
        .finish_run(
            run,
            "partial",
            &serde_json::json!({ "created": 2, "failed": 2 }),
        )
        .unwrap();
    let mark = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    store
        .advance_watermark("webshop", 1, Side::TestManagement, mark)
        .unwrap();
    store
        .advance_watermark(
            "webshop",
            1,
            Side::IssueTracker,
            mark + Duration::minutes(1),
        )
        .unwrap();
    let now = Utc::now();
    store
        .record_error(
            "webshop",
            1,
            Side::TestManagement,
            101,
            SPIRA_CAUSE,
            now - Duration::hours(2),
        )
        .unwrap();
    for _ in 0..PARK_AFTER {
        store
            .record_error(
                "webshop",
                1,
                Side::IssueTracker,
                7,
                GITLAB_CAUSE,
                now - Duration::hours(1),
            )
            .unwrap();
    }
    (s, config)
}

fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

fn json(run: &Run) -> Value {
    ok(run);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

/// The error queue as `status --errors --json` shows it, by id.
fn queue(s: &Scratch, config: &Path) -> Vec<(i64, bool, DateTime<Utc>)> {
    let doc = json(&s.labsync(config, &["status", "--errors", "--json"]));
    doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let next: DateTime<Utc> = e["next_try"].as_str().unwrap().parse().unwrap();
            (
                e["id"].as_i64().unwrap(),
                e["parked"].as_bool().unwrap(),
                next,
            )
        })
        .collect()
}

#[test]
fn status_shows_last_cycle_watermarks_links_and_errors() {
    let (s, config) = setup();
    let run = s.labsync(&config, &["status"]);
    ok(&run);
    let out = &run.stdout;
    assert!(
        out.contains("plugin 'webshop': last cycle started"),
        "{out}"
    );
    assert!(out.contains("result partial (sync-now)"), "{out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("PR:1"))
        .unwrap_or_else(|| panic!("no row for PR:1:\n{out}"));
    for part in [
        "qa/webshop",
        "2026-01-02 03:04:05 UTC",
        "2026-01-02 03:05:05 UTC",
        " 3 ",
        " 1 ",
        "2 (1 parked)",
        GITLAB_CAUSE,
    ] {
        assert!(row.contains(part), "{part:?} missing from {row:?}");
    }
}

#[test]
fn status_json_is_one_document_for_scripts() {
    let (s, config) = setup();
    let doc = json(&s.labsync(&config, &["status", "--json"]));
    let plugin = &doc["plugins"][0];
    assert_eq!(plugin["plugin"], "webshop");
    assert_eq!(plugin["last_run"]["result"], "partial");
    assert_eq!(plugin["last_run"]["trigger"], "sync-now");
    assert_eq!(plugin["last_run"]["summary"]["created"], 2);
    assert!(plugin["last_run"]["finished_at"].is_string());
    let project = &plugin["projects"][0];
    assert_eq!(project["spira_project"], 1);
    assert_eq!(project["gitlab_project"], "qa/webshop");
    assert_eq!(project["watermarks"]["spira"], "2026-01-02T03:04:05Z");
    assert_eq!(project["watermarks"]["gitlab"], "2026-01-02T03:05:05Z");
    assert_eq!(project["links"]["total"], 3);
    assert_eq!(project["links"]["orphaned"], 1);
    assert_eq!(project["errors"]["pending"], 2);
    assert_eq!(project["errors"]["parked"], 1);
    assert_eq!(project["errors"]["last_cause"], GITLAB_CAUSE);
}

#[test]
fn status_errors_lists_the_queue() {
    let (s, config) = setup();
    let run = s.labsync(&config, &["status", "--errors"]);
    ok(&run);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[0].starts_with("ID"), "{}", lines[0]);
    let spira: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&spira[..6], ["1", "webshop", "PR:1", "spira", "101", "1"]);
    assert!(
        lines[1].contains(" no ") && lines[1].ends_with(SPIRA_CAUSE),
        "{}",
        lines[1]
    );
    let gitlab: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(&gitlab[..6], ["2", "webshop", "PR:1", "gitlab", "7", "10"]);
    assert!(
        lines[2].contains(" yes ") && lines[2].ends_with(GITLAB_CAUSE),
        "{}",
        lines[2]
    );
}

#[test]
fn retry_of_an_unknown_id_names_it_and_changes_nothing() {
    let (s, config) = setup();
    let before = queue(&s, &config);
    // Id 2 exists, 999 does not: the whole call is refused.
    let run = s.labsync(&config, &["retry", "2", "999"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("999") && errors[0].contains("nothing was changed"),
        "{}",
        errors[0]
    );
    assert_eq!(queue(&s, &config), before);
}

#[test]
fn retry_makes_the_chosen_errors_due_now_and_unparks_them() {
    let (s, config) = setup();
    let start = Utc::now();
    let run = s.labsync(&config, &["retry", "2"]);
    ok(&run);
    assert!(
        run.stdout.contains("1 queued error(s) due now") && run.stdout.contains(": 2"),
        "{}",
        run.stdout
    );
    let q = queue(&s, &config);
    let two = q.iter().find(|e| e.0 == 2).unwrap();
    assert!(!two.1, "still parked: {q:?}");
    assert!(
        two.2 >= start - Duration::seconds(1) && two.2 <= Utc::now(),
        "{q:?}"
    );
    // Id 1 was not asked for: it keeps its backoff (one minute after its failure).
    let one = q.iter().find(|e| e.0 == 1).unwrap();
    assert!(one.2 < start - Duration::minutes(30), "{q:?}");
}

#[test]
fn retry_all_makes_the_whole_queue_due() {
    let (s, config) = setup();
    let start = Utc::now();
    let run = s.labsync(&config, &["retry", "--all"]);
    ok(&run);
    assert!(
        run.stdout.contains("2 queued error(s) due now"),
        "{}",
        run.stdout
    );
    for (id, parked, next) in queue(&s, &config) {
        assert!(!parked, "error {id} still parked");
        assert!(
            next >= start - Duration::seconds(1),
            "error {id} not due now: {next}"
        );
    }
}

#[test]
fn retry_needs_ids_or_all() {
    let (s, config) = setup();
    let run = s.labsync(&config, &["retry"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("--all") || run.stderr.contains("<IDS>"),
        "{}",
        run.stderr
    );
    let run = s.labsync(&config, &["retry", "1", "--all"]);
    assert_ne!(run.code, 0);
}

/// `labsync status | head -1`: the reader goes away before all is printed.
/// The command ends quietly, as Unix tools do, instead of panicking with
/// "failed printing to stdout: Broken pipe".
#[test]
fn a_closed_stdout_pipe_ends_a_printing_command_quietly() {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    let (s, config) = setup();
    for args in [&["status"][..], &["map", "list"]] {
        // A pipe whose reading end is closed before labsync starts: every
        // write to it fails, whatever the timing.
        let mut fds = [0; 2];
        // Close-on-exec: this process runs other tests' children too, and
        // one that inherited the reading end would keep the pipe open.
        // SAFETY: pipe2(2) fills both descriptors, which are owned below.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: fresh descriptors from pipe(2), each owned once.
        let (read_end, write_end) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        drop(read_end);
        let out = Command::new(env!("CARGO_BIN_EXE_labsync"))
            .arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(s.path("labsync.db"))
            .args(args)
            .stdout(Stdio::from(write_end))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?}: {:?}\n{stderr}",
            out.status
        );
        assert_eq!(stderr, "", "{args:?}");
    }
}
