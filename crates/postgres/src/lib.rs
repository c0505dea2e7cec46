//! PostgreSQL adapter of xclade customers (Diesel + diesel-async).
//!
//! Translates between the domain's ports and SQL: schema, rows ↔ entities, repositories,
//! transactions, constraint-name → domain-error mapping, and the embedded migrations.

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
mod tx;

pub use customer_groups::PgCustomerGroupRepository;
pub use customers::PgCustomerRepository;
pub use error::constraint_error;
pub use health::PgHealth;
pub use migrations::{revert_all_migrations, run_migrations, MigrationError};
pub use outbox::PgEventOutbox;
pub use pool::{build_pool, check_connect, PgPool};
pub use projects::PgProjectRepository;
