//! `POST` and `PUT /projects/:id/issues`: GitLab's validations, and the
//! side effects of an edit (system notes, events, touches).

use std::collections::BTreeSet;

use axum::extract::{Path, State};

use super::issues::issue_at;
use super::quick_updates::{QuickUpdates, interpret};
use crate::gitlab::app::{AppState, Req, project_id, require};
use crate::gitlab::quick_actions;
use crate::gitlab::render::Render;
use crate::gitlab::reply::{ApiError, ApiResult, created, ok};
use crate::gitlab::state::{
    DESCRIPTION_MAX_BYTES, GUEST, ISSUE_TYPES, Issue, REPORTER, Store, TITLE_MAX,
};

fn check_title(title: &str) -> Result<(), ApiError> {
    if title.trim().is_empty() {
        return Err(ApiError::Validation("title", "can't be blank".into()));
    }
    if title.chars().count() > TITLE_MAX {
        return Err(ApiError::Validation(
            "title",
            format!("is too long (maximum is {TITLE_MAX} characters)"),
        ));
    }
    Ok(())
}

/// Limited in bytes, not characters (gitlab-org/gitlab
/// `app/models/concerns/issuable.rb`: `description.bytesize`).
fn check_description(text: &str) -> Result<(), ApiError> {
    if text.len() > DESCRIPTION_MAX_BYTES {
        let mib = text.len() as f64 / (1024.0 * 1024.0);
        return Err(ApiError::Validation(
            "description",
            format!("is too long ({mib:.1} MiB). The maximum size is 1 MiB."),
        ));
    }
    Ok(())
}

/// The assignees GitLab keeps (gitlab-org/gitlab
/// `app/services/issuable_base_service.rb`, `filter_assignees_using_checks`):
/// an empty list or `[0]` unassigns; a single-assignee tier takes the first
/// id; ids of users who cannot read the project's issues (not members of
/// this private project, unknown) are dropped; when none is left the
/// parameter is dropped silently and the issue keeps its assignees (`None`).
fn valid_assignees(store: &Store, project: u64, ids: &[u64]) -> Option<Vec<u64>> {
    if ids.is_empty() || ids == [0] {
        return Some(Vec::new());
    }
    let mut ids = ids.to_vec();
    if !store.paid_tier {
        ids.truncate(1);
    }
    let mut kept: Vec<u64> = ids
        .into_iter()
        .filter(|id| *id != 0 && store.access_level(project, *id) >= GUEST)
        .collect();
    kept.dedup();
    (!kept.is_empty()).then_some(kept)
}

/// The description as GitLab stores it and what its quick actions ask for.
fn run_quick_actions(
    store: &Store,
    project: u64,
    issue: Option<&Issue>,
    caller: u64,
    description: Option<String>,
) -> (Option<String>, QuickUpdates) {
    match description {
        Some(d) => {
            let (kept, commands) = quick_actions::extract(&d);
            let updates = interpret(store, project, issue, caller, &commands);
            (Some(kept), updates)
        }
        None => (None, QuickUpdates::default()),
    }
}

