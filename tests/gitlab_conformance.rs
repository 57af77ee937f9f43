//! Drives the simulator with python-gitlab, a GitLab client we did not write.
//! CI installs it (`pip install -r tests/conformance/requirements.txt`).
//! Where python-gitlab and the simulator disagree, the simulator is wrong.

use std::time::Duration;

use labsync::sim::Seed;
use labsync::sim::gitlab::{GitLabSim, GitLabSimConfig};

async fn require_python_gitlab() {
    let probe = tokio::process::Command::new("python3")
        .args(["-c", "import gitlab"])
        .output()
        .await
        .expect("python3 must be installed");
    assert!(
        probe.status.success(),
        "python-gitlab is not importable: pip install -r tests/conformance/requirements.txt"
    );
}

/// Runs the script against `sim` in `mode`; returns its stderr.
async fn run_script(sim: &GitLabSim, mode: &str) -> String {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/gitlab_conformance.py"
    );
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .env("GITLAB_URL", sim.url())
        .env("GITLAB_TOKEN", sim.token())
        .env("GITLAB_PROJECT", sim.project_path())
        .env("GITLAB_MODE", mode)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "python-gitlab conformance ({mode}) failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("all conformance checks passed"));
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_gitlab_agrees_with_the_simulator() {
    require_python_gitlab().await;
    let sim = GitLabSim::start(GitLabSimConfig {
        seed: Seed::Demo,
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    let stderr = run_script(&sim, "full").await;
    // python-gitlab warns when a Link points elsewhere than the configured URL.
    assert!(!stderr.contains("different base URL"), "{stderr}");
    // Every issue it created is in the simulator.
    assert_eq!(sim.issues().len(), 4 + 25 + 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_gitlab_gets_through_the_throttle() {
    require_python_gitlab().await;
    let sim = GitLabSim::start(GitLabSimConfig {
        seed: Seed::Empty,
        rate_limit_per_minute: Some(5),
        rate_window: Duration::from_secs(1),
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    run_script(&sim, "throttle").await;
    assert!(sim.status_count(429) > 0, "the throttle never answered 429");
    sim.shutdown().await;
}
