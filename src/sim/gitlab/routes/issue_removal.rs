//! What takes an issue out of its project: `DELETE` and `POST .../move`.

use axum::extract::{Path, State};

use super::issues::issue_at;
use crate::sim::gitlab::app::{AppState, Req, project_id, require};
use crate::sim::gitlab::reply::{ApiError, ApiResult, no_content};
use crate::sim::gitlab::state::OWNER;

/// `DELETE /projects/:id/issues/:iid`: owners and administrators only
/// (gitlab-org/gitlab `lib/api/issues.rb`: `authorize!(:destroy_issue)`
/// after `not_found!('Issue')`; `doc/api/issues.md` "Delete an issue").
/// The issue and its notes and events are gone; a `GET` answers 404.
pub async fn delete(
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
