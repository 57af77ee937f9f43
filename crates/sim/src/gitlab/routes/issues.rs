//! `/projects/:id/issues`: list and get.

use axum::extract::{Path, State};

use crate::gitlab::app::{AppState, Req, project_id};
use crate::gitlab::pagination;
use crate::gitlab::params::Params;
use crate::gitlab::render::Render;
use crate::gitlab::reply::{ApiError, ApiResult, ok};
use crate::gitlab::search::{self, Within};
use crate::gitlab::state::{ISSUE_TYPES, Issue, Store};

pub(crate) async fn list(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let p = &req.params;
    let state = p.one_of("state", &["opened", "closed", "all"])?;
    let order_by = p
        .one_of("order_by", &["created_at", "updated_at", "title", "id"])?
        .unwrap_or_else(|| "created_at".into());
    let desc = p.one_of("sort", &["asc", "desc"])?.as_deref() != Some("asc");
    if p.has("milestone") && p.has("milestone_id") {
        return Err(ApiError::Param(
            "milestone, milestone_id are mutually exclusive".into(),
        ));
    }
    let filter = Filter::from_params(p, &store, req.caller.user_id)?;
    if let Some(refused) = pagination::past_max_offset(p, store.max_offset, "Issue") {
        return Ok(refused);
    }
    let mut found: Vec<&Issue> = store
        .issues
        .iter()
        .filter(|i| i.project_id == project)
        .filter(|i| match state.as_deref() {
            Some("opened") => i.opened,
            Some("closed") => !i.opened,
            _ => true, // GitLab's default is `all`.
        })
        .filter(|i| filter.matches(i, &store))
        .collect();
    // Ties are broken by id descending whatever the direction
    // (gitlab-org/gitlab app/models/concerns/issuable.rb, sort_by_attribute:
    // `sorted.with_order_id_desc`).
    found.sort_by(|a, b| {
        let by = match order_by.as_str() {
            "updated_at" => a.updated_at.cmp(&b.updated_at),
            "title" => a.title.cmp(&b.title),
            "id" => a.id.cmp(&b.id),
            _ => a.created_at.cmp(&b.created_at),
        };
        let by = if desc { by.reverse() } else { by };
        by.then(b.id.cmp(&a.id))
    });
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let today = app.today();
    Ok(pagination::page_of(
        found,
        |i| render.issue(i, today, false),
        p,
        app.base(),
        &req.path,
    ))
}

/// The list filters other than state.
struct Filter {
    labels: Option<Vec<String>>,
    milestone: Option<String>,
    iids: Option<Vec<u64>>,
    search: Option<(String, Within)>,
    updated_after: Option<chrono::DateTime<chrono::Utc>>,
    updated_before: Option<chrono::DateTime<chrono::Utc>>,
    created_after: Option<chrono::DateTime<chrono::Utc>>,
    created_before: Option<chrono::DateTime<chrono::Utc>>,
    assignee: Option<String>,
    author_id: Option<u64>,
    /// `issue_type=`: one work item type (lib/api/issues.rb).
    issue_type: Option<String>,
    /// `scope=created_by_me`: the caller.
    scope_author: Option<u64>,
}

