//! Incident reads and writes, with Spira's optimistic concurrency (reference §3).

use reqwest::Method;

use super::client::{MAX_PAGE_SIZE, SpiraClient};
use super::error::SpiraError;
use super::types::{Filter, Incident};
use labsync_http::Idempotency;

impl SpiraClient {
    pub async fn get_incident(&self, project: u32, id: u32) -> Result<Incident, SpiraError> {
        let what = incident_what(project, id);
        self.get(&format!("projects/{project}/incidents/{id}"), &[], &what)
            .await
    }

    /// Creates an incident and returns it as Spira then holds it. Spira's
    /// answer to a create is the submitted object plus its id, without the
    /// server-computed fields, so the incident is read again.
    pub async fn create_incident(
        &self,
        project: u32,
        incident: &Incident,
    ) -> Result<Incident, SpiraError> {
        let what = format!("new incident '{}' in project PR:{project}", short(incident));
        let created: Incident = self
            .send(
                Method::POST,
                &format!("projects/{project}/incidents"),
                &[],
                Some(incident),
                Idempotency::Unsafe,
                &what,
            )
            .await?;
        let id = created.incident_id.ok_or_else(|| SpiraError::Decode {
            what: what.clone(),
            reason: "the answer has no IncidentId".to_string(),
        })?;
        self.get_incident(project, id).await
    }

    /// Saves the whole incident (a PUT replaces every writable field). Its
    /// `ConcurrencyDate` must be the one last read, or Spira answers 409 and
    /// this returns [`SpiraError::Concurrency`].
    pub async fn update_incident(
        &self,
        project: u32,
        incident: &Incident,
    ) -> Result<(), SpiraError> {
        let id = incident.incident_id.ok_or_else(|| SpiraError::Validation {
            what: format!("an incident update in project PR:{project}"),
            message: "the incident has no IncidentId".to_string(),
        })?;
        let what = incident_what(project, id);
        self.send_no_answer(
            Method::PUT,
            &format!("projects/{project}/incidents/{id}"),
            Some(incident),
            &what,
        )
        .await
    }

    /// Reads the incident, applies `change`, saves it, and returns it as read
    /// after the save. When somebody saves it in between (409), it reads,
    /// applies and saves once more; a second conflict is returned as
    /// [`SpiraError::Concurrency`] for the engine to queue the item. When the
    /// change leaves the incident as it was, nothing is sent (Spira would
    /// answer 409) and the incident is returned as read.
    ///
    /// Spira silently ignores a status change when the template does not let
    /// the API change statuses: compare the returned status with the wanted one.
    pub async fn update_incident_with<F>(
        &self,
        project: u32,
        id: u32,
        change: F,
    ) -> Result<Incident, SpiraError>
    where
        F: Fn(&mut Incident),
    {
        self.update_incident_from(project, id, None, true, change)
            .await
    }

    /// The same, starting from `current` when the caller has just read the
    /// whole incident (a stale copy only costs a 409 and one read), and
    /// reading the saved incident back only when `read_back` is asked for
    /// (to see whether Spira kept a status); otherwise the incident as sent
    /// is returned.
    pub async fn update_incident_from<F>(
        &self,
        project: u32,
        id: u32,
        mut current: Option<Incident>,
        read_back: bool,
        change: F,
    ) -> Result<Incident, SpiraError>
    where
        F: Fn(&mut Incident),
    {
        let mut attempt = 0;
        loop {
            let mut incident = match current.take() {
                Some(i) => i,
                None => self.get_incident(project, id).await?,
            };
            let before = incident.clone();
            change(&mut incident);
            incident.incident_id = Some(id);
            // Spira answers 409 to a PUT that changes nothing (API-Overview,
            // "409 Conflict"): such a PUT is not sent at all.
            if same_body(&before, &incident) {
                return Ok(incident);
            }
            match self.update_incident(project, &incident).await {
                Ok(()) if !read_back => return Ok(incident),
                Ok(()) => {
                    let saved = self.get_incident(project, id).await?;
                    if incident.incident_status_id.is_some()
                        && saved.incident_status_id != incident.incident_status_id
                    {
                        tracing::warn!(
                            incident = id,
                            project,
                            "Spira kept the incident's status: the template does not let the API change statuses"
                        );
                    }
                    return Ok(saved);
                }
                Err(SpiraError::Concurrency { .. }) if attempt == 0 => {
                    tracing::debug!(
                        incident = id,
                        project,
                        "concurrency conflict; reading again"
                    );
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Soft-deletes an incident.
    pub async fn delete_incident(&self, project: u32, id: u32) -> Result<(), SpiraError> {
        let what = incident_what(project, id);
        self.send_no_answer::<()>(
            Method::DELETE,
            &format!("projects/{project}/incidents/{id}"),
            None,
            &what,
        )
        .await
    }

    /// One page of an incident search, `start_row` 1-based; results are
    /// sorted ascending by `sort_by`.
    pub async fn search_incidents(
        &self,
        project: u32,
        filters: &[Filter],
        start_row: u32,
        rows: u32,
        sort_by: &str,
    ) -> Result<Vec<Incident>, SpiraError> {
        let what = format!("incident search in project PR:{project} (rows {start_row}+{rows})");
        let query = [
            ("start_row", start_row.to_string()),
            ("number_rows", rows.min(MAX_PAGE_SIZE).to_string()),
            ("sort_by", sort_by.to_string()),
        ];
        self.send(
            Method::POST,
            &format!("projects/{project}/incidents/search"),
            &query,
            Some(&filters),
            // A search changes nothing, so it may be repeated.
            Idempotency::Safe,
            &what,
        )
        .await
    }

    /// Incidents whose Text custom property `property_number` is exactly
    /// `value`. Spira's string filter is a substring match, so "4" also finds
    /// "42"; the results are checked here.
    pub async fn find_incidents_by_custom_property(
        &self,
        project: u32,
        property_number: u32,
        value: &str,
    ) -> Result<Vec<Incident>, SpiraError> {
        let filters = [Filter {
            property_name: format!("Custom_{property_number:02}"),
            string_value: Some(value.to_string()),
            ..Filter::default()
        }];
        let mut found = Vec::new();
        let mut start_row = 1;
        loop {
            let page = self
                .search_incidents(project, &filters, start_row, self.page_size(), "IncidentId")
                .await?;
            let full = page.len() as u32 >= self.page_size();
            start_row += page.len() as u32;
            found.extend(
                page.into_iter()
                    .filter(|i| i.custom_text(property_number) == Some(value)),
            );
            if !full {
                return Ok(found);
            }
        }
    }
}

/// True when two incidents would be sent as the same PUT body.
fn same_body(a: &Incident, b: &Incident) -> bool {
    let mut a = a.clone();
    a.incident_id = b.incident_id;
    matches!(
        (serde_json::to_value(&a), serde_json::to_value(b)),
        (Ok(x), Ok(y)) if x == y
    )
}

pub(crate) fn incident_what(project: u32, id: u32) -> String {
    format!("incident IN:{id} of project PR:{project}")
}

fn short(incident: &Incident) -> String {
    let name = incident.name.as_deref().unwrap_or("");
    let mut cut: String = name.chars().take(60).collect();
    if cut.len() < name.len() {
        cut.push('…');
    }
    cut
}
