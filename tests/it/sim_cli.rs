//! `labsync sim`: both simulators on loopback, one line of JSON that real
//! clients can use, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test]
async fn sim_prints_where_to_connect_serves_real_clients_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_labsync"))
        .args([
            "sim",
            "--seed",
            "demo",
            "--gitlab-token",
            "glpat-fixed-for-test",
            "--spira-login",
            "tester",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    for key in [
        "gitlab_url",
        "gitlab_token",
        "gitlab_project",
        "spira_url",
        "spira_login",
        "spira_api_key",
        "spira_project_id",
    ] {
        assert!(!info[key].is_null(), "missing {key} in {line}");
    }
    assert_eq!(info["gitlab_token"], "glpat-fixed-for-test");
    assert_eq!(info["spira_login"], "tester");

    let http = reqwest::Client::new();
    let project = info["gitlab_project"].as_str().unwrap().replace('/', "%2F");
    let issues = http
        .get(format!(
            "{}/api/v4/projects/{project}/issues",
            info["gitlab_url"].as_str().unwrap()
        ))
        .header("PRIVATE-TOKEN", "glpat-fixed-for-test")
        .send()
        .await
        .unwrap();
    assert_eq!(issues.status(), 200);
    let issues: Vec<serde_json::Value> = issues.json().await.unwrap();
    assert!(!issues.is_empty(), "the demo seed has issues");

    let incidents = http
        .get(format!(
            "{}/Services/v7_0/RestService.svc/projects/{}/incidents",
            info["spira_url"].as_str().unwrap(),
            info["spira_project_id"]
        ))
        .header("username", "tester")
        .header("api-key", info["spira_api_key"].as_str().unwrap())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(incidents.status(), 200);
    let incidents: Vec<serde_json::Value> = incidents.json().await.unwrap();
    assert!(!incidents.is_empty(), "the demo seed has incidents");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let waited = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await;
    let status = waited
        .expect("labsync sim did not stop within 10 s of SIGTERM")
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn a_bad_fault_rate_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_labsync"))
        .args(["sim", "--fault-rate", "1.5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("'1.5' is not a share between 0.0 and 1.0")
    );
}
