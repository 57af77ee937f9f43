//! labsync keeps a test-management system (Spira) and GitLab's issue tracker
//! in two-way sync. See README.md for use and ../DESIGN for the design.

pub mod commands;
pub mod config;
pub mod gitlab;
pub mod http;
pub mod logging;
pub mod secret;
pub mod sim;
pub mod spira;
pub mod store;