pub(crate) async fn create(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let p = &req.params;
    let title = p
        .str("title")
        .ok_or_else(|| ApiError::Param("title is missing".into()))?;
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let issues_enabled = store.project(project).is_some_and(|pr| pr.issues_enabled);
    if !issues_enabled {
        return Err(ApiError::Forbidden);
    }
    require(&store, project, &req.caller, REPORTER)?;
    check_title(&title)?;
    let user = req.caller.user_id;
    let (description, quick) = run_quick_actions(&store, project, None, user, p.str("description"));
    if let Some(d) = &description {
        check_description(d)?;
    }
    let assignees = match (p.int_list("assignee_ids")?, p.int("assignee_id")?) {
        (Some(ids), _) => ids,
        (None, Some(id)) => vec![id],
        (None, None) => Vec::new(),
    };
    let assignees = quick.assignee_ids.unwrap_or(assignees);
    let assignees = valid_assignees(&store, project, &assignees).unwrap_or_default();
    let milestone_id = match quick.milestone_id {
        Some(m) => m,
        None => p.int("milestone_id")?,
    }
    .filter(|m| store.milestone(project, *m).is_some());
    let mut labels: BTreeSet<String> = p.list("labels").unwrap_or_default().into_iter().collect();
    labels.extend(quick.add_labels);
    let confidential = quick
        .confidential
        .or(p.bool("confidential")?)
        .unwrap_or(false);
    let due_date = match quick.due_date {
        Some(d) => d,
        None => p.date("due_date")?,
    };
    let issue_type = match p.one_of("issue_type", &ISSUE_TYPES)? {
        Some(t) => ISSUE_TYPES.into_iter().find(|k| *k == t).unwrap_or("issue"),
        None => "issue",
    };
    let now = app.now();
    let issue_id = store.next_id();
    let iid = match store.project_mut(project) {
        Some(pr) => {
            pr.next_issue_iid += 1;
            pr.next_issue_iid
        }
        None => return Err(ApiError::NotFound("Project")),
    };
    store.issues.push(Issue {
        id: issue_id,
        iid,
        project_id: project,
        title,
        description: description.clone(),
        opened: true,
        author_id: req.caller.user_id,
        assignee_ids: assignees,
        labels: BTreeSet::new(),
        milestone_id,
        confidential,
        due_date,
        created_at: now,
        updated_at: now,
        closed_at: None,
        closed_by: None,
        issue_type,
        moved_to_id: None,
    });
    let index = store.issues.len() - 1;
    store.set_labels(index, labels, req.caller.user_id, now);
    if let Some(d) = &description {
        cross_reference(&mut store, index, d, "", req.caller.user_id, now);
    }
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(created(render.issue(
        &store.issues[index],
        app.today(),
        true,
    )))
}

const EDIT_KEYS: [&str; 15] = [
    "assignee_id",
    "assignee_ids",
    "confidential",
    "created_at",
    "description",
    "discussion_locked",
    "due_date",
    "labels",
    "milestone_id",
    "state_event",
    "title",
    "add_labels",
    "remove_labels",
    "updated_at",
    "issue_type",
];

pub(crate) async fn edit(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let p = &req.params;
    if !EDIT_KEYS.iter().any(|k| p.has(k)) {
        return Err(ApiError::Param(format!(
            "{} are missing, at least one parameter must be provided",
            EDIT_KEYS.join(", ")
        )));
    }
    let state_event = p.one_of("state_event", &["close", "reopen"])?;
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    require(&store, project, &req.caller, REPORTER)?;
    let user = req.caller.user_id;
    let (description, quick) = run_quick_actions(
        &store,
        project,
        Some(&store.issues[index]),
        user,
        p.str("description"),
    );
    let title = quick.title.or(p.str("title"));
    if let Some(t) = &title {
        check_title(t)?;
    }
    if let Some(d) = &description {
        check_description(d)?;
    }
    let now = app.now();

    // Column changes bump updated_at at once; association changes go
    // through the throttled touch.
    if let Some(t) = title.filter(|t| *t != store.issues[index].title) {
        let old = std::mem::replace(&mut store.issues[index].title, t.clone());
        store.issues[index].updated_at = now;
        let text = format!("changed title from **{old}** to **{t}**");
        store.add_note(index, user, &text, true, now);
    }
    if let Some(d) = description.filter(|d| Some(d) != store.issues[index].description.as_ref()) {
        let old = store.issues[index]
            .description
            .replace(d.clone())
            .unwrap_or_default();
        store.issues[index].updated_at = now;
        store.add_note(index, user, "changed the description", true, now);
        cross_reference(&mut store, index, &d, &old, user, now);
    }
    if p.has("milestone_id") || quick.milestone_id.is_some() {
        // 0, empty or an unknown id unassigns.
        let wanted = match quick.milestone_id {
            Some(m) => m,
            None => p.int("milestone_id")?,
        }
        .filter(|m| store.milestone(project, *m).is_some());
        if wanted != store.issues[index].milestone_id {
            store.issues[index].milestone_id = wanted;
            store.issues[index].updated_at = now;
        }
    }
    if let Some(c) = quick.confidential.or(p.bool("confidential")?)
        && c != store.issues[index].confidential
    {
        store.issues[index].confidential = c;
        store.issues[index].updated_at = now;
    }
    if p.has("due_date") || quick.due_date.is_some() {
        let due = match quick.due_date {
            Some(d) => d,
            None => p.date("due_date")?,
        };
        if due != store.issues[index].due_date {
            store.issues[index].due_date = due;
            store.issues[index].updated_at = now;
        }
    }
    let quick_labels =
        quick.labels.is_some() || !quick.add_labels.is_empty() || !quick.remove_labels.is_empty();
    if p.has("labels") || p.has("add_labels") || p.has("remove_labels") || quick_labels {
        let mut labels = match quick
            .labels
            .or(p.list("labels").map(|l| l.into_iter().collect()))
        {
            Some(all) => all,
            None => store.issues[index].labels.clone(),
        };
        labels.extend(p.list("add_labels").unwrap_or_default());
        labels.extend(quick.add_labels);
        for gone in p
            .list("remove_labels")
            .unwrap_or_default()
            .into_iter()
            .chain(quick.remove_labels)
        {
            labels.remove(&gone);
        }
        store.set_labels(index, labels, user, now);
    }
    if p.has("assignee_ids") || p.has("assignee_id") || quick.assignee_ids.is_some() {
        let ids = match (quick.assignee_ids, p.int_list("assignee_ids")?) {
            (Some(ids), _) | (None, Some(ids)) => ids,
            (None, None) => p.int("assignee_id")?.into_iter().collect(),
        };
        if let Some(wanted) = valid_assignees(&store, project, &ids) {
            set_assignees(&mut store, index, wanted, user, now);
        }
    }
    let open = match state_event.as_deref() {
        Some("close") => Some(false),
        Some("reopen") => Some(true),
        _ => None,
    };
    if let Some(open) = quick.open.or(open) {
        store.set_state(index, open, user, now);
    }
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.issue(&store.issues[index], app.today(), true)))
}

