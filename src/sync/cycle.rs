//! One cycle of one plugin: for each active project mapping, read both
//! sides since their watermarks (minus the overlap), sync every changed
//! item, retry the items whose turn in the error queue has come, and move
//! each watermark only past what is done.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures_util::StreamExt;

use crate::config::Plugin;
use crate::gitlab::GitLabClient;
use crate::http::HttpSettings;
use crate::spira::SpiraClient;
use crate::store::Store;
use crate::store::progress::SideName;

use super::SyncError;
use super::context::ProjectCtx;
use super::pair::{self, Pass};
use super::report::{CycleReport, ProjectReport};

#[derive(Clone, Debug)]
pub struct CycleOptions {
    /// schedule | sync-now | demo (stored in the run log).
    pub trigger: &'static str,
    /// Compute and report what would be written; write nothing.
    pub dry_run: bool,
    pub http: HttpSettings,
    /// Set by SIGTERM/SIGINT: the cycle stops after the item in hand, and
    /// watermarks move only past what was done.
    pub stop: Option<Arc<AtomicBool>>,
    /// Counts items as they are done, for a progress display.
    pub progress: Option<Arc<super::report::Progress>>,
}

impl CycleOptions {
    fn stopping(&self) -> bool {
        stopping(self.stop.as_deref())
    }
}

fn stopping(stop: Option<&AtomicBool>) -> bool {
    stop.is_some_and(|s| s.load(Ordering::SeqCst))
}

/// Runs one cycle of `plugin`. Never panics on outside data; every problem
/// ends up in the report (fatal per project, or per item).
pub async fn run_plugin(plugin: &Plugin, store: &mut Store, opts: &CycleOptions) -> CycleReport {
    let mut report = CycleReport {
        plugin: plugin.name.clone(),
        projects: Vec::new(),
        stopped: false,
    };
    let projects = match store.projects(Some(&plugin.name)) {
        Ok(p) => p.into_iter().filter(|p| p.active).collect::<Vec<_>>(),
        Err(e) => {
            report.projects.push(ProjectReport {
                fatal: Some(e.to_string()),
                ..ProjectReport::default()
            });
            return report;
        }
    };
    let clients = connect(plugin, &opts.http);
    let (gitlab, spira) = match clients {
        Ok(c) => c,
        Err(e) => {
            report.projects.push(ProjectReport {
                fatal: Some(e.to_string()),
                ..ProjectReport::default()
            });
            return report;
        }
    };
    let run_id = if opts.dry_run {
        None
    } else {
        store.start_run(&plugin.name, opts.trigger).ok()
    };
    for p in projects {
        if opts.stopping() {
            report.stopped = true;
            break;
        }
        let pr = sync_project(
            plugin,
            &gitlab,
            &spira,
            store,
            run_id,
            p.spira_project,
            &p.gitlab_project,
            opts,
        )
        .await;
        report.projects.push(pr);
    }
    report.stopped |= opts.stopping();
    if let Some(id) = run_id {
        let summary = serde_json::to_value(report.totals()).unwrap_or_default();
        if let Err(e) = store.finish_run(id, report.result(), &summary) {
            tracing::error!(plugin = %plugin.name, cause = %e, "could not record the run");
        }
    }
    report
}

fn connect(plugin: &Plugin, http: &HttpSettings) -> Result<(GitLabClient, SpiraClient), SyncError> {
    let token = plugin
        .gitlab
        .token()
        .map_err(|e| SyncError::Config(format!("plugin '{}': gitlab.token: {e}", plugin.name)))?;
    let key = plugin
        .spira
        .api_key()
        .map_err(|e| SyncError::Config(format!("plugin '{}': spira.api_key: {e}", plugin.name)))?;
    let gitlab = GitLabClient::new(
        plugin.gitlab.base_url.as_str(),
        token,
        plugin.gitlab.http(http),
    )?;
    let spira = SpiraClient::new(
        plugin.spira.base_url.as_str(),
        plugin.spira.login.clone(),
        key,
        plugin.spira.http(http),
    )?;
    Ok((gitlab, spira))
}

/// Where a first cycle starts when no sync_since is given.
fn beginning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Tracks how far a side's read may move its watermark.
#[derive(Default)]
struct SideProgress {
    /// The server's clock when the read began: everything changed before it was seen.
    read_start: Option<DateTime<Utc>>,
    max_seen: Option<DateTime<Utc>>,
    first_failed: Option<DateTime<Utc>>,
    complete: bool,
}

impl SideProgress {
    /// Notes the server's clock at the first answer of the listing.
    fn started(&mut self, server_now: Option<DateTime<Utc>>) {
        if self.read_start.is_none() {
            // The Date header has whole seconds: step back one to stay safe.
            self.read_start = server_now.map(|t| t - Duration::seconds(1));
        }
    }

