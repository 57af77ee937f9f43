//! Answers cut off mid-way (issue 15): one cut that a retry mends counts
//! nothing, but a request whose every try was cut counts as one request
//! without an answer, so a server (or proxy) that cuts every answer opens
//! the breaker after three such requests instead of costing every item all
//! its retries and their backoff.

use std::time::Duration;

use labsync::gitlab::{GitLabClient, GitLabError, ProjectRef};
use labsync::http::{BREAKER_MISSES, HttpError, HttpSettings};
use labsync::secret::Secret;
use labsync_sim::faults::FaultRule;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};

const READ: &str = "GET /api/v4/projects/{id}/issues/{iid}";

fn fast() -> HttpSettings {
    HttpSettings {
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..HttpSettings::default()
    }
}

async fn start() -> (GitLabSim, GitLabClient, ProjectRef) {
    let sim = GitLabSim::start(GitLabSimConfig::default()).await.unwrap();
    let client = GitLabClient::new(&sim.url(), Secret::new(sim.token()), fast()).unwrap();
    let project = ProjectRef::parse(sim.project_path());
    (sim, client, project)
}

#[tokio::test]
async fn a_server_that_cuts_every_answer_is_unreachable_after_three_requests() {
    let (sim, gl, project) = start().await;
    sim.faults().set_route(
        READ,
        FaultRule {
            drop_rate: 1.0,
            ..FaultRule::default()
        },
    );
    let tries = fast().max_retries as u64 + 1;
    for iid in 1..u64::from(BREAKER_MISSES) {
        let e = gl.get_issue(&project, iid).await.unwrap_err();
        assert!(
            matches!(e, GitLabError::Http(HttpError::Transport { .. })),
            "{e}"
        );
    }
    let e = gl.get_issue(&project, 3).await.unwrap_err();
    assert!(
        matches!(e, GitLabError::Http(HttpError::Unreachable { .. }))
            && e.to_string()
                .contains("3 requests in a row got no complete answer, the last: issue #3 of"),
        "{e}"
    );
    assert_eq!(sim.request_count(READ), u64::from(BREAKER_MISSES) * tries);
    // Not asked again this cycle: the next item fails at once.
    let e = gl.get_issue(&project, 4).await.unwrap_err();
    assert!(
        matches!(e, GitLabError::Http(HttpError::Unreachable { .. })),
        "{e}"
    );
    assert_eq!(sim.request_count(READ), u64::from(BREAKER_MISSES) * tries);
    assert!(gl.down().is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn cuts_mended_by_a_retry_count_nothing() {
    let (sim, gl, project) = start().await;
    for round in 0..4 {
        for iid in 1..=4 {
            sim.faults().drop_next(READ, 1);
            assert_eq!(
                gl.get_issue(&project, iid).await.unwrap().iid,
                iid,
                "{round}"
            );
        }
    }
    assert_eq!(sim.request_count(READ), 4 * 4 * 2);
    assert!(gl.down().is_none());
    sim.shutdown().await;
}
