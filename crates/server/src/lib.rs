//! The `xclade-customers` service: configuration, adapters for hashing/signing/time/ids,
//! wiring of the domain services to the Postgres and HTTP adapters, start-up and shutdown.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod adapters;
pub mod cli;
pub mod config;
pub mod hashing;
pub mod relay;
pub mod startup;
pub mod telemetry;

pub use config::Settings;
pub use startup::{Application, StartupError};
