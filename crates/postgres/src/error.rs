//! Diesel and pool errors → domain errors.
//!
//! Rule violations are recognised by the **name of the constraint** that the database
//! reports (never by parsing messages): each write says which of its constraints means which
//! domain error with [`OnConstraint::on_constraint`]; [`constraint_error`] knows the defaults.
//! Whatever is left is `Storage` (500) or, when the database cannot be reached, `Unavailable`
//! (503); neither shows SQL or internals to clients.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::pooled_connection::deadpool::PoolError;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use xclade_domain::customer_group::ExpectedVersion;
use xclade_domain::error::{DomainError, Lookup, Violation};
use xclade_domain::{ProjectId, Resource};

use crate::sql::{Bind, Sql};

/// The error of a step inside a transaction: a database error (which may still be retried
/// or mapped) or a decided domain error (which rolls the transaction back as it is).
#[derive(Debug)]
pub(crate) enum TxError {
    Db(DieselError),
    Domain(DomainError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Db(e)
    }
}

impl From<DomainError> for TxError {
    fn from(e: DomainError) -> Self {
        TxError::Domain(e)
    }
}

pub(crate) type TxResult<T> = Result<T, TxError>;

/// The name of the constraint a unique or foreign-key violation names, if any.
pub(crate) fn violated_constraint(e: &DieselError) -> Option<(&DatabaseErrorKind, &str)> {
    match e {
        DieselError::DatabaseError(
            kind @ (DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation),
            info,
        ) => info.constraint_name().map(|name| (kind, name)),
        _ => None,
    }
}

/// Maps a violation of `constraint` to the domain error `f()` (realworld's `on_constraint`).
pub(crate) trait OnConstraint<T> {
    fn on_constraint(self, constraint: &str, f: impl FnOnce() -> DomainError) -> TxResult<T>;
}

impl<T> OnConstraint<T> for Result<T, DieselError> {
    fn on_constraint(self, constraint: &str, f: impl FnOnce() -> DomainError) -> TxResult<T> {
        self.map_err(TxError::Db).on_constraint(constraint, f)
    }
}

impl<T> OnConstraint<T> for TxResult<T> {
    fn on_constraint(self, constraint: &str, f: impl FnOnce() -> DomainError) -> TxResult<T> {
        match self {
            Err(TxError::Db(e)) if violated_constraint(&e).is_some_and(|(_, name)| name == constraint) => {
                Err(TxError::Domain(f()))
            }
            other => other,
        }
    }
}

/// The default meaning of each named constraint of the schema (`value` is the offending
/// value when the caller knows it).
pub fn constraint_error(constraint: &str, value: &str) -> Option<DomainError> {
    let duplicate = |resource, field| DomainError::Duplicate { resource, field, value: value.to_owned() };
    Some(match constraint {
        "customers_email_key" => duplicate(Resource::Customer, "email"),
        "customer_groups_name_key" => duplicate(Resource::CustomerGroup, "name"),
        "customer_groups_key_key" => duplicate(Resource::CustomerGroup, "key"),
        "projects_key_key" | "projects_pkey" => duplicate(Resource::Project, "key"),
        // Admin users have no resource of their own in the domain: they belong to a project.
        "admin_users_email_key" => duplicate(Resource::AdminUser, "email"),
        "types_key_key" => duplicate(Resource::Type, "key"),
        // Raised when a type that groups still use is deleted.
        "customer_groups_custom_type_fkey" => {
            DomainError::ReferenceExists { resource: Resource::Type, referenced_by: Resource::CustomerGroup }
        }
        _ => return None,
    })
}

#[derive(QueryableByName)]
struct StoredVersion {
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// After an optimistic write of row `id` of `table` (a table of this crate with `project_id`,
/// `id` and `version`) matched no row: `VersionConflict` with the stored version, or
/// `not_found` when the project has no such row.
pub(crate) async fn conflict_or_missing(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    project: ProjectId,
    id: Uuid,
    expected: ExpectedVersion,
    not_found: DomainError,
) -> TxError {
    let mut sql = Sql::new(&format!("SELECT version FROM {table} WHERE project_id = "));
    sql.bind(Bind::Uuid(project.0)).push(" AND id = ").bind(Bind::Uuid(id));
    let current: Result<Vec<StoredVersion>, _> = sql.query().load(conn).await;
    match current.map(|rows| rows.into_iter().next()) {
        Ok(Some(StoredVersion { version: current })) => {
            TxError::Domain(DomainError::VersionConflict { id: id.to_string(), expected: expected.get(), current })
        }
        Ok(None) => TxError::Domain(not_found),
        Err(e) => TxError::Db(e),
    }
}

/// A type a group refers to does not exist (the same FK, violated from the group's side).
pub(crate) fn missing_type(id: impl std::fmt::Display) -> DomainError {
    DomainError::ReferencedResourceNotFound { resource: Resource::Type, lookup: Lookup::Id(id.to_string()) }
}

/// Whether the transaction lost a race that a retry of the whole transaction can win:
/// serialization failure (40001) or deadlock (40P01).
pub(crate) fn is_retryable(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        // diesel-async reports 40P01 as `Unknown` without its SQLSTATE; PostgreSQL's
        // message for it is fixed ("deadlock detected") unless lc_messages is localised,
        // in which case the deadlock ends as a plain storage error (every lock order in
        // this crate is chosen so that deadlocks should not happen at all).
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => info.message() == "deadlock detected",
        _ => false,
    }
}

