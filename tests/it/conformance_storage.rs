//! The storage conformance suite (crates/testkit/src/conformance/storage),
//! one module per implementation of the engine's `Storage` port.

mod sqlite {
    labsync_testkit::storage_suite!(labsync_testkit::conformance::storage::sqlite);
}

mod memory {
    labsync_testkit::storage_suite!(labsync_testkit::conformance::storage::memory);
}
