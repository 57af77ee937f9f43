//! Text anyone can write (an incident's name, a release's name) reaches the
//! log, `plan` and `status` escaped: it cannot forge a log line, move the
//! cursor, clear the screen or reorder what is shown. JSON stays exact JSON.

use labsync_testkit::world;

use world::World;

/// A newline that would start a forged log line, a clear-screen, a bell, a
/// C1 control sequence introducer and a right-to-left override.
const HOSTILE: &str = "Crash\nERROR forged line\u{1b}[2J\u{7}\u{9b}31m\u{202E}exe.txt\u{2066}";

fn assert_escaped(what: &str, text: &str) {
    for c in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202E}', '\u{2066}'] {
        assert!(
            !text.contains(c),
            "{what} printed U+{:04X} raw:\n{text}",
            c as u32
        );
    }
    assert!(
        !text.lines().any(|l| l.starts_with("ERROR forged")),
        "{what} let a title start a line of its own:\n{text}"
    );
}

async fn hostile_world() -> World {
    let w = World::new("").await;
    let release = w.spira.add_release(1, HOSTILE, HOSTILE, 3);
    let id = w.spira.add_incident(1, HOSTILE, 1);
    w.spira
        .edit_incident(id, |i| i.resolved_release_id = Some(release));
    w
}

/// Creating the milestone for the hostile release fails: the item fails
/// with a cause that quotes the release's name.
fn fail_milestones(w: &World) {
    w.gitlab.faults().set_route(
        "POST /api/v4/projects/{id}/milestones",
        labsync_sim::faults::FaultRule {
            error_rate: 1.0,
            ..Default::default()
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_shows_a_hostile_title_escaped() {
    let w = hostile_world().await;
    let out = w.labsync(&["plan"]).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Crash\\nERROR forged line\\u{1b}[2J"),
        "{}",
        out.stdout
    );
    assert_escaped("plan", &out.stdout);
    assert_escaped("plan's log", &out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_failures_and_error_queue_show_a_hostile_title_escaped() {
    let w = hostile_world().await;
    fail_milestones(&w);
    let out = w.labsync(&["sync"]).await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("labsync: failed:") && out.stderr.contains("Crash\\nERROR forged"),
        "the failure is shown, escaped:\n{}",
        out.stderr
    );
    assert_escaped("sync's log and failure lines", &out.stderr);
    assert_escaped("sync's summary", &out.stdout);
    let out = w.labsync(&["status", "--errors"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The queue's table shows a cause on one line, its escapes visible.
    assert!(
        out.stdout.contains("forged line\\u{1b}[2J"),
        "{}",
        out.stdout
    );
    assert_escaped("status --errors", &out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_stay_exact_json_failure_lines_included() {
    let w = hostile_world().await;
    fail_milestones(&w);
    let out = w.labsync(&["--log-format", "json", "sync"]).await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let mut quoted = false;
    for line in out.stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
        // JSON keeps the text exact: serde escaped it, nothing else did.
        quoted |=
            v.to_string().contains("Crash") && line.contains("Crash\\nERROR forged line\\u001b[2J");
    }
    assert!(quoted, "the failure, exact, in JSON:\n{}", out.stderr);
}

/// `plan --json`: one JSON document, each write typed, a title exactly as
/// written (JSON escapes what must be escaped; a parser gets it back whole).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_json_types_each_write_and_keeps_a_title_exact() {
    let w = hostile_world().await;
    w.gitlab
        .create_issue_as("alice", "Filed by a developer", "x");
    let out = w.labsync(&["plan", "--json"]).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.lines().count(),
        1,
        "one document: {}",
        out.stdout
    );
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let project = &plan["plugins"][0]["projects"][0];
    assert_eq!(project["tm_project"], 1, "{plan}");
    assert!(project["cannot_plan"].is_null(), "{plan}");
    let writes = project["writes"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&serde_json::Value> {
        writes.iter().filter(|w| w["write"] == kind).collect()
    };
    let issues = of("create_issue");
    assert_eq!(issues.len(), 1, "{plan}");
    assert_eq!(
        issues[0]["title"], HOSTILE,
        "exact, not escaped for a terminal"
    );
    assert!(issues[0]["incident"].as_i64().is_some(), "{plan}");
    let incidents = of("create_incident");
    assert_eq!(incidents.len(), 1, "{plan}");
    assert_eq!(incidents[0]["title"], "Filed by a developer");
    assert_eq!(incidents[0]["issue"], 1);
    // Nothing was written: the same plan again.
    let again = w.labsync(&["plan", "--json"]).await;
    assert_eq!(again.stdout, out.stdout);
}
