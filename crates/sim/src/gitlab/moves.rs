//! Moving an issue to another project, as `Issues::MoveService` does it
//! (gitlab-org/gitlab `app/services/issues/move_service.rb`,
//! `app/services/issuable/clone/base_service.rb`,
//! `app/services/issues/base_service.rb` `filter_params`).

use chrono::{DateTime, Utc};

use super::state::{Issue, Note, Store};

impl Store {
    /// Moves the issue at `index` to `target`: a new issue there (new id
    /// and iid; title, description, author, assignees, timestamps kept;
    /// labels and milestone kept where the target has one of the same
    /// name; notes copied), a "moved from" note on it; the original stays,
    /// closed, with `moved_to_id` and a "moved to" note. Returns the new
    /// issue's index.
    pub(crate) fn move_issue(
        &mut self,
        index: usize,
        target: u64,
        user: u64,
        now: DateTime<Utc>,
    ) -> usize {
        let original = self.issues[index].clone();
        let source_ref = self.reference_base(original.project_id, target);
        let target_ref = self.reference_base(target, original.project_id);
        let id = self.next_id();
        let iid = match self.project_mut(target) {
            Some(p) => {
                p.next_issue_iid += 1;
                p.next_issue_iid
            }
            None => 1,
        };
        let labels = original
            .labels
            .iter()
            .filter(|l| self.label_by_name(target, l).is_some())
            .cloned()
            .collect();
        let milestone_id = original
            .milestone_id
            .and_then(|m| self.milestone(original.project_id, m))
            .map(|m| m.title.clone())
            .and_then(|title| {
                self.milestones
                    .iter()
                    .find(|m| m.project_id == target && m.title == title)
                    .map(|m| m.id)
            });
        // created_at and updated_at are the original's: "we preserve the
        // original issue attributes except id and iid" (base_service.rb).
        self.issues.push(Issue {
            id,
            iid,
            project_id: target,
            labels,
            milestone_id,
            moved_to_id: None,
            ..original.clone()
        });
        let new_index = self.issues.len() - 1;
        let copies: Vec<Note> = self
            .notes
            .iter()
            .filter(|n| n.issue_id == original.id)
            .cloned()
            .collect();
        for note in copies {
            let note_id = self.next_id();
            self.notes.push(Note {
                id: note_id,
                issue_id: id,
                ..note
            });
        }
        self.add_note(
            new_index,
            user,
            &format!("moved from {source_ref}#{}", original.iid),
            true,
            now,
        );
        self.set_state(index, false, user, now);
        self.issues[index].moved_to_id = Some(id);
        self.add_note(
            index,
            user,
            &format!("moved to {target_ref}#{iid}"),
            true,
            now,
        );
        new_index
    }

    /// How a note in project `from` names project `id`: its path alone
    /// within the same namespace, else its full path
    /// (`Project#to_reference_base`; the note text is
    /// `SystemNotes::IssuablesService#noteable_moved`'s "moved to ...").
    fn reference_base(&self, id: u64, from: u64) -> String {
        let path = |p: u64| {
            self.project(p)
                .map_or_else(String::new, |p| p.path_with_namespace.clone())
        };
        let (full, other) = (path(id), path(from));
        match (full.rsplit_once('/'), other.rsplit_once('/')) {
            (Some((ns, short)), Some((other_ns, _))) if ns == other_ns => short.to_string(),
            _ => full,
        }
    }
}