fn set_assignees(
    store: &mut Store,
    index: usize,
    wanted: Vec<u64>,
    user: u64,
    now: chrono::DateTime<chrono::Utc>,
) {
    let old = store.issues[index].assignee_ids.clone();
    if old == wanted {
        return;
    }
    let names = |ids: &[u64], store: &Store| {
        ids.iter()
            .filter_map(|id| store.user(*id))
            .map(|u| format!("@{}", u.username))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let added: Vec<u64> = wanted
        .iter()
        .copied()
        .filter(|id| !old.contains(id))
        .collect();
    let removed: Vec<u64> = old
        .iter()
        .copied()
        .filter(|id| !wanted.contains(id))
        .collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("assigned to {}", names(&added, store)));
    }
    if !removed.is_empty() {
        parts.push(format!("unassigned {}", names(&removed, store)));
    }
    store.issues[index].assignee_ids = wanted;
    store.touch(index, now);
    store.add_note(index, user, &parts.join(" and "), true, now);
}

/// `#N` references in `text` that were not in `before`, to other issues of
/// the same project.
pub(crate) fn mentioned_iids(text: &str, before: &str, own: u64) -> Vec<u64> {
    let find = |s: &str| -> BTreeSet<u64> {
        let bytes = s.as_bytes();
        let mut out = BTreeSet::new();
        for (pos, _) in s.match_indices('#') {
            let preceded = pos > 0 && bytes[pos - 1].is_ascii_alphanumeric();
            let digits: String = s[pos + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !preceded && let Ok(n) = digits.parse() {
                out.insert(n);
            }
        }
        out
    };
    let old = find(before);
    find(text)
        .into_iter()
        .filter(|n| *n != own && !old.contains(n))
        .collect()
}

/// GitLab's cross-reference system note on each newly mentioned issue.
pub(crate) fn cross_reference(
    store: &mut Store,
    index: usize,
    text: &str,
    before: &str,
    user: u64,
    now: chrono::DateTime<chrono::Utc>,
) {
    let (project, iid) = (store.issues[index].project_id, store.issues[index].iid);
    for target in mentioned_iids(text, before, iid) {
        if let Some(t) = store.issue_index(project, target) {
            store.add_note(t, user, &format!("mentioned in issue #{iid}"), true, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_new_references_to_other_issues() {
        assert_eq!(mentioned_iids("see #2 and #3, not a#4", "", 1), vec![2, 3]);
        assert_eq!(
            mentioned_iids("see #2 and #3", "see #2", 3),
            Vec::<u64>::new()
        );
    }
}
