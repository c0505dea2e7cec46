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
    pub config: HttpConfig,
}
