//! Test helpers that act on the simulator's state as a person in Spira's
//! web UI would: their changes move LastUpdateDate and ConcurrencyDate.

use chrono::{DateTime, Utc};

use super::SpiraSim;
use super::comments;
use super::random_api_key;
use super::state::{SimComment, SimIncident, SimRelease, SimUser};

impl SpiraSim {
    /// Adds a user, member of project 1; returns the user id.
    pub fn add_user(&self, login: &str, first_name: &str, last_name: &str, email: &str) -> u32 {
        let mut db = self.shared.db();
        let id = db.users.iter().map(|u| u.user_id).max().unwrap_or(0) + 1;
        db.users.push(SimUser {
            user_id: id,
            login: login.to_string(),
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            email: email.to_string(),
            api_key: random_api_key(),
            admin: false,
            active: true,
        });
        if let Some(p) = db.projects.iter_mut().find(|p| p.project_id == 1) {
            p.members.push(id);
        }
        id
    }

    pub fn users(&self) -> Vec<SimUser> {
        self.shared.db().users.clone()
    }

    /// Creates an incident as `opener` would in the UI; returns its id.
    pub fn add_incident(&self, project: u32, name: &str, opener: u32) -> u32 {
        let now = self.shared.now();
        let mut db = self.shared.db();
        let stamp = db.stamp(now);
        db.next_incident += 1;
        let id = db.next_incident;
        db.incidents.insert(
            id,
            SimIncident {
                incident_id: id,
                project_id: project,
                name: name.to_string(),
                description: format!("<p>{name}</p>"),
                incident_status_id: 1,
                incident_type_id: 1,
                priority_id: None,
                severity_id: None,
                opener_id: opener,
                owner_id: None,
                detected_release_id: None,
                resolved_release_id: None,
                verified_release_id: None,
                creation_date: stamp,
                last_update_date: stamp,
                concurrency_date: stamp,
                start_date: None,
                closed_date: None,
                estimated_effort: None,
                actual_effort: None,
                remaining_effort: None,
                fixed_build_id: None,
                component_ids: Vec::new(),
                test_run_step_ids: Vec::new(),
                custom: Default::default(),
                is_deleted: false,
            },
        );
        id
    }

    /// Edits an incident and saves it: LastUpdateDate and ConcurrencyDate
    /// move to now. Returns false if there is no such incident.
    pub fn edit_incident(&self, id: u32, edit: impl FnOnce(&mut SimIncident)) -> bool {
        let now = self.shared.now();
        let mut db = self.shared.db();
        if !db.incidents.contains_key(&id) {
            return false;
        }
        let stamp = db.stamp(now);
        match db.incidents.get_mut(&id) {
            Some(inc) => {
                edit(inc);
                inc.last_update_date = stamp;
                inc.concurrency_date = stamp;
                true
            }
            None => false,
        }
    }

    /// Stamps an incident as last changed at `at` (as a bulk import or a
    /// mass update leaves many incidents with one LastUpdateDate).
    pub fn set_incident_updated_at(&self, id: u32, at: DateTime<Utc>) -> bool {
        let mut db = self.shared.db();
        match db.incidents.get_mut(&id) {
            Some(inc) => {
                // Spira keeps dates to the millisecond, as `stamp` does: a
                // finer ConcurrencyDate could never be sent back equal.
                let at = super::state::to_millis(at);
                inc.last_update_date = at;
                inc.concurrency_date = at;
                true
            }
            None => false,
        }
    }

    /// Adds a comment as `user`; the incident's dates move only if the
    /// simulator is set to `comment_bumps_last_update`.
    pub fn add_comment(&self, incident: u32, user: u32, text: &str) -> u32 {
        let now = self.shared.now();
        let mut db = self.shared.db();
        comments::insert(&mut db, incident, user, text.to_string(), None, now).comment_id
    }

    /// Deletes a release as a person would in Spira's UI: it is no longer
    /// listed nor found by id. Incidents that named it keep the id.
    pub fn delete_release(&self, id: u32) -> bool {
        self.shared.db().releases.remove(&id).is_some()
    }

    pub fn incident(&self, id: u32) -> Option<SimIncident> {
        self.shared.db().incidents.get(&id).cloned()
    }

    /// The live incidents of a project, by id.
    pub fn incidents(&self, project: u32) -> Vec<SimIncident> {
        self.shared
            .db()
            .incidents
            .values()
            .filter(|i| i.project_id == project && !i.is_deleted)
            .cloned()
            .collect()
    }

    /// The comments of an incident, oldest first.
    pub fn comments(&self, incident: u32) -> Vec<SimComment> {
        comments::comments_of(&self.shared.db(), incident)
    }

    /// Adds a release as a person would in the UI (`release_type` 3 makes
    /// an iteration, as Inflectra's GitLab plug-in does); returns its id.
    pub fn add_release(&self, project: u32, name: &str, version: &str, release_type: u32) -> u32 {
        let now = self.shared.now();
        let mut db = self.shared.db();
        let stamp = db.stamp(now);
        db.next_release += 1;
        let id = db.next_release;
        db.releases.insert(
            id,
            SimRelease {
                release_id: id,
                project_id: project,
                parent_id: None,
                name: name.to_string(),
                description: None,
                version_number: version.to_string(),
                active: true,
                release_status_id: 2,
                release_type_id: release_type,
                creator_id: 1,
                owner_id: None,
                start_date: stamp,
                end_date: stamp + chrono::Duration::days(14),
                creation_date: stamp,
                last_update_date: stamp,
                concurrency_date: stamp,
            },
        );
        id
    }

    pub fn releases(&self, project: u32) -> Vec<SimRelease> {
        self.shared
            .db()
            .releases
            .values()
            .filter(|r| r.project_id == project)
            .cloned()
            .collect()
    }
}
