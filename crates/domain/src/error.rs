//! The domain's errors: each names what went wrong; each HTTP family maps them to its own body.

use serde_json::Value;
use std::fmt;

/// The kinds of resources errors can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Customer,
    CustomerAddress,
    CustomerGroup,
    Type,
    Project,
    AdminUser,
}

impl Resource {
    /// The human name used in admin-family messages (`Customer group with id: X was not found`).
    pub fn human(self) -> &'static str {
        match self {
            Resource::Customer => "Customer",
            Resource::CustomerAddress => "Customer address",
            Resource::CustomerGroup => "Customer group",
            Resource::Type => "Type",
            Resource::Project => "Project",
            Resource::AdminUser => "Admin user",
        }
    }

    /// The resource type id of the project family (`customer-group`, `type`, …).
    pub fn type_id(self) -> &'static str {
        match self {
            Resource::Customer => "customer",
            Resource::CustomerAddress => "customer-address",
            Resource::CustomerGroup => "customer-group",
            Resource::Type => "type",
            Resource::Project => "project",
            Resource::AdminUser => "admin-user",
        }
    }
}

/// How a missing resource was looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Id(String),
    Key(String),
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lookup::Id(v) | Lookup::Key(v) => f.write_str(v),
        }
    }
}

/// A boxed error from an adapter, kept for logging, never shown to clients.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input that breaks a rule; `message` is client-facing (`Invalid email`).
    #[error("{message}")]
    Validation { field: Option<String>, message: String },

    #[error("{} with {}: {} was not found", resource.human(), match lookup { Lookup::Id(_) => "id", Lookup::Key(_) => "key" }, lookup)]
    NotFound { resource: Resource, lookup: Lookup },

    /// A uniqueness rule: `field` is the public field name (`email`, `name`, `key`).
    #[error("{} with {field}: {value} already exists.", resource.human())]
    Duplicate { resource: Resource, field: &'static str, value: String },

    #[error("Object {id} has a different version than expected. Expected: {expected} - Actual: {current}.")]
    VersionConflict { id: String, expected: i64, current: i64 },

    #[error("You have exceeded the limit of {limit} resources of type {}.", resource.type_id())]
    LimitExceeded { resource: Resource, limit: u32 },

    /// The request is understood but cannot be performed in this state (project: InvalidOperation).
    #[error("{0}")]
    InvalidOperation(String),

    /// A custom field value of the wrong type or not defined by the type.
    #[error("{message}")]
    InvalidField { field: String, invalid_value: Value, message: String },

    /// A required custom field is missing.
    #[error("The value for the required field '{field}' is missing.")]
    RequiredField { field: String },

    /// A reference (e.g. a custom type) that does not exist.
    #[error("The referenced object of type '{}' {} was not found. It either doesn't exist, or it can't be accessed from this endpoint.", resource.type_id(), match lookup { Lookup::Id(v) => format!("with identifier '{v}'"), Lookup::Key(v) => format!("with key '{v}'") })]
    ReferencedResourceNotFound { resource: Resource, lookup: Lookup },

    /// A resource still referenced by others cannot be deleted.
    #[error("Can not delete a {} while it is referenced by at least one {}.", resource.type_id(), referenced_by.type_id())]
    ReferenceExists { resource: Resource, referenced_by: Resource },

    /// The same Idempotency-Key was used with another request body.
    #[error("Idempotency-Key was already used with a different request body")]
    IdempotencyMismatch,

    /// A concurrent write conflicted and could not be decided; safe to retry.
    #[error(
        "The request conflicted with another request. You may retry the request with the provided Idempotency-Key."
    )]
    Conflict,

    /// Login or client credentials are wrong.
    #[error("Invalid email or password")]
    InvalidCredentials,

    /// Too much work is waiting for a bounded resource (password hashing); retry shortly
    /// (maps to 503 with `Retry-After`).
    #[error("the service is busy")]
    Busy,

    /// The storage is unreachable (maps to 503).
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),

    /// The storage failed (maps to 500 database_error).
    #[error("the database failed")]
    Storage(#[source] BoxError),

    /// Anything else (maps to 500 unknown_error).
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl DomainError {
    pub fn validation(message: impl Into<String>) -> Self {
        DomainError::Validation { field: None, message: message.into() }
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation { field: Some(field.into()), message: message.into() }
    }

    pub fn not_found(resource: Resource, id: impl fmt::Display) -> Self {
        DomainError::NotFound { resource, lookup: Lookup::Id(id.to_string()) }
    }

    pub fn not_found_key(resource: Resource, key: impl Into<String>) -> Self {
        DomainError::NotFound { resource, lookup: Lookup::Key(key.into()) }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        DomainError::Internal(message.into().into())
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
