//! Project-family errors (§3.1): `{"statusCode", "message", "errors": [{"code", "message", …}]}`.

use super::{rendered, resource_type_id, sentence};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Map, Value};
use xclade_domain::error::Lookup;
use xclade_domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{}", super::sentence(.0))]
    Domain(#[from] DomainError),
    /// 400 InvalidJsonInput with a detailed message.
    #[error("Request body does not contain valid JSON.")]
    InvalidJson(String),
    /// 400 InvalidInput with this exact message.
    #[error("{0}")]
    InvalidInput(String),
    /// 400 InvalidOperation.
    #[error("{0}")]
    InvalidOperation(String),
    #[error("invalid_token")]
    InvalidToken,
    #[error("{0}")]
    InsufficientScope(String),
    /// 404 for a route that does not exist.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("Request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{}", crate::body::BODY_TIMEOUT_MESSAGE)]
    Timeout,
    #[error("{0}")]
    UnsupportedMediaType(String),
}

/// Builds the envelope `{statusCode, message, errors: [error]}` plus top-level extras.
pub fn envelope(
    status: StatusCode,
    code: &str,
    message: &str,
    extra: Map<String, Value>,
    top: Map<String, Value>,
) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), json!(code));
    error.insert("message".into(), json!(message));
    error.extend(extra);
    let mut body = Map::new();
    body.insert("statusCode".into(), json!(status.as_u16()));
    body.insert("message".into(), json!(message));
    body.insert("errors".into(), Value::Array(vec![Value::Object(error)]));
    body.extend(top);
    Value::Object(body)
}

fn map(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// The internal-error message of this family.
pub const GENERAL_MESSAGE: &str = "Sorry, we are not able to process your request right now. Please try again later.";

impl ProjectError {
    fn parts(&self) -> (StatusCode, &'static str, String, Map<String, Value>, Map<String, Value>) {
        use DomainError as D;
        let bad = StatusCode::BAD_REQUEST;
        let none = Map::new;
        match self {
            ProjectError::InvalidJson(detail) => {
                (bad, "InvalidJsonInput", self.to_string(), map(&[("detailedErrorMessage", json!(detail))]), none())
            }
            ProjectError::InvalidInput(m) => (bad, "InvalidInput", m.clone(), none(), none()),
            ProjectError::InvalidOperation(m) => (bad, "InvalidOperation", m.clone(), none(), none()),
            ProjectError::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "invalid_token".into(),
                none(),
                map(&[("error", json!("invalid_token")), ("error_description", json!("invalid_token"))]),
            ),
            ProjectError::InsufficientScope(m) => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                m.clone(),
                none(),
                map(&[("error", json!("insufficient_scope")), ("error_description", json!(m))]),
            ),
            ProjectError::NotFound(m) => (StatusCode::NOT_FOUND, "ResourceNotFound", m.clone(), none(), none()),
            ProjectError::MethodNotAllowed(m) => {
                (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", m.clone(), none(), none())
            }
            ProjectError::TooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "InvalidInput", self.to_string(), none(), none())
            }
            ProjectError::Timeout => (StatusCode::REQUEST_TIMEOUT, "InvalidInput", self.to_string(), none(), none()),
            ProjectError::UnsupportedMediaType(m) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "InvalidInput", m.clone(), none(), none())
            }
            ProjectError::Domain(e) => {
                // A 400 worded by the contract's sentence, with the error's own fields.
                let refused = |code, extra: &[(&str, Value)]| (bad, code, sentence(e), map(extra), none());
                match e {
                    D::Validation { .. } => refused("InvalidInput", &[]),
                    D::NotFound { lookup, .. } => {
                        let message = match lookup {
                            Lookup::Id(id) => format!("The Resource with ID '{id}' was not found."),
                            Lookup::Key(key) => format!("The Resource with key '{key}' was not found."),
                        };
                        (StatusCode::NOT_FOUND, "ResourceNotFound", message, none(), none())
                    }
                    D::Duplicate { field, value, .. } => {
                        let shown = serde_json::to_string(value).unwrap_or_default();
                        (
                            bad,
                            "DuplicateField",
                            format!("A duplicate value '{shown}' exists for field '{field}'."),
                            map(&[("field", json!(field)), ("duplicateValue", json!(value))]),
                            none(),
                        )
                    }
                    D::VersionConflict { current, .. } => (
                        StatusCode::CONFLICT,
                        "ConcurrentModification",
                        sentence(e),
                        map(&[("currentVersion", json!(current))]),
                        none(),
                    ),
                    D::Conflict => (StatusCode::CONFLICT, "ConcurrentModification", sentence(e), none(), none()),
                    D::LimitExceeded { resource, .. } => {
                        refused("MaxResourceLimitExceeded", &[("exceededResource", json!(resource_type_id(*resource)))])
                    }
                    D::InvalidOperation(_) => refused("InvalidOperation", &[]),
                    D::InvalidField { field, invalid_value, .. } => {
                        refused("InvalidField", &[("field", json!(field)), ("invalidValue", invalid_value.clone())])
                    }
                    D::RequiredField { field } => refused("RequiredField", &[("field", json!(field))]),
                    D::ReferencedResourceNotFound { resource, lookup } => {
                        let (k, v) = match lookup {
                            Lookup::Id(v) => ("id", v),
                            Lookup::Key(v) => ("key", v),
                        };
                        refused(
                            "ReferencedResourceNotFound",
                            &[("typeId", json!(resource_type_id(*resource))), (k, json!(v))],
                        )
                    }
                    D::ReferenceExists { referenced_by, .. } => {
                        refused("ReferenceExists", &[("referencedBy", json!(resource_type_id(*referenced_by)))])
                    }
                    D::IdempotencyMismatch => refused("InvalidInput", &[]),
                    D::InvalidCredentials => {
                        (StatusCode::UNAUTHORIZED, "invalid_token", "invalid_token".into(), none(), none())
                    }
                    D::Unavailable(_) | D::Busy => {
                        (StatusCode::SERVICE_UNAVAILABLE, "General", GENERAL_MESSAGE.into(), none(), none())
                    }
                    D::Storage(_) | D::Internal(_) => {
                        (StatusCode::INTERNAL_SERVER_ERROR, "General", GENERAL_MESSAGE.into(), none(), none())
                    }
                }
            }
        }
    }
}

impl ResponseError for ProjectError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, message, extra, top) = self.parts();
        let cause = if let ProjectError::Domain(e) = self { Some(e) } else { None };
        rendered(cause, HttpResponse::build(status).json(envelope(status, code, &message, extra, top)))
    }
}

pub type ProjectResult<T> = Result<T, ProjectError>;
