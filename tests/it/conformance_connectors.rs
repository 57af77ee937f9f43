//! The connector conformance suites (crates/testkit/src/conformance), one
//! module per implementation: every test-management connector passes the
//! same suite, and every issue tracker connector the same other one.

mod test_management {
    mod memory {
        labsync_testkit::test_management_suite!(
            labsync_testkit::conformance::subjects::memory_test_management
        );
    }
    mod spira_simulator {
        labsync_testkit::test_management_suite!(
            labsync_testkit::conformance::subjects::spira_simulator
        );
    }
    /// Runs only when LABSYNC_CONFORMANCE_SPIRA_* name a server.
    mod spira_server {
        labsync_testkit::test_management_suite!(
            labsync_testkit::conformance::subjects::spira_server
        );
    }
}

mod issue_tracker {
    mod memory {
        labsync_testkit::issue_tracker_suite!(
            labsync_testkit::conformance::subjects::memory_issue_tracker
        );
    }
    mod gitlab_simulator {
        labsync_testkit::issue_tracker_suite!(
            labsync_testkit::conformance::subjects::gitlab_simulator
        );
    }
    /// Runs only when LABSYNC_CONFORMANCE_GITLAB_* name a server.
    mod gitlab_server {
        labsync_testkit::issue_tracker_suite!(
            labsync_testkit::conformance::subjects::gitlab_server
        );
    }
}
