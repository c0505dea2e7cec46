//! Repository tests against a real PostgreSQL (one fresh database per test, see
//! `xclade_testkit::TestDb`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the failure

mod batches;
mod common;
mod concurrency;
mod customers;
mod groups;
mod operations;
mod prepared;
mod projects;
mod recording;
mod sharing;
mod statements;
mod tenant_filter;
mod types;
mod where_predicates;
