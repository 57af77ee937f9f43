//! [`TestManagement`] for [`MemoryTestManagement`].

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use labsync::inflight::InFlight;
use labsync::sync::connector::{
    Call, ConnectorError, Down, ErrorKind, Listing, TestManagement, TmComment, TmEdit, TmItem,
    TmRelease, TmSetup,
};

use super::data::{apply, check, kept_edit, read};
use super::{MemoryTestManagement, Stored, Version};
use crate::memory::listing::{Row, Ties, listing};
use crate::memory::{not_found, refused};

impl TestManagement for MemoryTestManagement {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn setup(&self, project: i64) -> Call<'_, TmSetup> {
        async move {
            let mut state = self.serve()?;
            state.project(project)?;
            let p = state
                .projects
                .get_mut(&project)
                .ok_or_else(|| not_found(project))?;
            p.set_up = true;
            Ok(p.offer.clone())
        }
        .boxed()
    }

    fn changed_since(
        &self,
        project: i64,
        since: DateTime<Utc>,
        _in_flight: InFlight,
    ) -> Listing<'_, TmItem> {
        listing(Some(since), self.page_size, Ties::IdAscending, move || {
            let state = self.serve()?;
            Ok(state
                .project(project)?
                .items
                .values()
                .filter(|s| !s.deleted)
                .filter_map(|s| {
                    Some(Row {
                        key: s.item.id? as u64,
                        updated: s.item.updated_at?,
                        item: read(s),
                    })
                })
                .collect())
        })
    }

    fn get(&self, project: i64, id: i64) -> Call<'_, TmItem> {
        async move { Ok(read(self.serve()?.live(project, id)?)) }.boxed()
    }

    fn create<'a>(&'a self, project: i64, new: &'a TmEdit) -> Call<'a, TmItem> {
        async move {
            let now = self.clock.now();
            let mut state = self.serve()?;
            let (id, new) = (state.next_item, &kept_edit(new, state.status_locked));
            let p = state.set_up(project)?;
            check(&p.offer, new)?;
            let mut item = TmItem {
                id: Some(id),
                // Spira gives a new incident its template's default status.
                status: p.offer.statuses.first().map(|s| s.id),
                updated_at: Some(now),
                ..TmItem::default()
            };
            let mut url = None;
            apply(&mut item, &mut url, new);
            let stored = Stored {
                item,
                version: 1,
                url,
                deleted: false,
                comments: Vec::new(),
            };
            let out = read(&stored);
            p.items.insert(id, stored);
            state.next_item += 1;
            state.writes += 1;
            Ok(out)
        }
        .boxed()
    }

    fn update<'a>(
        &'a self,
        project: i64,
        id: i64,
        from: Option<TmItem>,
        edit: &'a TmEdit,
        _read_back: bool,
    ) -> Call<'a, TmItem> {
        async move {
            let now = self.clock.now();
            let mut state = self.serve()?;
            let mut conflicts = state.conflicts;
            let edit = &kept_edit(edit, state.status_locked);
            let p = state.set_up(project)?;
            check(&p.offer, edit)?;
            let s = p.items.get_mut(&id).filter(|s| !s.deleted);
            let s = s.ok_or_else(|| not_found(format!("item {id} of project {project}")))?;
            let copy = from.filter(|f| f.id == Some(id));
            let mut base = copy.and_then(|f| f.carried.get::<Version>().copied());
            let mut wrote = false;
            let mut outcome = Err(ConnectorError::new(
                ErrorKind::Busy,
                format!("item {id} of project {project} was saved by someone else meanwhile"),
            ));
            // A stale copy costs one read and one more save, as in Spira's
            // connector; a second conflict is the engine's to retry.
            for _attempt in 0..2 {
                if conflicts > 0 {
                    conflicts -= 1;
                    s.version += 1;
                }
                let Some(Version(v)) = base.filter(|b| b.0 == s.version) else {
                    base = Some(Version(s.version));
                    continue;
                };
                let (mut item, mut url) = (s.item.clone(), s.url.clone());
                let changed = apply(&mut item, &mut url, edit);
                if changed {
                    item.updated_at = Some(now);
                    (s.item, s.url, s.version) = (item, url, v + 1);
                }
                wrote = changed;
                outcome = Ok(read(s));
                break;
            }
            state.conflicts = conflicts;
            state.writes += u64::from(wrote);
            outcome
        }
        .boxed()
    }

    fn claim<'a>(&'a self, project: i64, item: &'a TmItem, marker: &'a str) -> Call<'a, ()> {
        async move {
            let now = self.clock.now();
            let mut state = self.serve()?;
            let conflict = state.conflicts > 0;
            state.conflicts = state.conflicts.saturating_sub(1);
            let p = state.set_up(project)?;
            let id = item
                .id
                .ok_or_else(|| refused("an item without id", "cannot claim"))?;
            let s = p.items.get_mut(&id).filter(|s| !s.deleted);
            let s = s.ok_or_else(|| not_found(format!("item {id} of project {project}")))?;
            if conflict {
                s.version += 1;
            }
            if item.carried.get::<Version>() != Some(&Version(s.version)) {
                return Err(ConnectorError::new(
                    ErrorKind::Busy,
                    format!("item {id} of project {project} was saved since it was read"),
                ));
            }
            s.item.marker = Some(marker.to_string());
            s.item.updated_at = Some(now);
            s.version += 1;
            state.writes += 1;
            Ok(())
        }
        .boxed()
    }

    fn delete(&self, project: i64, id: i64) -> Call<'_, ()> {
        async move {
            let mut state = self.serve()?;
            let s = state.stored_mut(project, id);
            s.ok_or_else(|| not_found(format!("item {id} of project {project}")))?
                .deleted = true;
            state.writes += 1;
            Ok(())
        }
        .boxed()
    }

    fn find_by_marker<'a>(&'a self, project: i64, marker: &'a str) -> Call<'a, Vec<TmItem>> {
        async move {
            let mut state = self.serve()?;
            let p = state.set_up(project)?;
            Ok(p.items
                .values()
                .filter(|s| !s.deleted && s.item.marker.as_deref() == Some(marker))
                .map(read)
                .collect())
        }
        .boxed()
    }

    fn comments(&self, project: i64, id: i64) -> Call<'_, Vec<TmComment>> {
        async move {
            let state = self.serve()?;
            let mut list = state.live(project, id)?.comments.clone();
            list.sort_by_key(|c| (c.created_at, c.id));
            Ok(list)
        }
        .boxed()
    }

    fn add_comment<'a>(
        &'a self,
        project: i64,
        id: i64,
        html: &'a str,
        author: Option<i64>,
    ) -> Call<'a, TmComment> {
        async move {
            let mut state = self.serve()?;
            state.live(project, id)?;
            if html.trim().is_empty() {
                return Err(refused(format!("a comment on item {id}"), "no text"));
            }
            let user = author.unwrap_or(state.api_user);
            if state.user_name(project, user).is_none() {
                return Err(refused(format!("a comment on item {id}"), "unknown author"));
            }
            let now = self.clock.now();
            state.writes += 1;
            state
                .push_comment(project, id, user, html, now)
                .ok_or_else(|| not_found(format!("item {id} of project {project}")))
        }
        .boxed()
    }

    fn create_release<'a>(&'a self, project: i64, title: &'a str) -> Call<'a, TmRelease> {
        async move {
            let mut state = self.serve()?;
            let id = state.next_release;
            let p = state.set_up(project)?;
            let release = TmRelease {
                id,
                name: title.to_string(),
                version: title.chars().take(10).collect(),
            };
            p.offer.releases.push(release.clone());
            state.next_release += 1;
            state.writes += 1;
            Ok(release)
        }
        .boxed()
    }

    fn web_url(&self, project: i64, id: i64) -> String {
        format!("memory://test-management/{project}/items/{id}")
    }

    fn description_as_kept(&self, html: &str) -> String {
        labsync::text::spira_kept(html)
    }

    fn server_now(&self) -> Option<DateTime<Utc>> {
        self.state().answered.then(|| self.clock.now())
    }

    fn down(&self) -> Option<Down> {
        self.state().down.then(|| crate::memory::down(Self::NAME))
    }
}
