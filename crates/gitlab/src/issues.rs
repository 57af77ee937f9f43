//! Issues and their notes: what the sync engine reads and writes most.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt, TryStreamExt, stream};
use reqwest::{Method, StatusCode};

use super::answers::{decode, next_page};
use super::client::{GitLabClient, PER_PAGE, Query, iso, q, short};
use super::error::GitLabError;
use super::requests::*;
use super::types::*;
use labsync_http::Idempotency;
use labsync_model::inflight::InFlight;

/// Where an incremental issue listing stands.
struct Cursor {
    since: Option<DateTime<Utc>>,
    /// Walking a group of issues that share `since` as their `updated_at`
    /// and fill more than a page.
    group: Option<Group>,
    /// Page number under the same bounds.
    page: u64,
    done: bool,
    /// Ids already yielded in this run.
    seen: HashSet<u64>,
}

/// A group of one `updated_at` is walked by creation time, restarting from
/// the last `created_at` seen: page numbers deep into a large group would
/// pass the instance's maximum offset (405, `lib/api/helpers/
/// pagination_strategies.rb`), and would shift as the engine's own writes
/// move issues out of the group.
struct Group {
    created_from: Option<DateTime<Utc>>,
}

impl Cursor {
    fn advance(&mut self, items: &[Issue], more: bool) {
        match (items.last(), more, self.group.as_mut()) {
            (Some(last), true, None) => {
                if self.since.is_none_or(|s| last.updated_at > s) {
                    self.since = Some(last.updated_at);
                } else {
                    // A full page of one timestamp: walk the group.
                    self.group = Some(Group { created_from: None });
                }
                self.page = 1;
            }
            (Some(last), true, Some(group)) => {
                if group.created_from.is_none_or(|c| last.created_at > c) {
                    group.created_from = Some(last.created_at);
                    self.page = 1;
                } else {
                    // A full page created at one instant too: only paging is left.
                    self.page += 1;
                }
            }
            (_, _, Some(_)) => {
                // The group is read; go on after its timestamp (the API
                // shows milliseconds, the database keeps microseconds).
                self.group = None;
                self.since = self.since.map(|s| s + chrono::Duration::milliseconds(1));
                self.page = 1;
            }
            _ => self.done = true,
        }
    }

    /// The query for the page the cursor stands at.
    fn query(&self) -> Query {
        let order_by = if self.group.is_some() {
            "created_at"
        } else {
            "updated_at"
        };
        let mut query = q(&[
            ("order_by", order_by),
            ("sort", "asc"),
            ("state", "all"),
            ("page", &self.page.to_string()),
            ("per_page", &PER_PAGE.to_string()),
        ]);
        if let Some(t) = self.since {
            query.push(("updated_after".into(), iso(t)));
        }
        if let (Some(group), Some(t)) = (&self.group, self.since) {
            let last_micro = t + chrono::Duration::microseconds(999);
            let upto = last_micro.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            query.push(("updated_before".into(), upto));
            if let Some(c) = group.created_from {
                query.push(("created_after".into(), iso(c)));
            }
        }
        query
    }
}

