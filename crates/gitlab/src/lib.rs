//! GitLab REST v4 client: what the sync engine needs of issues, notes,
//! labels, milestones, users, members, tokens and hooks. All requests go
//! through [`labsync_http::HttpClient`] (timeouts, retries, rate gate); lists
//! are streamed page by page. [`connector`] puts the client behind the
//! engine's `IssueTracker` port.

mod answers;
mod client;
pub mod connector;
mod error;
mod issues;
mod project;
mod requests;
mod types;

pub use client::GitLabClient;
pub use connector::GitLabConnector;
pub use error::GitLabError;
pub use requests::*;
pub use types::*;
