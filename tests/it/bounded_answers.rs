//! An answer body is read up to a limit (64 MiB by default): a server that
//! sends without end, or announces a body of 100 GiB, gets a one-line error
//! naming the side's host and the route, not all of labsync's memory; and
//! the request is not sent again (the same request would get the same).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use labsync_testkit::cli;

use labsync::http::{HttpClient, HttpError, HttpSettings, Idempotency, MAX_BODY_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const MIB: u64 = 1024 * 1024;

/// How the raw server answers every request.
#[derive(Clone, Copy)]
enum Answer {
    /// Chunked, 64 KiB chunks for as long as the client reads.
    Endless,
    /// Announces this length, then sends it.
    Sized(u64),
}

/// A bare HTTP/1.1 server on loopback; returns its address and a count of
/// the requests it received.
async fn serve(answer: Answer) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let chunk = vec![b' '; 64 * 1024];
                match answer {
                    Answer::Endless => {
                        let start = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                        if socket.write_all(start.as_bytes()).await.is_err() {
                            return;
                        }
                        let framed =
                            [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                        // Until the client hangs up.
                        while socket.write_all(&framed).await.is_ok() {}
                    }
                    Answer::Sized(len) => {
                        let start = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
                        );
                        if socket.write_all(start.as_bytes()).await.is_err() {
                            return;
                        }
                        let mut left = len;
                        while left > 0 {
                            let n = left.min(chunk.len() as u64) as usize;
                            if socket.write_all(&chunk[..n]).await.is_err() {
                                return;
                            }
                            left -= n as u64;
                        }
                    }
                }
            });
        }
    });
    (addr, requests)
}

fn client(limit: u64) -> HttpClient {
    HttpClient::new(HttpSettings {
        max_body_bytes: limit,
        ..HttpSettings::default()
    })
    .unwrap()
}

async fn get(http: &HttpClient, url: &str) -> Result<Vec<u8>, HttpError> {
    http.send_full("issues of qa/webshop", Idempotency::Safe, |c| c.get(url))
        .await
        .map(|r| r.body)
}

#[tokio::test]
async fn an_endless_answer_stops_at_the_limit_with_one_line_naming_host_and_route() {
    let (addr, requests) = serve(Answer::Endless).await;
    let url = format!("{addr}/api/v4/projects/1/issues?page=2&per_page=100");
    let err = get(&client(MIB), &url).await.unwrap_err();
    assert!(matches!(err, HttpError::BodyTooLarge { .. }), "{err:?}");
    let text = err.to_string();
    let route = format!("GET {addr}/api/v4/projects/1/issues ");
    assert!(
        text.starts_with("issues of qa/webshop: the answer to "),
        "{text}"
    );
    assert!(text.contains(&route), "{text}");
    assert!(text.contains("larger than 1 MiB"), "{text}");
    assert!(!text.contains("per_page") && !text.contains('\n'), "{text}");
    // A safe request is sent again when an answer breaks off, but not this.
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_announced_length_past_the_limit_is_refused_before_reading() {
    let (addr, requests) = serve(Answer::Sized(100 * 1024 * MIB)).await;
    let err = get(&client(MIB), &format!("{addr}/big")).await.unwrap_err();
    assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_answer_within_the_limit_is_read_whole() {
    let (addr, _) = serve(Answer::Sized(MIB)).await;
    let body = get(&client(MIB), &format!("{addr}/fits")).await.unwrap();
    assert_eq!(body.len() as u64, MIB);
    assert_eq!(HttpSettings::default().max_body_bytes, 64 * MIB);
    assert_eq!(MAX_BODY_BYTES, 64 * MIB);
}

#[tokio::test]
async fn through_a_client_the_error_names_the_item_and_is_not_a_panic() {
    let (addr, _) = serve(Answer::Endless).await;
    let gitlab = labsync::gitlab::GitLabClient::new(
        &addr,
        labsync::secret::Secret::new("glpat-test"),
        HttpSettings {
            max_body_bytes: MIB,
            ..HttpSettings::default()
        },
    )
    .unwrap();
    let project = labsync::gitlab::ProjectRef::Path("qa/webshop".to_string());
    let err = gitlab.get_issue(&project, 7).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("issue #7 of qa/webshop"), "{text}");
    assert!(
        text.contains("/api/v4/projects/qa%2Fwebshop/issues/7"),
        "{text}"
    );
    assert!(text.contains("larger than 1 MiB"), "{text}");
    assert!(!text.contains("glpat-test"));
}

/// `labsync check` against servers that answer without end: each side is
/// reported as having answered too much (and at once, not after the
/// retries), never as "not reachable" — it was reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_says_an_endless_answer_was_refused_not_that_the_server_is_unreachable() {
    let (addr, _) = serve(Answer::Endless).await;
    let scratch = cli::Scratch::new();
    let text = cli::VALID
        .replace("https://spira.example.com", &addr)
        .replace("https://gitlab.example.com", &addr);
    let config = scratch.write("plugins.toml", &text);
    let run = tokio::task::spawn_blocking(move || {
        scratch.labsync_env(
            &config,
            &["check"],
            &[("TEST_KEY", "key"), ("TEST_TOKEN", "glpat-test")],
        )
    })
    .await
    .unwrap();
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let errors: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    for side in ["Spira", "GitLab"] {
        assert!(
            errors.iter().any(|l| l.contains(side)
                && l.contains("answer refused")
                && l.contains("larger than 64 MiB")),
            "{side}: {}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("not reachable"), "{}", run.stdout);
}
