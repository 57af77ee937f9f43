//! The simulator's data: users, tokens, the project and its issues, notes,
//! labels, milestones, events and hooks. Plain structs behind one mutex; the
//! route handlers hold the lock for the whole of a request, so every request
//! is atomic as it would be in one database transaction.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

pub const GUEST: u32 = 10;
pub const REPORTER: u32 = 20;
pub const DEVELOPER: u32 = 30;
pub const MAINTAINER: u32 = 40;
pub const OWNER: u32 = 50;

/// GitLab's `ThrottledTouch::TOUCH_INTERVAL`.
pub(crate) const TOUCH_INTERVAL_SECS: i64 = 60;
pub(crate) const TITLE_MAX: usize = 255;
/// `Issuable::DESCRIPTION_LENGTH_MAX`, checked on bytes.
pub(crate) const DESCRIPTION_MAX_BYTES: usize = 1024 * 1024;
pub(crate) const NOTE_MAX_CHARS: usize = 1_000_000;
/// Label colour GitLab gives labels created on the fly.
pub(crate) const DEFAULT_LABEL_COLOR: &str = "#6699cc";

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub bot: bool,
    /// An instance administrator: every project, every permission.
    pub admin: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub id: u64,
    pub name: String,
    pub value: String,
    pub user_id: u64,
    pub scopes: Vec<String>,
    pub expires_at: Option<NaiveDate>,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub id: u64,
    pub name: String,
    pub path_with_namespace: String,
    pub issues_enabled: bool,
    pub created_at: DateTime<Utc>,
    /// user id → access level.
    pub members: HashMap<u64, u32>,
    pub next_issue_iid: u64,
    pub next_milestone_iid: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Issue {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
    pub description: Option<String>,
    pub opened: bool,
    pub author_id: u64,
    pub assignee_ids: Vec<u64>,
    /// Sorted, as GitLab returns them.
    pub labels: BTreeSet<String>,
    pub milestone_id: Option<u64>,
    pub confidential: bool,
    pub due_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<u64>,
    /// The work item type: "issue", "incident", "test_case", "task".
    pub issue_type: &'static str,
    /// Set on the original when the issue was moved to another project.
    pub moved_to_id: Option<u64>,
}

/// The work item types a project's issue list returns and `issue_type=`
/// filters on (`Issue::TYPES_FOR_LIST`, app/models/issue.rb; `issue_type`
/// takes one value, lib/api/issues.rb). OKRs (objective, key_result) are
/// left out: they need a licence and a feature flag.
pub(crate) const ISSUE_TYPES: [&str; 4] = ["issue", "incident", "test_case", "task"];

#[derive(Clone, Debug)]
pub(crate) struct Note {
    pub id: u64,
    /// Global id of the issue.
    pub issue_id: u64,
    pub author_id: u64,
    pub body: String,
    pub system: bool,
    pub internal: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub(crate) struct Label {
    pub id: u64,
    pub project_id: u64,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
    pub priority: Option<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct Milestone {
    pub id: u64,
    pub iid: u64,
    /// 0 for a group milestone.
    pub project_id: u64,
    /// The full path of the group owning a group milestone.
    pub group: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub active: bool,
    pub due_date: Option<NaiveDate>,
    pub start_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub(crate) struct StateEvent {
    pub id: u64,
    pub issue_id: u64,
    pub user_id: u64,
    pub created_at: DateTime<Utc>,
    /// "closed" or "reopened".
    pub state: &'static str,
}

#[derive(Clone, Debug)]
pub(crate) struct LabelEvent {
    pub id: u64,
    pub issue_id: u64,
    pub user_id: u64,
    pub created_at: DateTime<Utc>,
    pub label_id: u64,
    /// "add" or "remove".
    pub action: &'static str,
}

#[derive(Clone, Debug)]
pub(crate) struct Hook {
    pub id: u64,
    pub project_id: u64,
    pub url: String,
    pub issues_events: bool,
    pub note_events: bool,
    pub confidential_issues_events: bool,
    pub confidential_note_events: bool,
    pub enable_ssl_verification: bool,
    pub created_at: DateTime<Utc>,
}

/// Everything the simulated GitLab knows.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub users: Vec<User>,
    pub tokens: Vec<Token>,
    pub projects: Vec<Project>,
    pub issues: Vec<Issue>,
    pub notes: Vec<Note>,
    pub labels: Vec<Label>,
    pub milestones: Vec<Milestone>,
    pub state_events: Vec<StateEvent>,
    pub label_events: Vec<LabelEvent>,
    pub hooks: Vec<Hook>,
    next_id: u64,
    /// Scoped labels (`key::value`) exclusive per key: GitLab Premium and up.
    pub paid_tier: bool,
    /// GitLab's 60 s throttle on touch-based `updated_at` bumps.
    pub throttled_touch: bool,
    /// Offset pagination limit of issue lists (0: none).
    pub max_offset: usize,
}

impl Store {
    pub(crate) fn new(paid_tier: bool, throttled_touch: bool) -> Self {
        Store {
            paid_tier,
            throttled_touch,
            ..Store::default()
        }
    }

    /// One id sequence for everything is enough: GitLab's ids are only unique
    /// per table, and clients must not rely on more.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub(crate) fn user_by_name(&self, username: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub(crate) fn project(&self, id: u64) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    pub(crate) fn project_mut(&mut self, id: u64) -> Option<&mut Project> {
        self.projects.iter_mut().find(|p| p.id == id)
    }

    /// Resolves `:id`: digits are an id, anything else a full path.
    pub(crate) fn find_project(&self, key: &str) -> Option<&Project> {
        if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
            let id: u64 = key.parse().ok()?;
            return self.project(id);
        }
        self.projects
            .iter()
            .find(|p| p.path_with_namespace.eq_ignore_ascii_case(key))
    }