/// Whether the error says the connection itself is gone.
pub(crate) fn is_connection_error(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
            | DieselError::BrokenTransactionManager
    )
}

/// Whether PostgreSQL text can hold `value`: it cannot hold the NUL character, so a lookup by
/// a value with one finds nothing without asking the database.
pub(crate) fn storable(value: &str) -> bool {
    !value.contains('\0')
}

/// Whether PostgreSQL refused to store a value: text with a NUL byte (22021) or jsonb with
/// `\u0000` (22P05). The rules refuse NUL where a client can send it; this is the net under
/// them ([`Violation::Unstorable`]), so that a path they missed is a 400 and never a 500.
/// diesel-async reports both as `Unknown` without their SQLSTATE, hence the server's
/// (English) messages.
fn is_unstorable_value(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let m = info.message();
            m.starts_with("invalid byte sequence for encoding") && m.ends_with("0x00")
                || m.starts_with("unsupported Unicode escape sequence")
        }
        _ => false,
    }
}

/// The last resort mapping of a database error: known constraints (without a value),
/// values PostgreSQL cannot store → `Validation`, lost connections → `Unavailable`, the rest
/// → `Storage`.
pub(crate) fn db_error(e: DieselError) -> DomainError {
    if let Some(mapped) = violated_constraint(&e).and_then(|(_, name)| constraint_error(name, "")) {
        return mapped;
    }
    if is_unstorable_value(&e) {
        return DomainError::validation(Violation::Unstorable);
    }
    if is_connection_error(&e) {
        return DomainError::Unavailable(Box::new(e));
    }
    DomainError::Storage(Box::new(e))
}

/// Every pool failure (timeout, refused or failing connection, closed pool) means the
/// database cannot be used right now.
pub(crate) fn pool_error(e: PoolError) -> DomainError {
    match e {
        PoolError::NoRuntimeSpecified => DomainError::Storage(Box::new(e)),
        other => DomainError::Unavailable(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_constraints() {
        assert!(matches!(
            constraint_error("customers_email_key", "a@b.co"),
            Some(DomainError::Duplicate { resource: Resource::Customer, field: "email", value }) if value == "a@b.co"
        ));
        assert!(matches!(
            constraint_error("customer_groups_key_key", "k"),
            Some(DomainError::Duplicate { resource: Resource::CustomerGroup, field: "key", .. })
        ));
        assert!(matches!(
            constraint_error("customer_groups_custom_type_fkey", ""),
            Some(DomainError::ReferenceExists { resource: Resource::Type, referenced_by: Resource::CustomerGroup })
        ));
        assert!(constraint_error("something_else", "").is_none());
    }

    #[test]
    fn lost_connections_are_unavailable() {
        let e = DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, Box::new("closed".to_owned()));
        assert!(matches!(db_error(e), DomainError::Unavailable(_)));
        let e = DieselError::NotFound;
        assert!(matches!(db_error(e), DomainError::Storage(_)));
    }

    #[test]
    fn values_postgres_cannot_store_are_validation_errors() {
        for message in ["invalid byte sequence for encoding \"UTF8\": 0x00", "unsupported Unicode escape sequence"] {
            let e = DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()));
            assert!(matches!(db_error(e), DomainError::Validation { .. }), "{message}");
        }
        assert!(!storable("a\0b") && storable("ab"));
    }

    #[test]
    fn retryable_errors() {
        let e = DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, Box::new("x".to_owned()));
        assert!(is_retryable(&e));
        let e = DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new("deadlock detected".to_owned()));
        assert!(is_retryable(&e));
        let e = DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new("other".to_owned()));
        assert!(!is_retryable(&e));
    }
}
