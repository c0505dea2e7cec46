//! Error bodies of the two families. Each maps domain errors in exactly one function.

pub mod admin;
pub mod project;
pub mod sentences;

pub use admin::AdminError;
pub use project::ProjectError;

use xclade_domain::error::{Lookup, Resource};
use xclade_domain::DomainError;

/// The human name of a resource in admin-family messages (`Customer group with id: X …`).
pub fn resource_name(resource: Resource) -> &'static str {
    match resource {
        Resource::Customer => "Customer",
        Resource::CustomerAddress => "Customer address",
        Resource::CustomerGroup => "Customer group",
        Resource::Type => "Type",
        Resource::Project => "Project",
        Resource::AdminUser => "Admin user",
    }
}

/// The resource type id of the project family (`customer-group`, `type`, …).
pub fn resource_type_id(resource: Resource) -> &'static str {
    match resource {
        Resource::Customer => "customer",
        Resource::CustomerAddress => "customer-address",
        Resource::CustomerGroup => "customer-group",
        Resource::Type => "type",
        Resource::Project => "project",
        Resource::AdminUser => "admin-user",
    }
}

/// The contract's sentence for a domain error, as both families word it (each family's mapper
/// uses it where its own words do not differ).
pub fn sentence(err: &DomainError) -> String {
    use DomainError as D;
    match err {
        D::Validation { field, violation } => sentences::violation(field.as_deref(), violation),
        D::InvalidField { field, invalid_value, problem } => sentences::field_problem(field, invalid_value, problem),
        D::InvalidOperation(refusal) => sentences::refusal(refusal),
        D::NotFound { resource, lookup } => {
            let by = match lookup {
                Lookup::Id(_) => "id",
                Lookup::Key(_) => "key",
            };
            format!("{} with {by}: {lookup} was not found", resource_name(*resource))
        }
        D::Duplicate { resource, field, value } => {
            format!("{} with {field}: {value} already exists.", resource_name(*resource))
        }
        D::VersionConflict { id, expected, current } => {
            format!("Object {id} has a different version than expected. Expected: {expected} - Actual: {current}.")
        }
        D::LimitExceeded { resource, limit } => {
            format!("You have exceeded the limit of {limit} resources of type {}.", resource_type_id(*resource))
        }
        D::RequiredField { field } => format!("The value for the required field '{field}' is missing."),
        D::ReferencedResourceNotFound { resource, lookup } => {
            let by = match lookup {
                Lookup::Id(v) => format!("with identifier '{v}'"),
                Lookup::Key(v) => format!("with key '{v}'"),
            };
            format!(
                "The referenced object of type '{}' {by} was not found. It either doesn't exist, or it can't be accessed from this endpoint.",
                resource_type_id(*resource)
            )
        }
        D::ReferenceExists { resource, referenced_by } => format!(
            "Can not delete a {} while it is referenced by at least one {}.",
            resource_type_id(*resource),
            resource_type_id(*referenced_by)
        ),
        D::IdempotencyMismatch => "Idempotency-Key was already used with a different request body".into(),
        D::Conflict => {
            "The request conflicted with another request. You may retry the request with the provided Idempotency-Key."
                .into()
        }
        D::InvalidCredentials => "Invalid email or password".into(),
        D::Busy | D::Unavailable(_) | D::Storage(_) | D::Internal(_) => err.to_string(),
    }
}

/// Marks a response whose error body was rendered by us, so the rewrite middleware leaves it.
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

/// An error response whose body we wrote, finished: a server-side failure behind it (`cause`)
/// is logged, a 503 gets `Retry-After: 1` (the database being away and work refused under load
/// are both short-lived, and clients that honour the header back off instead of hammering), and
/// the response is marked [`Rendered`].
pub(crate) fn rendered(cause: Option<&DomainError>, mut resp: actix_web::HttpResponse) -> actix_web::HttpResponse {
    if let Some(cause) = cause {
        log_internal(cause);
    }
    if resp.status() == actix_web::http::StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from_static("1"));
    }
    resp.extensions_mut().insert(Rendered);
    resp
}

/// Logs an opaque server-side failure (the database unavailable, storage, internal) with its
/// cause chain; the client never sees it. Other errors are the client's and are not logged.
fn log_internal(err: &xclade_domain::DomainError) {
    if !matches!(err, DomainError::Unavailable(_) | DomainError::Storage(_) | DomainError::Internal(_)) {
        return;
    }
    let mut chain = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    tracing::error!(error = %err, cause = %chain, "request failed");
}
