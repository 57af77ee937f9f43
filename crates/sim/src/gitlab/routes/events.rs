//! Resource state and label events: where GitLab records state and label
//! changes instead of writing notes.

use axum::extract::{Path, State};
use serde_json::Value;

use super::issues::issue_at;
use crate::gitlab::app::{AppState, Req, project_id};
use crate::gitlab::pagination;
use crate::gitlab::render::{Render, ts};
use crate::gitlab::reply::ApiResult;
use crate::gitlab::state::Store;

/// Finds the issue, renders one kind of its events (`render` gets the store,
/// the issue's global id and a renderer) and pages them.
fn events_page(
    app: &AppState,
    id: &str,
    iid: &str,
    req: &Req,
    render: impl Fn(&Store, u64, &Render) -> Vec<Value>,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, id, &req.caller)?;
    let index = issue_at(&store, project, iid)?;
    let issue_id = store.issues[index].id;
    let renderer = Render {
        store: &store,
        base: app.base(),
    };
    let items = render(&store, issue_id, &renderer);
    Ok(pagination::page(items, &req.params, app.base(), &req.path))
}

pub(crate) async fn state_events(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    events_page(&app, &id, &iid, &req, |store, issue_id, render| {
        store
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
            .collect()
    })
}

pub(crate) async fn label_events(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    events_page(&app, &id, &iid, &req, |store, issue_id, render| {
        store
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
            .collect()
    })
}
