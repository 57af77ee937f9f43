//! "Changed since" listings of the fakes, page by page as the consumer
//! pulls. Each page is cut from the data as it stands when it is read, so
//! an item saved while a listing runs moves to its end, as on a real
//! server; the cursor restarts from the newest timestamp given out (the
//! bound is inclusive) and drops what it gave out already, so nothing is
//! skipped and nothing is given twice unless it changed meanwhile.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use labsync::sync::connector::{ConnectorError, Listing};

/// One item as a page sees it.
pub(super) struct Row<T> {
    pub(super) key: u64,
    pub(super) updated: DateTime<Utc>,
    pub(super) item: T,
}

/// How items of one timestamp are ordered.
#[derive(Clone, Copy)]
pub(super) enum Ties {
    IdAscending,
    /// GitLab's `with_order_id_desc` (gitlab-org/gitlab
    /// `app/models/concerns/issuable.rb`; reference gitlab-api.md §16 #11).
    IdDescending,
}

struct Cursor {
    from: Option<DateTime<Utc>>,
    /// The timestamp each item had when it was given out.
    seen: HashMap<u64, DateTime<Utc>>,
    done: bool,
}

impl Cursor {
    fn page<T>(&mut self, rows: Vec<Row<T>>, size: usize, ties: Ties) -> Vec<T> {
        let mut fresh: Vec<Row<T>> = rows
            .into_iter()
            .filter(|r| self.from.is_none_or(|f| r.updated >= f))
            .filter(|r| self.seen.get(&r.key).is_none_or(|s| r.updated > *s))
            .collect();
        fresh.sort_by(|a, b| {
            a.updated.cmp(&b.updated).then(match ties {
                Ties::IdAscending => a.key.cmp(&b.key),
                Ties::IdDescending => b.key.cmp(&a.key),
            })
        });
        fresh.truncate(size.max(1));
        if fresh.len() < size.max(1) {
            self.done = true;
        }
        if let Some(last) = fresh.last() {
            self.from = Some(last.updated);
        }
        for r in &fresh {
            self.seen.insert(r.key, r.updated);
        }
        fresh.into_iter().map(|r| r.item).collect()
    }
}

/// A listing of the rows `read` gives (read again for every page).
pub(super) fn listing<'a, T, F>(
    from: Option<DateTime<Utc>>,
    size: usize,
    ties: Ties,
    read: F,
) -> Listing<'a, T>
where
    T: Send + 'a,
    F: Fn() -> Result<Vec<Row<T>>, ConnectorError> + Send + 'a,
{
    let cursor = Cursor {
        from,
        seen: HashMap::new(),
        done: false,
    };
    stream::unfold((cursor, read), move |(mut cursor, read)| async move {
        if cursor.done {
            return None;
        }
        let page = match read() {
            Ok(rows) => cursor.page(rows, size, ties).into_iter().map(Ok).collect(),
            Err(e) => {
                cursor.done = true;
                vec![Err(e)]
            }
        };
        Some((page, (cursor, read)))
    })
    .flat_map(stream::iter)
    .boxed()
}
