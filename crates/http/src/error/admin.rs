//! Admin-family errors (§2.1): `{"type", "message", "code"?}`; 401 is the text `Unauthorized`.

use super::{rendered, sentence};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use xclade_domain::DomainError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminErrorBody {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

/// The answers every admin operation may give whatever it does (documentation only): 401
/// without a valid token, 500 and 503 when the work or the database fails.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum AdminFailures {
    #[response(status = 401, content_type = "text/plain", description = "Missing or invalid token: `Unauthorized`")]
    Unauthorized(String),
    #[response(status = 500, description = "database_error or unknown_error")]
    Failed(AdminErrorBody),
    #[response(status = 503, description = "database_error: the database is unreachable")]
    Unavailable(AdminErrorBody),
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{}", super::sentence(.0))]
    Domain(#[from] DomainError),
    /// 400 invalid_data with this exact message.
    #[error("{0}")]
    Invalid(String),
    #[error("Unauthorized")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("Request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{}", crate::body::BODY_TIMEOUT_MESSAGE)]
    Timeout,
}

impl AdminError {
    /// `Invalid request: <detail>`.
    pub fn invalid_request(detail: impl std::fmt::Display) -> Self {
        AdminError::Invalid(format!("Invalid request: {detail}"))
    }

    fn parts(&self) -> (StatusCode, &'static str, Option<&'static str>, String) {
        use DomainError as D;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            AdminError::Invalid(m) => (bad, "invalid_data", None, m.clone()),
            AdminError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", None, "Unauthorized".into()),
            AdminError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", None, m.clone()),
            AdminError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", None, m.clone()),
            AdminError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_data", None, self.to_string()),
            AdminError::Timeout => (StatusCode::REQUEST_TIMEOUT, "invalid_data", None, self.to_string()),
            AdminError::Domain(e) => match e {
                D::Validation { .. } => (bad, "invalid_data", None, format!("Invalid request: {}", sentence(e))),
                D::InvalidField { .. } | D::RequiredField { .. } | D::ReferencedResourceNotFound { .. } => {
                    (bad, "invalid_data", None, sentence(e))
                }
                D::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found", None, sentence(e)),
                D::Duplicate { .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "duplicate_error", Some("invalid_request_error"), sentence(e))
                }
                D::IdempotencyMismatch => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_data", None, sentence(e)),
                D::VersionConflict { .. } | D::Conflict => {
                    (StatusCode::CONFLICT, "conflict", Some("invalid_state_error"), sentence(&D::Conflict))
                }
                D::LimitExceeded { .. } | D::InvalidOperation(_) | D::ReferenceExists { .. } => {
                    (bad, "not_allowed", None, sentence(e))
                }
                D::InvalidCredentials => (StatusCode::UNAUTHORIZED, "unauthorized", None, sentence(e)),
                D::Unavailable(_) => {
                    (StatusCode::SERVICE_UNAVAILABLE, "database_error", Some("api_error"), DATABASE_MESSAGE.into())
                }
                D::Busy => (StatusCode::SERVICE_UNAVAILABLE, "database_error", Some("api_error"), BUSY_MESSAGE.into()),
                D::Storage(_) => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "database_error", Some("api_error"), DATABASE_MESSAGE.into())
                }
                D::Internal(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "unknown_error",
                    Some("unknown_error"),
                    "An unknown error occurred.".into(),
                ),
            },
        }
    }
}

/// The message of database failures (never the cause).
pub const DATABASE_MESSAGE: &str = "An error occurred while accessing the database.";
/// The message of a 503 for work refused under load (password hashing, §4.1).
pub const BUSY_MESSAGE: &str = "The service is busy. Retry the request shortly.";

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, kind, code, message) = self.parts();
        let resp = if matches!(self, AdminError::Unauthorized) {
            HttpResponse::build(status).content_type("text/plain; charset=utf-8").body("Unauthorized")
        } else {
            HttpResponse::build(status).json(AdminErrorBody { kind, message, code })
        };
        let cause = if let AdminError::Domain(e) = self { Some(e) } else { None };
        rendered(cause, resp)
    }
}

pub type AdminResult<T> = Result<T, AdminError>;
