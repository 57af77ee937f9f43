//! Resource state and label events: where GitLab records state and label
//! changes instead of writing notes.

use axum::extract::{Path, State};
use serde_json::Value;

use super::issues::issue_at;
use crate::sim::gitlab::app::{AppState, Req, project_id};
use crate::sim::gitlab::pagination;
use crate::sim::gitlab::render::{Render, ts};
use crate::sim::gitlab::reply::ApiResult;

pub async fn state_events(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    let issue_id = store.issues[index].id;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let items: Vec<Value> = store
        .state_events
        .iter()
        .filter(|e| e.issue_id == issue_id)
        .map(|e| {
            serde_json::json!({
                "id": e.id,
                "user": store.user(e.user_id).map(|u| render.user_basic(u)),
                "created_at": ts(e.created_at),
                "resource_type": "Issue",
                "resource_id": issue_id,
                "state": e.state,
                "source_commit": null,
                "source_merge_request_id": null,
            })
        })
        .collect();
    Ok(pagination::page(items, &req.params, app.base(), &req.path))
}

pub async fn label_events(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    let issue_id = store.issues[index].id;
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let items: Vec<Value> = store
        .label_events
        .iter()
        .filter(|e| e.issue_id == issue_id)
        .map(|e| {
            serde_json::json!({
                "id": e.id,
                "user": store.user(e.user_id).map(|u| render.user_basic(u)),
                "created_at": ts(e.created_at),
                "resource_type": "Issue",
                "resource_id": issue_id,
                "label": store.labels.iter().find(|l| l.id == e.label_id)
                    .map(|l| render.label_small(l)),
                "action": e.action,
            })
        })
        .collect();
    Ok(pagination::page(items, &req.params, app.base(), &req.path))
}
