//! Which counterpart an item names on the other side, and how two writers
//! (two installs with their own databases, or one that crashed) end with one
//! counterpart per item.
//!
//! The rules:
//! - a marker or link-back found on the other side links, never creates,
//!   whichever database wrote it: an issue whose footer names an incident of
//!   the project, and an incident whose "GitLab Issue" property names an
//!   issue, are never the origin of a new counterpart; when the named item is
//!   linked elsewhere, the item is reported and left alone;
//! - an issue is created for an incident only after the incident is claimed
//!   (its "GitLab Issue" property set to `claim:<install>@<time>` with a PUT
//!   carrying the `ConcurrencyDate` just read: Spira's compare-and-set), and
//!   the claim is read again after the create;
//! - GitLab offers no compare-and-set on an issue, so an incident is created
//!   for an issue first and checked after: of the incidents that name the
//!   issue, the one with the lowest id is kept by every writer alike.

use chrono::{DateTime, Duration, Utc};

use super::SyncError;
use super::connector::{TmItem, TrackerItem};
use super::context::ProjectCtx;
use super::pass::Pass;

/// Text of a claim in the "GitLab Issue" property.
const CLAIM_PREFIX: &str = "claim:";

/// A claim older than this is taken over: its writer crashed or gave up.
/// A create takes seconds; the margin absorbs clock skew between writers
/// (both stamp with Spira's clock, from its Date header).
pub fn claim_ttl() -> Duration {
    Duration::minutes(15)
}

/// What an incident's "GitLab Issue" property names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Named {
    /// Empty, or not an issue of this project.
    Nothing,
    /// An install is creating its issue.
    Claim {
        install: String,
        at: Option<DateTime<Utc>>,
    },
    /// An issue of this project, by iid.
    Issue(u64),
}

pub fn named_issue(ctx: &ProjectCtx<'_>, incident: &TmItem) -> Named {
    let Some(marker) = ctx.tm.marker(ctx.tm_project(), incident) else {
        return Named::Nothing;
    };
    let value = marker.trim();
    if let Some(rest) = value.strip_prefix(CLAIM_PREFIX) {
        let (install, at) = rest.split_once('@').unwrap_or((rest, ""));
        return Named::Claim {
            install: install.to_string(),
            at: DateTime::parse_from_rfc3339(at)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        };
    }
    ctx.tracker
        .parse_reference(&ctx.tracker_path, value)
        .map_or(Named::Nothing, Named::Issue)
}

/// The property value of a claim by `install` at `now`.
pub fn claim_value(install: &str, now: DateTime<Utc>) -> String {
    format!(
        "{CLAIM_PREFIX}{install}@{}",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

/// Spira's clock (from its last answer), or ours before any answer.
fn tm_now(ctx: &ProjectCtx<'_>) -> DateTime<Utc> {
    ctx.tm.server_now().unwrap_or_else(Utc::now)
}

/// Another install's claim that has not expired: it is creating the issue.
pub fn claimed_by_other(ctx: &ProjectCtx<'_>, pass: &Pass<'_>, named: &Named) -> Option<String> {
    match named {
        Named::Claim { install, at } if *install != pass.install => {
            let fresh = at.is_some_and(|t| tm_now(ctx) - t < claim_ttl());
            fresh.then(|| install.clone())
        }
        _ => None,
    }
}

/// The error an item gets while another writer holds it: not synced this
/// round, retried later (by then the claim is settled or expired).
pub fn busy(id: u32, who: &str) -> SyncError {
    SyncError::Busy(format!(
        "incident IN:{id}: another labsync ({who}) is creating its issue; retried later"
    ))
}

/// Claims `incident` for an issue create by this install. The PUT carries
/// the `ConcurrencyDate` of the copy it starts from, so when anyone saved the
/// incident since (another install claiming it, a person editing it), Spira
/// answers 409 and nothing is created this round. Returns the incident as
/// claimed (its new `ConcurrencyDate` unknown until read again).
pub async fn claim_for_issue(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    incident: &TmItem,
    whole: bool,
    id: u32,
) -> Result<(), SyncError> {
    let current = if whole {
        incident.clone()
    } else {
        // A listing's copy may lack fields a PUT would then clear.
        ctx.tm.get(ctx.tm_project(), i64::from(id)).await?
    };
    let named = named_issue(ctx, &current);
    if let Some(who) = claimed_by_other(ctx, pass, &named) {
        return Err(busy(id, &who));
    }
    if let Named::Issue(iid) = named {
        // Named since it was listed: the other writer finished first.
        return Err(SyncError::Busy(format!(
            "incident IN:{id}: another labsync linked it to #{iid} meanwhile; synced next round"
        )));
    }
    let value = claim_value(&pass.install, tm_now(ctx));
    match ctx.tm.claim(ctx.tm_project(), &current, &value).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_busy() => Err(SyncError::Busy(format!(
            "incident IN:{id}: saved by someone else while being claimed for a new issue; retried later"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// After the create: the incident read again. It still holds this
/// install's claim (or names `issue`), and is returned to be written from;
/// or another writer took it, and `Err` carries what it names now.
pub async fn recheck_claim(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    id: u32,
    issue: &TrackerItem,
) -> Result<Result<TmItem, Named>, SyncError> {
    let now = ctx.tm.get(ctx.tm_project(), i64::from(id)).await?;
    Ok(match named_issue(ctx, &now) {
        Named::Claim { install, .. } if install == pass.install => Ok(now),
        Named::Issue(iid) if iid == issue.iid => Ok(now),
        Named::Nothing => Ok(now),
        other => Err(other),
    })
}

/// The issue `iid` when it carries the footer of incident `id` and no link
/// of this database holds it: another install's counterpart of the incident.
pub async fn issue_naming(
    ctx: &ProjectCtx<'_>,
    pass: &Pass<'_>,
    iid: u64,
    id: u32,
) -> Result<Option<TrackerItem>, SyncError> {
    let issue = match ctx.tracker.get(&ctx.tracker_project, iid).await {
        Ok(i) => i,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if issue.marker != Some((ctx.tm_project(), i64::from(id))) {
        return Ok(None);
    }
    let linked = pass.store().link_by_tracker_item(
        &ctx.plugin.name,
        ctx.tracker_project_id as i64,
        issue.id as i64,
    )?;
    Ok(linked.is_none().then_some(issue))
}
