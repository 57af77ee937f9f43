//! What the daemon says about a cycle: one log line, and the STATUS= text
//! `systemctl status` shows.

use chrono::{DateTime, Local, Utc};

use crate::sync::CycleReport;

/// "webshop: ok at 14:05:03 (2 created, 5 updated, 0 failed); next 14:10:04"
pub(crate) fn line(report: &CycleReport, at: DateTime<Utc>, next: Option<DateTime<Utc>>) -> String {
    let t = report.totals();
    let mut text = format!(
        "{}: {} at {} ({} created, {} updated, {} failed)",
        report.plugin,
        report.result(),
        at.with_timezone(&Local).format("%H:%M:%S"),
        t.created_issues + t.created_incidents,
        t.updated_issues + t.updated_incidents,
        t.failed
    );
    if let Some(next) = next {
        text.push_str(&format!(
            "; next {}",
            next.with_timezone(&Local).format("%H:%M:%S")
        ));
    }
    text
}

/// One line per cycle, with how long it took and (for the daemon) when the
/// next one runs; the cause of each project that could not sync.
pub(crate) fn log(report: &CycleReport, took: std::time::Duration, next: Option<DateTime<Utc>>) {
    let t = report.totals();
    for p in &report.projects {
        if let Some(cause) = &p.fatal {
            tracing::error!(plugin = %report.plugin, project = p.tm_project, %cause, "project not synced");
        }
    }
    let duration = format!("{:.3}s", took.as_secs_f64());
    let next = next.map(|n| {
        n.with_timezone(&Local)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    });
    tracing::info!(
        plugin = %report.plugin,
        result = report.result(),
        created = t.created_issues + t.created_incidents,
        updated = t.updated_issues + t.updated_incidents,
        comments = t.comments_to_tracker + t.comments_to_tm,
        conflicts = t.conflicts,
        failed = t.failed,
        %duration,
        next,
        "cycle done"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{Counts, ProjectReport};

    #[test]
    fn the_status_line_sums_up_the_cycle() {
        let report = CycleReport {
            plugin: "webshop".into(),
            projects: vec![ProjectReport {
                counts: Counts {
                    created_issues: 1,
                    created_incidents: 1,
                    updated_issues: 5,
                    failed: 0,
                    ..Counts::default()
                },
                ..ProjectReport::default()
            }],
            stopped: false,
        };
        let text = line(&report, Utc::now(), Some(Utc::now()));
        assert!(
            text.starts_with("webshop: ok at ")
                && text.contains("(2 created, 5 updated, 0 failed); next "),
            "{text}"
        );
        let stopped = CycleReport {
            stopped: true,
            ..report
        };
        let text = line(&stopped, Utc::now(), None);
        assert!(text.starts_with("webshop: interrupted at "), "{text}");
        assert!(!text.contains("next"), "{text}");
    }
}
