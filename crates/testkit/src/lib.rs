//! Test support for xclade customers: per-test databases, a spawned server, fixtures.

pub mod db;

pub use db::TestDb;
