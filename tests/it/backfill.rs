//! A first cycle over a backlog reaches every item.

use labsync_testkit::world;

use world::World;

/// More than a page (100) of issues share one `updated_at`, as after a bulk
/// edit or an import. The listing steps through such a group by page number;
/// when the engine synced a page before the next was read, its own writes
/// (the footer linking back) moved those issues out of the group, the later
/// pages shifted, 50 of these 250 issues were skipped and the watermark
/// passed them for good. Found by `cargo bench --bench sync`.
#[tokio::test]
async fn a_backlog_sharing_one_timestamp_is_synced_in_one_cycle() {
    let mut w = World::new(r#"comment_sweep = "off""#).await;
    backlog_of_one_timestamp_is_synced(&mut w).await;
}

/// The same past GitLab's maximum offset for offset pagination (405 past
/// it, `lib/api/helpers/pagination_strategies.rb`; 50,000 by default, 100
/// here): a backlog sharing one `updated_at` is walked without deep pages.
#[tokio::test]
async fn a_backlog_deeper_than_the_maximum_offset_is_synced() {
    let gitlab = labsync_sim::gitlab::GitLabSimConfig {
        seed: labsync_sim::Seed::Empty,
        max_offset: 100,
        ..Default::default()
    };
    let spira = labsync_sim::spira::SpiraSimConfig {
        seed: labsync_sim::Seed::Empty,
        comment_bumps_last_update: true,
        ..Default::default()
    };
    let mut w = World::with_both(r#"comment_sweep = "off""#, gitlab, spira).await;
    backlog_of_one_timestamp_is_synced(&mut w).await;
}

/// 250 issues imported with one `updated_at`: one cycle makes an incident
/// for each.
async fn backlog_of_one_timestamp_is_synced(w: &mut World) {
    let at = w.gitlab.clock().now() - chrono::Duration::days(30);
    for i in 0..250 {
        let iid = w
            .gitlab
            .create_issue_as("alice", &format!("Imported {i}"), "steps");
        w.gitlab.set_issue_updated_at(iid, at);
    }
    let r = w.cycle().await;
    assert_eq!(r.totals().created_incidents, 250, "{r:?}");
    assert_eq!(w.spira.incidents(1).len(), 250);
}

/// The same on the Spira side: more than a page (500 rows) of incidents
/// share one LastUpdateDate. The search steps through such a group by row
/// offset, which the engine's own writes (the issue reference) would shift
/// if it synced part of the group before reading the rest.
#[tokio::test]
async fn an_incident_backlog_sharing_one_timestamp_is_synced_in_one_cycle() {
    let mut w = World::new(r#"comment_sweep = "off""#).await;
    let at = w.spira.clock().now() - chrono::Duration::days(30);
    for i in 0..600 {
        let id = w.spira.add_incident(1, &format!("Imported {i}"), 1);
        w.spira.set_incident_updated_at(id, at);
    }
    let r = w.cycle().await;
    assert_eq!(r.totals().created_issues, 600, "{r:?}");
    assert_eq!(w.gitlab.issues().len(), 600);
}
