//! What the simulator holds at start: project 1 "Web Shop" with Spira's
//! default incident lookups and five users, and for the demo a few releases,
//! incidents and comments from the recent past.

use chrono::{DateTime, Duration, Utc};

use super::random_api_key;
use super::state::{
    Db, Lookup, SimComment, SimCustomProperty, SimIncident, SimProject, SimRelease, SimUser,
    to_millis,
};
use crate::Seed;

fn lookups(rows: &[(u32, &str, bool)]) -> Vec<Lookup> {
    rows.iter()
        .map(|(id, name, flag)| Lookup {
            id: *id,
            name: name.to_string(),
            flag: *flag,
        })
        .collect()
}

pub(crate) fn build(seed: Seed, login: &str, api_key: &str, now: DateTime<Utc>) -> Db {
    let now = to_millis(now);
    let people = [
        (
            login,
            "System",
            "Administrator",
            "administrator@example.com",
            true,
        ),
        ("alice", "Alice", "Tester", "alice@example.com", false),
        ("bob", "Bob", "Developer", "bob@example.com", false),
        ("carol", "Carol", "Lead", "carol@example.com", false),
        ("erin", "Erin", "Analyst", "erin@example.com", false),
    ];
    let users: Vec<SimUser> = people
        .iter()
        .enumerate()
        .map(|(i, (login, first, last, email, admin))| SimUser {
            user_id: i as u32 + 1,
            login: login.to_string(),
            first_name: first.to_string(),
            last_name: last.to_string(),
            email: email.to_string(),
            api_key: if *admin {
                api_key.to_string()
            } else {
                random_api_key()
            },
            admin: *admin,
            active: true,
        })
        .collect();
    let mut db = Db {
        projects: vec![SimProject {
            project_id: 1,
            template_id: 1,
            name: "Web Shop".into(),
            members: users.iter().map(|u| u.user_id).collect(),
            creation_date: now - Duration::days(90),
        }],
        users,
        statuses: lookups(&[
            (1, "New", true),
            (2, "Open", true),
            (3, "Assigned", true),
            (4, "Resolved", false),
            (5, "Closed", false),
            (6, "Not Reproducible", false),
            (7, "Duplicate", false),
            (8, "Reopen", true),
        ]),
        types: lookups(&[
            (1, "Incident", true),
            (2, "Bug", false),
            (3, "Enhancement", false),
            (4, "Issue", false),
            (5, "Training", false),
            (6, "Limitation", false),
            (7, "Change Request", false),
            (8, "Risk", false),
        ]),
        priorities: lookups(&[
            (1, "1 - Critical", false),
            (2, "2 - High", false),
            (3, "3 - Medium", false),
            (4, "4 - Low", false),
        ]),
        severities: lookups(&[
            (1, "1 - Critical", false),
            (2, "2 - High", false),
            (3, "3 - Medium", false),
            (4, "4 - Low", false),
        ]),
        custom_properties: vec![
            SimCustomProperty {
                // Ids unlike the numbers (as in API-Overview's example, 13),
                // so a client that confuses the two is caught.
                custom_property_id: 13,
                property_number: 1,
                name: "GitLab Issue".into(),
                type_id: 1,
            },
            SimCustomProperty {
                custom_property_id: 14,
                property_number: 2,
                name: "GitLab URL".into(),
                type_id: 1,
            },
        ],
        bulk_edit_can_change_status: true,
        ids_withheld: Default::default(),
        created_release_id_withheld: false,
        ..Db::default()
    };
    if seed == Seed::Demo {
        demo(&mut db, now);
    }
    db
}

fn demo(db: &mut Db, now: DateTime<Utc>) {
    let days = |n: i64| now - Duration::days(n);
    for (id, parent, name, version, status, kind, start, end) in [
        (1, None, "Release 1.0", "1.0", 2, 1, days(30), days(-30)),
        (2, Some(1), "Sprint 1", "1.0.1", 3, 3, days(30), days(16)),
    ] {
        db.releases.insert(
            id,
            SimRelease {
                release_id: id,
                project_id: 1,
                parent_id: parent,
                name: name.into(),
                description: None,
                version_number: version.into(),
                active: true,
                release_status_id: status,
                release_type_id: kind,
                creator_id: 4,
                owner_id: Some(4),
                start_date: start,
                end_date: end,
                creation_date: days(31),
                last_update_date: days(20),
                concurrency_date: days(20),
            },
        );
    }
    db.next_release = 2;
    // (name, description, status, priority, severity, opener, owner, resolved release, age days)
    let incidents = [
        (
            "Checkout button does nothing on Safari",
            "<p>Clicking <b>Pay now</b> on Safari 17 has no effect.</p>",
            2,
            1,
            2,
            2,
            Some(3),
            None,
            10,
        ),
        (
            "Prices show three decimals in the cart",
            "<p>The cart shows 12.990 EUR instead of 12.99 EUR.</p>",
            4,
            3,
            3,
            5,
            Some(3),
            Some(2),
            8,
        ),
        (
            "Search returns no results for accented words",
            "<p>Searching for <i>crème</i> finds nothing.</p>",
            1,
            2,
            3,
            2,
            None,
            None,
            5,
        ),
        (
            "Typo on the login page",
            "<p>\"Pasword\" is misspelt.</p>",
            5,
            4,
            4,
            5,
            Some(4),
            Some(2),
            3,
        ),
    ];
    for (n, (name, description, status, priority, severity, opener, owner, resolved, age)) in
        incidents.into_iter().enumerate()
    {
        let id = n as u32 + 1;
        let created = days(age);
        let updated = created + Duration::hours(20);
        db.incidents.insert(
            id,
            SimIncident {
                incident_id: id,
                project_id: 1,
                name: name.into(),
                description: description.into(),
                incident_status_id: status,
                incident_type_id: 2,
                priority_id: Some(priority),
                severity_id: Some(severity),
                opener_id: opener,
                owner_id: owner,
                detected_release_id: Some(2),
                resolved_release_id: resolved,
                verified_release_id: None,
                creation_date: created,
                last_update_date: updated,
                concurrency_date: updated,
                start_date: None,
                closed_date: (status == 5).then_some(updated),
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
        let remarks: &[(u32, &str)] = match id {
            1 => &[(2, "Reproduced on two Macs."), (3, "Looking into it.")],
            2 => &[(3, "Rounding fixed in the cart view.")],
            3 => &[(4, "Probably the search index normalisation.")],
            _ => &[(5, "Fixed in Sprint 1.")],
        };
        for (k, (user, text)) in remarks.iter().enumerate() {
            db.next_comment += 1;
            db.comments.push(SimComment {
                comment_id: db.next_comment,
                incident_id: id,
                user_id: *user,
                text: format!("<p>{text}</p>"),
                creation_date: created + Duration::hours(2 + 6 * k as i64),
            });
        }
    }
    db.next_incident = incidents.len() as u32;
}
