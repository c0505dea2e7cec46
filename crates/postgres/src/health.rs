//! Readiness: the database answers and every embedded migration is applied.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use diesel_async::RunQueryDsl;
use diesel_migrations::MigrationSource;
use xclade_domain::error::DomainResult;
use xclade_domain::ports::HealthCheck;
use xclade_domain::DomainError;

use crate::migrations::MIGRATIONS;
use crate::pool::{ping, PgPool};
use crate::tx::read;

/// [`HealthCheck`] on PostgreSQL. Once the migrations were seen applied, that is cached
/// (migrations are never reverted under a running service); the `SELECT 1` is not.
#[derive(Clone)]
pub struct PgHealth {
    pool: PgPool,
    migrated: Arc<AtomicBool>,
}

impl PgHealth {
    pub fn new(pool: PgPool) -> Self {
        PgHealth { pool, migrated: Arc::new(AtomicBool::new(false)) }
    }
}

/// The versions of every embedded migration (`2026-11-23-000001_init` → `20261123000001`).
pub fn embedded_versions() -> Result<Vec<String>, DomainError> {
    let migrations = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|e| DomainError::Storage(format!("embedded migrations: {e}").into()))?;
    Ok(migrations.iter().map(|m| m.name().version().to_string()).collect())
}

#[derive(QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = Text)]
    version: String,
}

#[async_trait]
impl HealthCheck for PgHealth {
    async fn ready(&self) -> DomainResult<()> {
        ping(&self.pool).await?;
        if self.migrated.load(Ordering::Relaxed) {
            return Ok(());
        }
        let wanted = embedded_versions()?;
        let applied = read(&self.pool, &wanted, |conn, wanted| {
            Box::pin(async move {
                #[derive(QueryableByName)]
                struct Exists {
                    #[diesel(sql_type = diesel::sql_types::Bool)]
                    present: bool,
                }
                // A database that was never migrated has no such table at all.
                let table: Vec<Exists> =
                    diesel::sql_query("SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS present")
                        .load(conn)
                        .await?;
                if !table.first().is_some_and(|t| t.present) {
                    return Ok(BTreeSet::new());
                }
                let rows: Vec<AppliedVersion> =
                    diesel::sql_query("SELECT version FROM __diesel_schema_migrations WHERE version = ANY($1)")
                        .bind::<Array<Text>, _>(wanted)
                        .load(conn)
                        .await?;
                Ok(rows.into_iter().map(|r| r.version).collect::<BTreeSet<String>>())
            })
        })
        .await?;
        if let Some(missing) = wanted.iter().find(|v| !applied.contains(*v)) {
            return Err(DomainError::Unavailable(format!("migration {missing} is not applied").into()));
        }
        self.migrated.store(true, Ordering::Relaxed);
        Ok(())
    }
}
