//! What can go wrong talking to GitLab, one line each, naming the item.
//! Messages never hold the token: bodies are scrubbed before they get here.

use labsync_http::HttpError;

#[derive(Debug, thiserror::Error)]
pub enum GitLabError {
    #[error("GitLab URL '{url}' is not usable: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("the GitLab token is not usable: {reason}")]
    BadToken { reason: String },
    #[error("{what}: GitLab rejected the token (401 Unauthorized): it is unknown or revoked")]
    Unauthorized { what: String },
    #[error("{what}: the GitLab token has expired: create a new one")]
    TokenExpired { what: String },
    #[error("{what}: the GitLab token lacks the scope this needs (give it the `api` scope)")]
    InsufficientScope { what: String },
    #[error("{what}: forbidden (403): {message}")]
    Forbidden { what: String, message: String },
    #[error("{what}: not found (404)")]
    NotFound { what: String },
    #[error("{what}: refused by GitLab: {message}")]
    Validation { what: String, message: String },
    #[error("{what}: GitLab kept answering 429 (rate limited) after retries")]
    RateLimited { what: String },
    #[error("{what}: GitLab answered {status}")]
    Server { status: u16, what: String },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{what}: unreadable answer: {reason}")]
    Decode { what: String, reason: String },
}
