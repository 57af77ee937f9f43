//! The sd_notify protocol: newline-separated `KEY=value` datagrams to the
//! Unix socket named in $NOTIFY_SOCKET (a leading '@' names an abstract
//! socket). Outside systemd the variable is unset and nothing is sent.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Where to tell systemd how the service is doing; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Notifier {
    target: Option<String>,
}

impl Notifier {
    /// From $NOTIFY_SOCKET; a no-op when it is unset or empty.
    pub fn from_env() -> Notifier {
        Notifier::to(std::env::var("NOTIFY_SOCKET").ok().as_deref())
    }

    pub fn to(socket: Option<&str>) -> Notifier {
        Notifier {
            target: socket.filter(|s| !s.is_empty()).map(str::to_string),
        }
    }

    pub fn ready(&self) {
        self.send("READY=1");
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// One line of free text for `systemctl status`.
    pub fn status(&self, text: &str) {
        self.send(&format!("STATUS={}", text.replace('\n', " ")));
    }

    /// Sends one datagram. Failures are logged, never fatal: a service
    /// that cannot reach systemd still syncs.
    pub fn send(&self, state: &str) {
        let Some(target) = &self.target else {
            return;
        };
        if let Err(e) = send_to(target, state) {
            tracing::warn!(socket = %target, cause = %e, "could not notify systemd");
        }
    }
}

fn send_to(target: &str, state: &str) -> std::io::Result<usize> {
    let socket = UnixDatagram::unbound()?;
    // A listener that does not read must not stall the daemon: drop instead.
    socket.set_nonblocking(true)?;
    match target.strip_prefix('@') {
        Some(name) => {
            let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
            socket.send_to_addr(state.as_bytes(), &addr)
        }
        None => socket.send_to(state.as_bytes(), target),
    }
}

/// How often to send WATCHDOG=1: half of $WATCHDOG_USEC, when it is set
/// for this process ($WATCHDOG_PID, if given, must be ours).
pub fn watchdog_interval() -> Option<Duration> {
    watchdog_interval_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

fn watchdog_interval_from(usec: Option<&str>, pid: Option<&str>, own: u32) -> Option<Duration> {
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(own)
    {
        return None;
    }
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    Some(Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_to_a_path_socket_and_to_an_abstract_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        Notifier::to(path.to_str()).status("web: ok\nnext 14:10");
        let mut buf = [0u8; 256];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STATUS=web: ok next 14:10");

        let name = format!("labsync-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        Notifier::to(Some(&format!("@{name}"))).ready();
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }

    #[test]
    fn a_listener_that_does_not_read_never_blocks_the_sender() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let _listener = UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier::to(path.to_str());
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Far more than the socket's queue holds.
            for _ in 0..5000 {
                notifier.watchdog();
            }
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(Duration::from_secs(10))
            .expect("sending blocked on a full socket");
    }

    #[test]
    fn without_a_socket_nothing_happens() {
        Notifier::to(None).ready();
        Notifier::to(Some("")).stopping();
        // A socket that does not exist is logged, not fatal.
        Notifier::to(Some("/nonexistent/notify")).watchdog();
    }

    #[test]
    fn the_watchdog_is_pinged_at_half_its_timeout_and_only_for_its_pid() {
        assert_eq!(
            watchdog_interval_from(Some("120000000"), None, 5),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            watchdog_interval_from(Some("120000000"), Some("5"), 5),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            watchdog_interval_from(Some("120000000"), Some("6"), 5),
            None
        );
        assert_eq!(watchdog_interval_from(None, None, 5), None);
        assert_eq!(watchdog_interval_from(Some("0"), None, 5), None);
        assert_eq!(watchdog_interval_from(Some("soon"), None, 5), None);
    }
}
