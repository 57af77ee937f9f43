//! The [`IssueTracker`] suite: what the engine relies on from an issue
//! tracker connector. Evidence for GitLab's behaviour is in
//! ../shared/reference/gitlab-api.md (cited "gitlab §n") and GitLab's
//! source (gitlab-org/gitlab paths).

mod kinds;
mod listing;
mod moved;
mod people;
mod writes;

pub use kinds::*;
pub use listing::*;
pub use moved::*;
pub use people::*;
pub use writes::*;

use labsync::sync::connector::issue_tracker::TmLink;
use labsync::sync::connector::{IssueTracker, TrackerItem, TrackerNew};

use super::TrackerSubject;

/// A new item the way the engine makes one: title, Markdown, a link back.
fn new_item(s: &TrackerSubject, what: &str) -> TrackerNew {
    let title = s.unique(what);
    TrackerNew {
        body: format!("About *{title}*."),
        title,
        link: TmLink {
            project: 1,
            item: 4242,
            url: "https://spira.example.com/1/Incident/4242.aspx".into(),
        },
        labels: Vec::new(),
        assignee: None,
        milestone: None,
    }
}

async fn create(s: &TrackerSubject, what: &str) -> TrackerItem {
    s.connector
        .create(&s.project, &new_item(s, what))
        .await
        .unwrap()
}

fn tracker(s: &TrackerSubject) -> &dyn IssueTracker {
    s.connector.as_ref()
}