    /// The caller's access level in a project; an administrator's is an owner's.
    pub(crate) fn access_level(&self, project_id: u64, user_id: u64) -> u32 {
        if self.user(user_id).is_some_and(|u| u.admin) && self.project(project_id).is_some() {
            return OWNER;
        }
        self.project(project_id)
            .and_then(|p| p.members.get(&user_id).copied())
            .unwrap_or(0)
    }

    pub(crate) fn issue_index(&self, project_id: u64, iid: u64) -> Option<usize> {
        self.issues
            .iter()
            .position(|i| i.project_id == project_id && i.iid == iid)
    }

    /// Deletes an issue with what belongs to it (`Issues::DestroyService`).
    pub(crate) fn destroy_issue(&mut self, index: usize) {
        let id = self.issues.remove(index).id;
        self.notes.retain(|n| n.issue_id != id);
        self.state_events.retain(|e| e.issue_id != id);
        self.label_events.retain(|e| e.issue_id != id);
    }

    pub(crate) fn issue_by_id(&self, id: u64) -> Option<&Issue> {
        self.issues.iter().find(|i| i.id == id)
    }

    pub(crate) fn label_by_name(&self, project_id: u64, name: &str) -> Option<&Label> {
        // Label titles are unique per project, case-sensitively.
        self.labels
            .iter()
            .find(|l| l.project_id == project_id && l.name == name)
    }

    /// A milestone the project's issues may use: its own, or one of an
    /// ancestor group's (`Issuable#milestone_available?`).
    pub(crate) fn milestone(&self, project_id: u64, id: u64) -> Option<&Milestone> {
        self.milestones_of(project_id, true).find(|m| m.id == id)
    }

    /// The project's ancestor groups, outermost first: its path's prefixes
    /// ("a/b/proj" → "a", "a/b").
    pub(crate) fn ancestor_groups(&self, project_id: u64) -> Vec<String> {
        let Some(p) = self.project(project_id) else {
            return Vec::new();
        };
        let parts: Vec<&str> = p.path_with_namespace.split('/').collect();
        (1..parts.len()).map(|n| parts[..n].join("/")).collect()
    }

    /// The project's milestones, and with `ancestors` its groups' too.
    pub(crate) fn milestones_of(
        &self,
        project_id: u64,
        ancestors: bool,
    ) -> impl Iterator<Item = &Milestone> {
        let groups = if ancestors {
            self.ancestor_groups(project_id)
        } else {
            Vec::new()
        };
        self.milestones.iter().filter(move |m| match &m.group {
            Some(g) => groups.contains(g),
            None => m.project_id == project_id,
        })
    }

    /// A group's id: its place among the groups known, counted from 1 (the
    /// project's own namespace is seeded first, and renders as id 1).
    pub(crate) fn group_id(&self, path: &str) -> u64 {
        let mut seen: Vec<String> = Vec::new();
        for g in self
            .projects
            .iter()
            .flat_map(|p| self.ancestor_groups(p.id))
        {
            if !seen.contains(&g) {
                seen.push(g);
            }
        }
        seen.iter()
            .position(|g| g == path)
            .map_or(0, |i| i as u64 + 1)
    }

    /// Finds a project label by name, creating it like `Labels::FindOrCreateService`.
    pub(crate) fn find_or_create_label(&mut self, project_id: u64, name: &str) -> u64 {
        if let Some(label) = self.label_by_name(project_id, name) {
            return label.id;
        }
        let id = self.next_id();
        self.labels.push(Label {
            id,
            project_id,
            name: name.to_string(),
            color: DEFAULT_LABEL_COLOR.to_string(),
            description: None,
            priority: None,
        });
        id
    }

