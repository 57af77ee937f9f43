//! Tokens and api keys never appear in anything labsync prints: logs at
//! every level, errors, `status`, `plan`, `check`, whether things go well
//! or badly.

use labsync_testkit::world;

use std::process::Command;

use world::World;

fn run(args: &[&str], config: &std::path::Path, db: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_labsync"))
        .args([
            "--log-level",
            "trace",
            "--config",
            config.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ])
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_output_of_a_full_run() {
    let w = World::new("").await;
    w.spira.add_incident(1, "Secret-free defect", 1);
    w.gitlab
        .create_issue_as("alice", "Secret-free issue", "body");
    let token = w.gitlab.token().to_string();
    let key = w.spira.api_key().to_string();
    let config_text = std::fs::read_to_string(world::config_path(&w)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("plugins.toml");
    std::fs::write(&good, &config_text).unwrap();
    // A second config whose secrets are wrong: the errors must not echo them either.
    let wrong_token = "glpat-WRONG-token-0123456789";
    let wrong_key = "{WRONG-KEY-0000-1111}";
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        config_text
            .replace(&token, wrong_token)
            .replace(&key, wrong_key),
    )
    .unwrap();
    let db = dir.path().join("labsync.db");

    let outputs = tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        for args in [
            &["sync"][..],
            &["plan"],
            &["status"],
            &["status", "--json"],
            &["check"],
            &["map", "list"],
        ] {
            all.push((format!("{args:?}"), run(args, &good, &db)));
        }
        for args in [&["sync"][..], &["check"]] {
            all.push((format!("bad {args:?}"), run(args, &bad, &db)));
        }
        all
    })
    .await
    .unwrap();
    let (code, first) = &outputs[0].1;
    assert_eq!(*code, 0, "the good sync must work: {first}");
    assert!(
        first.contains("TRACE") || first.contains("DEBUG"),
        "the run logged at the most verbose level"
    );
    let (bad_code, _) = &outputs[6].1;
    assert_eq!(*bad_code, 2, "a refused token is a connection/config error");
    for (what, (_, text)) in &outputs {
        for secret in [token.as_str(), key.as_str(), wrong_token, wrong_key] {
            assert!(!text.contains(secret), "{what} printed a secret:\n{text}");
        }
    }
}
