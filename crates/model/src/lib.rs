//! The neutral record both sides are resolved into before merging.
//!
//! A [`Ticket`] holds the synced fields of one pair in test-management terms:
//! statuses, priorities, users and releases by the test-management side's
//! own ids, so that the issue tracker's state, label, user or milestone is
//! compared through the mapping tables, never as raw text. Which products
//! the two sides are is the [`Connectors`]' business, not the record's. The
//! record as it stood after the last successful sync of a pair is its *base*.
//! [`text`] converts between the two sides' text formats.

pub mod inflight;
pub mod text;

use serde::{Deserialize, Serialize};

/// One synced field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Description,
    Status,
    Priority,
    Assignee,
    Release,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::Title,
        Field::Description,
        Field::Status,
        Field::Priority,
        Field::Assignee,
        Field::Release,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Description => "description",
            Field::Status => "status",
            Field::Priority => "priority",
            Field::Assignee => "assignee",
            Field::Release => "release",
        }
    }
}

/// One of the two sides of a plugin, named by its role, not by the
/// product on it: which product that is, a [`Connectors`] says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Where testers file defects (Spira's incidents).
    TestManagement,
    /// Where developers work them (GitLab's issues).
    IssueTracker,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::TestManagement, Side::IssueTracker];

    pub fn other(self) -> Side {
        match self {
            Side::TestManagement => Side::IssueTracker,
            Side::IssueTracker => Side::TestManagement,
        }
    }

    /// Its name in the database (the `side`, `origin` and `created_by` columns).
    pub fn stored_name(self) -> &'static str {
        match self {
            Side::TestManagement => "test-management",
            Side::IssueTracker => "issue-tracker",
        }
    }

    /// The side a stored name names; `column` says where the value was read.
    pub fn from_stored(column: &'static str, value: &str) -> Result<Side, UnknownName> {
        Side::BOTH
            .into_iter()
            .find(|s| s.stored_name() == value)
            .ok_or_else(|| UnknownName::new(column, value))
    }

    /// The product on this side, by the name messages show ("Spira").
    pub fn shown_as(self, connectors: &Connectors) -> &'static str {
        connectors.on(self).title
    }
}

/// Who made a link: an item copied from one side to the other, or two
/// items found already existing (by marker) and matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreatedBy {
    /// The side the item was first written on.
    Side(Side),
    Matched,
}

impl CreatedBy {
    const MATCHED: &str = "matched";

    /// Its name in the `links.created_by` column.
    pub fn stored_name(self) -> &'static str {
        match self {
            CreatedBy::Side(side) => side.stored_name(),
            CreatedBy::Matched => CreatedBy::MATCHED,
        }
    }

    pub fn from_stored(column: &'static str, value: &str) -> Result<CreatedBy, UnknownName> {
        if value == CreatedBy::MATCHED {
            return Ok(CreatedBy::Matched);
        }
        Side::from_stored(column, value).map(CreatedBy::Side)
    }
}

/// A stored name that is no side (or no creator) labsync knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    pub column: &'static str,
    pub value: String,
}

impl UnknownName {
    fn new(column: &'static str, value: &str) -> UnknownName {
        UnknownName {
            column,
            value: value.to_string(),
        }
    }
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: unknown value '{}'", self.column, self.value)
    }
}

impl std::error::Error for UnknownName {}

/// A product labsync connects to: `name` as the configuration and the
/// database spell it, `title` as messages show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connector {
    pub name: &'static str,
    pub title: &'static str,
}

impl Connector {
    pub const SPIRA: Connector = Connector {
        name: "spira",
        title: "Spira",
    };
    pub const GITLAB: Connector = Connector {
        name: "gitlab",
        title: "GitLab",
    };
}

/// The connector on each side of a plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connectors {
    pub test_management: Connector,
    pub issue_tracker: Connector,
}

impl Connectors {
    /// The one pair labsync has today.
    pub const SPIRA_GITLAB: Connectors = Connectors {
        test_management: Connector::SPIRA,
        issue_tracker: Connector::GITLAB,
    };

    pub fn on(&self, side: Side) -> Connector {
        match side {
            Side::TestManagement => self.test_management,
            Side::IssueTracker => self.issue_tracker,
        }
    }
}

/// The value of one field, for comparing and copying fields generically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Text(String),
    Id(Option<i64>),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(t) => f.write_str(t),
            Value::Id(Some(id)) => write!(f, "{id}"),
            Value::Id(None) => f.write_str("(none)"),
        }
    }
}

