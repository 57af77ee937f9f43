//! The API's routes, one module per resource.

pub(crate) mod events;
pub(crate) mod issue_removal;
pub(crate) mod issue_write;
pub(crate) mod issues;
pub(crate) mod labels;
pub(crate) mod notes;
pub(crate) mod people;
pub(crate) mod quick_updates;

use axum::Router;
use axum::routing::get;

use super::app::AppState;

/// Every `/api/v4` route, without middleware.
pub(crate) fn api() -> Router<AppState> {
    let p = "/api/v4/projects/{id}";
    Router::new()
        .route("/api/v4/user", get(people::current_user))
        .route("/api/v4/users", get(people::list_users))
        .route("/api/v4/users/{user_id}", get(people::get_user))
        .route(
            "/api/v4/personal_access_tokens/self",
            get(people::token_self),
        )
        .route(p, get(people::project))
        .route(&format!("{p}/members"), get(people::members))
        .route(&format!("{p}/members/all"), get(people::members))
        .route(&format!("{p}/members/{{user_id}}"), get(people::member))
        .route(&format!("{p}/members/all/{{user_id}}"), get(people::member))
        .route(
            &format!("{p}/hooks"),
            get(people::list_hooks).post(people::create_hook),
        )
        .route(
            &format!("{p}/hooks/{{hook_id}}"),
            axum::routing::delete(people::delete_hook),
        )
        .route(
            &format!("{p}/issues"),
            get(issues::list).post(issue_write::create),
        )
        .route(
            &format!("{p}/issues/{{iid}}"),
            get(issues::get)
                .put(issue_write::edit)
                .delete(issue_removal::delete),
        )
        .route(
            &format!("{p}/issues/{{iid}}/move"),
            axum::routing::post(issue_removal::move_issue),
        )
        .route(
            &format!("{p}/issues/{{iid}}/resource_state_events"),
            get(events::state_events),
        )
        .route(
            &format!("{p}/issues/{{iid}}/resource_label_events"),
            get(events::label_events),
        )
        .route(
            &format!("{p}/issues/{{iid}}/notes"),
            get(notes::list).post(notes::create),
        )
        .route(
            &format!("{p}/issues/{{iid}}/notes/{{note_id}}"),
            get(notes::get).put(notes::edit).delete(notes::delete),
        )
        .route(
            &format!("{p}/labels"),
            get(labels::list_labels).post(labels::create_label),
        )
        .route(&format!("{p}/labels/{{label_id}}"), get(labels::get_label))
        .route(
            &format!("{p}/milestones"),
            get(labels::list_milestones).post(labels::create_milestone),
        )
        .route(
            &format!("{p}/milestones/{{milestone_id}}"),
            get(labels::get_milestone).put(labels::edit_milestone),
        )
}
