//! The crate's one error type. It renders as RFC 9457 `application/problem+json`; internal
//! causes are logged with their chain and never sent to the client.

use app::models::{FieldError, Problem};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("rate limited: {0}")]
    RateLimited(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A 422 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError { field: field.into(), message: message.into() }])
    }

    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        Error::Internal(format!("{context}: {cause}"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Database(e) if is_unique_violation(e) || is_gone_reference(e) => StatusCode::CONFLICT,
            Error::Database(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The client's view of the error. Server-side causes become a fixed sentence.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error");
        let detail = match self {
            Error::Database(e) if is_unique_violation(e) => "the resource already exists".into(),
            Error::Database(e) if is_gone_reference(e) => {
                "what this refers to was deleted meanwhile (retention deletes old events); reload and try again".into()
            }
            Error::Database(_) | Error::Internal(_) => "something went wrong on our side; it has been logged".into(),
            Error::Validation(errors) => {
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            }
            other => other.to_string(),
        };
        let mut problem = Problem::new(status.as_u16(), title, detail);
        if let Error::Validation(errors) = self {
            problem.errors = errors.clone();
        }
        problem
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A write that refers to a row deleted since it was read: a replay racing the retention pass
/// that deletes the event (see `store::retention::delete_events`).
fn is_gone_reference(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        e.log_if_internal();
        e.problem()
    }
}

impl Error {
    fn log_if_internal(&self) {
        if self.status().is_server_error() && !matches!(self, Error::Unavailable(_)) {
            // The Debug form keeps the cause chain (sqlx errors carry their source).
            tracing::error!(error = ?self, "request failed");
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log_if_internal();
        problem_response(&self.problem())
    }
}

pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

/// The answer of a request whose handler panicked; the cause goes to the log.
pub fn panicked(cause: Box<dyn std::any::Any + Send>) -> Response {
    let cause = cause
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| cause.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    Error::Internal(format!("a handler panicked: {cause}")).into_response()
}
