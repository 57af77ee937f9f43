//! The probe `labsync check` runs on a Spira project: two behaviours no
//! document settles (reference §13 row 7), measured on the live server.
//!
//! - Whether a LastUpdateDate search finds a change from its own
//!   LastUpdateDate, or the server applies a time-zone offset to date
//!   filters (then changes are skipped unless `time_offset` covers it).
//! - Whether adding a comment moves an incident's LastUpdateDate (if not,
//!   only the comment sweep finds new comments).
//!
//! Both need an incident whose dates are known, so the probe creates a
//! scratch incident, comments on it and deletes it again, and says so.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::check::Finding;
use crate::config::Plugin;
use crate::spira::{DateRange, Filter, Incident, SpiraClient, SpiraError};

/// The largest offset looked for: every time zone is within 14 hours.
const MAX_OFFSET_HOURS: i64 = 14;

/// Runs the probe on Spira project `pid`; findings name the plugin.
pub(super) async fn probe(client: &SpiraClient, pid: u32, plugin: &Plugin) -> Vec<Finding> {
    let name = &plugin.name;
    let scratch = Incident {
        name: Some("labsync check: probe, safe to delete".into()),
        description: Some(
            "<p>Made by <code>labsync check</code> to measure this server; it deletes it again.</p>"
                .into(),
        ),
        ..Incident::default()
    };
    let created = match client.create_incident(pid, &scratch).await {
        Ok(c) => c,
        Err(e) => {
            return vec![Finding::warning(format!(
                "plugin '{name}': Spira project PR:{pid}: probe not run (it needs to create a scratch incident): {e}"
            ))];
        }
    };
    let (Some(id), Some(updated)) = (created.incident_id, created.last_update_date) else {
        return vec![Finding::warning(format!(
            "plugin '{name}': Spira project PR:{pid}: probe not run: the scratch incident came back without id or LastUpdateDate"
        ))];
    };
    let mut out = vec![Finding::ok(format!(
        "plugin '{name}': Spira project PR:{pid}: probing with scratch incident IN:{id} (created now, deleted after the probe)"
    ))];
    out.push(match filter_lag(client, pid, id, updated).await {
        Ok(lag) => offset_finding(plugin, pid, lag),
        Err(e) => Finding::warning(format!(
            "plugin '{name}': Spira project PR:{pid}: date filter probe failed: {e}"
        )),
    });
    out.push(match comment_moves_date(client, pid, id, updated).await {
        Ok(moves) => comment_finding(plugin, pid, moves),
        Err(e) => Finding::warning(format!(
            "plugin '{name}': Spira project PR:{pid}: comment probe failed: {e}"
        )),
    });
    if let Err(e) = client.delete_incident(pid, id).await {
        out.push(Finding::warning(format!(
            "plugin '{name}': Spira project PR:{pid}: could not delete the scratch incident IN:{id}; delete it by hand: {e}"
        )));
    }
    out
}

/// Hours by which a search from `updated` misses the incident changed at
/// `updated`: 0 when the server compares in UTC, `None` when it is not
/// found even 14 hours earlier.
async fn filter_lag(
    client: &SpiraClient,
    pid: u32,
    id: u32,
    updated: DateTime<Utc>,
) -> Result<Option<i64>, SpiraError> {
    for hours in 0..=MAX_OFFSET_HOURS {
        let filters = [
            Filter {
                property_name: "IncidentId".into(),
                int_value: Some(i64::from(id)),
                ..Filter::default()
            },
            Filter {
                property_name: "LastUpdateDate".into(),
                date_range_value: Some(DateRange {
                    start_date: Some(updated - chrono::Duration::hours(hours)),
                    end_date: None,
                    consider_times: true,
                }),
                ..Filter::default()
            },
        ];
        let found = client
            .search_incidents(pid, &filters, 1, 1, "IncidentId")
            .await?;
        if !found.is_empty() {
            return Ok(Some(hours));
        }
    }
    Ok(None)
}

fn offset_finding(plugin: &Plugin, pid: u32, lag: Option<i64>) -> Finding {
    let name = &plugin.name;
    let prefix = format!("plugin '{name}': Spira project PR:{pid}: date filters");
    match lag {
        Some(0) => Finding::ok(format!(
            "{prefix} find a change from its own LastUpdateDate (no time-zone offset)"
        )),
        Some(hours) if plugin.time_offset >= Duration::from_secs(hours as u64 * 3600) => {
            Finding::ok(format!(
                "{prefix} run up to {hours} h late (a server time-zone offset); time_offset {} covers it",
                humantime::format_duration(plugin.time_offset)
            ))
        }
        Some(hours) => Finding::warning(format!(
            "{prefix} run up to {hours} h late (a server time-zone offset): changes would be missed; set time_offset = \"{hours}h\" or more (now {})",
            humantime::format_duration(plugin.time_offset)
        )),
        None => Finding::warning(format!(
            "{prefix} did not find a change even {MAX_OFFSET_HOURS} h before it: incremental sync may miss changes"
        )),
    }
}

/// Adds a comment to the scratch incident and reads it again.
async fn comment_moves_date(
    client: &SpiraClient,
    pid: u32,
    id: u32,
    before: DateTime<Utc>,
) -> Result<bool, SpiraError> {
    client
        .add_comment(pid, id, "<p>labsync check probe</p>", None)
        .await?;
    let after = client.get_incident(pid, id).await?;
    Ok(after.last_update_date.is_some_and(|d| d > before))
}

fn comment_finding(plugin: &Plugin, pid: u32, moves: bool) -> Finding {
    let name = &plugin.name;
    let prefix = format!("plugin '{name}': Spira project PR:{pid}:");
    let sweep = plugin.comment_sweep.map(humantime::format_duration);
    match (moves, sweep) {
        (true, Some(every)) => Finding::ok(format!(
            "{prefix} adding a comment moves LastUpdateDate, so comments are found with their incident; comment_sweep = \"off\" would save the sweep's requests (now every {every})"
        )),
        (true, None) => Finding::ok(format!(
            "{prefix} adding a comment moves LastUpdateDate; comment_sweep = \"off\" is right"
        )),
        (false, Some(every)) => Finding::ok(format!(
            "{prefix} adding a comment does not move LastUpdateDate; the comment sweep (every {every}) finds new comments: keep comment_sweep on"
        )),
        (false, None) => Finding::warning(format!(
            "{prefix} adding a comment does not move LastUpdateDate, and comment_sweep is off: new Spira comments would be missed; set comment_sweep = \"15m\""
        )),
    }
}
