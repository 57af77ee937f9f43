//! What can go wrong talking to Spira, one line each, naming the item.
//! Messages never carry the api key: server bodies are scrubbed before use.

use labsync_http::HttpError;

#[derive(Debug, thiserror::Error)]
pub enum SpiraError {
    /// 401, 403, or a 404 whose body says "Access Denied" (reference §1).
    #[error(
        "Spira refused access to {what}: {message} (check the login and api key, and project membership)"
    )]
    Unauthorized { what: String, message: String },
    #[error("{what} was not found in Spira")]
    NotFound { what: String },
    /// 409: somebody saved the item after we read it (stale ConcurrencyDate).
    #[error("{what} was changed in Spira since it was read (concurrency conflict)")]
    Concurrency { what: String },
    /// 400 or another refusal of the request's content.
    #[error("Spira rejected {what}: {message}")]
    Validation { what: String, message: String },
    #[error("Spira answered HTTP {status} to {what}: {message}")]
    Server {
        status: u16,
        what: String,
        message: String,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("cannot read Spira's answer to {what}: {reason}")]
    Decode { what: String, reason: String },
    #[error("bad Spira configuration: {0}")]
    Config(String),
}

impl SpiraError {
    /// True for failures that may pass on a later try (server or network).
    pub fn is_transient(&self) -> bool {
        matches!(self, SpiraError::Server { .. } | SpiraError::Http(_))
    }
}
