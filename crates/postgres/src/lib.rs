//! PostgreSQL adapter of xclade customers (Diesel + diesel-async).
//!
//! Translates between the domain's ports and SQL: schema, rows ↔ entities, repositories,
//! transactions, constraint-name → domain-error mapping, and the embedded migrations.
//!
//! * [`build_pool`] → [`PgPool`] (deadpool, bounded waits, verified recycling);
//!   [`check_connect`] for start-up checks.
//! * One repository per port, each a cheap clone holding the pool:
//!   [`PgProjectRepository`], [`PgCustomerRepository`], [`PgCustomerGroupRepository`],
//!   [`PgTypeRepository`], [`PgEventOutbox`], [`PgHealth`].
//! * Every write is one transaction (its outbox event included), retried as a whole up to
//!   [`tx::MAX_ATTEMPTS`] times when it lost a serialization race or a deadlock, then
//!   `DomainError::Conflict`.
//! * Lock order, everywhere: the project row (group count), then customer rows, then the
//!   custom type row (shared, see [`types`]), then group rows in ascending id order.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod customer_groups;
pub mod customers;
pub mod error;
mod group_query;
pub mod health;
pub mod migrations;
mod models;
pub mod outbox;
pub mod pool;
pub mod projects;
pub mod schema;
mod sql;
pub mod tx;
pub mod types;

pub use customer_groups::PgCustomerGroupRepository;
pub use customers::PgCustomerRepository;
pub use error::constraint_error;
pub use health::PgHealth;
pub use migrations::{revert_all_migrations, revert_last_migration, run_migrations, MigrationError};
pub use outbox::PgEventOutbox;
pub use pool::{build_pool, check_connect, with_application_name, PgPool, PoolStatus};
pub use projects::PgProjectRepository;
pub use types::PgTypeRepository;
