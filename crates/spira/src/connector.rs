//! Spira as the engine's [`TestManagement`]: incidents become [`TmItem`]s,
//! and what only Spira knows stays here: the link back kept in the
//! incident's "GitLab Issue" and "GitLab URL" text properties, the
//! `ConcurrencyDate` a save must carry (the incident as read rides along in
//! [`TmItem::carried`], so a write never reads it again), the incident type
//! a new incident gets, and the web interface's URLs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt, TryStreamExt};

use labsync_http::HttpError;
use labsync_model::inflight::InFlight;

use crate::{
    Comment, CustomPropertyDefinition, Incident, Lookups, Release, SpiraClient, SpiraError, User,
};
use labsync_engine::connector::{
    Call, Carried, Choice, ConnectorError, Down, ErrorKind, Listing, TestManagement, TmComment,
    TmEdit, TmItem, TmRelease, TmSetup, TmUser,
};

/// Names of the incident text properties that hold the GitLab side's identity.
pub const ISSUE_PROPERTY: &str = "GitLab Issue";
pub const URL_PROPERTY: &str = "GitLab URL";

/// What a write to a project's incidents needs, read with its setup.
#[derive(Clone, Debug)]
struct ProjectDefs {
    /// Definitions of the "GitLab Issue" and "GitLab URL" properties (a
    /// write of their values carries them).
    issue_property: CustomPropertyDefinition,
    url_property: Option<CustomPropertyDefinition>,
    default_type: Option<u32>,
}

/// The ReleaseTypeId and ReleaseStatusId of the releases labsync creates
/// for milestones (configured per plugin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewReleases {
    pub type_id: u32,
    pub status_id: u32,
}

impl Default for NewReleases {
    /// An Iteration (3), Planned (1): the configuration's defaults
    /// (`release_type`, `release_status`).
    fn default() -> Self {
        NewReleases {
            type_id: 3,
            status_id: 1,
        }
    }
}

pub struct SpiraConnector {
    client: SpiraClient,
    /// The server's address, for the web interface's URLs.
    base_url: String,
    /// What a release created for a milestone is (Spira refuses one
    /// without both; reference §13 row 1).
    release_type_id: u32,
    release_status_id: u32,
    projects: Mutex<HashMap<u32, Arc<ProjectDefs>>>,
}

impl SpiraConnector {
    /// `base_url`: the server's address, as configured. `releases`: what a
    /// release created for a milestone is.
    pub fn new(client: SpiraClient, base_url: &str, releases: NewReleases) -> Self {
        SpiraConnector {
            client,
            base_url: base_url.to_string(),
            release_type_id: releases.type_id,
            release_status_id: releases.status_id,
            projects: Mutex::default(),
        }
    }

    pub fn client(&self) -> &SpiraClient {
        &self.client
    }

    fn defs(&self, project: u32) -> Option<Arc<ProjectDefs>> {
        self.projects
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&project)
            .cloned()
    }

    /// The project's definitions, which every write of a link back needs.
    fn write_defs(&self, project: u32) -> Result<Arc<ProjectDefs>, ConnectorError> {
        self.defs(project).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!("Spira project PR:{project}: written before its setup was read"),
            )
        })
    }

    fn item(&self, project: u32, incident: Incident) -> TmItem {
        let marker = self
            .defs(project)
            .and_then(|d| marker_of(&incident, &d).map(String::from));
        TmItem {
            id: incident.incident_id.map(i64::from),
            title: incident.name.clone().unwrap_or_default(),
            description: incident.description.clone().unwrap_or_default(),
            status: incident.incident_status_id.map(i64::from),
            priority: incident.priority_id.map(i64::from),
            owner: incident.owner_id.map(i64::from),
            release: incident.resolved_release_id.map(i64::from),
            updated_at: incident.last_update_date,
            marker,
            carried: Carried::new(incident),
        }
    }
}

fn marker_of<'i>(incident: &'i Incident, defs: &ProjectDefs) -> Option<&'i str> {
    incident.custom_text(defs.issue_property.property_number)
}

