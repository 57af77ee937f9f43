//! The [`TestManagement`] suite: what the engine relies on from a
//! test-management connector. Evidence for Spira's behaviour is in
//! ../shared/reference/spira-api.md (cited "spira §n").

mod comments;
mod kept;
mod listing;
mod writes;

pub use comments::*;
pub use kept::*;
pub use listing::*;
pub use writes::*;

use labsync::sync::connector::{ErrorKind, TestManagement, TmEdit, TmItem};

use super::TmSubject;

/// A new item the way the engine makes one: a title and HTML.
fn new_item(s: &TmSubject, what: &str) -> TmEdit {
    let title = s.unique(what);
    TmEdit {
        description: Some(format!("<p>{title}</p>")),
        title: Some(title),
        ..TmEdit::default()
    }
}

async fn create(s: &TmSubject, what: &str) -> TmItem {
    s.connector
        .create(s.project, &new_item(s, what))
        .await
        .unwrap()
}

fn id(item: &TmItem) -> i64 {
    item.id.expect("an item the connector answered has an id")
}

/// Renames item `id`, as a person saving it elsewhere would.
async fn rename(s: &TmSubject, id: i64, what: &str) -> TmItem {
    let edit = TmEdit {
        title: Some(s.unique(what)),
        ..TmEdit::default()
    };
    s.connector
        .update(s.project, id, None, &edit, true)
        .await
        .unwrap()
}

async fn kind_of_get(tm: &dyn TestManagement, project: i64, id: i64) -> Option<ErrorKind> {
    tm.get(project, id).await.err().map(|e| e.kind().clone())
}