    fn seen(&mut self, at: Option<DateTime<Utc>>) {
        self.max_seen = self.max_seen.max(at);
    }

    fn failed(&mut self, at: Option<DateTime<Utc>>) {
        if let Some(t) = at {
            self.first_failed = Some(self.first_failed.map_or(t, |f| f.min(t)));
        }
    }

    /// The new watermark: the read's start (or the newest item seen), held
    /// back before the first item that failed.
    fn watermark(&self) -> Option<DateTime<Utc>> {
        if !self.complete {
            return None;
        }
        let mark = self.read_start.or(self.max_seen)?;
        Some(match self.first_failed {
            Some(f) => mark.min(f - Duration::milliseconds(1)),
            None => mark,
        })
    }
}

#[allow(clippy::too_many_arguments)]
async fn sync_project(
    plugin: &Plugin,
    gitlab: &GitLabClient,
    spira: &SpiraClient,
    store: &mut Store,
    run_id: Option<i64>,
    spira_project: i64,
    gitlab_project: &str,
    opts: &CycleOptions,
) -> ProjectReport {
    let (dry_run, stop) = (opts.dry_run, opts.stop.as_deref());
    let mut report = ProjectReport {
        spira_project,
        gitlab_project: gitlab_project.to_string(),
        ..ProjectReport::default()
    };
    let Ok(spira_id) = u32::try_from(spira_project) else {
        report.fatal = Some(format!("{spira_project} is not a Spira project id"));
        return report;
    };
    // The project's setup (lookups, users, milestones...) is read only when
    // an item needs it: a quiet cycle costs one listing per side.
    let mut slot: Option<ProjectCtx<'_>> = None;
    let load = Loader {
        plugin,
        gitlab,
        spira,
        spira_project,
        gitlab_project,
        dry_run,
    };
    let offset = Duration::from_std(plugin.time_offset).unwrap_or(Duration::minutes(2));
    let start_of = |mark: Option<DateTime<Utc>>| {
        mark.map(|m| m - offset)
            .or(plugin.sync_since)
            .unwrap_or_else(beginning)
    };
    let marks = (
        store.watermark(&plugin.name, spira_project, SideName::Spira),
        store.watermark(&plugin.name, spira_project, SideName::GitLab),
    );
    let (spira_mark, gitlab_mark) = match marks {
        (Ok(s), Ok(g)) => (s, g),
        (Err(e), _) | (_, Err(e)) => {
            report.fatal = Some(e.to_string());
            return report;
        }
    };
    let mut pass = Pass {
        store,
        run_id,
        dry_run,
        counts: Default::default(),
        planned: Vec::new(),
        progress: opts.progress.clone(),
    };
    let mut done_incidents = HashSet::new();

    // Spira: incidents changed since the watermark.
    let mut spira_progress = SideProgress::default();
    {
        let stream = spira.incidents_changed_since(spira_id, start_of(spira_mark));
        futures_util::pin_mut!(stream);
        loop {
            let next = stream.next().await;
            spira_progress.started(spira.server_now());
            match next {
                None => {
                    spira_progress.complete = true;
                    break;
                }
                // The side could not be read: the project did not sync
                // (exit 2); the other side still does, and nothing moves the watermark.
                Some(Err(e)) => {
                    tracing::error!(plugin = %plugin.name, project = spira_project, cause = %e, "cannot read Spira incidents");
                    report
                        .fatal
                        .get_or_insert(format!("reading Spira incidents: {e}"));
                    break;
                }
                // Stopping leaves the read incomplete: the watermark stays.
                Some(Ok(_)) if stopping(stop) => break,
                Some(Ok(incident)) => {
                    let id = incident.incident_id.unwrap_or(0);
                    spira_progress.seen(incident.last_update_date);
                    // Listed again because this cycle's own write moved it:
                    // synced already, and a change by someone else after
                    // the read began is past the watermark, for the next cycle.
                    if !done_incidents.insert(i64::from(id)) {
                        continue;
                    }
                    if let Some(p) = &pass.progress {
                        p.spira_items
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    let ctx = match load.ensure(&mut slot, pass.store).await {
                        Ok(c) => c,
                        Err(e) => return stop_project(report, pass, plugin, spira_project, &e),
                    };
                    if let Err(e) = pair::from_incident(ctx, &mut pass, &incident).await {
                        if fail(
                            &mut pass,
                            &mut report,
                            ctx,
                            SideName::Spira,
                            i64::from(id),
                            &e,
                        ) {
                            return finish(report, pass);
                        }
                        spira_progress.failed(incident.last_update_date);
                    }
                }
            }
        }
    }

    // GitLab: issues changed since the watermark (those just synced from the Spira side are skipped).
    let mut gitlab_progress = SideProgress::default();
    if !stopping(stop) {
        let project = crate::gitlab::ProjectRef::parse(gitlab_project);
        let stream = gitlab.list_issues_updated_since(&project, Some(start_of(gitlab_mark)));
        futures_util::pin_mut!(stream);
        loop {
            let next = stream.next().await;
            gitlab_progress.started(gitlab.server_now());
            match next {
                None => {
                    gitlab_progress.complete = true;
                    break;
                }
                Some(Err(e)) => {
                    tracing::error!(plugin = %plugin.name, project = spira_project, cause = %e, "cannot read GitLab issues");
                    report
                        .fatal
                        .get_or_insert(format!("reading GitLab issues: {e}"));
                    break;
                }
                Some(Ok(_)) if stopping(stop) => break,
                Some(Ok(issue)) => {
                    gitlab_progress.seen(Some(issue.updated_at));
                    let linked = pass.store.link_by_issue(
                        &plugin.name,
                        issue.project_id as i64,
                        issue.id as i64,
                    );
                    if let Ok(Some(link)) = &linked
                        && done_incidents.contains(&link.incident_id)
                    {
                        continue;
                    }
                    if let Some(p) = &pass.progress {
                        p.gitlab_items
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    let ctx = match load.ensure(&mut slot, pass.store).await {
                        Ok(c) => c,
                        Err(e) => return stop_project(report, pass, plugin, spira_project, &e),
                    };
                    if let Err(e) = pair::from_issue(ctx, &mut pass, &issue).await {
                        if fail(
                            &mut pass,
                            &mut report,
                            ctx,
                            SideName::GitLab,
                            issue.iid as i64,
                            &e,
                        ) {
                            return finish(report, pass);
                        }
                        gitlab_progress.failed(Some(issue.updated_at));
                    }
                }
            }
        }
    }

    let sweep = plugin.comment_sweep.filter(|_| !dry_run);
    let sweep_due = match (sweep, spira.server_now()) {
        (Some(every), Some(now)) => pass
            .store
            .links_due_for_comment_check(
                &plugin.name,
                spira_project,
                now - Duration::from_std(every).unwrap_or(Duration::minutes(15)),
                1,
            )
            .map(|due| !due.is_empty())
            .unwrap_or(true),
        _ => false,
    };
    let retry_waiting = pass
        .store
        .queued_errors(&plugin.name, spira_project)
        .map(|q| q.iter().any(|e| !e.parked && e.next_try <= Utc::now()))
        .unwrap_or(true);
    if (sweep_due || retry_waiting) && !stopping(stop) {
        let ctx = match load.ensure(&mut slot, pass.store).await {
            Ok(c) => c,
            Err(e) => return stop_project(report, pass, plugin, spira_project, &e),
        };
        if let Some(every) = sweep.filter(|_| sweep_due) {
            sweep_comments(ctx, &mut pass, &mut report, every, &done_incidents, stop).await;
        }
        if retry_waiting {
            retry_due(ctx, &mut pass, &mut report, stop).await;
        }
    }

    if !dry_run {
        for (side, progress) in [
            (SideName::Spira, &spira_progress),
            (SideName::GitLab, &gitlab_progress),
        ] {
            if let Some(mark) = progress.watermark()
                && let Err(e) =
                    pass.store
                        .advance_watermark(&plugin.name, spira_project, side, mark)
            {
                report
                    .failures
                    .push(format!("saving the {} watermark: {e}", side.as_str()));
            }
        }
    }
    finish(report, pass)
}

/// What loading a project's setup needs; loaded once, on first need.
struct Loader<'a> {
    plugin: &'a Plugin,
    gitlab: &'a GitLabClient,
    spira: &'a SpiraClient,
    spira_project: i64,
    gitlab_project: &'a str,
    dry_run: bool,
}

impl<'a> Loader<'a> {
    async fn ensure<'s>(
        &self,
        slot: &'s mut Option<ProjectCtx<'a>>,
        store: &mut Store,
    ) -> Result<&'s mut ProjectCtx<'a>, SyncError> {
        if slot.is_none() {
            let ctx = ProjectCtx::load(
                self.plugin,
                self.gitlab,
                self.spira,
                store,
                self.spira_project,
                self.gitlab_project,
                self.dry_run,
            )
            .await?;
            *slot = Some(ctx);
        }
        slot.as_mut()
            .ok_or_else(|| SyncError::Config("project setup vanished".into()))
    }
}

