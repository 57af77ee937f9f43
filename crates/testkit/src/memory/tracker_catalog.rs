//! What a [`super::MemoryIssueTracker`] project holds beside its items:
//! people, labels and milestones, with GitLab's rules for each.

use labsync::sync::connector::{ConnectorError, TrackerLabel, TrackerMilestone, TrackerUser};

use super::refused;

pub(super) struct Person {
    pub(super) user: TrackerUser,
    /// May be assigned to the project's items (a member).
    pub(super) member: bool,
}

#[derive(Default)]
pub(super) struct Catalog {
    pub(super) people: Vec<Person>,
    pub(super) labels: Vec<TrackerLabel>,
    pub(super) milestones: Vec<TrackerMilestone>,
    next_milestone: u64,
}

impl Catalog {
    /// The people of the GitLab simulator's seed: the connector's user
    /// ("labsync-bot") first.
    pub(super) fn seeded() -> Self {
        let people = [
            ("labsync-bot", "labsync bot", true),
            ("alice", "Alice Tester", true),
            ("bob", "Bob Developer", true),
            ("carol", "Carol Lead", true),
            ("dave", "Dave Guest", true),
            ("mallory", "Mallory Outsider", false),
        ];
        Catalog {
            people: (1..)
                .zip(people)
                .map(|(id, (username, name, member))| Person {
                    user: TrackerUser {
                        id,
                        username: username.to_string(),
                        name: name.to_string(),
                    },
                    member,
                })
                .collect(),
            next_milestone: 1,
            ..Catalog::default()
        }
    }

    /// A username, matched case-insensitively (GitLab's `GET
    /// /users?username=`, reference gitlab-api.md §9).
    pub(super) fn user(&self, username: &str) -> Option<&TrackerUser> {
        self.people
            .iter()
            .map(|p| &p.user)
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub(super) fn members(&self) -> Vec<TrackerUser> {
        self.people
            .iter()
            .filter(|p| p.member)
            .map(|p| p.user.clone())
            .collect()
    }

    /// The username of `id` when it may be assigned (a member).
    pub(super) fn assignable(&self, id: u64) -> Option<String> {
        self.people
            .iter()
            .find(|p| p.member && p.user.id == id)
            .map(|p| p.user.username.clone())
    }

    /// The label of exactly this name (never read as an id: gitlab-api.md
    /// §16 #13).
    pub(super) fn label(&self, name: &str) -> Option<&TrackerLabel> {
        self.labels.iter().find(|l| l.name == name)
    }

    /// Labels named on an item that do not exist yet are made, as GitLab
    /// makes them (reference gitlab-api.md §5).
    pub(super) fn ensure_labels(&mut self, names: &[String]) {
        for name in names {
            if self.label(name).is_none() {
                self.labels.push(TrackerLabel {
                    name: name.clone(),
                    color: "#6699cc".into(),
                    description: None,
                });
            }
        }
    }

    /// Creates a label, or answers the one of that name.
    pub(super) fn create_label(&mut self, label: &TrackerLabel) -> TrackerLabel {
        if let Some(found) = self.label(&label.name) {
            return found.clone();
        }
        self.labels.push(label.clone());
        label.clone()
    }

    pub(super) fn milestone_title(&self, id: u64) -> Option<String> {
        self.milestones
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.title.clone())
    }

    /// A new milestone; a title in use is refused (GitLab answers 400,
    /// `app/models/milestone.rb`; gitlab-api.md §8, §16 #8).
    pub(super) fn create_milestone(
        &mut self,
        title: &str,
    ) -> Result<TrackerMilestone, ConnectorError> {
        if self.milestones.iter().any(|m| m.title == title) {
            return Err(refused(
                format!("milestone '{title}'"),
                "title already in use",
            ));
        }
        let made = TrackerMilestone {
            id: self.next_milestone,
            title: title.to_string(),
        };
        self.next_milestone += 1;
        self.milestones.push(made.clone());
        Ok(made)
    }
}
