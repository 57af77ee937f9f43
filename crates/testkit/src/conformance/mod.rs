//! One conformance suite per connector trait (and one for the engine's
//! storage port: [`storage`]), written once and run
//! against every implementation (as taskchampion's `storage/test.rs`):
//! the in-memory fakes, the simulators through the real adapters, and a
//! real server when the environment names one.
//!
//! Each behaviour is an async function taking a subject ([`TmSubject`],
//! [`TrackerSubject`]); [`test_management_suite!`] and
//! [`issue_tracker_suite!`] make one `#[tokio::test]` of each for a
//! subject maker, an async fn returning `Option<Subject>` (`None`: the
//! server is not configured, and the maker said so on stderr).
//!
//! Every behaviour asserts what the engine relies on; its doc comment says
//! why the engine needs it and, for what the real service does, the
//! evidence (reference sheet section, vendor source path).

pub mod issue_tracker;
pub mod storage;
mod subject;
pub mod subjects;
pub mod test_management;

pub use subject::{Clock, Mover, TmSubject, TrackerSubject, WorkItemMaker};

/// The tests of the test-management suite for `$make`, an async fn
/// returning `Option<TmSubject>`.
#[macro_export]
macro_rules! test_management_suite {
    ($make:path) => {
        $crate::conformance_tests!(test_management, $make;
            setup_offers_what_items_use,
            create_returns_the_item_as_held,
            unknown_item_is_not_found,
            deleted_item_is_not_found_nor_listed,
            listing_bound_is_inclusive,
            listing_is_oldest_change_first,
            listing_skips_nothing_saved_meanwhile,
            update_writes_and_reads_back,
            update_that_changes_nothing_leaves_the_item_alone,
            update_from_a_stale_copy_keeps_the_other_save,
            claim_refuses_a_stale_copy,
            marker_is_found_exactly,
            comments_come_oldest_first_with_their_authors,
            created_release_is_offered,
            server_clock_stamps_writes,
            refused_credentials_are_fatal,
            status_changes_read_back_as_the_system_kept_them,
            description_as_kept_predicts_the_stored_description,
            a_comment_keeps_its_hidden_marker,
            an_update_without_read_back_answers_no_value_the_system_did_not_keep,
        );
    };
}

/// The tests of the issue-tracker suite for `$make`, an async fn
/// returning `Option<TrackerSubject>`.
#[macro_export]
macro_rules! issue_tracker_suite {
    ($make:path) => {
        $crate::conformance_tests!(issue_tracker, $make;
            project_is_found_by_path_and_id,
            create_returns_the_item_with_its_link,
            unknown_item_is_not_found,
            deleted_item_is_not_found,
            listing_bound_is_inclusive,
            listing_is_oldest_update_first,
            listing_skips_nothing_saved_meanwhile,
            update_writes_and_returns_what_was_kept,
            empty_edit_reads_the_item,
            body_as_kept_predicts_the_stored_body,
            title_as_kept_predicts_the_stored_title,
            comments_are_text_oldest_first,
            own_creates_are_found_again,
            labels_are_found_by_exact_name_and_made_once,
            created_milestone_is_listed,
            people_are_found_by_username,
            reference_names_the_item,
            server_clock_stamps_writes,
            revoked_token_is_fatal,
            moved_item_says_where_it_went,
            an_assignee_who_cannot_be_assigned_is_not_reported_as_set,
            listed_items_carry_their_work_item_type,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! conformance_tests {
    ($suite:ident, $make:path; $($behaviour:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $behaviour() {
                if let Some(subject) = $make().await {
                    $crate::conformance::$suite::$behaviour(&subject).await;
                }
            }
        )*
    };
}
