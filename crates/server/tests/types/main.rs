//! End-to-end tests of custom types and custom fields on customer groups (§3.5, issue 7):
//! the real server on a random port, a real database per test, real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the failure

mod fields;
mod groups;
mod integrity;
mod predicates;
mod support;
mod types;
