//! Test support for xclade customers: per-test databases, a spawned server, fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the failure

pub mod app;
pub mod db;
pub mod private_nats;
pub mod private_pg;

pub use app::{ProjectFixture, TestApp};
pub use db::TestDb;
pub use private_nats::{read_stream, PrivateNats, StoredEvent};
pub use private_pg::PrivatePg;

/// Sets up logging once per process; output only when `TEST_LOG` is set.
pub fn init_test_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("info").try_init();
    }
}
