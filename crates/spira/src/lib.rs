//! Spira REST v7 client: incidents, comments, releases, users and the
//! template lookups the sync engine needs. See
//! ../shared/reference/spira-api.md for the contract it follows.
//! [`connector`] puts the client behind the engine's `TestManagement` port.

mod client;
mod comments;
pub mod connector;
pub mod dates;
mod error;
mod incidents;
mod lookups;
mod releases;
mod stream;
pub mod types;

pub use client::{API_PATH, SpiraClient};
pub use connector::{NewReleases, SpiraConnector};
pub use error::SpiraError;
pub use lookups::Lookups;
pub use types::*;
