//! Users, the token's self-inspection, projects, members and hooks.

use axum::extract::{Path, State};
use serde_json::Value;

use crate::gitlab::app::{AppState, Req, project_id, require};
use crate::gitlab::pagination;
use crate::gitlab::render::Render;
use crate::gitlab::reply::{ApiError, ApiResult, created, no_content, ok};
use crate::gitlab::state::{Hook, MAINTAINER};

pub(crate) async fn current_user(State(app): State<AppState>, req: Req) -> ApiResult {
    let store = app.lock();
    let user = store
        .user(req.caller.user_id)
        .ok_or(ApiError::Unauthorized)?;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.user_full(user)))
}

pub(crate) async fn list_users(State(app): State<AppState>, req: Req) -> ApiResult {
    let store = app.lock();
    let username = req.params.str("username");
    let search = req.params.str("search").map(|s| s.to_lowercase());
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let items: Vec<Value> = store
        .users
        .iter()
        .filter(|u| {
            username
                .as_deref()
                .is_none_or(|n| u.username.eq_ignore_ascii_case(n))
        })
        .filter(|u| {
            search.as_deref().is_none_or(|s| {
                u.username.to_lowercase().contains(s) || u.name.to_lowercase().contains(s)
                    // Only an exact (public) email matches.
                    || u.email.eq_ignore_ascii_case(s)
            })
        })
        .map(|u| render.user_basic(u))
        .collect();
    Ok(pagination::page(items, &req.params, app.base(), &req.path))
}

pub(crate) async fn get_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let _ = req;
    let store = app.lock();
    let user = id
        .parse::<u64>()
        .ok()
        .and_then(|id| store.user(id))
        .ok_or(ApiError::NotFound("User"))?;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.user_basic(user)))
}

pub(crate) async fn token_self(State(app): State<AppState>, req: Req) -> ApiResult {
    let store = app.lock();
    let token = store
        .tokens
        .iter()
        .find(|t| t.id == req.caller.token_id)
        .ok_or(ApiError::Unauthorized)?;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.token(token, app.today())))
}

pub(crate) async fn project(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let p = store
        .project(project)
        .ok_or(ApiError::NotFound("Project"))?;
    Ok(ok(render.project(p, req.caller.user_id)))
}

pub(crate) async fn members(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let p = store
        .project(project)
        .ok_or(ApiError::NotFound("Project"))?;
    let query = req.params.str("query").map(|q| q.to_lowercase());
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let mut members: Vec<(u64, u32)> = p.members.iter().map(|(u, l)| (*u, *l)).collect();
    members.sort();
    let items: Vec<Value> = members
        .into_iter()
        .filter_map(|(uid, level)| store.user(uid).map(|u| (u, level)))
        .filter(|(u, _)| {
            query.as_deref().is_none_or(|q| {
                u.username.to_lowercase().contains(q) || u.name.to_lowercase().contains(q)
            })
        })
        .map(|(u, level)| render.member(u, level, p.created_at))
        .collect();
    Ok(pagination::page(items, &req.params, app.base(), &req.path))
}

pub(crate) async fn member(
    State(app): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let p = store
        .project(project)
        .ok_or(ApiError::NotFound("Project"))?;
    let found = user_id
        .parse::<u64>()
        .ok()
        .and_then(|uid| p.members.get(&uid).map(|l| (uid, *l)))
        .and_then(|(uid, level)| store.user(uid).map(|u| (u, level)))
        .ok_or(ApiError::NotFound("Member"))?;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.member(found.0, found.1, p.created_at)))
}

pub(crate) async fn list_hooks(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    require(&store, project, &req.caller, MAINTAINER)?;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let items: Vec<Value> = store
        .hooks
        .iter()
        .filter(|h| h.project_id == project)
        .map(|h| render.hook(h))
        .collect();
    Ok(pagination::page(items, &req.params, app.base(), &req.path))
}

pub(crate) async fn create_hook(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: Req,
) -> ApiResult {
    let p = &req.params;
    let url = p.required("url")?;
    if url::Url::parse(&url).is_err() {
        return Err(ApiError::Validation(
            "url",
            "is blocked: Only allowed schemes are http, https".into(),
        ));
    }
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    require(&store, project, &req.caller, MAINTAINER)?;
    let hook_id = store.next_id();
    let hook = Hook {
        id: hook_id,
        project_id: project,
        url,
        issues_events: p.bool("issues_events")?.unwrap_or(false),
        note_events: p.bool("note_events")?.unwrap_or(false),
        confidential_issues_events: p.bool("confidential_issues_events")?.unwrap_or(false),
        confidential_note_events: p.bool("confidential_note_events")?.unwrap_or(false),
        enable_ssl_verification: p.bool("enable_ssl_verification")?.unwrap_or(true),
        created_at: app.now(),
    };
    store.hooks.push(hook.clone());
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(created(render.hook(&hook)))
}

pub(crate) async fn delete_hook(
    State(app): State<AppState>,
    Path((id, hook_id)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    require(&store, project, &req.caller, MAINTAINER)?;
    let hook_id: u64 = hook_id
        .parse()
        .map_err(|_| ApiError::Param("hook_id is invalid".into()))?;
    let before = store.hooks.len();
    store
        .hooks
        .retain(|h| !(h.project_id == project && h.id == hook_id));
    if store.hooks.len() == before {
        return Err(ApiError::NotFound("Hook"));
    }
    Ok(no_content())
}