    pub(crate) fn user_notes_count(&self, issue_id: u64) -> usize {
        self.notes
            .iter()
            .filter(|n| n.issue_id == issue_id && !n.system)
            .count()
    }

    /// `touch` as `ThrottledTouch` does it: no bump when the last one is
    /// younger than a minute.
    pub(crate) fn touch(&mut self, index: usize, now: DateTime<Utc>) {
        let throttled = self.throttled_touch;
        let issue = &mut self.issues[index];
        if throttled && (now - issue.updated_at).num_seconds() < TOUCH_INTERVAL_SECS {
            return;
        }
        issue.updated_at = now;
    }

    /// Writes a note and touches the issue, like `Note#touch_noteable`.
    pub(crate) fn add_note(
        &mut self,
        index: usize,
        author_id: u64,
        body: &str,
        system: bool,
        now: DateTime<Utc>,
    ) -> u64 {
        let id = self.next_id();
        let issue_id = self.issues[index].id;
        self.notes.push(Note {
            id,
            issue_id,
            author_id,
            body: body.to_string(),
            system,
            internal: false,
            created_at: now,
            updated_at: now,
        });
        self.touch(index, now);
        id
    }

    /// Applies a new label set to an issue: scoped exclusivity on paid tiers,
    /// label events for what changed, and a touch when anything did.
    pub(crate) fn set_labels(
        &mut self,
        index: usize,
        wanted: BTreeSet<String>,
        user_id: u64,
        now: DateTime<Utc>,
    ) {
        let project_id = self.issues[index].project_id;
        let wanted = if self.paid_tier {
            exclusive_scopes(&self.issues[index].labels, wanted)
        } else {
            wanted
        };
        let old = self.issues[index].labels.clone();
        if old == wanted {
            return;
        }
        let issue_id = self.issues[index].id;
        for name in wanted.difference(&old) {
            let label_id = self.find_or_create_label(project_id, name);
            let id = self.next_id();
            self.label_events.push(LabelEvent {
                id,
                issue_id,
                user_id,
                created_at: now,
                label_id,
                action: "add",
            });
        }
        for name in old.difference(&wanted) {
            if let Some(label_id) = self.label_by_name(project_id, name).map(|l| l.id) {
                let id = self.next_id();
                self.label_events.push(LabelEvent {
                    id,
                    issue_id,
                    user_id,
                    created_at: now,
                    label_id,
                    action: "remove",
                });
            }
        }
        self.issues[index].labels = wanted;
        self.touch(index, now);
    }

    /// Closes or reopens, recording the resource state event.
    pub(crate) fn set_state(&mut self, index: usize, open: bool, user_id: u64, now: DateTime<Utc>) {
        let issue = &mut self.issues[index];
        if issue.opened == open {
            return;
        }
        issue.opened = open;
        issue.updated_at = now;
        if open {
            issue.closed_at = None;
            issue.closed_by = None;
        } else {
            issue.closed_at = Some(now);
            issue.closed_by = Some(user_id);
        }
        let issue_id = issue.id;
        let id = self.next_id();
        self.state_events.push(StateEvent {
            id,
            issue_id,
            user_id,
            created_at: now,
            state: if open { "reopened" } else { "closed" },
        });
    }
}

/// Among scoped labels sharing a key, keeps the one newly added (or, when
/// none is new, the last in order). The key is what precedes the last `::`.
fn exclusive_scopes(old: &BTreeSet<String>, wanted: BTreeSet<String>) -> BTreeSet<String> {
    let mut by_key: HashMap<String, String> = HashMap::new();
    let mut result = BTreeSet::new();
    for name in &wanted {
        match name.rfind("::") {
            Some(pos) => {
                let key = name[..pos].to_string();
                let keep = match by_key.get(&key) {
                    Some(current) if !old.contains(current) => current.clone(),
                    _ => name.clone(),
                };
                by_key.insert(key, keep);
            }
            None => {
                result.insert(name.clone());
            }
        }
    }
    result.extend(by_key.into_values());
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn new_scoped_label_replaces_old_one_with_same_key() {
        let old = set(&["bug", "priority::low"]);
        let wanted = set(&["bug", "priority::low", "priority::high"]);
        assert_eq!(
            exclusive_scopes(&old, wanted),
            set(&["bug", "priority::high"])
        );
    }

    #[test]
    fn key_is_before_the_last_double_colon() {
        let old = set(&["a::b::c"]);
        let wanted = set(&["a::b::c", "a::b::d", "a::x"]);
        assert_eq!(exclusive_scopes(&old, wanted), set(&["a::b::d", "a::x"]));
    }
}
