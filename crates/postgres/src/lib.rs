//! PostgreSQL adapter of xclade customers (Diesel + diesel-async).
//!
//! Translates between the domain's ports and SQL: schema, rows ↔ entities, repositories,
//! transactions, constraint-name → domain-error mapping, and the embedded migrations.

pub mod error;
pub mod migrations;
mod models;
pub mod pool;
pub mod projects;
pub mod schema;
mod sql;
mod tx;

pub use error::constraint_error;
pub use migrations::{revert_all_migrations, run_migrations, MigrationError};
pub use pool::{build_pool, check_connect, PgPool};
pub use projects::PgProjectRepository;