/// The synced fields of one pair, in test-management terms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub title: String,
    /// Markdown, normalised so that a round trip through the test-management
    /// side's HTML is stable.
    pub description: String,
    /// The test-management side's status id.
    pub status: Option<i64>,
    /// Its priority id.
    pub priority: Option<i64>,
    /// Its user id of the owner / assignee.
    pub assignee: Option<i64>,
    /// Its release id (the item's resolved/planned release).
    pub release: Option<i64>,
}

/// What GitLab shows for a pair's base where it kept something other than
/// what labsync sent (see `sync::kept`): GitLab showing it is not an edit.
/// Assignee username and milestone title in lower case ("" for none), the
/// description's body as GitLab stored it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerKept {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl TrackerKept {
    pub fn is_empty(&self) -> bool {
        *self == TrackerKept::default()
    }

    /// The record for `field` (only assignee, release and description have one).
    pub fn get(&self, field: Field) -> Option<&String> {
        match field {
            Field::Assignee => self.assignee.as_ref(),
            Field::Release => self.milestone.as_ref(),
            Field::Description => self.description.as_ref(),
            _ => None,
        }
    }

    pub fn set(&mut self, field: Field, value: Option<String>) {
        match field {
            Field::Assignee => self.assignee = value,
            Field::Release => self.milestone = value,
            Field::Description => self.description = value,
            _ => {}
        }
    }
}

impl Ticket {
    pub fn get(&self, field: Field) -> Value {
        match field {
            Field::Title => Value::Text(self.title.clone()),
            Field::Description => Value::Text(self.description.clone()),
            Field::Status => Value::Id(self.status),
            Field::Priority => Value::Id(self.priority),
            Field::Assignee => Value::Id(self.assignee),
            Field::Release => Value::Id(self.release),
        }
    }

    /// Sets `field`; a value of the wrong kind is ignored (it cannot come
    /// from [`Ticket::get`] of the same field).
    pub fn set(&mut self, field: Field, value: Value) {
        match (field, value) {
            (Field::Title, Value::Text(t)) => self.title = t,
            (Field::Description, Value::Text(t)) => self.description = t,
            (Field::Status, Value::Id(v)) => self.status = v,
            (Field::Priority, Value::Id(v)) => self.priority = v,
            (Field::Assignee, Value::Id(v)) => self.assignee = v,
            (Field::Release, Value::Id(v)) => self.release = v,
            _ => {}
        }
    }

    /// A hash of the record that is stable across builds and platforms
    /// (FNV-1a over its JSON), stored beside the base to detect tampering
    /// and to compare quickly.
    pub fn stable_hash(&self) -> String {
        stable_hash(self)
    }
}

/// FNV-1a over a value's JSON: stable across builds and platforms.
pub fn stable_hash<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in json {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_set_round_trip_every_field() {
        let source = Ticket {
            title: "Login fails".into(),
            description: "Steps".into(),
            status: Some(2),
            priority: Some(1),
            assignee: Some(7),
            release: None,
        };
        let mut copy = Ticket::default();
        for f in Field::ALL {
            copy.set(f, source.get(f));
        }
        assert_eq!(copy, source);
    }

    #[test]
    fn a_side_reads_back_from_its_stored_name_and_nothing_else_does() {
        for side in Side::BOTH {
            assert_eq!(Side::from_stored("side", side.stored_name()), Ok(side));
            assert_ne!(side.other(), side);
            assert_eq!(side.other().other(), side);
            let by = CreatedBy::Side(side);
            assert_eq!(
                CreatedBy::from_stored("created_by", by.stored_name()),
                Ok(by)
            );
        }
        assert_eq!(
            CreatedBy::from_stored("created_by", "matched"),
            Ok(CreatedBy::Matched)
        );
        let err = Side::from_stored("errors.side", "matched").unwrap_err();
        assert_eq!(err.to_string(), "errors.side: unknown value 'matched'");
        assert!(Side::from_stored("side", "").is_err());
    }

    #[test]
    fn messages_name_the_product_on_each_side() {
        let c = Connectors::SPIRA_GITLAB;
        assert_eq!(Side::TestManagement.shown_as(&c), "Spira");
        assert_eq!(Side::IssueTracker.shown_as(&c), "GitLab");
        assert_eq!(c.on(Side::IssueTracker).name, "gitlab");
    }

    #[test]
    fn hash_is_stable_and_sensitive() {
        let t = Ticket {
            title: "A".into(),
            ..Ticket::default()
        };
        assert_eq!(t.stable_hash(), t.clone().stable_hash());
        // Pinned: a change of this value means bases stored by older builds
        // would all look modified.
        assert_eq!(t.stable_hash(), "11368b0ab436b1a6");
        let u = Ticket {
            title: "B".into(),
            ..Ticket::default()
        };
        assert_ne!(t.stable_hash(), u.stable_hash());
    }
}
