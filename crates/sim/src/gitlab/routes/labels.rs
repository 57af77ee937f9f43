//! `/projects/:id/labels` and `/projects/:id/milestones`.

use axum::extract::{Path, State};
use serde_json::Value;

use crate::gitlab::app::{AppState, Req, project_id, require};
use crate::gitlab::pagination;
use crate::gitlab::render::Render;
use crate::gitlab::reply::{ApiError, ApiResult, created, ok};
use crate::gitlab::state::{Label, Milestone, REPORTER, Store};

pub(crate) async fn list_labels(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let search = req.params.str("search").map(|s| s.to_lowercase());
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let mut labels: Vec<&Label> = store
        .labels
        .iter()
        .filter(|l| l.project_id == project)
        .filter(|l| {
            search
                .as_deref()
                .is_none_or(|s| l.name.to_lowercase().contains(s))
        })
        .collect();
    labels.sort_by_key(|l| l.name.to_lowercase());
    let items: Vec<Value> = labels.into_iter().map(|l| render.label(l)).collect();
    Ok(pagination::page(items, &req.params, app.base(), &req.path))
}

/// `:label_id` is an id or a title, and the id is tried first: a label
/// titled "42" is hidden behind the label whose id is 42
/// (gitlab-org/gitlab `lib/api/helpers/label_helpers.rb`, `find_label`:
/// `find_by_id(id_or_title) || find_by_title(id_or_title)`).
pub(crate) async fn get_label(
    State(app): State<AppState>,
    Path((id, label)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let mut labels = store.labels.iter().filter(|l| l.project_id == project);
    let by_id = label
        .parse::<u64>()
        .ok()
        .and_then(|n| labels.clone().find(|l| l.id == n));
    let found = by_id
        .or_else(|| labels.find(|l| l.name == label))
        .ok_or(ApiError::NotFound("Label"))?;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.label(found)))
}

fn valid_color(color: &str) -> bool {
    let hex = color.strip_prefix('#');
    match hex {
        Some(h) => (h.len() == 6 || h.len() == 3) && h.chars().all(|c| c.is_ascii_hexdigit()),
        None => !color.is_empty() && color.chars().all(|c| c.is_ascii_alphabetic()),
    }
}

pub(crate) async fn create_label(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let p = &req.params;
    let name = p.required("name")?;
    let color = p.required("color")?;
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    require(&store, project, &req.caller, REPORTER)?;
    if store.label_by_name(project, &name).is_some() {
        return Err(ApiError::Conflict("Label already exists"));
    }
    if name.contains(',') {
        return Err(ApiError::Validation("title", "is invalid".into()));
    }
    if !valid_color(&color) {
        return Err(ApiError::Validation(
            "color",
            "must be a valid color code".into(),
        ));
    }
    let label_id = store.next_id();
    let label = Label {
        id: label_id,
        project_id: project,
        name,
        color,
        description: p.str("description"),
        priority: p.int("priority")?.map(|n| n as i64),
    };
    store.labels.push(label.clone());
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(created(render.label(&label)))
}

pub(crate) async fn list_milestones(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let p = &req.params;
    let state = p.one_of("state", &["active", "closed"])?;
    let title = p.str("title");
    let search = p.str("search").map(|s| s.to_lowercase());
    let iids = p.int_list("iids")?;
    let after = p.time("updated_after")?;
    let before = p.time("updated_before")?;
    // Group milestones only when asked for (doc/api/milestones.md).
    let ancestors = p.bool("include_ancestors")?.unwrap_or(false);
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let mut found: Vec<&Milestone> = store
        .milestones_of(project, ancestors)
        .filter(|m| match state.as_deref() {
            Some("active") => m.active,
            Some("closed") => !m.active,
            _ => true,
        })
        .filter(|m| title.as_ref().is_none_or(|t| &m.title == t))
        .filter(|m| {
            search.as_deref().is_none_or(|s| {
                m.title.to_lowercase().contains(s)
                    || m.description
                        .as_deref()
                        .is_some_and(|d| d.to_lowercase().contains(s))
            })
        })
        .filter(|m| iids.as_ref().is_none_or(|i| i.contains(&m.iid)))
        .filter(|m| after.is_none_or(|t| m.updated_at >= t))
        .filter(|m| before.is_none_or(|t| m.updated_at <= t))
        .collect();
    // GitLab lists milestones newest first.
    found.sort_by_key(|m| std::cmp::Reverse(m.id));
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let today = app.today();
    let items: Vec<Value> = found
        .into_iter()
        .map(|m| render.milestone(m, today))
        .collect();
    Ok(pagination::page(items, p, app.base(), &req.path))
}

