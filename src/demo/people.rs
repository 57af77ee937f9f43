//! People at work between two cycles: a tester in Spira, a developer in
//! GitLab. Each act knows what it changed and checks that it arrived on
//! the other side.

use serde_json::Value;

use crate::model::{CreatedBy, Side};
use crate::sim::spira::SimIncident;

use super::DemoError;
use super::moved::{quote, text};
use super::say::{Say, incident, issue};
use super::stage::{PLUGIN, SPIRA_PROJECT, Stage};

/// Spira's default incident statuses and priorities, as the seed has them.
const STATUSES: [&str; 8] = [
    "New",
    "Open",
    "Assigned",
    "Resolved",
    "Closed",
    "Not Reproducible",
    "Duplicate",
    "Reopen",
];
const PRIORITIES: [(&str, &str); 4] = [
    ("1 - Critical", "priority::critical"),
    ("2 - High", "priority::high"),
    ("3 - Medium", "priority::medium"),
    ("4 - Low", "priority::low"),
];
const CLOSED: u32 = 5;

fn status_name(id: u32) -> String {
    usize::try_from(id)
        .ok()
        .and_then(|i| STATUSES.get(i.checked_sub(1)?))
        .map_or_else(|| format!("status {id}"), |s| s.to_string())
}

fn priority(id: Option<u32>) -> Option<(&'static str, &'static str)> {
    let i = usize::try_from(id?).ok()?;
    PRIORITIES.get(i.checked_sub(1)?).copied()
}

fn priority_name(id: Option<u32>) -> String {
    priority(id).map_or_else(|| "(none)".to_string(), |p| p.0.to_string())
}

/// What the tester and the developer did.
pub struct Acts {
    tester: Tester,
    developer: Developer,
}

struct Tester {
    incident: u32,
    iid: u64,
    was: Option<u32>,
    now: u32,
    comment: &'static str,
    labels_before: String,
}

struct Developer {
    iid: u64,
    incident: u32,
    status_before: u32,
    note: &'static str,
}