impl GitLabClient {
    /// Issues updated at or after `since` (all of them when `None`), oldest
    /// update first, every state, fetched a page at a time as the consumer
    /// pulls.
    ///
    /// Offset pages are unsafe here: an issue updated while the listing runs
    /// jumps to the end and shifts every later issue one place left, so one
    /// would be skipped, and the watermark would then pass it for good. So
    /// each next page restarts from the last `updated_at` seen (the bound is
    /// inclusive) and issues already yielded are dropped by id. A whole page
    /// sharing one timestamp is walked the same way by `created_at` (see
    /// [`Group`]); only a page created at one instant too steps to the next
    /// page number.
    pub fn list_issues_updated_since(
        &self,
        project: &ProjectRef,
        since: Option<DateTime<Utc>>,
    ) -> impl Stream<Item = Result<Issue, GitLabError>> + '_ {
        self.list_issues_updated_since_settling(project, since, InFlight::default())
    }

    /// The same, for a consumer that syncs several issues at once: before
    /// it reads on into a group of one timestamp, it waits until none of
    /// `in_flight` is left, since a write to one of them would shift the page.
    pub fn list_issues_updated_since_settling<'a>(
        &'a self,
        project: &ProjectRef,
        since: Option<DateTime<Utc>>,
        in_flight: InFlight,
    ) -> impl Stream<Item = Result<Issue, GitLabError>> + use<'a> {
        let path = format!("/projects/{}/issues", project.segment());
        let name = format!("issues of {project}");
        let start = Cursor {
            since,
            group: None,
            page: 1,
            done: false,
            seen: HashSet::new(),
        };
        stream::unfold(start, move |mut cursor| {
            let (path, name, in_flight) = (path.clone(), name.clone(), in_flight.clone());
            async move {
                if cursor.done {
                    return None;
                }
                // Pages of one timestamp group are read back to back, before
                // the consumer syncs (and so moves) any of them: a write in
                // between would shift the next page and skip issues.
                let mut items = Vec::new();
                // Pages of a group can be read back to back only while no
                // item is being synced: once the group shows, wait for the
                // consumer's items in flight, then read it from its start.
                let mut quiet = in_flight.current() == 0;
                loop {
                    if cursor.page > 1 && !quiet {
                        in_flight.settled().await;
                        quiet = true;
                        cursor.page = 1;
                    }
                    match self.issue_page(&path, &name, &mut cursor).await {
                        Ok(page) => items.extend(page.into_iter().map(Ok)),
                        Err(e) => {
                            cursor.done = true;
                            items.push(Err(e));
                        }
                    }
                    if cursor.done || cursor.page == 1 {
                        break;
                    }
                }
                Some((items, cursor))
            }
        })
        .flat_map(stream::iter)
    }

    /// One page of the listing at the cursor; moves the cursor on and
    /// returns the issues not yielded before.
    async fn issue_page(
        &self,
        path: &str,
        name: &str,
        cursor: &mut Cursor,
    ) -> Result<Vec<Issue>, GitLabError> {
        let query = cursor.query();
        let what = match cursor.since {
            Some(t) => format!("{name} updated since {}", iso(t)),
            None => name.to_string(),
        };
        let answer = self
            .call(&what, Method::GET, path, &query, None, Idempotency::Safe)
            .await?;
        let more = next_page(&answer.headers, cursor.page).is_some();
        let items = decode::<Vec<Issue>>(&what, &answer)?;
        cursor.advance(&items, more);
        Ok(items
            .into_iter()
            .filter(|i| cursor.seen.insert(i.id))
            .collect())
    }

    pub async fn get_issue(&self, project: &ProjectRef, iid: u64) -> Result<Issue, GitLabError> {
        let what = format!("issue #{iid} of {project}");
        self.get(
            &what,
            &format!("/projects/{}/issues/{iid}", project.segment()),
            &Vec::new(),
        )
        .await
    }

    pub async fn create_issue(
        &self,
        project: &ProjectRef,
        issue: &NewIssue,
    ) -> Result<Issue, GitLabError> {
        let what = format!("new issue '{}' in {project}", short(&issue.title));
        self.post(
            &what,
            &format!("/projects/{}/issues", project.segment()),
            issue,
        )
        .await
    }

    pub async fn edit_issue(
        &self,
        project: &ProjectRef,
        iid: u64,
        edit: &IssueEdit,
    ) -> Result<Issue, GitLabError> {
        let what = format!("issue #{iid} of {project}");
        if edit.is_empty() {
            // GitLab would answer 400; nothing to change is not an error.
            return self.get_issue(project, iid).await;
        }
        self.put(
            &what,
            &format!("/projects/{}/issues/{iid}", project.segment()),
            edit,
        )
        .await
    }

    /// Issues the token's own user created at or after `since`, oldest
    /// first, every state: where a create whose answer was lost is found.
    /// Never `search`: GitLab's full-text search does not index text in
    /// HTML comments, where labsync keeps its marker.
    pub async fn own_issues_created_since(
        &self,
        project: &ProjectRef,
        since: DateTime<Utc>,
    ) -> Result<Vec<Issue>, GitLabError> {
        let query = q(&[
            ("scope", "created_by_me"),
            ("created_after", &iso(since)),
            ("state", "all"),
            ("order_by", "created_at"),
            ("sort", "asc"),
        ]);
        self.paged::<Issue>(
            format!("issues of {project} created since {}", iso(since)),
            format!("/projects/{}/issues", project.segment()),
            query,
        )
        .try_collect()
        .await
    }

    // ---- notes ----

    /// Notes of an issue, oldest first, system notes included (see
    /// [`Note::is_user_note`]).
    pub fn list_notes(
        &self,
        project: &ProjectRef,
        iid: u64,
    ) -> impl Stream<Item = Result<Note, GitLabError>> + '_ {
        self.paged(
            format!("notes of issue #{iid} of {project}"),
            format!("/projects/{}/issues/{iid}/notes", project.segment()),
            q(&[("sort", "asc"), ("order_by", "created_at")]),
        )
    }

    pub async fn create_note(
        &self,
        project: &ProjectRef,
        iid: u64,
        body: &str,
    ) -> Result<Note, GitLabError> {
        let what = format!("new comment on issue #{iid} of {project}");
        let path = format!("/projects/{}/issues/{iid}/notes", project.segment());
        let bytes = Self::encode_body(&what, &serde_json::json!({ "body": body }))?;
        let response = self
            .call(
                &what,
                Method::POST,
                &path,
                &Vec::new(),
                Some(bytes),
                Idempotency::Unsafe,
            )
            .await?;
        if response.status == StatusCode::ACCEPTED {
            // A body of quick actions only: GitLab ran them and made no note.
            return Err(GitLabError::Validation {
                what,
                message: "the comment held only quick actions; GitLab ran them and created no note"
                    .into(),
            });
        }
        decode(&what, &response)
    }

    pub async fn edit_note(
        &self,
        project: &ProjectRef,
        iid: u64,
        note_id: u64,
        body: &str,
    ) -> Result<Note, GitLabError> {
        let what = format!("comment {note_id} on issue #{iid} of {project}");
        let path = format!(
            "/projects/{}/issues/{iid}/notes/{note_id}",
            project.segment()
        );
        self.put(&what, &path, &serde_json::json!({ "body": body }))
            .await
    }
}
