//! Repository tests against a real PostgreSQL (one fresh database per test, see
//! `xclade_testkit::TestDb`).

mod common;
mod concurrency;
mod customers;
mod groups;
mod operations;
mod projects;
mod statements;
mod types;
mod where_predicates;
