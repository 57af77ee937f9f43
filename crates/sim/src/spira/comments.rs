//! Incident comments (reference §4): list oldest first; POST takes and
//! returns an array; author and date may be given.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Shared;
use super::auth::Caller;
use super::incidents::find;
use super::input::{self, parse_json};
use super::state::{ApiError, ApiResult, Db, SimComment};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(
        "/projects/{project_id}/incidents/{incident_id}/comments",
        get(list).post(create),
    )
}

async fn list(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path((project, id)): Path<(u32, u32)>,
) -> ApiResult<Json<Vec<Value>>> {
    let db = s.db();
    db.project_for(caller, project)?;
    find(&db, project, id)?;
    Ok(Json(
        comments_of(&db, id)
            .into_iter()
            .map(|c| db.comment_json(&c))
            .collect(),
    ))
}

/// Oldest first, by CreationDate (which a writer may back-date), then id.
pub(crate) fn comments_of(db: &Db, incident: u32) -> Vec<SimComment> {
    let mut list: Vec<SimComment> = db
        .comments
        .iter()
        .filter(|c| c.incident_id == incident)
        .cloned()
        .collect();
    list.sort_by(|a, b| {
        a.creation_date
            .cmp(&b.creation_date)
            .then(a.comment_id.cmp(&b.comment_id))
    });
    list
}

async fn create(
    State(s): State<Arc<Shared>>,
    Extension(Caller(caller)): Extension<Caller>,
    Path((project, id)): Path<(u32, u32)>,
    body: Bytes,
) -> ApiResult<Json<Vec<Value>>> {
    let sent: Value = parse_json(&body)?;
    let items = sent
        .as_array()
        .ok_or_else(|| ApiError::bad_request("The request body must be a list of RemoteComment"))?;
    let now = s.now();
    let mut db = s.db();
    db.project_for(caller, project)?;
    find(&db, project, id)?;
    let mut parsed = Vec::new();
    for item in items {
        let obj = input::object(item, "RemoteComment")?;
        let text = input::text(&obj, "Text")?.unwrap_or_default();
        if text.trim().is_empty() {
            return Err(ApiError::bad_request("A comment needs a Text"));
        }
        // ArtifactId in the body is ignored: the path says which incident.
        let user = input::id(&obj, "UserId")?.unwrap_or(caller);
        if db.user(user).is_none() {
            return Err(ApiError::bad_request(format!(
                "The user {user} does not exist"
            )));
        }
        parsed.push((text, user, input::date(&obj, "CreationDate")?));
    }
    let mut out = Vec::new();
    for (text, user, when) in parsed {
        let comment = insert(&mut db, id, user, text, when, now);
        out.push(db.comment_json(&comment));
    }
    Ok(Json(out))
}

/// Adds a comment, moving the incident's dates if the simulator is set so.
pub(crate) fn insert(
    db: &mut Db,
    incident: u32,
    user: u32,
    text: String,
    when: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SimComment {
    let stamp = db.stamp(now);
    db.next_comment += 1;
    let comment = SimComment {
        comment_id: db.next_comment,
        incident_id: incident,
        user_id: user,
        text,
        creation_date: when.unwrap_or(stamp),
    };
    db.comments.push(comment.clone());
    if db.comment_bumps_last_update
        && let Some(inc) = db.incidents.get_mut(&incident)
    {
        inc.last_update_date = stamp;
        inc.concurrency_date = stamp;
    }
    comment
}
