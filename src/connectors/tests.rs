//! Both connectors against the simulators: what the engine relies on at
//! each boundary (the conformance suites run the same against the fakes).

use crate::config::{Config, Plugin};
use crate::http::HttpSettings;
use crate::sync::connector::issue_tracker::TmLink;
use crate::sync::connector::{
    ErrorKind, IssueTracker, TestManagement, TmEdit, TrackerLink, TrackerNew, TrackerState,
};
use labsync_sim::Seed;
use labsync_sim::gitlab::{GitLabSim, GitLabSimConfig};
use labsync_sim::spira::{SpiraSim, SpiraSimConfig};

struct Sims {
    gitlab: GitLabSim,
    spira: SpiraSim,
    plugin: Plugin,
}

async fn sims() -> Sims {
    let gitlab = GitLabSim::start(GitLabSimConfig {
        seed: Seed::Empty,
        ..Default::default()
    })
    .await
    .unwrap();
    let spira = SpiraSim::start(SpiraSimConfig {
        seed: Seed::Empty,
        ..Default::default()
    })
    .await
    .unwrap();
    let text = labsync_sim::config::plugin_toml("t", &gitlab, &spira, "");
    let config = Config::from_str(std::path::Path::new("plugins.toml"), &text).unwrap();
    let plugin = config.plugins[0].clone();
    Sims {
        gitlab,
        spira,
        plugin,
    }
}

#[tokio::test]
async fn an_incident_carries_its_link_back_and_is_found_by_it() {
    let s = sims().await;
    let tm = super::connect_spira(&s.plugin, &HttpSettings::default()).unwrap();
    let project = i64::from(s.spira.project_id());
    tm.setup(project).await.unwrap();
    let new = TmEdit {
        title: Some("Crash on save".into()),
        description: Some("<p>Steps</p>".into()),
        link: Some(TrackerLink {
            marker: "group/project#7".into(),
            url: Some("https://gitlab.test/group/project/-/issues/7".into()),
        }),
        ..TmEdit::default()
    };
    let created = tm.create(project, &new).await.unwrap();
    let id = created.id.unwrap();
    assert_eq!(created.title, "Crash on save");
    assert_eq!(created.marker.as_deref(), Some("group/project#7"));
    let found = tm.find_by_marker(project, "group/project#7").await.unwrap();
    assert_eq!(found.iter().map(|i| i.id).collect::<Vec<_>>(), [Some(id)]);
    // A substring of the marker is not the marker.
    assert!(
        tm.find_by_marker(project, "group/project#")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tm.web_url(project, id)
            .ends_with(&format!("/{project}/Incident/{id}.aspx"))
    );
    let gone = tm.get(project, id + 1000).await.unwrap_err();
    assert_eq!(gone.kind(), &ErrorKind::NotFound, "{gone}");
}

#[tokio::test]
async fn a_claim_on_an_incident_saved_since_it_was_read_is_busy() {
    let s = sims().await;
    let tm = super::connect_spira(&s.plugin, &HttpSettings::default()).unwrap();
    let project = i64::from(s.spira.project_id());
    tm.setup(project).await.unwrap();
    let id = s.spira.add_incident(s.spira.project_id(), "Claimed", 1);
    let read = tm.get(project, i64::from(id)).await.unwrap();
    s.spira
        .edit_incident(id, |i| i.name = "Edited by a person".into());
    let e = tm.claim(project, &read, "claim:me@now").await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Busy, "{e}");
    let now = tm.get(project, i64::from(id)).await.unwrap();
    assert_eq!(tm.marker(project, &now), None, "nothing was written");
    // From a fresh copy the claim holds.
    tm.claim(project, &now, "claim:me@now").await.unwrap();
    let claimed = tm.get(project, i64::from(id)).await.unwrap();
    assert_eq!(claimed.marker.as_deref(), Some("claim:me@now"));
}

#[tokio::test]
async fn an_update_from_the_copy_read_sends_no_other_read() {
    let s = sims().await;
    let tm = super::connect_spira(&s.plugin, &HttpSettings::default()).unwrap();
    let project = i64::from(s.spira.project_id());
    tm.setup(project).await.unwrap();
    let id = i64::from(s.spira.add_incident(s.spira.project_id(), "Before", 1));
    let read = tm.get(project, id).await.unwrap();
    let edit = TmEdit {
        title: Some("After".into()),
        ..TmEdit::default()
    };
    let gets = || {
        s.spira
            .request_count("GET /projects/{project_id}/incidents/{incident_id}")
    };
    let before = gets();
    assert!(before > 0, "the fragment counts reads of the incident");
    let sent = tm
        .update(project, id, Some(read), &edit, false)
        .await
        .unwrap();
    assert_eq!(sent.title, "After");
    assert_eq!(gets(), before, "the copy read carries what the save needs");
    assert_eq!(tm.get(project, id).await.unwrap().title, "After");
}

#[tokio::test]
async fn an_issue_carries_its_footer_and_comments_never_run_as_commands() {
    let s = sims().await;
    let tracker = super::connect_gitlab(&s.plugin, &HttpSettings::default()).unwrap();
    let path = s.gitlab.project_path().to_string();
    let project = tracker.project(&path).await.unwrap();
    assert_eq!(project.path, path);
    let new = TrackerNew {
        title: "Crash on save".into(),
        body: "Steps\n/close".into(),
        link: TmLink {
            project: 1,
            item: 42,
            url: "https://spira.test/1/Incident/42.aspx".into(),
        },
        labels: Vec::new(),
        assignee: None,
        milestone: None,
    };
    let created = tracker.create(&path, &new).await.unwrap();
    assert_eq!(created.marker, Some((1, 42)));
    assert_eq!(
        created.state,
        TrackerState::Open,
        "the body's /close is text"
    );
    assert_eq!(created.body, tracker.body_as_kept("Steps\n/close"));
    let again = tracker.get(&path, created.iid).await.unwrap();
    assert_eq!(again.marker, Some((1, 42)));
    tracker
        .add_comment(&path, created.iid, "/close")
        .await
        .unwrap();
    let comments = tracker.comments(&path, created.iid).await.unwrap();
    assert!(
        comments
            .iter()
            .any(|c| c.by_person && c.body.contains("/close"))
    );
    let after = tracker.get(&path, created.iid).await.unwrap();
    assert_eq!(
        after.state,
        TrackerState::Open,
        "a comment's /close is text"
    );
    let reference = tracker.reference(&path, created.iid);
    assert_eq!(
        tracker.parse_reference(&path, &reference),
        Some(created.iid)
    );
    assert_eq!(tracker.parse_reference("other/project", &reference), None);
    let gone = tracker.get(&path, created.iid + 1000).await.unwrap_err();
    assert_eq!(gone.kind(), &ErrorKind::NotFound, "{gone}");
}

#[tokio::test]
async fn a_refused_token_is_fatal() {
    let s = sims().await;
    let tracker = super::connect_gitlab(&s.plugin, &HttpSettings::default()).unwrap();
    s.gitlab.revoke_token(s.gitlab.token());
    let e = tracker.project(s.gitlab.project_path()).await.unwrap_err();
    assert!(e.is_fatal(), "{e}");
}
