//! Helpers for the tests that run `labsync run` and `labsync sync` as
//! processes against the simulators.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use tokio::net::UnixDatagram;
use tokio::time::{Instant, timeout};

use crate::world::World;

/// Polls `ready` every 50 ms until it holds; panics after `limit`.
pub async fn eventually(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The systemd side of the notify protocol; like systemd, it reads every
/// datagram as it comes.
pub struct NotifySocket {
    received: tokio::sync::mpsc::UnboundedReceiver<String>,
    pub path: PathBuf,
    /// Received and not yet asked for, in order.
    unread: Vec<String>,
}

impl NotifySocket {
    pub fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        let (tx, received) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf).await {
                if tx
                    .send(String::from_utf8_lossy(&buf[..n]).to_string())
                    .is_err()
                {
                    break;
                }
            }
        });
        NotifySocket {
            received,
            path,
            unread: Vec::new(),
        }
    }

    /// Everything received during the next `window` (and not yet asked
    /// for), in order.
    pub async fn drain(&mut self, window: Duration) -> Vec<String> {
        let mut got = std::mem::take(&mut self.unread);
        let deadline = Instant::now() + window;
        while let Ok(Some(datagram)) = tokio::time::timeout_at(deadline, self.received.recv()).await
        {
            got.push(datagram);
        }
        got
    }

    /// Waits for a datagram with a line starting with `prefix` (one that
    /// came earlier counts, once); returns that line.
    pub async fn wait_for(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let found = self
                .unread
                .iter()
                .position(|d| d.lines().any(|l| l.starts_with(prefix)));
            if let Some(i) = found {
                let datagram = self.unread.remove(i);
                let line = datagram.lines().find(|l| l.starts_with(prefix));
                return line.unwrap_or_default().to_string();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.received.recv()).await {
                Ok(Some(datagram)) => self.unread.push(datagram),
                _ => panic!("no {prefix} within {limit:?}; got {:?}", self.unread),
            }
        }
    }
}

pub fn labsync(config: &Path, db: &Path, args: &[&str]) -> Command {
    let mut cmd = crate::labsync_command();
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(db);
    cmd
}

/// The daemon's arguments as the shipped unit gives them, with the test's config.
pub fn unit_exec_start(config: &Path) -> Vec<String> {
    let unit = include_str!("../../../systemd/labsync.service");
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("the unit has an ExecStart");
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/labsync"));
    let args: Vec<String> = words
        .map(|w| match w {
            "/etc/labsync/plugins.toml" => config.display().to_string(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(args.first().map(String::as_str), Some("run"), "{line}");
    assert!(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"));
    assert!(unit.lines().any(|l| l == "Type=notify"));
    args
}

pub fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Sends SIGTERM and waits up to `limit` for the process to end.
pub async fn terminate(child: Child, limit: Duration) -> std::process::ExitStatus {
    signal(&child, "TERM");
    exited(child, limit, "SIGTERM").await
}

/// Waits up to `limit` for the process to end (a panic names `after`).
pub async fn exited(mut child: Child, limit: Duration, after: &str) -> std::process::ExitStatus {
    timeout(limit, tokio::task::spawn_blocking(move || child.wait()))
        .await
        .unwrap_or_else(|_| panic!("the process did not end within {limit:?} of {after}"))
        .unwrap()
        .unwrap()
}

pub fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

pub fn issue_titled(w: &World, title: &str) -> usize {
    w.gitlab
        .issues()
        .iter()
        .filter(|i| i["title"] == title)
        .count()
}