/// The kind of a Spira failure, for the engine.
fn kind(e: &SpiraError) -> ErrorKind {
    match e {
        SpiraError::Unauthorized { .. } | SpiraError::Config(_) => ErrorKind::Fatal,
        SpiraError::NotFound { .. } => ErrorKind::NotFound,
        SpiraError::Concurrency { .. } => ErrorKind::Busy,
        SpiraError::Http(h) => match down_of(h) {
            Some(down) => ErrorKind::Down(down),
            None => ErrorKind::Item,
        },
        SpiraError::Validation { .. } | SpiraError::Server { .. } | SpiraError::Decode { .. } => {
            ErrorKind::Item
        }
    }
}

fn error(e: SpiraError) -> ConnectorError {
    ConnectorError::new(kind(&e), e.to_string())
}

impl From<SpiraError> for ConnectorError {
    fn from(e: SpiraError) -> Self {
        error(e)
    }
}

/// A Spira id from the engine's.
fn spira_id(id: i64, what: &str) -> Result<u32, ConnectorError> {
    u32::try_from(id)
        .map_err(|_| ConnectorError::new(ErrorKind::Item, format!("{id} is not a Spira {what} id")))
}

fn to_u32(v: Option<i64>) -> Option<u32> {
    v.and_then(|x| u32::try_from(x).ok())
}

/// Copies `edit` onto an incident (for updates and creates).
fn apply(incident: &mut Incident, edit: &TmEdit, defs: &ProjectDefs) {
    if let Some(title) = &edit.title {
        incident.name = Some(title.clone());
    }
    if let Some(html) = &edit.description {
        incident.description = Some(html.clone());
    }
    if let Some(s) = to_u32(edit.status) {
        incident.incident_status_id = Some(s);
    }
    if let Some(p) = edit.priority {
        incident.priority_id = to_u32(p);
    }
    if let Some(o) = edit.owner {
        incident.owner_id = to_u32(o);
    }
    if let Some(r) = edit.release {
        incident.resolved_release_id = to_u32(r);
    }
    if let Some(link) = &edit.link {
        incident.set_custom_text(&defs.issue_property, Some(link.marker.clone()));
        if let (Some(p), Some(url)) = (&defs.url_property, &link.url) {
            incident.set_custom_text(p, Some(url.clone()));
        }
    }
}

fn comment(c: Comment) -> TmComment {
    TmComment {
        id: c.comment_id.map(i64::from),
        html: c.text,
        author_id: c.user_id.map(i64::from),
        author_name: c.user_name,
        created_at: c.creation_date,
        deleted: c.is_deleted,
    }
}

fn user(u: &User) -> TmUser {
    TmUser {
        id: i64::from(u.user_id),
        login: u.user_name.clone(),
        email: u.email_address.clone(),
        full_name: u.full_name.clone(),
    }
}

fn release(r: &Release) -> Option<TmRelease> {
    Some(TmRelease {
        id: i64::from(r.release_id?),
        name: r.name.clone(),
        version: r.version_number.clone(),
    })
}

/// What a project offers, from what the client read.
pub fn setup_of(lookups: &Lookups, users: &[User], releases: &[Release]) -> TmSetup {
    let choice = |id: u32, name: &str| Choice {
        id: i64::from(id),
        name: name.to_string(),
    };
    TmSetup {
        statuses: lookups
            .statuses
            .iter()
            .map(|s| choice(s.incident_status_id, &s.name))
            .collect(),
        priorities: lookups
            .priorities
            .iter()
            .map(|p| choice(p.priority_id, &p.name))
            .collect(),
        users: users.iter().map(user).collect(),
        releases: releases.iter().filter_map(release).collect(),
    }
}