/// The project cannot go on (setup failed): say why, keep what was done.
fn stop_project(
    mut report: ProjectReport,
    pass: Pass<'_>,
    plugin: &Plugin,
    project: i64,
    e: &SyncError,
) -> ProjectReport {
    tracing::error!(plugin = %plugin.name, project, cause = %e, "project not synced");
    report.fatal = Some(e.to_string());
    finish(report, pass)
}

fn finish(mut report: ProjectReport, pass: Pass<'_>) -> ProjectReport {
    report.counts = pass.counts;
    report.planned = pass.planned;
    report
}

/// Records a failed item. Returns true when the failure stops the project
/// (credentials refused, database trouble): retrying items would not help.
fn fail(
    pass: &mut Pass<'_>,
    report: &mut ProjectReport,
    ctx: &ProjectCtx<'_>,
    side: SideName,
    item: i64,
    e: &SyncError,
) -> bool {
    let what = match side {
        SideName::Spira => format!("incident IN:{item}"),
        SideName::GitLab => format!("issue #{item}"),
    };
    if e.is_fatal() {
        tracing::error!(plugin = %ctx.plugin.name, project = ctx.spira_project, cause = %e, "project stopped");
        report.fatal = Some(e.to_string());
        return true;
    }
    tracing::warn!(plugin = %ctx.plugin.name, project = ctx.spira_project, item = %what, cause = %e, "item failed; it will be retried");
    pass.counts.failed += 1;
    if let Some(p) = &pass.progress {
        p.failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    report.failures.push(format!("{what}: {e}"));
    if !pass.dry_run
        && let Err(store_error) = pass.store.record_error(
            &ctx.plugin.name,
            i64::from(ctx.spira_project),
            side,
            item,
            &e.to_string(),
            Utc::now(),
        )
    {
        report
            .failures
            .push(format!("{what}: could not queue the error: {store_error}"));
    }
    false
}

/// Linked incidents read per cycle by the comment sweep.
const SWEEP_BATCH: usize = 50;

/// Spira may not move an incident's LastUpdateDate when a comment is added,
/// so the comments of linked incidents not seen this cycle are read again
/// once per `every` (by Spira's clock), a batch at a time; a pair with a new
/// comment is synced in full.
async fn sweep_comments(
    ctx: &mut ProjectCtx<'_>,
    pass: &mut Pass<'_>,
    report: &mut ProjectReport,
    every: std::time::Duration,
    done: &HashSet<i64>,
    stop: Option<&AtomicBool>,
) {
    let Some(now) = ctx.spira.server_now() else {
        return;
    };
    let before = now - Duration::from_std(every).unwrap_or(Duration::minutes(15));
    let due = match pass.store.links_due_for_comment_check(
        &ctx.plugin.name,
        i64::from(ctx.spira_project),
        before,
        SWEEP_BATCH,
    ) {
        Ok(d) => d,
        Err(e) => {
            report.failures.push(e.to_string());
            return;
        }
    };
    for link in due.into_iter().filter(|l| !done.contains(&l.incident_id)) {
        if stopping(stop) {
            return;
        }
        let id = link.incident_id as u32;
        let result = async {
            let comments = ctx.spira.list_comments(ctx.spira_project, id).await?;
            let fresh = comments.iter().any(|c| {
                c.comment_id
                    .is_some_and(|n| i64::from(n) > link.last_comment_id)
            });
            if fresh {
                let incident = ctx.spira.get_incident(ctx.spira_project, id).await?;
                pair::from_incident(ctx, pass, &incident).await
            } else {
                pass.store
                    .mark_comments_checked(link.id, now)
                    .map_err(SyncError::from)
            }
        }
        .await;
        if let Err(e) = result
            && fail(pass, report, ctx, SideName::Spira, link.incident_id, &e)
        {
            return;
        }
    }
}

/// Items whose turn in the error queue has come are synced again, whether
/// or not they changed.
async fn retry_due(
    ctx: &mut ProjectCtx<'_>,
    pass: &mut Pass<'_>,
    report: &mut ProjectReport,
    stop: Option<&AtomicBool>,
) {
    let project = i64::from(ctx.spira_project);
    let queued = match pass.store.queued_errors(&ctx.plugin.name, project) {
        Ok(q) => q,
        Err(e) => {
            report.failures.push(e.to_string());
            return;
        }
    };
    let now = Utc::now();
    for q in queued
        .into_iter()
        .filter(|q| !q.parked && q.next_try <= now)
    {
        if stopping(stop) {
            return;
        }
        let result = match q.side.as_str() {
            "spira" => match ctx
                .spira
                .get_incident(ctx.spira_project, q.item_id as u32)
                .await
            {
                Ok(incident) => pair::from_incident(ctx, pass, &incident).await,
                Err(e) => Err(e.into()),
            },
            _ => match ctx
                .gitlab
                .get_issue(&ctx.gitlab_ref, q.item_id as u64)
                .await
            {
                Ok(issue) => pair::from_issue(ctx, pass, &issue).await,
                Err(e) => Err(e.into()),
            },
        };
        if let Err(e) = result {
            let side = if q.side == "spira" {
                SideName::Spira
            } else {
                SideName::GitLab
            };
            if fail(pass, report, ctx, side, q.item_id, &e) {
                return;
            }
        }
    }
}
