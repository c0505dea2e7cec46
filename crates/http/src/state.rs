//! Shared state of the HTTP adapter.

use crate::metrics::Metrics;
use std::sync::Arc;
use xclade_domain::ports::HealthCheck;
use xclade_domain::services::{AuthService, CustomerService, GroupService, TypeService};

/// Default request body limit (256 KiB).
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub body_limit: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { body_limit: DEFAULT_BODY_LIMIT }
    }
}

/// Gauges of the connection pool, for `/metrics`.
pub trait PoolStats: Send + Sync {
    /// (size, available, waiting, max_size)
    fn stats(&self) -> (usize, usize, usize, usize);
}

/// What the event relay reports, for `/metrics` and `/health/ready` (§6).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventsSnapshot {
    /// `disabled` (no NATS URL or `--no-relay`), `starting`, `running`, `nats_unavailable`,
    /// `database_unavailable`.
    pub relay_state: &'static str,
    /// Events not yet published (None before the first count).
    pub outbox_pending: Option<u64>,
    /// Age in seconds of the oldest pending event (0 without any).
    pub oldest_pending_age_secs: f64,
    /// Publishes that failed since start.
    pub publish_errors: u64,
    /// Events published since start (by this process's relay).
    pub published: u64,
}

/// The relay's state, read by the operational routes.
pub trait EventsStatus: Send + Sync {
    fn snapshot(&self) -> EventsSnapshot;
}

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub auth: AuthService,
    pub customers: CustomerService,
    pub groups: GroupService,
    pub types: TypeService,
    pub health: Arc<dyn HealthCheck>,
    pub metrics: Arc<Metrics>,
    pub pool_stats: Option<Arc<dyn PoolStats>>,
    pub events: Option<Arc<dyn EventsStatus>>,
    pub config: HttpConfig,
}
