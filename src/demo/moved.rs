//! What moved in a cycle, found by comparing the link table and both
//! simulators before and after it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::model::{CreatedBy, Side};
use crate::store::links::Link;

use super::DemoError;
use super::say::{gist, incident, issue};
use super::stage::{PLUGIN, SPIRA_PROJECT, Stage};

/// Both sides and the links at one moment.
pub struct Snapshot {
    links: Vec<Link>,
    /// Copied comments per link id: (Spira → GitLab, GitLab → Spira).
    copied: HashMap<i64, (usize, usize)>,
    releases: BTreeMap<u32, String>,
    milestones: BTreeSet<String>,
    names: BTreeMap<u32, String>,
    titles: BTreeMap<u64, String>,
}

impl Snapshot {
    pub async fn take(stage: &Stage) -> Result<Snapshot, DemoError> {
        let links = stage
            .store
            .links(PLUGIN, i64::from(SPIRA_PROJECT))
            .map_err(|e| DemoError::Setup(e.to_string()))?;
        let mut copied = HashMap::new();
        for l in &links {
            let rows = stage
                .store
                .comment_links(l.id)
                .map_err(|e| DemoError::Setup(e.to_string()))?;
            let to_gitlab = rows
                .iter()
                .filter(|c| c.origin == Side::TestManagement)
                .count();
            let to_spira = rows
                .iter()
                .filter(|c| c.origin == Side::IssueTracker)
                .count();
            copied.insert(l.id, (to_gitlab, to_spira));
        }
        let releases = stage
            .spira
            .releases(SPIRA_PROJECT)
            .into_iter()
            .map(|r| (r.release_id, format!("{} ({})", r.name, r.version_number)))
            .collect();
        let milestones = stage
            .gitlab_client
            .list_milestones(&stage.gitlab_project)
            .await
            .map_err(|e| DemoError::Setup(format!("cannot list the milestones: {e}")))?
            .into_iter()
            .map(|m| m.title)
            .collect();
        let names = stage
            .spira
            .incidents(SPIRA_PROJECT)
            .into_iter()
            .map(|i| (i.incident_id, i.name))
            .collect();
        let titles = stage
            .gitlab
            .issues()
            .iter()
            .filter_map(|i| Some((i["iid"].as_u64()?, text(&i["title"]))))
            .collect();
        Ok(Snapshot {
            links,
            copied,
            releases,
            milestones,
            names,
            titles,
        })
    }

    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    fn name(&self, id: i64) -> String {
        u32::try_from(id)
            .ok()
            .and_then(|id| self.names.get(&id).cloned())
            .unwrap_or_default()
    }

    fn title(&self, iid: i64) -> String {
        u64::try_from(iid)
            .ok()
            .and_then(|iid| self.titles.get(&iid).cloned())
            .unwrap_or_default()
    }
}

/// The JSON string, or "" for anything else.
pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// What moved between `before` and `after`, grouped for printing.
#[derive(Debug, Default)]
pub struct Moved {
    pub to_gitlab: Vec<String>,
    pub to_spira: Vec<String>,
    pub matched: Vec<String>,
    pub comments: Vec<String>,
    pub releases: Vec<String>,
}

pub fn compare(before: &Snapshot, after: &Snapshot) -> Moved {
    let mut moved = Moved::default();
    let known: BTreeSet<i64> = before.links.iter().map(|l| l.id).collect();
    for l in after.links.iter().filter(|l| !known.contains(&l.id)) {
        let (inc, iss) = (incident(l.tm_item), issue(l.tracker_iid));
        match l.created_by {
            CreatedBy::Side(Side::TestManagement) => moved
                .to_gitlab
                .push(format!("{inc} '{}' → {iss}", after.name(l.tm_item))),
            CreatedBy::Side(Side::IssueTracker) => moved
                .to_spira
                .push(format!("{iss} '{}' → {inc}", after.title(l.tracker_iid))),
            CreatedBy::Matched => moved
                .matched
                .push(format!("{inc} ↔ {iss} (found on both sides, linked)")),
        }
    }
    for l in &after.links {
        let (g_now, s_now) = after.copied.get(&l.id).copied().unwrap_or_default();
        let (g_was, s_was) = before.copied.get(&l.id).copied().unwrap_or_default();
        let (inc, iss) = (incident(l.tm_item), issue(l.tracker_iid));
        if g_now > g_was {
            moved.comments.push(format!(
                "{} from {inc} → {iss}",
                plural(g_now - g_was, "comment")
            ));
        }
        if s_now > s_was {
            moved.comments.push(format!(
                "{} from {iss} → {inc}",
                plural(s_now - s_was, "note")
            ));
        }
    }
    for (id, name) in &after.releases {
        if !before.releases.contains_key(id) {
            moved.releases.push(format!(
                "Spira release {name} created for a GitLab milestone"
            ));
        }
    }
    for title in after.milestones.difference(&before.milestones) {
        moved.releases.push(format!(
            "GitLab milestone '{title}' created for a Spira release"
        ));
    }
    moved
}

pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// An excerpt of a copied comment, for showing it arrived.
pub fn quote(body: &str) -> String {
    format!("\"{}\"", gist(body))
}