impl Filter {
    fn from_params(p: &Params, store: &Store, caller: u64) -> Result<Self, ApiError> {
        let search = p.str("search").filter(|s| !s.is_empty()).map(|s| {
            let within = p.str("in").unwrap_or_else(|| "title,description".into());
            let within = Within {
                title: within.contains("title"),
                description: within.contains("description"),
            };
            (s, within)
        });
        let assignee = match (p.str("assignee_id"), p.list("assignee_username")) {
            (Some(_), Some(_)) => {
                return Err(ApiError::Param(
                    "assignee_id, assignee_username are mutually exclusive".into(),
                ));
            }
            (Some(id), None) => Some(id),
            (None, Some(names)) => Some(
                names
                    .first()
                    .and_then(|n| store.user_by_name(n))
                    .map_or_else(|| "0".to_string(), |u| u.id.to_string()),
            ),
            (None, None) => None,
        };
        // IssuableFinder#by_scope: the caller's own issues, or those assigned to it.
        let scope = p.one_of(
            "scope",
            &[
                "created_by_me",
                "created-by-me",
                "assigned_to_me",
                "assigned-to-me",
                "all",
            ],
        )?;
        let (mine, assigned_to_me) = match scope.as_deref() {
            Some("created_by_me" | "created-by-me") => (Some(caller), false),
            Some("assigned_to_me" | "assigned-to-me") => (None, true),
            _ => (None, false),
        };
        let assignee = if assigned_to_me {
            Some(caller.to_string())
        } else {
            assignee
        };
        Ok(Filter {
            labels: p.list("labels").filter(|l| !l.is_empty()),
            milestone: p.str("milestone").or_else(|| p.str("milestone_id")),
            iids: p.int_list("iids")?,
            search,
            updated_after: p.time("updated_after")?,
            updated_before: p.time("updated_before")?,
            created_after: p.time("created_after")?,
            created_before: p.time("created_before")?,
            assignee,
            author_id: p.int("author_id")?,
            issue_type: p.one_of("issue_type", &ISSUE_TYPES)?,
            scope_author: mine,
        })
    }

    fn matches(&self, i: &Issue, store: &Store) -> bool {
        // Date bounds are inclusive (UpdatedAtFilterable uses >= and <=).
        if self.updated_after.is_some_and(|t| i.updated_at < t)
            || self.updated_before.is_some_and(|t| i.updated_at > t)
            || self.created_after.is_some_and(|t| i.created_at < t)
            || self.created_before.is_some_and(|t| i.created_at > t)
        {
            return false;
        }
        if let Some(labels) = &self.labels {
            let ok = labels.iter().all(|l| match l.to_lowercase().as_str() {
                "none" => i.labels.is_empty(),
                "any" => !i.labels.is_empty(),
                _ => i.labels.contains(l),
            });
            if !ok {
                return false;
            }
        }
        if let Some(m) = &self.milestone {
            let ok = match m.to_lowercase().as_str() {
                "none" => i.milestone_id.is_none(),
                "any" => i.milestone_id.is_some(),
                _ => i
                    .milestone_id
                    .and_then(|id| store.milestone(i.project_id, id))
                    .is_some_and(|ms| &ms.title == m),
            };
            if !ok {
                return false;
            }
        }
        if self
            .iids
            .as_ref()
            .is_some_and(|iids| !iids.contains(&i.iid))
        {
            return false;
        }
        if let Some((text, within)) = &self.search
            && !search::found(text, *within, &i.title, i.description.as_deref())
        {
            return false;
        }
        if let Some(a) = &self.assignee {
            let ok = match a.to_lowercase().as_str() {
                "none" => i.assignee_ids.is_empty(),
                "any" => !i.assignee_ids.is_empty(),
                id => id
                    .parse::<u64>()
                    .is_ok_and(|id| i.assignee_ids.contains(&id)),
            };
            if !ok {
                return false;
            }
        }
        self.author_id.is_none_or(|a| i.author_id == a)
            && self.issue_type.as_deref().is_none_or(|t| i.issue_type == t)
            && self.scope_author.is_none_or(|a| i.author_id == a)
    }
}

fn parse_iid(iid: &str) -> Result<u64, ApiError> {
    iid.parse()
        .map_err(|_| ApiError::Param("issue_iid is invalid".into()))
}

/// The issue's index, or GitLab's lowercase RecordNotFound answer.
pub(super) fn issue_at(store: &Store, project: u64, iid: &str) -> Result<usize, ApiError> {
    store
        .issue_index(project, parse_iid(iid)?)
        .ok_or(ApiError::RecordNotFound)
}

pub(crate) async fn get(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.issue(&store.issues[index], app.today(), true)))
}
