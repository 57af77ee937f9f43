//! The simulator's starting data.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};

use super::state::{
    DEVELOPER, GUEST, Issue, Label, MAINTAINER, Milestone, Project, REPORTER, Store, Token, User,
};
use crate::Seed;

pub(crate) const PROJECT_PATH: &str = "demo/webshop";
pub(crate) const BOT: &str = "labsync-bot";

const USERS: [(&str, &str, &str, u32); 5] = [
    (BOT, "labsync bot", "labsync-bot@example.com", MAINTAINER),
    ("alice", "Alice Tester", "alice@example.com", REPORTER),
    ("bob", "Bob Developer", "bob@example.com", DEVELOPER),
    ("carol", "Carol Lead", "carol@example.com", MAINTAINER),
    ("dave", "Dave Guest", "dave@example.com", GUEST),
];

const PRIORITIES: [(&str, &str); 4] = [
    ("priority::critical", "#d9534f"),
    ("priority::high", "#f0ad4e"),
    ("priority::medium", "#5bc0de"),
    ("priority::low", "#5cb85c"),
];

/// Fills `store`; returns the project id. The main token gets the bot user.
pub(crate) fn seed(store: &mut Store, seed: Seed, token: &str, now: DateTime<Utc>) -> u64 {
    let epoch = now - Duration::days(90);
    let project_id = store.next_id();
    store.projects.push(Project {
        id: project_id,
        name: "webshop".into(),
        path_with_namespace: PROJECT_PATH.into(),
        issues_enabled: true,
        created_at: epoch,
        members: HashMap::new(),
        next_issue_iid: 0,
        next_milestone_iid: 0,
    });
    for (username, name, email, level) in USERS {
        let id = store.next_id();
        store.users.push(User {
            id,
            username: username.into(),
            name: name.into(),
            email: email.into(),
            bot: username == BOT,
            admin: false,
            created_at: epoch,
        });
        if let Some(p) = store.project_mut(project_id) {
            p.members.insert(id, level);
        }
    }
    let bot = user_id(store, BOT);
    let token_id = store.next_id();
    store.tokens.push(Token {
        id: token_id,
        name: "labsync".into(),
        value: token.into(),
        user_id: bot,
        scopes: vec!["api".into()],
        expires_at: Some((now + Duration::days(365)).date_naive()),
        revoked: false,
        created_at: epoch,
        last_used_at: None,
    });
    for (name, color) in PRIORITIES {
        let id = store.next_id();
        store.labels.push(Label {
            id,
            project_id,
            name: name.into(),
            color: color.into(),
            description: None,
            priority: None,
        });
    }
    if seed == Seed::Demo {
        demo(store, project_id, now);
    }
    project_id
}

pub(crate) fn user_id(store: &Store, username: &str) -> u64 {
    store.user_by_name(username).map_or(0, |u| u.id)
}

fn demo(store: &mut Store, project: u64, now: DateTime<Utc>) {
    let sprint = milestone(
        store,
        project,
        "Sprint 1",
        now - Duration::days(20),
        Some(14),
    );
    milestone(
        store,
        project,
        "Release 1.0",
        now - Duration::days(20),
        Some(60),
    );
    let (alice, bob, carol) = (
        user_id(store, "alice"),
        user_id(store, "bob"),
        user_id(store, "carol"),
    );

    let t = now - Duration::days(12);
    let i = issue(
        store,
        project,
        carol,
        "Wishlist heart icon misaligned on mobile",
        "On iPhone 15 the *heart* icon overlaps the product price.",
        t,
    );
    store.set_labels(i, set(&["bug", "priority::high"]), carol, t);
    store.add_note(
        i,
        alice,
        "Reproduced on iOS 17.2 in Safari and Chrome.",
        false,
        t + Duration::hours(3),
    );

    let t = now - Duration::days(9);
    let i = issue(
        store,
        project,
        alice,
        "Password reset email arrives twice",
        "Requesting a reset sends two identical emails within a second.",
        t,
    );
    store.set_labels(i, set(&["priority::medium"]), alice, t);
    store.issues[i].assignee_ids = vec![bob];
    store.add_note(i, carol, "assigned to @bob", true, t + Duration::minutes(5));
    store.add_note(
        i,
        bob,
        "Looks like the mailer job is enqueued twice.",
        false,
        t + Duration::days(1),
    );

    let t = now - Duration::days(7);
    let i = issue(
        store,
        project,
        carol,
        "Add invoice PDF download",
        "Customers want a PDF of each invoice.",
        t,
    );
    store.issues[i].milestone_id = Some(sprint);
    store.set_labels(i, set(&["priority::low"]), carol, t);

    let t = now - Duration::days(5);
    let i = issue(
        store,
        project,
        bob,
        "Typo on the shipping page",
        "\"Shiping\" in the page header.",
        t,
    );
    store.add_note(
        i,
        bob,
        "Fixed in the latest deploy.",
        false,
        t + Duration::hours(2),
    );
    store.set_state(i, false, bob, t + Duration::hours(2));
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn milestone(
    store: &mut Store,
    project: u64,
    title: &str,
    at: DateTime<Utc>,
    due_in: Option<i64>,
) -> u64 {
    let id = store.next_id();
    let iid = store.project_mut(project).map_or(1, |p| {
        p.next_milestone_iid += 1;
        p.next_milestone_iid
    });
    store.milestones.push(Milestone {
        id,
        iid,
        project_id: project,
        group: None,
        title: title.into(),
        description: None,
        active: true,
        due_date: due_in.map(|d| (at + Duration::days(d)).date_naive()),
        start_date: Some(at.date_naive()),
        created_at: at,
        updated_at: at,
    });
    id
}

/// Adds an issue directly to the store (seed and test helpers); returns its index.
pub(crate) fn issue(
    store: &mut Store,
    project: u64,
    author: u64,
    title: &str,
    description: &str,
    at: DateTime<Utc>,
) -> usize {
    work_item(store, project, author, title, description, "issue", at)
}

/// A work item of `issue_type` (a GitLab task, test case, …).
pub(crate) fn work_item(
    store: &mut Store,
    project: u64,
    author: u64,
    title: &str,
    description: &str,
    issue_type: &'static str,
    at: DateTime<Utc>,
) -> usize {
    let id = store.next_id();
    let iid = store.project_mut(project).map_or(1, |p| {
        p.next_issue_iid += 1;
        p.next_issue_iid
    });
    store.issues.push(Issue {
        id,
        iid,
        project_id: project,
        title: title.into(),
        description: Some(description.into()),
        opened: true,
        author_id: author,
        assignee_ids: Vec::new(),
        labels: BTreeSet::new(),
        milestone_id: None,
        confidential: false,
        due_date: None,
        created_at: at,
        updated_at: at,
        closed_at: None,
        closed_by: None,
        issue_type,
        moved_to_id: None,
    });
    store.issues.len() - 1
}
