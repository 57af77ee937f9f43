//! The pieces of `labsync demo` (the story itself is told by
//! [`crate::commands`]): [`stage`] starts the simulators and writes the
//! config, [`moved`] finds what a cycle carried across, [`people`] edits
//! both sides as a tester and a developer would and checks the result,
//! [`say`] prints.

pub mod moved;
pub mod people;
pub mod say;
pub mod stage;

/// Why the demo could not be staged or looked at. A change that did not
/// propagate is not an error here: the story says so and exits 1.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Setup(String),
}
