//! Drives the simulator with python-gitlab, a GitLab client we did not write.
//! Where python-gitlab and the simulator disagree, the simulator is wrong.
//!
//! The test installs python-gitlab itself: a virtual environment under
//! `target/` with the versions pinned in tests/conformance/requirements.txt,
//! made once and reused while that file is unchanged. It needs python3 and
//! the package index once; without them it fails, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use labsync_sim::Seed;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};

const REQUIREMENTS: &str = include_str!("../conformance/requirements.txt");

/// The python3 of the conformance environment, made on first use.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-gitlab-venv");
        // Two `cargo test` runs at once share the directory: one makes it.
        let _lock = FileLock::take(&venv.with_extension("lock"));
        let python = venv.join("bin").join("python3");
        let stamp = venv.join("requirements.txt");
        let ready = std::fs::read_to_string(&stamp).is_ok_and(|s| s == REQUIREMENTS);
        if !ready {
            let _ = std::fs::remove_dir_all(&venv);
            run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
            let requirements = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/conformance/requirements.txt"
            );
            // Every package is pinned in the file, so nothing else is fetched.
            run(Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "-r",
                requirements,
            ]));
            std::fs::write(&stamp, REQUIREMENTS).unwrap();
        }
        python
    })
}

fn run(command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e} (the test needs python3)"));
    assert!(
        out.status.success(),
        "setting up python-gitlab for the conformance test failed: {command:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An exclusive flock(2) on a file, released when dropped.
struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    fn take(path: &Path) -> FileLock {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::create(path).unwrap();
        // SAFETY: the descriptor belongs to `file`, which outlives the lock.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(rc, 0, "cannot lock {}", path.display());
        FileLock { _file: file }
    }
}

/// Runs the script against `sim` in `mode`; returns its stderr.
async fn run_script(sim: &GitLabSim, mode: &str) -> String {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/gitlab_conformance.py"
    );
    let out = tokio::process::Command::new(python())
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
