//! Work items of other types in the project's item list.

use futures_util::TryStreamExt;
use labsync::inflight::InFlight;

use super::tracker;
use crate::conformance::TrackerSubject;
use crate::conformance::subjects::not_checked;

/// A project's issue list holds every work item type of
/// `Issue::TYPES_FOR_LIST` (issues, incidents, test cases, tasks: gitlab
/// §16 #9, `app/models/issue.rb`), and `issue_type=` takes one value
/// (`lib/api/issues.rb`). The engine syncs only the types the plugin names
/// (`gitlab_issue_types`, "issue" and "incident" unless set), compared with
/// each listed item's kind: every type must come, each with the name
/// GitLab's `issue_type` gives it, or tasks become incidents (or incidents
/// are never synced).
pub async fn listed_items_carry_their_work_item_type(s: &TrackerSubject) {
    let Some(make) = &s.work_item else {
        not_checked(&s.project, "no way to open work items of other types");
        return;
    };
    let ours = tracker(s)
        .create(&s.project, &super::new_item(s, "plain issue"))
        .await
        .unwrap();
    let mut made = vec![(ours.iid, "issue")];
    for kind in ["incident", "task", "test_case"] {
        match make(s.unique(kind), kind).await {
            Some(iid) => made.push((iid, kind)),
            None => not_checked(&s.project, &format!("the server makes no {kind} this way")),
        }
    }
    let listed: Vec<_> = tracker(s)
        .changed_since(&s.project, Some(ours.updated_at), InFlight::default())
        .try_collect()
        .await
        .unwrap();
    for (iid, kind) in made {
        let item = listed.iter().find(|i| i.iid == iid);
        assert_eq!(
            item.map(|i| i.kind.as_str()),
            Some(kind),
            "#{iid} in the listing"
        );
        let read = tracker(s).get(&s.project, iid).await.unwrap();
        assert_eq!(read.kind, kind, "#{iid} read alone");
    }
}