impl TestManagement for SpiraConnector {
    fn name(&self) -> &'static str {
        "Spira"
    }

    fn setup(&self, project: i64) -> Call<'_, TmSetup> {
        async move {
            let sp = u32::try_from(project).map_err(|_| {
                ConnectorError::new(
                    ErrorKind::Fatal,
                    format!("project mapping: '{project}' is not a Spira project id"),
                )
            })?;
            // Independent reads, made together: the setup costs the
            // latency of the longest chain (the project, then its template).
            let (lookups, users, releases) = tokio::try_join!(
                self.client.load_lookups(sp),
                self.client.project_users(sp),
                self.client.releases(sp),
            )
            .map_err(error)?;
            let issue_property = lookups.property(ISSUE_PROPERTY).ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::Fatal,
                    format!(
                        "Spira project {sp}: its template has no incident text property named '{ISSUE_PROPERTY}'; \
                         add one (Text) so labsync can mark the incidents it links"
                    ),
                )
            })?;
            let defs = ProjectDefs {
                issue_property,
                url_property: lookups.property(URL_PROPERTY),
                default_type: lookups.default_type().map(|t| t.incident_type_id),
            };
            self.projects
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(sp, Arc::new(defs));
            Ok(setup_of(&lookups, &users, &releases))
        }
        .boxed()
    }

    fn changed_since(
        &self,
        project: i64,
        since: DateTime<Utc>,
        in_flight: InFlight,
    ) -> Listing<'_, TmItem> {
        let Ok(sp) = u32::try_from(project) else {
            let e = ConnectorError::new(
                ErrorKind::Fatal,
                format!("{project} is not a Spira project id"),
            );
            return futures_util::stream::once(async { Err(e) }).boxed();
        };
        self.client
            .incidents_changed_since_settling(sp, since, in_flight)
            .map_ok(move |incident| self.item(sp, incident))
            .map_err(error)
            .boxed()
    }

    fn get(&self, project: i64, id: i64) -> Call<'_, TmItem> {
        async move {
            let (sp, id) = (spira_id(project, "project")?, spira_id(id, "incident")?);
            let incident = self.client.get_incident(sp, id).await.map_err(error)?;
            Ok(self.item(sp, incident))
        }
        .boxed()
    }

    fn create<'a>(&'a self, project: i64, new: &'a TmEdit) -> Call<'a, TmItem> {
        async move {
            let sp = spira_id(project, "project")?;
            let defs = self.write_defs(sp)?;
            let mut incident = Incident {
                project_id: Some(sp),
                ..Incident::default()
            };
            apply(&mut incident, new, &defs);
            incident.incident_type_id = defs.default_type;
            let created = self
                .client
                .create_incident(sp, &incident)
                .await
                .map_err(error)?;
            Ok(self.item(sp, created))
        }
        .boxed()
    }

    fn update<'a>(
        &'a self,
        project: i64,
        id: i64,
        from: Option<TmItem>,
        edit: &'a TmEdit,
        read_back: bool,
    ) -> Call<'a, TmItem> {
        async move {
            let (sp, id) = (spira_id(project, "project")?, spira_id(id, "incident")?);
            let defs = self.write_defs(sp)?;
            // The copy read by id carries the ConcurrencyDate to save against.
            let current = from.and_then(|i| i.carried.get::<Incident>().cloned());
            // A template may not let the API change statuses, and then
            // keeps its own silently (spira-api.md §3.5): only a read says
            // which status the incident has.
            let read_back = read_back || edit.status.is_some();
            let mut saved = self
                .client
                .update_incident_from(sp, id, current, read_back, |inc| apply(inc, edit, &defs))
                .await
                .map_err(error)?;
            if !read_back && let Some(html) = &edit.description {
                // As sent, but as Spira keeps text (its cleaning).
                saved.description = Some(self.description_as_kept(html));
            }
            Ok(self.item(sp, saved))
        }
        .boxed()
    }

    fn claim<'a>(&'a self, project: i64, item: &'a TmItem, marker: &'a str) -> Call<'a, ()> {
        async move {
            let sp = spira_id(project, "project")?;
            let defs = self.write_defs(sp)?;
            let Some(mut incident) = item.carried.get::<Incident>().cloned() else {
                return Err(ConnectorError::new(
                    ErrorKind::Item,
                    "an incident claimed without the copy it was read as",
                ));
            };
            // Saved against the ConcurrencyDate of the copy read: Spira's
            // compare-and-set (409 when anyone saved it since).
            incident.set_custom_text(&defs.issue_property, Some(marker.to_string()));
            self.client
                .update_incident(sp, &incident)
                .await
                .map_err(error)
        }
        .boxed()
    }

    fn delete(&self, project: i64, id: i64) -> Call<'_, ()> {
        async move {
            let (sp, id) = (spira_id(project, "project")?, spira_id(id, "incident")?);
            self.client.delete_incident(sp, id).await.map_err(error)
        }
        .boxed()
    }

    fn find_by_marker<'a>(&'a self, project: i64, marker: &'a str) -> Call<'a, Vec<TmItem>> {
        async move {
            let sp = spira_id(project, "project")?;
            let defs = self.write_defs(sp)?;
            let found = self
                .client
                .find_incidents_by_custom_property(sp, defs.issue_property.property_number, marker)
                .await
                .map_err(error)?;
            Ok(found.into_iter().map(|i| self.item(sp, i)).collect())
        }
        .boxed()
    }

    fn comments(&self, project: i64, id: i64) -> Call<'_, Vec<TmComment>> {
        async move {
            let (sp, id) = (spira_id(project, "project")?, spira_id(id, "incident")?);
            let comments = self.client.list_comments(sp, id).await.map_err(error)?;
            Ok(comments.into_iter().map(comment).collect())
        }
        .boxed()
    }

    fn add_comment<'a>(
        &'a self,
        project: i64,
        id: i64,
        html: &'a str,
        author: Option<i64>,
    ) -> Call<'a, TmComment> {
        async move {
            let (sp, id) = (spira_id(project, "project")?, spira_id(id, "incident")?);
            let added = self
                .client
                .add_comment(sp, id, html, to_u32(author))
                .await
                .map_err(error)?;
            Ok(comment(added))
        }
        .boxed()
    }

    fn create_release<'a>(&'a self, project: i64, title: &'a str) -> Call<'a, TmRelease> {
        async move {
            let sp = spira_id(project, "project")?;
            let now = Utc::now();
            let new = Release {
                name: title.to_string(),
                // Spira's version numbers are short; the name carries the title.
                version_number: title.chars().take(10).collect(),
                active: true,
                // Spira refuses a release without both (reference §13 row 1).
                release_type_id: Some(self.release_type_id),
                release_status_id: Some(self.release_status_id),
                start_date: Some(now),
                end_date: Some(now + chrono::Duration::days(30)),
                ..Release::default()
            };
            let created = self.client.create_release(sp, &new).await.map_err(error)?;
            release(&created).ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::Item,
                    format!(
                        "Spira answered the release it created for milestone '{title}' without ReleaseId"
                    ),
                )
            })
        }
        .boxed()
    }

    fn marker_name(&self) -> &'static str {
        "its \"GitLab Issue\" property"
    }

    fn web_url(&self, project: i64, id: i64) -> String {
        let base = self.base_url.trim_end_matches('/');
        format!("{base}/{project}/Incident/{id}.aspx")
    }

    fn description_as_kept(&self, html: &str) -> String {
        // Spira's API strips scripts, event attributes and `javascript:`
        // URLs from what it is sent (spira-api.md §13 row 6; release notes
        // v5, IN:3204).
        labsync_model::text::spira_kept(html)
    }

    fn marker(&self, project: i64, item: &TmItem) -> Option<String> {
        if item.marker.is_some() {
            return item.marker.clone();
        }
        // Listed before the setup was read: read from the copy now.
        let defs = self.defs(u32::try_from(project).ok()?)?;
        marker_of(item.carried.get::<Incident>()?, &defs).map(String::from)
    }

    fn server_now(&self) -> Option<DateTime<Utc>> {
        self.client.server_now()
    }

    fn down(&self) -> Option<Down> {
        self.client.down().and_then(|e| down_of(&e))
    }
}

/// A failure that says Spira is down (see [`HttpError::side_down`]).
fn down_of(e: &HttpError) -> Option<Down> {
    e.side_down("Spira").map(|d| Down {
        side: "Spira",
        unreachable: d.unreachable,
        message: d.message,
    })
}
