//! Wiring and start-up: the pool, the migrations, the services, the HTTP server.

use crate::adapters::{Argon2Hasher, JwtSigner, SystemClock, UuidV7Ids};
use crate::config::Settings;
use actix_web::web;
use std::net::TcpListener;
use std::sync::Arc;
use xclade_domain::event::EventEncoder;
use xclade_domain::ports::{Clock, IdGenerator, PasswordHasher, ProjectRepository, TypeRepository};
use xclade_domain::services::{AdminService, AuthService, CustomerService, GroupService, TypeService};
use xclade_http::events::EventJson;
use xclade_http::server::ServerOptions;
use xclade_http::{AppState, HttpConfig, Metrics, PoolStats};
use xclade_postgres::{
    build_pool, PgCustomerGroupRepository, PgCustomerRepository, PgHealth, PgPool, PgProjectRepository,
    PgTypeRepository,
};

/// Why the service could not start; each renders as one clear line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot reach the database: {0}")]
    Database(String),
    #[error("cannot apply the migrations: {0}")]
    Migrations(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("{0}")]
    Config(String),
}

struct DeadpoolStats(PgPool);

impl PoolStats for DeadpoolStats {
    fn stats(&self) -> (usize, usize, usize, usize) {
        let s = self.0.status();
        (s.size, s.available, s.waiting, s.max_size)
    }
}

/// The domain services wired to their adapters.
#[derive(Clone)]
pub struct Services {
    pub auth: AuthService,
    pub admin: AdminService,
    pub customers: CustomerService,
    pub groups: GroupService,
    pub types: TypeService,
}

impl Services {
    pub fn new(
        pool: &PgPool,
        jwt_secret: &str,
        token_ttl_secs: i64,
        max_customer_groups: u32,
    ) -> Result<Services, StartupError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ids: Arc<dyn IdGenerator> = Arc::new(UuidV7Ids);
        let hasher: Arc<dyn PasswordHasher> =
            Arc::new(Argon2Hasher::new().map_err(|e| StartupError::Config(e.to_string()))?);
        let projects: Arc<dyn ProjectRepository> = Arc::new(PgProjectRepository::new(pool.clone()));
        // Events are recorded with their `data` in the JSON of the HTTP families (§6).
        let events: Arc<dyn EventEncoder> = Arc::new(EventJson);
        let types: Arc<dyn TypeRepository> = Arc::new(PgTypeRepository::new(pool.clone(), events.clone()));
        Ok(Services {
            auth: AuthService::new(
                projects.clone(),
                hasher.clone(),
                Arc::new(JwtSigner::new(jwt_secret.as_bytes())),
                clock.clone(),
                token_ttl_secs,
            ),
            admin: AdminService::new(projects, hasher, ids.clone()),
            customers: CustomerService::new(
                Arc::new(PgCustomerRepository::new(pool.clone(), events.clone())),
                clock.clone(),
                ids.clone(),
            ),
            groups: GroupService::new(
                Arc::new(PgCustomerGroupRepository::new(pool.clone(), events)),
                types.clone(),
                clock.clone(),
                ids.clone(),
                max_customer_groups,
            ),
            types: TypeService::new(types, clock, ids),
        })
    }
}

/// Connects, checks the database answers, and applies migrations when asked; the pool is split
/// into `shards` (one per HTTP worker thread, see [`PgPool`]).
pub async fn connect(
    database_url: &str,
    pool_size: usize,
    shards: usize,
    migrate: bool,
) -> Result<PgPool, StartupError> {
    xclade_postgres::check_connect(database_url).await.map_err(StartupError::Database)?;
    if migrate {
        xclade_postgres::run_migrations(database_url).await.map_err(|e| StartupError::Migrations(e.to_string()))?;
    }
    let url = xclade_postgres::with_application_name(database_url, "xclade-customers");
    build_pool(&url, pool_size, shards).map_err(|e| StartupError::Database(e.to_string()))
}

/// Connections of the background tasks of `serve` (the outbox backlog count, the relay): a pool
/// of their own, so that the request pool's shards belong to the HTTP worker threads alone.
pub const BACKGROUND_POOL_SIZE: usize = 3;

/// The `application_name` of the background pool's connections.
pub const BACKGROUND_APPLICATION: &str = "xclade-customers-background";

/// A built, bound, not yet running service.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    pool: PgPool,
    background: PgPool,
    services: Services,
    /// The relay and the backlog counter, aborted when the server stops.
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Builds everything and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let pool = connect(&settings.database_url, settings.pool_size, settings.workers, settings.migrate).await?;
        let background_url = xclade_postgres::with_application_name(&settings.database_url, BACKGROUND_APPLICATION);
        let background =
            build_pool(&background_url, BACKGROUND_POOL_SIZE, 1).map_err(|e| StartupError::Database(e.to_string()))?;
        let services =
            Services::new(&pool, &settings.jwt_secret, settings.token_ttl_secs, settings.max_customer_groups)?;
        let relay_status = crate::relay::RelayStatus::new();
        let mut tasks = vec![crate::relay::spawn_stats(background.clone(), relay_status.clone())];
        match &settings.events {
            None => tracing::info!("XCLADE_NATS_URL is not set: events stay in the outbox (§6)"),
            Some(events) if !events.relay => tracing::info!("--no-relay: this process publishes no events"),
            Some(events) => tasks.push(tokio::spawn(crate::relay::run(
                background.clone(),
                settings.database_url.clone(),
                events.nats_url.clone(),
                events.stream.clone(),
                events.retention,
                relay_status.clone(),
            ))),
        }
        let listener = TcpListener::bind(&settings.bind).map_err(|e| StartupError::Bind(settings.bind.clone(), e))?;
        let port = listener.local_addr().map_err(|e| StartupError::Bind(settings.bind.clone(), e))?.port();
        let state = AppState {
            auth: services.auth.clone(),
            customers: services.customers.clone(),
            groups: services.groups.clone(),
            types: services.types.clone(),
            health: Arc::new(PgHealth::new(pool.clone(), settings.database_url.clone())),
            metrics: Arc::new(Metrics::new()),
            pool_stats: Some(Arc::new(DeadpoolStats(pool.clone()))),
            events: Some(relay_status.clone()),
            config: HttpConfig { body_limit: settings.body_limit },
        };
        let options = ServerOptions { workers: settings.workers, ..ServerOptions::default() };
        let server = xclade_http::server::serve(listener, web::Data::new(state), options)
            .map_err(|e| StartupError::Bind(settings.bind.clone(), e))?;
        Ok(Application { port, server, pool, background, services, tasks })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The wired services (tests use them for fixtures).
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// A handle that stops the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT (or a stop through the handle): stops accepting, lets
    /// in-flight requests finish, then closes the pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        for task in &self.tasks {
            task.abort();
        }
        self.pool.close();
        self.background.close();
        tracing::info!("server stopped");
        result
    }
}
