//! What the quick actions of a description do to the issue, for the
//! commands a synced description can carry. Each runs only when GitLab
//! makes it available (gitlab-org/gitlab
//! `lib/gitlab/quick_actions/issuable_actions.rb`,
//! `issue_and_merge_request_actions.rb`, `issue_actions.rb`): `/close`,
//! `/reopen`, `/title`, `/unassign`, `/unlabel`, `/relabel`,
//! `/remove_milestone` and `/remove_due_date` need an existing issue, so on
//! create they are only removed. Their results override the request's own
//! parameters (`params.merge!` in `issuable_base_service.rb`). Other known
//! commands (`/move`, `/spend` …) are removed without effect here.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::gitlab::quick_actions::Command;
use crate::gitlab::state::{Issue, Store};

/// The changes a description's commands ask for.
#[derive(Debug, Default)]
pub(crate) struct QuickUpdates {
    /// `Some(false)` closes, `Some(true)` reopens.
    pub open: Option<bool>,
    pub title: Option<String>,
    pub assignee_ids: Option<Vec<u64>>,
    pub add_labels: Vec<String>,
    pub remove_labels: Vec<String>,
    /// Replaces every label (`/relabel`, `/unlabel` without arguments).
    pub labels: Option<BTreeSet<String>>,
    pub milestone_id: Option<Option<u64>>,
    pub due_date: Option<Option<NaiveDate>>,
    pub confidential: Option<bool>,
}

/// `issue` is `None` on create (the issue is not persisted yet).
pub(crate) fn interpret(
    store: &Store,
    project: u64,
    issue: Option<&Issue>,
    caller: u64,
    commands: &[Command],
) -> QuickUpdates {
    let mut up = QuickUpdates::default();
    for Command { name, arg } in commands {
        let arg = arg.as_deref().unwrap_or("");
        match (name.as_str(), issue) {
            ("close", Some(i)) if i.opened => up.open = Some(false),
            ("reopen", Some(i)) if !i.opened => up.open = Some(true),
            ("title", Some(_)) if !arg.is_empty() => up.title = Some(arg.to_string()),
            ("assign", _) => {
                let users = users(store, caller, arg);
                let Some(first) = users.first() else { continue };
                up.assignee_ids = Some(if store.paid_tier {
                    let mut ids = up.assignee_ids.take().unwrap_or_else(|| {
                        issue.map(|i| i.assignee_ids.clone()).unwrap_or_default()
                    });
                    ids.extend(
                        users
                            .iter()
                            .filter(|u| !ids.contains(u))
                            .collect::<Vec<_>>(),
                    );
                    ids
                } else {
                    vec![*first]
                });
            }
            ("unassign", Some(i)) if !i.assignee_ids.is_empty() => {
                let named = users(store, caller, arg);
                up.assignee_ids = Some(if store.paid_tier && !named.is_empty() {
                    let ids = up
                        .assignee_ids
                        .take()
                        .unwrap_or_else(|| i.assignee_ids.clone());
                    ids.into_iter().filter(|u| !named.contains(u)).collect()
                } else {
                    Vec::new()
                });
            }
            ("label" | "labels", _) => up.add_labels.extend(labels(store, project, arg)),
            ("unlabel" | "remove_label", Some(i)) if !i.labels.is_empty() => {
                if arg.is_empty() {
                    up.labels = Some(BTreeSet::new());
                } else {
                    up.remove_labels.extend(labels(store, project, arg));
                }
            }
            ("relabel", Some(i)) if !i.labels.is_empty() => {
                let found = labels(store, project, arg);
                if !found.is_empty() {
                    up.labels = Some(found.into_iter().collect());
                }
            }
            ("milestone", _) => {
                let title = arg.trim_start_matches('%').trim_matches('"');
                if let Some(m) = store
                    .milestones
                    .iter()
                    .find(|m| m.project_id == project && m.active && m.title == title)
                {
                    up.milestone_id = Some(Some(m.id));
                }
            }
            ("remove_milestone", Some(i)) if i.milestone_id.is_some() => {
                up.milestone_id = Some(None)
            }
            ("due", _) => {
                if let Ok(d) = NaiveDate::parse_from_str(arg, "%Y-%m-%d") {
                    up.due_date = Some(Some(d));
                }
            }
            ("remove_due_date", Some(i)) if i.due_date.is_some() => up.due_date = Some(None),
            ("confidential", _) if !issue.is_some_and(|i| i.confidential) => {
                up.confidential = Some(true)
            }
            _ => {}
        }
    }
    up
}

/// `@name`, `name` or `me`, separated by spaces or commas; unknown names
/// are left out.
fn users(store: &Store, caller: u64, arg: &str) -> Vec<u64> {
    arg.split([' ', ','])
        .filter(|w| !w.is_empty())
        .filter_map(|w| match w.trim_start_matches('@') {
            "me" => Some(caller),
            name => store.user_by_name(name).map(|u| u.id),
        })
        .collect()
}

/// `~name`, `~"two words"`, or bare names: the project's existing labels.
fn labels(store: &Store, project: u64, arg: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = arg.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches('~');
        let (name, after) = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
            None => rest.split_once(' ').unwrap_or((rest, "")),
        };
        names.push(name.to_string());
        rest = after.trim_start();
    }
    names
        .into_iter()
        .filter(|n| store.label_by_name(project, n).is_some())
        .collect()
}
