//! PostgreSQL adapter of xclade customers (Diesel + diesel-async).
//!
//! Translates between the domain's ports and SQL: schema, rows ↔ entities, repositories,
//! transactions, constraint-name → domain-error mapping, and the embedded migrations.

pub mod migrations;

pub use migrations::{revert_all_migrations, run_migrations, MigrationError};
