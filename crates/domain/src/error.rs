//! The domain's errors: each names what went wrong, with the data a caller needs to explain it.
//!
//! The errors carry structured data (the resource, how it was looked up, the versions, the
//! field and value) and a plain diagnostic [`std::fmt::Display`]; the words a client reads
//! are chosen by whoever renders the error (each HTTP family has its own mapper).

use serde_json::Value;
use std::fmt;

/// The kinds of resources errors can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A customer.
    Customer,
    /// One address of a customer.
    CustomerAddress,
    /// A customer group.
    CustomerGroup,
    /// A custom type.
    Type,
    /// A project (tenant).
    Project,
    /// An admin user.
    AdminUser,
}

/// How a missing resource was looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// By its id.
    Id(String),
    /// By its key.
    Key(String),
}

impl Lookup {
    /// The looked-up value (the id or the key).
    pub fn value(&self) -> &str {
        match self {
            Lookup::Id(v) | Lookup::Key(v) => v,
        }
    }
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value())
    }
}

/// A boxed error from an adapter, kept for logging, never shown to clients.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything a domain operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input that breaks a rule; `field` names the input when one is to blame.
    #[error("{message}")]
    Validation {
        /// The offending input field, when there is one.
        field: Option<String>,
        /// What is wrong with it.
        message: String,
    },

    /// The resource does not exist (or is not visible in this project).
    #[error("{resource:?} not found ({lookup:?})")]
    NotFound {
        /// What was looked for.
        resource: Resource,
        /// How it was looked for.
        lookup: Lookup,
    },

    /// A uniqueness rule: `field` is the field name (`email`, `name`, `key`).
    #[error("duplicate {resource:?} {field}: {value:?}")]
    Duplicate {
        /// The kind of resource.
        resource: Resource,
        /// The unique field.
        field: &'static str,
        /// The value that is already taken.
        value: String,
    },

    /// The resource has another version than the one the change was based on.
    #[error("version conflict on {id}: expected {expected}, actual {current}")]
    VersionConflict {
        /// The id of the resource.
        id: String,
        /// The version the caller expected.
        expected: i64,
        /// The stored version.
        current: i64,
    },

    /// A project may not hold more than `limit` resources of this kind.
    #[error("limit of {limit} {resource:?} resources reached")]
    LimitExceeded {
        /// The kind of resource.
        resource: Resource,
        /// The limit.
        limit: u32,
    },

    /// The request is understood but cannot be performed in this state.
    #[error("{0}")]
    InvalidOperation(String),

    /// A custom field value of the wrong type or not defined by the type.
    #[error("{message}")]
    InvalidField {
        /// The custom field.
        field: String,
        /// The value given for it.
        invalid_value: Value,
        /// What is wrong with it.
        message: String,
    },

    /// A required custom field is missing.
    #[error("required field {field:?} is missing")]
    RequiredField {
        /// The custom field.
        field: String,
    },

    /// A reference (e.g. a custom type) that does not exist.
    #[error("referenced {resource:?} not found ({lookup:?})")]
    ReferencedResourceNotFound {
        /// The kind of the referenced resource.
        resource: Resource,
        /// How it was referenced.
        lookup: Lookup,
    },

    /// A resource still referenced by others cannot be deleted.
    #[error("{resource:?} is still referenced by a {referenced_by:?}")]
    ReferenceExists {
        /// The resource that was to be deleted.
        resource: Resource,
        /// The kind of resource that still references it.
        referenced_by: Resource,
    },

    /// The same idempotency key was used with another request.
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,

    /// A concurrent write conflicted and could not be decided; safe to retry.
    #[error("conflict with a concurrent write")]
    Conflict,

    /// Login or client credentials are wrong.
    #[error("invalid credentials")]
    InvalidCredentials,

    /// Too much work is waiting for a bounded resource (password hashing); retry shortly.
    #[error("the service is busy")]
    Busy,

    /// The storage is unreachable.
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),

    /// The storage failed.
    #[error("the database failed")]
    Storage(#[source] BoxError),

    /// Anything else.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl DomainError {
    /// A [`DomainError::Validation`] not tied to one field.
    pub fn validation(message: impl Into<String>) -> Self {
        DomainError::Validation { field: None, message: message.into() }
    }

    /// A [`DomainError::Validation`] of `field`.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation { field: Some(field.into()), message: message.into() }
    }

    /// A [`DomainError::NotFound`] looked up by id.
    pub fn not_found(resource: Resource, id: impl fmt::Display) -> Self {
        DomainError::NotFound { resource, lookup: Lookup::Id(id.to_string()) }
    }

    /// A [`DomainError::NotFound`] looked up by key.
    pub fn not_found_key(resource: Resource, key: impl Into<String>) -> Self {
        DomainError::NotFound { resource, lookup: Lookup::Key(key.into()) }
    }

    /// A [`DomainError::Internal`] with this diagnostic.
    pub fn internal(message: impl Into<String>) -> Self {
        DomainError::Internal(message.into().into())
    }
}

/// The result of a domain operation.
pub type DomainResult<T> = Result<T, DomainError>;
