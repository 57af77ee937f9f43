//! GitLab's JSON entities (`API::Entities::*`) built from the store.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::state::{Hook, Issue, Label, Milestone, Note, Project, Store, Token, User};

/// ISO 8601 UTC with milliseconds and `Z`, as GitLab writes timestamps.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn opt_ts(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(ts(t)))
}

/// Renders entities with the simulator's own address in every URL.
pub(crate) struct Render<'a> {
    pub store: &'a Store,
    pub base: &'a str,
}

impl Render<'_> {
    pub(crate) fn user_basic(&self, user: &User) -> Value {
        json!({
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "state": "active",
            "locked": false,
            "avatar_url": format!("{}/uploads/-/system/user/avatar/{}/avatar.png", self.base, user.id),
            "web_url": format!("{}/{}", self.base, user.username),
        })
    }

    fn user_ref(&self, id: Option<u64>) -> Value {
        id.and_then(|id| self.store.user(id))
            .map_or(Value::Null, |u| self.user_basic(u))
    }

    /// `GET /user`: the private fields too.
    pub(crate) fn user_full(&self, user: &User) -> Value {
        let mut v = self.user_basic(user);
        let extra = json!({
            "email": user.email,
            "public_email": null,
            "bot": user.bot,
            "created_at": ts(user.created_at),
            "bio": "",
            "is_admin": user.admin,
        });
        merge(&mut v, extra);
        v
    }

    pub(crate) fn project(&self, project: &Project, viewer: u64) -> Value {
        let path = &project.path_with_namespace;
        let (namespace, short) = path.rsplit_once('/').unwrap_or(("", path));
        let level = project.members.get(&viewer).copied();
        json!({
            "id": project.id,
            "name": project.name,
            "name_with_namespace": path.replace('/', " / "),
            "path": short,
            "path_with_namespace": path,
            "namespace": {"id": 1, "name": namespace, "path": namespace, "kind": "group",
                          "full_path": namespace},
            "description": "",
            "default_branch": "main",
            "visibility": "private",
            "web_url": format!("{}/{}", self.base, path),
            "created_at": ts(project.created_at),
            "last_activity_at": ts(project.created_at),
            "issues_enabled": project.issues_enabled,
            "archived": false,
            "_links": {
                "self": format!("{}/api/v4/projects/{}", self.base, project.id),
                "issues": format!("{}/api/v4/projects/{}/issues", self.base, project.id),
                "labels": format!("{}/api/v4/projects/{}/labels", self.base, project.id),
            },
            "permissions": {
                "project_access": level.map(|l| json!({"access_level": l, "notification_level": 3})),
                "group_access": null,
            },
        })
    }

    pub(crate) fn milestone(&self, m: &Milestone, today: chrono::NaiveDate) -> Value {
        let (path, owner) = match &m.group {
            // A group milestone names its group, not a project
            // (doc/api/group_milestones.md).
            Some(g) => (format!("groups/{g}"), ("group_id", self.store.group_id(g))),
            None => (
                self.project_path(m.project_id),
                ("project_id", m.project_id),
            ),
        };
        json!({
            "id": m.id,
            "iid": m.iid,
            owner.0: owner.1,
            "title": m.title,
            "description": m.description,
            "state": if m.active { "active" } else { "closed" },
            "created_at": ts(m.created_at),
            "updated_at": ts(m.updated_at),
            "due_date": m.due_date.map(|d| d.to_string()),
            "start_date": m.start_date.map(|d| d.to_string()),
            "expired": m.due_date.is_some_and(|d| d < today),
            "web_url": format!("{}/{}/-/milestones/{}", self.base, path, m.iid),
        })
    }

    fn project_path(&self, project_id: u64) -> String {
        self.store
            .project(project_id)
            .map_or_else(String::new, |p| p.path_with_namespace.clone())
    }

    pub(crate) fn issue(&self, issue: &Issue, today: chrono::NaiveDate, single: bool) -> Value {
        let path = self.project_path(issue.project_id);
        let assignees: Vec<Value> = issue
            .assignee_ids
            .iter()
            .filter_map(|id| self.store.user(*id))
            .map(|u| self.user_basic(u))
            .collect();
        let api = format!("{}/api/v4/projects/{}", self.base, issue.project_id);
        let mut v = json!({
            "id": issue.id,
            "iid": issue.iid,
            "project_id": issue.project_id,
            "title": issue.title,
            "description": issue.description,
            "state": if issue.opened { "opened" } else { "closed" },
            "created_at": ts(issue.created_at),
            "updated_at": ts(issue.updated_at),
            "closed_at": opt_ts(issue.closed_at),
            "closed_by": self.user_ref(issue.closed_by),
            "labels": issue.labels.iter().collect::<Vec<_>>(),
            "milestone": issue.milestone_id
                .and_then(|id| self.store.milestone(issue.project_id, id))
                .map_or(Value::Null, |m| self.milestone(m, today)),
            "assignees": assignees,
            "assignee": assignees.first().cloned().unwrap_or(Value::Null),
            "author": self.user_ref(Some(issue.author_id)),
            "type": issue.issue_type.to_uppercase(),
            "issue_type": issue.issue_type,
            "user_notes_count": self.store.user_notes_count(issue.id),
            "merge_requests_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "due_date": issue.due_date.map(|d| d.to_string()),
            "confidential": issue.confidential,
            "discussion_locked": null,
            "web_url": format!("{}/{}/-/issues/{}", self.base, path, issue.iid),
            "time_stats": {"time_estimate": 0, "total_time_spent": 0,
                           "human_time_estimate": null, "human_total_time_spent": null},
            "task_completion_status": {"count": 0, "completed_count": 0},
            "has_tasks": false,
            "references": {"short": format!("#{}", issue.iid), "relative": format!("#{}", issue.iid),
                           "full": format!("{path}#{}", issue.iid)},
            "severity": "UNKNOWN",
            "moved_to_id": issue.moved_to_id,
            "service_desk_reply_to": null,
            "imported": false,
            "imported_from": "none",
            "_links": {
                "self": format!("{api}/issues/{}", issue.iid),
                "notes": format!("{api}/issues/{}/notes", issue.iid),
                "award_emoji": format!("{api}/issues/{}/award_emoji", issue.iid),
                "project": api,
                "closed_as_duplicate_of": null,
            },
        });
        if single {
            merge(&mut v, json!({"subscribed": true}));
        }
        v
    }

    pub(crate) fn note(&self, note: &Note) -> Value {
        let issue = self.store.issue_by_id(note.issue_id);
        json!({
            "id": note.id,
            "type": null,
            "body": note.body,
            "attachment": null,
            "author": self.user_ref(Some(note.author_id)),
            "created_at": ts(note.created_at),
            "updated_at": ts(note.updated_at),
            "system": note.system,
            "noteable_id": note.issue_id,
            "noteable_type": "Issue",
            "noteable_iid": issue.map(|i| i.iid),
            "project_id": issue.map(|i| i.project_id),
            "resolvable": false,
            "confidential": note.internal,
            "internal": note.internal,
            "imported": false,
            "imported_from": "none",
            "commands_changes": {},
        })
    }

    pub(crate) fn label(&self, label: &Label) -> Value {
        json!({
            "id": label.id,
            "name": label.name,
            "color": label.color,
            "text_color": text_color(&label.color),
            "description": label.description,
            "description_html": label.description.clone().unwrap_or_default(),
            "subscribed": false,
            "priority": label.priority,
            "is_project_label": true,
        })
    }

    pub(crate) fn label_small(&self, label: &Label) -> Value {
        json!({"id": label.id, "name": label.name, "color": label.color,
               "description": label.description})
    }

    pub(crate) fn member(&self, user: &User, level: u32, since: DateTime<Utc>) -> Value {
        let mut v = self.user_basic(user);
        merge(
            &mut v,
            json!({"access_level": level, "created_at": ts(since), "created_by": null,
                   "expires_at": null, "group_saml_identity": null}),
        );
        v
    }

    pub(crate) fn token(&self, token: &Token, today: chrono::NaiveDate) -> Value {
        let expired = token.expires_at.is_some_and(|d| d < today);
        json!({
            "id": token.id,
            "name": token.name,
            "revoked": token.revoked,
            "created_at": ts(token.created_at),
            "description": null,
            "scopes": token.scopes,
            "user_id": token.user_id,
            "last_used_at": opt_ts(token.last_used_at),
            "active": !token.revoked && !expired,
            "expires_at": token.expires_at.map(|d| d.to_string()),
        })
    }

    pub(crate) fn hook(&self, hook: &Hook) -> Value {
        json!({
            "id": hook.id,
            "url": hook.url,
            "name": null,
            "description": null,
            "project_id": hook.project_id,
            "push_events": false,
            "issues_events": hook.issues_events,
            "confidential_issues_events": hook.confidential_issues_events,
            "merge_requests_events": false,
            "tag_push_events": false,
            "note_events": hook.note_events,
            "confidential_note_events": hook.confidential_note_events,
            "job_events": false,
            "pipeline_events": false,
            "wiki_page_events": false,
            "releases_events": false,
            "enable_ssl_verification": hook.enable_ssl_verification,
            "alert_status": "executable",
            "disabled_until": null,
            "url_variables": [],
            "custom_headers": [],
            "created_at": ts(hook.created_at),
        })
    }
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        t.extend(e);
    }
}

/// Black or white, whichever reads better on the colour, as GitLab picks it.
fn text_color(color: &str) -> &'static str {
    let hex = color.trim_start_matches('#');
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, f64::from)
    };
    let luma = 0.299 * channel(0) + 0.587 * channel(2) + 0.114 * channel(4);
    if luma > 128.0 { "#333333" } else { "#FFFFFF" }
}
