//! The domain's errors: each names what went wrong, with the data a caller needs to explain it.
//!
//! The errors carry structured data (the resource, how it was looked up, the versions, the
//! field and value, the rule that was broken: [`Violation`], [`Refusal`], [`FieldProblem`])
//! and a plain diagnostic [`std::fmt::Display`]; the words a client reads are chosen by
//! whoever renders the error (each HTTP family has its own mapper).

use crate::custom_type::FieldType;
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
    #[error("invalid input{}: {violation:?}", field.as_deref().map(|f| format!(" in {f:?}")).unwrap_or_default())]
    Validation {
        /// The offending input field, when there is one.
        field: Option<String>,
        /// The rule it breaks.
        violation: Violation,
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
    #[error("operation refused: {0:?}")]
    InvalidOperation(Refusal),

    /// A custom field value of the wrong type or not defined by the type.
    #[error("invalid value for custom field {field:?}: {problem:?}")]
    InvalidField {
        /// The custom field.
        field: String,
        /// The value given for it.
        invalid_value: Value,
        /// What is wrong with it.
        problem: FieldProblem,
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
    pub fn validation(violation: Violation) -> Self {
        DomainError::Validation { field: None, violation }
    }

    /// A [`DomainError::Validation`] of `field`.
    pub fn invalid_field(field: impl Into<String>, violation: Violation) -> Self {
        DomainError::Validation { field: Some(field.into()), violation }
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

/// The rule an input breaks ([`DomainError::Validation`]). The input to blame, when there is
/// one, is the error's `field`; a variant carries the rest of what is needed to explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// More update actions in one request than allowed.
    TooManyActions {
        /// The most actions allowed ([`crate::customer_group::MAX_ACTIONS`]).
        max: usize,
    },
    /// A number (a page size) above its maximum.
    TooHigh {
        /// The largest value allowed.
        max: u64,
    },
    /// More ids in a membership change's `add` or `remove` list than allowed.
    TooManyIds {
        /// The most ids allowed in each list.
        max: usize,
    },
    /// The same id is both added and removed by a membership change.
    AddedAndRemoved {
        /// The id, as text.
        id: String,
    },
    /// A scope that is not `<permission>:<project key>` with a known permission.
    InvalidScope {
        /// The scope as given.
        scope: String,
    },
    /// A scope of another project than the API client's.
    ForeignScope {
        /// The scope.
        scope: String,
        /// The key of the client's project.
        project_key: String,
    },
    /// A password shorter than allowed.
    PasswordTooShort {
        /// The fewest characters allowed.
        min_chars: usize,
    },
    /// A project key that is not `^[a-z0-9][a-z0-9-]{1,35}$`.
    InvalidProjectKey {
        /// The key as given.
        key: String,
    },
    /// A project key that is one of [`crate::project::RESERVED_PROJECT_KEYS`].
    ReservedProjectKey {
        /// The key.
        key: String,
    },
    /// A malformed email address.
    InvalidEmail,
    /// An empty string where one is required (a group name).
    Empty,
    /// A string longer than allowed.
    TooLong {
        /// The most characters allowed.
        max_chars: usize,
    },
    /// A string or JSON value holding U+0000, which PostgreSQL cannot store.
    ContainsNul {
        /// The kind of value that holds it.
        kind: TextKind,
    },
    /// A JSON object (metadata) with more top-level keys than allowed.
    TooManyKeys {
        /// The most keys allowed.
        max: usize,
    },
    /// A JSON object (metadata) nested deeper than allowed.
    TooDeep {
        /// The most levels allowed (the object itself is level 1).
        max_levels: usize,
    },
    /// A JSON object (metadata) larger than allowed once serialized.
    TooLarge {
        /// The most bytes allowed.
        max_bytes: usize,
    },
    /// A key (of a group or a type) that is not `^[A-Za-z0-9_-]+$` with 2–256 characters.
    InvalidKey {
        /// The key as given.
        key: String,
    },
    /// A locale of a localized string that is empty, longer than 64 characters or holds U+0000.
    InvalidLocale {
        /// The locale as given.
        locale: String,
    },
    /// A field definition name that is not `^[A-Za-z0-9_-]+$` with 2–36 characters.
    InvalidFieldName {
        /// The name as given.
        name: String,
    },
    /// A `Set` field type whose elements are sets.
    NestedSet,
    /// An enum value key that is empty or holds U+0000.
    InvalidEnumKey {
        /// The key as given.
        key: String,
    },
    /// A resource type id that is not 1–64 lowercase letters and hyphens.
    InvalidResourceTypeId {
        /// The id as given.
        id: String,
    },
    /// A type draft without any resource type id.
    NoResourceTypeIds,
    /// A `sort` expression that is not `<field> asc|desc` with a sortable field.
    InvalidSort {
        /// The expression as given.
        expression: String,
    },
    /// A `:variable` of a `where` predicate that was never bound to a value.
    UnboundVariable {
        /// The variable's name, without the `:`.
        name: String,
    },
    /// A value the store cannot hold (U+0000 somewhere in it), found only when writing it.
    Unstorable,
    /// A `where` predicate that passed the parser but cannot be evaluated by the store.
    MalformedWhere(WhereViolation),
}

/// The kind of value that holds a U+0000 ([`Violation::ContainsNul`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextKind {
    /// A plain string or a free-form JSON object (metadata, `additional_data`).
    Plain,
    /// A customer group's name.
    GroupName,
    /// A text of a localized string.
    Localized,
    /// The label of an enum value.
    EnumLabel,
}

/// Why a store cannot evaluate a `where` predicate ([`Violation::MalformedWhere`]): checks the
/// parser leaves to the query's translation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhereViolation {
    /// A plain field the resource does not have.
    UnknownField {
        /// The field.
        field: String,
    },
    /// A `:variable` that was never bound to a value.
    UnboundVariable {
        /// The variable's name, without the `:`.
        name: String,
    },
    /// A text field compared with a boolean.
    BooleanComparison {
        /// The field.
        field: String,
    },
    /// A date-time field compared with something else than a string.
    NeedsDateTime {
        /// The field.
        field: String,
    },
    /// A date-time field compared with a string that is not a date-time.
    InvalidDateTime {
        /// The field.
        field: String,
        /// The literal as given.
        literal: String,
    },
    /// A number field compared with a literal that is not a finite number.
    InvalidNumber {
        /// The field.
        field: String,
        /// The literal as given.
        literal: String,
    },
    /// A `DateTime` custom field compared with a value that is not a date-time.
    InvalidCustomDateTime,
    /// A custom field whose type is a set of sets.
    NestedSets,
}

