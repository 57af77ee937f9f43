//! The connectors: each side's client behind the engine's trait for it
//! ([`crate::sync::connector`]). Commands build them from a plugin's
//! configuration and hand them to the engine.

pub mod gitlab;
pub mod spira;

pub use gitlab::GitLabConnector;
pub use spira::SpiraConnector;

use crate::http::HttpError;
use crate::sync::connector::Down;

/// The side a failure says is down: the breaker opened (the server did
/// not answer several requests in a row) or the cycle's deadline for it
/// passed.
pub(crate) fn down_of(side: &'static str, e: &HttpError) -> Option<Down> {
    let (unreachable, message) = match e {
        HttpError::Unreachable { cause, .. } => (true, format!("{side} is unreachable: {cause}")),
        HttpError::Deadline { after, .. } => (
            false,
            format!(
                "{side} took too long: the cycle's deadline for it ({}) passed; the rest waits for the next cycle",
                humantime::format_duration(*after)
            ),
        ),
        _ => return None,
    };
    Some(Down {
        side,
        unreachable,
        message,
    })
}

#[cfg(test)]
mod tests;