fn milestone_at(store: &Store, project: u64, id: &str) -> Result<usize, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::Param("milestone_id is invalid".into()))?;
    store
        .milestones
        .iter()
        .position(|m| m.project_id == project && m.id == id)
        .ok_or(ApiError::NotFound("Milestone"))
}

pub(crate) async fn get_milestone(
    State(app): State<AppState>,
    Path((id, milestone)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = milestone_at(&store, project, &milestone)?;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.milestone(&store.milestones[index], app.today())))
}

/// Titles are unique across the project and its ancestor groups
/// (app/models/milestone.rb, `uniqueness_of_title`).
fn title_taken(store: &Store, project: u64, title: &str, except: Option<u64>) -> bool {
    store
        .milestones_of(project, true)
        .any(|m| m.title == title && Some(m.id) != except)
}

const TITLE_TAKEN: &str = "already being used for another group or project milestone.";

pub(crate) async fn create_milestone(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let p = &req.params;
    let title = p.required("title")?;
    let due_date = p.date("due_date")?;
    let start_date = p.date("start_date")?;
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    require(&store, project, &req.caller, REPORTER)?;
    if title_taken(&store, project, &title, None) {
        return Err(ApiError::Validation("title", TITLE_TAKEN.into()));
    }
    if let (Some(s), Some(d)) = (start_date, due_date)
        && d < s
    {
        return Err(ApiError::Validation(
            "due_date",
            "must be greater than start date".into(),
        ));
    }
    let now = app.now();
    let milestone_id = store.next_id();
    let iid = match store.project_mut(project) {
        Some(pr) => {
            pr.next_milestone_iid += 1;
            pr.next_milestone_iid
        }
        None => return Err(ApiError::NotFound("Project")),
    };
    let milestone = Milestone {
        id: milestone_id,
        iid,
        project_id: project,
        group: None,
        title,
        description: p.str("description"),
        active: true,
        due_date,
        start_date,
        created_at: now,
        updated_at: now,
    };
    store.milestones.push(milestone.clone());
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(created(render.milestone(&milestone, app.today())))
}

pub(crate) async fn edit_milestone(
    State(app): State<AppState>,
    Path((id, milestone)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let p = &req.params;
    let state_event = p.one_of("state_event", &["close", "activate"])?;
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = milestone_at(&store, project, &milestone)?;
    require(&store, project, &req.caller, REPORTER)?;
    let mut changed = false;
    if let Some(title) = p.str("title") {
        if title.trim().is_empty() {
            return Err(ApiError::Validation("title", "can't be blank".into()));
        }
        let own = store.milestones[index].id;
        if title_taken(&store, project, &title, Some(own)) {
            return Err(ApiError::Validation("title", TITLE_TAKEN.into()));
        }
        changed |= store.milestones[index].title != title;
        store.milestones[index].title = title;
    }
    if p.has("description") {
        let d = p.str("description");
        changed |= store.milestones[index].description != d;
        store.milestones[index].description = d;
    }
    if p.has("due_date") {
        let d = p.date("due_date")?;
        changed |= store.milestones[index].due_date != d;
        store.milestones[index].due_date = d;
    }
    if p.has("start_date") {
        let d = p.date("start_date")?;
        changed |= store.milestones[index].start_date != d;
        store.milestones[index].start_date = d;
    }
    if let Some(event) = state_event {
        let active = event == "activate";
        changed |= store.milestones[index].active != active;
        store.milestones[index].active = active;
    }
    if changed {
        store.milestones[index].updated_at = app.now();
    }
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.milestone(&store.milestones[index], app.today())))
}