fn labels(issue: Option<Value>) -> String {
    let list: Vec<String> = issue
        .and_then(|i| i["labels"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(text)
        .collect();
    if list.is_empty() {
        "(no labels)".into()
    } else {
        list.join(", ")
    }
}

fn is_open(i: &SimIncident) -> bool {
    matches!(i.incident_status_id, 1 | 2 | 3 | 8)
}

/// Picks an incident that came from Spira and an issue that came from
/// GitLab, both still open, and changes them as people would.
pub fn act(stage: &Stage, say: &Say) -> Result<Acts, DemoError> {
    let links = stage
        .store
        .links(PLUGIN, i64::from(SPIRA_PROJECT))
        .map_err(|e| DemoError::Setup(e.to_string()))?;
    let names: Vec<String> = stage
        .spira
        .incidents(SPIRA_PROJECT)
        .into_iter()
        .map(|i| i.name)
        .collect();
    // Open pairs from one side; those whose title is unique first (the two
    // seeds share a few defects), then, for the tester, a priority to raise.
    let pair = |origin: CreatedBy| {
        let mut found: Vec<(SimIncident, u64)> = links
            .iter()
            .filter(|l| l.created_by == origin)
            .filter_map(|l| {
                let inc = stage.spira.incident(u32::try_from(l.tm_item).ok()?)?;
                let iid = u64::try_from(l.tracker_iid).ok()?;
                let open = stage.gitlab.issue(iid)?["state"] == "opened";
                (open && is_open(&inc)).then_some((inc, iid))
            })
            .collect();
        found.sort_by_key(|(inc, _)| {
            let twins = names.iter().filter(|n| **n == inc.name).count();
            (twins > 1, inc.priority_id == Some(1), inc.incident_id)
        });
        found.into_iter().next()
    };
    let (Some((inc, iid)), Some((dev_inc, dev_iid))) = (
        pair(CreatedBy::Side(Side::TestManagement)),
        pair(CreatedBy::Side(Side::IssueTracker)),
    ) else {
        return Err(DemoError::Setup(
            "the first cycle left no open pair from each side to edit".into(),
        ));
    };

    let alice = user(stage, "alice")?;
    let now = if inc.priority_id == Some(1) { 2 } else { 1 };
    let comment = "Still happens after the last deploy; raising the priority.";
    stage
        .spira
        .edit_incident(inc.incident_id, |i| i.priority_id = Some(now));
    stage
        .spira
        .add_comment(inc.incident_id, alice, &format!("<p>{comment}</p>"));
    say.line(format!(
        "Spira, tester alice: {} '{}': priority {} → {}, and comments {}",
        incident(inc.incident_id),
        inc.name,
        priority_name(inc.priority_id),
        priority_name(Some(now)),
        quote(comment)
    ));
    let tester = Tester {
        incident: inc.incident_id,
        iid,
        was: inc.priority_id,
        now,
        comment,
        labels_before: labels(stage.gitlab.issue(iid)),
    };

    let note = "Fixed in the Sprint 1 branch, closing.";
    stage.gitlab.add_note_as("bob", dev_iid, note);
    stage
        .gitlab
        .edit_issue_as("bob", dev_iid, None, Some(false));
    let title = stage
        .gitlab
        .issue(dev_iid)
        .map(|i| text(&i["title"]))
        .unwrap_or_default();
    say.line(format!(
        "GitLab, developer bob: {} '{title}': comments {} and closes it",
        issue(dev_iid),
        quote(note)
    ));
    let developer = Developer {
        iid: dev_iid,
        incident: dev_inc.incident_id,
        status_before: dev_inc.incident_status_id,
        note,
    };
    Ok(Acts { tester, developer })
}

fn user(stage: &Stage, login: &str) -> Result<u32, DemoError> {
    stage
        .spira
        .users()
        .iter()
        .find(|u| u.login == login)
        .map(|u| u.user_id)
        .ok_or_else(|| DemoError::Setup(format!("the Spira simulator has no user '{login}'")))
}

/// Shows each change on the other side; false if one did not arrive.
pub fn check(stage: &Stage, acts: &Acts, say: &Say) -> bool {
    let mut all = true;
    let t = &acts.tester;
    let (iss, inc) = (issue(t.iid), incident(t.incident));
    let labels_after = labels(stage.gitlab.issue(t.iid));
    let wanted = priority(Some(t.now)).map_or("", |p| p.1);
    let line = format!(
        "{inc} priority {} → {}: GitLab {iss} labels {} → {labels_after}",
        priority_name(t.was),
        priority_name(Some(t.now)),
        t.labels_before
    );
    all &= report(say, labels_after.split(", ").any(|l| l == wanted), line);
    let arrived = stage
        .gitlab
        .notes(t.iid)
        .iter()
        .any(|n| n["system"] == false && text(&n["body"]).contains(t.comment));
    all &= report(
        say,
        arrived,
        format!(
            "alice's comment on {inc} is a note on {iss}: {}",
            quote(t.comment)
        ),
    );

    let d = &acts.developer;
    let (iss, inc) = (issue(d.iid), incident(d.incident));
    let after = stage.spira.incident(d.incident);
    let status_after = after.as_ref().map_or(0, |i| i.incident_status_id);
    let line = format!(
        "{iss} closed: Spira {inc} status {} → {}",
        status_name(d.status_before),
        status_name(status_after)
    );
    all &= report(say, status_after == CLOSED, line);
    let arrived = stage
        .spira
        .comments(d.incident)
        .iter()
        .any(|c| c.text.contains(d.note));
    all &= report(
        say,
        arrived,
        format!(
            "bob's note on {iss} is a comment on {inc}: {}",
            quote(d.note)
        ),
    );
    all
}

fn report(say: &Say, ok: bool, line: String) -> bool {
    if ok {
        say.ok(line);
    } else {
        say.missed(line);
    }
    ok
}
