//! actix-web adapter of xclade customers.
//!
//! Two client families share one domain: the admin family under `/admin/*` (Medusa style) and
//! the project family under `/{projectKey}/*` (commercetools style), plus OAuth, login and the
//! operational routes. Each family maps domain errors to its own body in exactly one place
//! (`error::admin`, `error::project`).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod auth;
pub mod body;
pub mod error;
pub mod events;
pub mod fields;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod query;
pub mod respond;
pub mod rfc3339;
pub mod routes;
pub mod server;
pub mod state;

pub use metrics::Metrics;
pub use state::{AppState, EventsSnapshot, EventsStatus, HttpConfig, PoolStats};

use actix_web::web;

/// Registers every route of the service. `state` must also be added with `app_data`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::ops::configure(cfg);
    routes::oauth::configure(cfg);
    routes::admin(cfg);
    openapi::configure(cfg);
    app::configure(cfg);
    // The project family's `/{projectKey}/…` scope comes last: it would shadow the rest.
    routes::project(cfg);
}
