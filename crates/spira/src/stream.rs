//! "Incidents changed since T", read page by page as a stream.
//!
//! Spira's search is offset-paged and sorted ascending by `LastUpdateDate`.
//! Plain offsets skip items when one is edited mid-read (it moves to the end
//! and every later row shifts up one), so each next page starts again from
//! the newest `LastUpdateDate` seen (the filter is inclusive), and what is
//! read twice is dropped. Offsets are used only while a whole page shares
//! one timestamp, where the cursor cannot move.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt, stream};

use super::client::SpiraClient;
use super::error::SpiraError;
use super::types::{DateRange, Filter, Incident};
use labsync_model::inflight::InFlight;

struct Cursor {
    /// Lower bound (inclusive) of the next page's LastUpdateDate filter.
    from: DateTime<Utc>,
    /// Rows to pass over at `from` (only when a whole page shared it).
    skip: u32,
    /// LastUpdateDate of each incident already given out.
    seen: HashMap<u32, Option<DateTime<Utc>>>,
    done: bool,
}

impl SpiraClient {
    /// Incidents of `project` with `LastUpdateDate >= since`, oldest change
    /// first, each given once per call (again only if it changed meanwhile).
    /// The stream ends after the first error.
    pub fn incidents_changed_since(
        &self,
        project: u32,
        since: DateTime<Utc>,
    ) -> impl Stream<Item = Result<Incident, SpiraError>> + Send + '_ {
        self.incidents_changed_since_settling(project, since, InFlight::default())
    }

    /// The same, for a consumer that syncs several incidents at once: before
    /// it reads on by offset inside a group of one timestamp, it waits until
    /// none of `in_flight` is left, since a write would shift the rows.
    pub fn incidents_changed_since_settling(
        &self,
        project: u32,
        since: DateTime<Utc>,
        in_flight: InFlight,
    ) -> impl Stream<Item = Result<Incident, SpiraError>> + Send + '_ {
        let cursor = Cursor {
            from: since,
            skip: 0,
            seen: HashMap::new(),
            done: false,
        };
        stream::unfold(cursor, move |mut cursor| {
            let in_flight = in_flight.clone();
            async move {
                if cursor.done {
                    return None;
                }
                let filters = [Filter {
                    property_name: "LastUpdateDate".to_string(),
                    date_range_value: Some(DateRange {
                        start_date: Some(cursor.from),
                        end_date: None,
                        consider_times: true,
                    }),
                    ..Filter::default()
                }];
                let rows = self.page_size();
                // The pages of a group of one timestamp are read back to
                // back, before any of it is synced (and so moved), and only
                // while no item is in flight: once a group shows, wait for
                // the consumer, then read the group again from its start.
                let mut quiet = in_flight.current() == 0;
                let mut fresh = Vec::new();
                loop {
                    if cursor.skip > 0 && !quiet {
                        in_flight.settled().await;
                        quiet = true;
                        cursor.skip = 0;
                    }
                    let page = match self
                        .search_incidents(
                            project,
                            &filters,
                            1 + cursor.skip,
                            rows,
                            "LastUpdateDate",
                        )
                        .await
                    {
                        Ok(page) => page,
                        Err(e) => {
                            cursor.done = true;
                            fresh.push(Err(e));
                            break;
                        }
                    };
                    let full = page.len() as u32 >= rows;
                    let newest = page.iter().filter_map(|i| i.last_update_date).max();
                    match newest {
                        _ if !full => cursor.done = true,
                        Some(newest) if newest > cursor.from => {
                            cursor.from = newest;
                            cursor.skip = 0;
                        }
                        _ => cursor.skip += page.len() as u32,
                    }
                    fresh.extend(
                        page.into_iter()
                            .filter(|i| first_sight(&mut cursor.seen, i))
                            .map(Ok),
                    );
                    if cursor.done || cursor.skip == 0 {
                        break;
                    }
                }
                Some((fresh, cursor))
            }
        })
        .flat_map(stream::iter)
    }
}

/// True unless this very version of the incident was given out already.
fn first_sight(seen: &mut HashMap<u32, Option<DateTime<Utc>>>, incident: &Incident) -> bool {
    let Some(id) = incident.incident_id else {
        return true;
    };
    match seen.get(&id) {
        Some(prev) if *prev >= incident.last_update_date => false,
        _ => {
            seen.insert(id, incident.last_update_date);
            true
        }
    }
}
