//! `/projects/:id/issues/:iid/notes`: list, get, create, edit, delete.
//!
//! Internal notes are readable from Reporter up (`app/policies/note_policy.rb`,
//! `can_read_internal_note`); the list drops the others after paging
//! (`lib/api/notes.rb`), so a page may be short or empty mid-list.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::json;

use super::issue_write::cross_reference;
use crate::gitlab::app::{AppState, Req, project_id, require};
use crate::gitlab::pagination;
use crate::gitlab::render::Render;
use crate::gitlab::reply::{ApiError, ApiResult, created, json_response, no_content, ok};
use crate::gitlab::state::{GUEST, MAINTAINER, NOTE_MAX_CHARS, Note, REPORTER, Store};

fn issue_at(store: &Store, project: u64, iid: &str) -> Result<usize, ApiError> {
    let iid: u64 = iid
        .parse()
        .map_err(|_| ApiError::Param("noteable_id is invalid".into()))?;
    store
        .issue_index(project, iid)
        .ok_or(ApiError::NotFound("Issue"))
}

pub(crate) async fn list(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let p = &req.params;
    let order_by = p
        .one_of("order_by", &["created_at", "updated_at"])?
        .unwrap_or_else(|| "created_at".into());
    // Unlike issues, notes default to newest first.
    let desc = p.one_of("sort", &["asc", "desc"])?.as_deref() != Some("asc");
    let filter = p
        .one_of(
            "activity_filter",
            &["all_notes", "only_comments", "only_activity"],
        )?
        .unwrap_or_else(|| "all_notes".into());
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    let issue_id = store.issues[index].id;
    let mut notes: Vec<_> = store
        .notes
        .iter()
        .filter(|n| n.issue_id == issue_id)
        .filter(|n| match filter.as_str() {
            "only_comments" => !n.system,
            "only_activity" => n.system,
            _ => true,
        })
        .collect();
    notes.sort_by(|a, b| {
        let by = if order_by == "updated_at" {
            a.updated_at.cmp(&b.updated_at)
        } else {
            a.created_at.cmp(&b.created_at)
        }
        .then(a.id.cmp(&b.id));
        if desc { by.reverse() } else { by }
    });
    let render = Render {
        store: &store,
        base: app.base(),
    };
    // Readability is checked per note after paging, as GitLab does.
    let reads_internal = store.access_level(project, req.caller.user_id) >= REPORTER;
    let readable = |n: &Note| !n.internal || reads_internal;
    Ok(pagination::page_then_filter(
        notes,
        |n| readable(n).then(|| render.note(n)),
        p,
        app.base(),
        &req.path,
    ))
}

fn note_at(store: &Store, issue_index: usize, note_id: &str) -> Result<usize, ApiError> {
    let issue_id = store.issues[issue_index].id;
    let note_id: u64 = note_id
        .parse()
        .map_err(|_| ApiError::Param("note_id is invalid".into()))?;
    store
        .notes
        .iter()
        .position(|n| n.id == note_id && n.issue_id == issue_id)
        .ok_or(ApiError::NotFound("Note"))
}

pub(crate) async fn get(
    State(app): State<AppState>,
    Path((id, iid, note_id)): Path<(String, String, String)>,
    req: Req,
) -> ApiResult {
    let store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    let n = note_at(&store, index, &note_id)?;
    // `get_note` (lib/api/helpers/notes_helpers.rb): a note the caller may
    // not read is not found.
    if store.notes[n].internal && store.access_level(project, req.caller.user_id) < REPORTER {
        return Err(ApiError::NotFound("Note"));
    }
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.note(&store.notes[n])))
}

fn check_body(body: &str) -> Result<(), ApiError> {
    if body.chars().count() > NOTE_MAX_CHARS {
        return Err(ApiError::BadRequest(format!(
            "Note {{:note=>[\"is too long (maximum is {NOTE_MAX_CHARS} characters)\"]}}"
        )));
    }
    Ok(())
}

/// A body made only of `/close` or `/reopen` quick actions.
fn quick_action(body: &str) -> Option<&'static str> {
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        ["/close"] => Some("close"),
        ["/reopen"] => Some("reopen"),
        _ => None,
    }
}

pub(crate) async fn create(
    State(app): State<AppState>,
    Path((id, iid)): Path<(String, String)>,
    req: Req,
) -> ApiResult {
    let body = req.params.required("body")?;
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    require(&store, project, &req.caller, GUEST)?;
    check_body(&body)?;
    let now = app.now();
    let user = req.caller.user_id;
    if let Some(action) = quick_action(&body) {
        // Only commands: GitLab applies them and answers 202 without a note.
        let open = action == "reopen";
        store.set_state(index, open, user, now);
        let summary = if open {
            "Reopened this issue."
        } else {
            "Closed this issue."
        };
        return Ok(json_response(
            StatusCode::ACCEPTED,
            &json!({"commands_changes": {"state_event": action}, "summary": [summary]}),
        ));
    }
    let note_id = store.add_note(index, user, &body, false, now);
    if let Some(n) = store.notes.last_mut() {
        n.internal = req.params.bool("internal")?.unwrap_or(false);
    }
    cross_reference(&mut store, index, &body, "", user, now);
    let render = Render {
        store: &store,
        base: app.base(),
    };
    let note = store
        .notes
        .iter()
        .find(|n| n.id == note_id)
        .ok_or(ApiError::NotFound("Note"))?;
    Ok(created(render.note(note)))
}

pub(crate) async fn edit(
    State(app): State<AppState>,
    Path((id, iid, note_id)): Path<(String, String, String)>,
    req: Req,
) -> ApiResult {
    let body = req.params.required("body")?;
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    let n = note_at(&store, index, &note_id)?;
    // Only the author edits a comment; system notes are nobody's to edit.
    if store.notes[n].system || store.notes[n].author_id != req.caller.user_id {
        return Err(ApiError::Forbidden);
    }
    check_body(&body)?;
    let now = app.now();
    if store.notes[n].body != body {
        store.notes[n].body = body;
        store.notes[n].updated_at = now;
        store.touch(index, now);
    }
    let render = Render {
        store: &store,
        base: app.base(),
    };
    Ok(ok(render.note(&store.notes[n])))
}

/// `DELETE …/notes/:note_id` (doc/api/notes.md, `delete_note` in
/// lib/api/helpers/notes_helpers.rb): 204 for the note's author or a
/// Maintainer (`admin_note`, app/policies/note_policy.rb); never for a
/// system note (not `editable`), nor an internal one below Reporter. The
/// issue is not touched, and its `user_notes_count` drops.
pub(crate) async fn delete(
    State(app): State<AppState>,
    Path((id, iid, note_id)): Path<(String, String, String)>,
    req: Req,
) -> ApiResult {
    let mut store = app.lock();
    let project = project_id(&store, &id, &req.caller)?;
    let index = issue_at(&store, project, &iid)?;
    let n = note_at(&store, index, &note_id)?;
    let level = store.access_level(project, req.caller.user_id);
    let note = &store.notes[n];
    let admin = note.author_id == req.caller.user_id || level >= MAINTAINER;
    if note.system || (note.internal && level < REPORTER) || !admin {
        return Err(ApiError::Forbidden);
    }
    store.notes.remove(n);
    Ok(no_content())
}
