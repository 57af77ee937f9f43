//! What takes an issue out of its project: `DELETE` and `POST .../move`.

use axum::extract::{Path, State};

use super::issues::issue_at;
use crate::gitlab::app::{AppState, Req, project_id, require};
use crate::gitlab::render::Render;
use crate::gitlab::reply::{ApiError, ApiResult, created, no_content};
use crate::gitlab::state::{OWNER, REPORTER};

/// `DELETE /projects/:id/issues/:iid`: owners and administrators only
/// (gitlab-org/gitlab `lib/api/issues.rb`: `authorize!(:destroy_issue)`
/// after `not_found!('Issue')`; `doc/api/issues.md` "Delete an issue").
/// The issue and its notes and events are gone; a `GET` answers 404.
pub(crate) async fn delete(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid).map_err(|_| ApiError::NotFound("Issue"))?;
    require(&store, project, &req.caller, OWNER)?;
    store.destroy_issue(index);
    Ok(no_content())
}

/// `POST /projects/:id/issues/:iid/move` with `to_project_id`
/// (`lib/api/issues.rb`): the new issue, 201. A caller who may not manage
/// issues in both projects, a move to the same project, or an issue moved
/// already is refused with 400 and the service's message
/// (`Issues::MoveService#verify_can_move_issue!`, `Issue#can_move?`).
pub(crate) async fn move_issue(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let target = req
        .params
        .int("to_project_id")?
        .ok_or_else(|| ApiError::Param("to_project_id is missing".into()))?;
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    if store.project(target).is_none() {
        return Err(ApiError::NotFound("Project"));
    }
    let user = req.caller.user_id;
    let may_manage = |p| store.access_level(p, user) >= REPORTER;
    if !may_manage(project) || !may_manage(target) || store.issues[index].moved_to_id.is_some() {
        return Err(ApiError::Refused(
            "Cannot move issue due to insufficient permissions!".into(),
        ));
    }
    if target == project {
        return Err(ApiError::Refused(
            "Cannot move issue to project it originates from!".into(),
        ));
    }
    let moved = store.move_issue(index, target, user, app.now());
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(created(render.issue(
        &store.issues[moved],
        app.today(),
        true,
    )))
}
