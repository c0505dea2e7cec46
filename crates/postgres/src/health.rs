//! Readiness: the database answers and every embedded migration is applied.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::time::Instant;

use async_trait::async_trait;
use xclade_domain::error::DomainResult;
use xclade_domain::ports::HealthCheck;
use xclade_domain::DomainError;

use crate::migrations::{pending_migrations, MigrationError};
use crate::pool::{ping, PgPool, DEADLINE};

/// [`HealthCheck`] on PostgreSQL: `SELECT 1` through the pool on every call, and diesel's
/// own comparison of the applied and the embedded migrations until it once succeeds (then
/// cached: migrations are not reverted under a running service).
#[derive(Clone)]
pub struct PgHealth {
    pool: PgPool,
    database_url: Arc<str>,
    migrated: Arc<AtomicBool>,
}

impl PgHealth {
    /// `database_url` is the pool's database (the migration harness needs a connection of
    /// its own).
    pub fn new(pool: PgPool, database_url: impl Into<String>) -> Self {
        PgHealth { pool, database_url: Arc::from(database_url.into()), migrated: Arc::new(AtomicBool::new(false)) }
    }
}

#[async_trait]
impl HealthCheck for PgHealth {
    async fn ready(&self) -> DomainResult<()> {
        let deadline = Instant::now() + DEADLINE;
        ping(&self.pool, deadline).await?;
        if self.migrated.load(Ordering::Relaxed) {
            return Ok(());
        }
        let pending = tokio::time::timeout_at(deadline, pending_migrations(&self.database_url))
            .await
            .map_err(|elapsed| DomainError::Unavailable(Box::new(elapsed)))?
            .map_err(|e| match e {
                MigrationError::Connect(_) => DomainError::Unavailable(Box::new(e)),
                MigrationError::Migrate(_) => DomainError::Storage(Box::new(e)),
            })?;
        if pending > 0 {
            return Err(DomainError::Unavailable(format!("{pending} migration(s) not applied").into()));
        }
        self.migrated.store(true, Ordering::Relaxed);
        Ok(())
    }
}
