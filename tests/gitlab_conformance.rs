//! Drives the simulator with python-gitlab, a GitLab client we did not write.
//! CI installs it (`pip install -r tests/conformance/requirements.txt`).

use labsync::sim::Seed;
use labsync::sim::gitlab::{GitLabSim, GitLabSimConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_gitlab_agrees_with_the_simulator() {
    let probe = tokio::process::Command::new("python3")
        .args(["-c", "import gitlab"])
        .output()
        .await
        .expect("python3 must be installed");
    assert!(
        probe.status.success(),
        "python-gitlab is not importable: pip install -r tests/conformance/requirements.txt"
    );
    let sim = GitLabSim::start(GitLabSimConfig {
        seed: Seed::Demo,
        ..GitLabSimConfig::default()
    })
    .await
    .unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/gitlab_conformance.py"
    );
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .env("GITLAB_URL", sim.url())
        .env("GITLAB_TOKEN", sim.token())
        .env("GITLAB_PROJECT", sim.project_path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python-gitlab conformance failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("all conformance checks passed"));
    // python-gitlab warns when a Link points elsewhere than the configured URL.
    assert!(!stderr.contains("different base URL"), "{stderr}");
    // Every issue it created is in the simulator.
    assert!(sim.issues().len() >= 4 + 26);
    sim.shutdown().await;
}
