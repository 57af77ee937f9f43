//! Answers in GitLab's exact shapes: `Content-Type: application/json` with no
//! charset (python-gitlab parses nothing else), and each error case with the
//! body GitLab's helpers, Grape or Rack::Attack produce.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A JSON answer with GitLab's content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub(crate) fn ok(body: Value) -> Response {
    json_response(StatusCode::OK, &body)
}

pub(crate) fn created(body: Value) -> Response {
    json_response(StatusCode::CREATED, &body)
}

pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Every error the simulator answers with.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// `{"message":"401 Unauthorized"}`
    Unauthorized,
    /// OAuth shape for an expired token.
    TokenExpired,
    TokenRevoked,
    /// 403 `insufficient_scope`.
    InsufficientScope,
    /// 403 `{"message":"403 Forbidden"}`.
    Forbidden,
    /// 404 `{"message":"404 <what> Not Found"}` (helpers' `not_found!`).
    NotFound(&'static str),
    /// 404 `{"message":"404 Not found"}` from ActiveRecord::RecordNotFound.
    RecordNotFound,
    /// 400 from Grape parameter validation: `{"error":"title is missing"}`.
    Param(String),
    /// 400 from a model validation: `{"message":{"title":["is too long ..."]}}`.
    Validation(&'static str, String),
    /// 400 `{"message":"400 Bad request - <reason>"}`.
    BadRequest(String),
    /// 400 `{"message":...}` from `render_api_error!` (a service refused).
    Refused(String),
    /// 409 `{"message":...}`.
    Conflict(&'static str),
    /// 429 from an application limiter (issue or note creation).
    TooManyRequests,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                json!({"message": "401 Unauthorized"}),
            ),
            ApiError::TokenExpired => (
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_token", "error_description":
                    "Token is expired. You can either do re-authorization or token refresh."}),
            ),
            ApiError::TokenRevoked => (
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_token", "error_description":
                    "Token was revoked. You have to re-authorize from the user."}),
            ),
            ApiError::InsufficientScope => (
                StatusCode::FORBIDDEN,
                json!({"error": "insufficient_scope", "error_description":
                    "The request requires higher privileges than provided by the access token.",
                    "scope": "api"}),
            ),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, json!({"message": "403 Forbidden"})),
            ApiError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                json!({"message": format!("404 {what} Not Found")}),
            ),
            ApiError::RecordNotFound => {
                (StatusCode::NOT_FOUND, json!({"message": "404 Not found"}))
            }
            ApiError::Param(text) => (StatusCode::BAD_REQUEST, json!({"error": text})),
            ApiError::Validation(attr, text) => {
                (StatusCode::BAD_REQUEST, json!({"message": {attr: [text]}}))
            }
            ApiError::BadRequest(reason) => (
                StatusCode::BAD_REQUEST,
                json!({"message": format!("400 Bad request - {reason}")}),
            ),
            ApiError::Conflict(text) => (StatusCode::CONFLICT, json!({"message": text})),
            ApiError::Refused(text) => (StatusCode::BAD_REQUEST, json!({"message": text})),
            ApiError::TooManyRequests => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"message": {"error":
                    "This endpoint has been requested too many times. Try again later."}}),
            ),
        };
        let mut response = json_response(status, &body);
        if status == StatusCode::UNAUTHORIZED && body.get("error").is_some() {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"Protected by OAuth 2.0\", error=\"invalid_token\"",
                ),
            );
        }
        response
    }
}

/// An unknown route, as Grape answers it.
pub(crate) async fn route_not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, &json!({"error": "404 Not Found"}))
}

pub(crate) type ApiResult = Result<Response, ApiError>;
