//! The migrations of the top-level `migrations/` folder, embedded in the binary.

use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// Every migration of the project, embedded at compile time.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// A migration could not be applied or reverted.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migration failed: {0}")]
    Migrate(String),
}

type Wrapper = AsyncConnectionWrapper<AsyncPgConnection>;

/// Runs one harness operation, which counts the migrations it names, on a blocking connection.
async fn counted<F>(database_url: &str, op: F) -> Result<usize, MigrationError>
where
    F: FnOnce(&mut Wrapper) -> diesel::migration::Result<usize> + Send + 'static,
{
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = Wrapper::establish(&url).map_err(|e| MigrationError::Connect(e.to_string()))?;
        op(&mut conn).map_err(|e| MigrationError::Migrate(e.to_string()))
    })
    .await
    .map_err(|e| MigrationError::Migrate(e.to_string()))?
}

/// Applies every pending migration; returns how many were applied.
pub async fn run_migrations(database_url: &str) -> Result<usize, MigrationError> {
    counted(database_url, |conn| conn.run_pending_migrations(MIGRATIONS).map(|named| named.len())).await
}

/// Reverts every applied migration (used by the up → down → up test).
pub async fn revert_all_migrations(database_url: &str) -> Result<usize, MigrationError> {
    counted(database_url, |conn| conn.revert_all_migrations(MIGRATIONS).map(|named| named.len())).await
}

/// Reverts the last applied migration (used by the tests of a migration's data); returns 1.
pub async fn revert_last_migration(database_url: &str) -> Result<usize, MigrationError> {
    counted(database_url, |conn| conn.revert_last_migration(MIGRATIONS).map(|_| 1)).await
}

/// Whether every embedded migration has been applied (used by `/health/ready`).
pub async fn pending_migrations(database_url: &str) -> Result<usize, MigrationError> {
    counted(database_url, |conn| conn.pending_migrations(MIGRATIONS).map(|named| named.len())).await
}