/// Why an operation that is understood cannot be performed on the resource as it is
/// ([`DomainError::InvalidOperation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The values of an enum field type repeat keys.
    DuplicateEnumKeys {
        /// Each repeated key, once, in the order of first repetition.
        keys: Vec<String>,
    },
    /// A type already has (or a draft repeats) a field definition of this name.
    FieldDefinitionExists {
        /// The name.
        name: String,
    },
    /// The type has no field definition of this name.
    NoSuchFieldDefinition {
        /// The name.
        name: String,
    },
    /// An enum value added to a field that is not an `Enum` (or a `Set` of one).
    NotAnEnum {
        /// The field definition's name.
        field: String,
    },
    /// A localized enum value added to a field that is not a `LocalizedEnum` (or a `Set` of one).
    NotALocalizedEnum {
        /// The field definition's name.
        field: String,
    },
    /// An enum value whose key the field already has.
    EnumKeyExists {
        /// The field definition's name.
        field: String,
        /// The key.
        key: String,
    },
    /// A type used on resources its `resourceTypeIds` do not list.
    TypeNotApplicable {
        /// The key of the type.
        type_key: String,
        /// The resource type id it was to be used on.
        resource_type_id: String,
    },
    /// A custom field set on a group that has no custom type.
    NoCustomType {
        /// The custom field.
        field: String,
    },
    /// A custom field removed that the group does not have.
    CustomFieldNotSet {
        /// The custom field.
        field: String,
    },
    /// A type change that makes a field required while resources using the type lack it.
    RequiredFieldLacking,
}

/// What is wrong with a custom field's value ([`DomainError::InvalidField`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldProblem {
    /// The type defines no field of this name.
    NotDefined {
        /// The key of the type.
        type_key: String,
    },
    /// The value is not of the field's type.
    WrongType {
        /// The field's type (boxed: it keeps [`DomainError`] small).
        expected: Box<FieldType>,
    },
}

/// The result of a domain operation.
pub type DomainResult<T> = Result<T, DomainError>;
