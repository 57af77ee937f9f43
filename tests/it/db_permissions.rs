//! A database made by an older release is readable by others (0644); the
//! first command that opens it to write makes it and its -wal/-shm private
//! with one warning naming the files and their old mode. Commands that only
//! read (`status`, `plan`, `check`) leave the mode as it is.

use labsync_testkit::world;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use world::World;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_readable_database_is_made_private_by_a_sync_not_by_reads() {
    let w = World::new("").await;
    w.spira.add_incident(1, "Defect", 1);
    let config = world::config_path(&w);
    let db = w.dir.path().join("old.db");
    let first = w.labsync_with(&config, &db, &["sync"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(mode(&db), 0o600, "a new database is private");
    // As an older release left it.
    chmod(&db, 0o644);

    for args in [&["status"][..], &["plan"], &["check"]] {
        let out = w.labsync_with(&config, &db, args).await;
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("made private"), "{}", out.stderr);
        assert_eq!(mode(&db), 0o644, "{args:?} only reads");
    }

    let sync = w.labsync_with(&config, &db, &["sync"]).await;
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    assert_eq!(mode(&db), 0o600);
    let warned: Vec<&str> = sync
        .stderr
        .lines()
        .filter(|l| l.contains("made private"))
        .collect();
    assert_eq!(warned.len(), 1, "{}", sync.stderr);
    assert!(
        warned[0].contains(&format!("{} (mode 644)", db.display())),
        "{}",
        warned[0]
    );

    let again = w.labsync_with(&config, &db, &["sync"]).await;
    assert!(!again.stderr.contains("made private"), "{}", again.stderr);
}
