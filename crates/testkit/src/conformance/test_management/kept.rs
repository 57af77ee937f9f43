//! What the system keeps of a write, where it keeps something else than
//! was sent.

use labsync::sync::connector::TmEdit;

use super::{create, id, new_item};
use crate::conformance::TmSubject;
use crate::conformance::subjects::not_checked;

/// Spira honours a status sent through the API only when the template lets
/// bulk edits change statuses (`Workflow_BulkEditCanChangeStatus`, spira
/// §3.4 create, §3.5 update: otherwise the status is silently ignored and
/// the rest saved). The engine writes a status with a read-back and
/// records what was kept: the answer must be what the system holds, or the
/// engine takes a status for set that never was, and the two sides drift
/// apart for good. Checked with the template both ways where the subject
/// can switch it; against a real server, with its template as it is.
pub async fn status_changes_read_back_as_the_system_kept_them(s: &TmSubject) {
    let setup = s.ready().await;
    let switch = s.status_switch.as_ref();
    if switch.is_none() {
        not_checked(
            &s.unique("status"),
            "the template's workflow setting cannot be switched",
        );
    }
    for api_may in [false, true] {
        if let Some(set) = switch {
            set(api_may);
        } else if !api_may {
            continue;
        }
        let wanted = setup.statuses.last().unwrap().id;
        let mut new = new_item(s, "workflow");
        new.status = Some(wanted);
        let made = s.connector.create(s.project, &new).await.unwrap();
        let read = s.connector.get(s.project, id(&made)).await.unwrap();
        assert_eq!(
            made.status, read.status,
            "a create answers a status not kept"
        );
        let other = setup.statuses.iter().find(|c| Some(c.id) != read.status);
        let edit = TmEdit {
            title: Some(s.unique("workflow saved")),
            status: other.map(|c| c.id),
            ..TmEdit::default()
        };
        let answer = s
            .connector
            .update(s.project, id(&made), Some(read.clone()), &edit, true)
            .await
            .unwrap();
        let after = s.connector.get(s.project, id(&made)).await.unwrap();
        assert_eq!(
            answer.status, after.status,
            "an update answers a status not kept"
        );
        assert_eq!(
            Some(after.title),
            edit.title,
            "the rest of the save was lost"
        );
        if switch.is_some() {
            let want = if api_may { edit.status } else { read.status };
            assert_eq!(read.status == Some(wanted), api_may, "the create's status");
            assert_eq!(
                after.status, want,
                "the update's status (API may: {api_may})"
            );
        }
    }
    if let Some(set) = switch {
        set(true);
    }
}

/// Spira strips dangerous HTML from what it is sent: scripts, event
/// attributes, `javascript:` URLs (spira §13 row 6; spira-documentation
/// release notes v5, IN:3204). The engine writes descriptions without
/// reading them back and compares the next read with what it wrote: if
/// the connector's `description_as_kept` does not predict what the system
/// keeps, the cleaning reads as a person's edit, is copied back, and the
/// two sides edit each other every cycle.
pub async fn description_as_kept_predicts_the_stored_description(s: &TmSubject) {
    s.ready().await;
    let hostile = [
        r#"<p onclick="steal()">Steps <a href="javascript:run()" title="t">here</a></p>"#,
        "<p>a<script>alert(1)</script>b <img src=\"x.png\" onerror=\"alert(2)\"></p>",
        "<p>Plain <strong>text</strong> &amp; a <a href=\"https://example.com\">link</a>.</p>",
    ];
    let mut new = new_item(s, "cleaned");
    new.description = Some(hostile[0].to_string());
    let made = s.connector.create(s.project, &new).await.unwrap();
    let read = s.connector.get(s.project, id(&made)).await.unwrap();
    assert_eq!(
        read.description,
        s.connector.description_as_kept(hostile[0])
    );
    assert_eq!(
        made.description, read.description,
        "a create answers text not kept"
    );
    for html in &hostile[1..] {
        let edit = TmEdit {
            description: Some(html.to_string()),
            ..TmEdit::default()
        };
        s.connector
            .update(s.project, id(&made), None, &edit, false)
            .await
            .unwrap();
        let read = s.connector.get(s.project, id(&made)).await.unwrap();
        assert_eq!(read.description, s.connector.description_as_kept(html));
    }
    assert!(
        !read.description.contains("script"),
        "nothing was cleaned: {}",
        read.description
    );
}

/// The engine finds the copies it made of tracker comments by a hidden
/// marker at their end (an HTML comment): after a crash between the copy
/// and its link row, that is all that keeps it from copying the comment
/// again. Whatever the system keeps of a comment must keep the marker, and
/// list it as answered. (Inflectra documents no cleaning of comments;
/// checked, not assumed.)
pub async fn a_comment_keeps_its_hidden_marker(s: &TmSubject) {
    s.ready().await;
    let item = create(s, "commented with a marker").await;
    let html =
        "<p><strong>Bob</strong> wrote:</p>\n<p>It <em>fails</em>.</p>\n<!-- labsync:note=77 -->";
    let added = s
        .connector
        .add_comment(s.project, id(&item), html, None)
        .await
        .unwrap();
    let listed = s.connector.comments(s.project, id(&item)).await.unwrap();
    let kept = listed
        .iter()
        .find(|c| c.id == added.id)
        .expect("the comment is not listed");
    assert!(
        kept.html.contains("<!-- labsync:note=77 -->"),
        "marker lost: {}",
        kept.html
    );
    assert_eq!(kept.html, added.html, "the answer is not what was kept");
}

/// An update answered without a read-back is the item as sent, but never
/// a status the system did not keep (a status is always read back: a
/// workflow may keep another, spira §3.5) nor a description the system
/// cleaned otherwise (it answers what `description_as_kept` predicts,
/// spira §13 row 6): whatever the engine keeps of an answer is then what
/// the system holds.
pub async fn an_update_without_read_back_answers_no_value_the_system_did_not_keep(s: &TmSubject) {
    let setup = s.ready().await;
    if let Some(set) = &s.status_switch {
        set(false);
    }
    let item = create(s, "answered").await;
    let other = setup.statuses.iter().find(|c| Some(c.id) != item.status);
    let edit = TmEdit {
        status: other.map(|c| c.id),
        description: Some(r#"<p onclick="x()">Text <script>y()</script>kept</p>"#.into()),
        ..TmEdit::default()
    };
    let answer = s
        .connector
        .update(s.project, id(&item), Some(item.clone()), &edit, false)
        .await
        .unwrap();
    let read = s.connector.get(s.project, id(&item)).await.unwrap();
    assert_eq!(
        answer.status, read.status,
        "the answer says a status not kept"
    );
    assert_eq!(
        answer.description, read.description,
        "the answer says text not kept"
    );
    if let Some(set) = &s.status_switch {
        set(true);
    }
}
