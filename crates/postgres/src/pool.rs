//! The connection pool: deadpool over diesel-async's `AsyncPgConnection`.
//!
//! Every wait is bounded, so that a request fails fast with `DomainError::Unavailable` when
//! the database is down instead of hanging, and the pool heals by itself when it returns: a
//! connection whose socket closed (the server restarted or dropped it) or whose transaction
//! state is not clean (a cancelled request) is thrown away instead of being handed out again.
//!
//! The check looks at the connection's state and sends nothing, unless the connection sat idle
//! for more than [`IDLE_CHECK_AFTER`]: then it is also asked `SELECT 1` (a server restart while
//! the pool was quiet is found before a request meets it). A `SELECT 1` before *every* checkout
//! (deadpool's "verified" recycling) cost one more round trip per request, a quarter of a
//! customer read (docs/benchmarks.md). A connection that dies while in use fails its request:
//! reads are run again on another connection (`tx::read`), writes answer 503 (a write is never
//! sent twice), and the broken connection is dropped.

use std::time::Duration;
use tokio::time::Instant;

use deadpool::managed::{Hook, HookError, Metrics};
use deadpool::Runtime;
use diesel_async::pooled_connection::deadpool::{BuildError, Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use xclade_domain::error::DomainResult;
use xclade_domain::DomainError;

use crate::error::pool_error;

/// The pool every repository holds a clone of (clones share the same connections).
pub type PgPool = Pool<AsyncPgConnection>;

/// A connection checked out of the pool.
pub type PgConn = Object<AsyncPgConnection>;

/// The longest a unit of database work (waiting for a connection, every statement and retry of
/// it) may take before the request gives up with `Unavailable` (503). A database that does not
/// answer (frozen, partitioned, overloaded) is then the same as one that is down, and the
/// client has its 503 within the contract's 5 s (§4.1).
pub const DEADLINE: Duration = Duration::from_millis(4500);

/// How long a request waits for a free connection (also bounded by [`DEADLINE`]).
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening a new connection may take.
pub const CREATE_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection idle for longer than this is checked with `SELECT 1` before reuse.
pub const IDLE_CHECK_AFTER: Duration = Duration::from_secs(2);

/// Every this many checkouts a connection forgets its cached query plans (`DISCARD PLANS`).
///
/// PostgreSQL keeps a prepared statement's plan for the life of the connection, and switches
/// to a generic plan after five executions; a plan chosen while a table was empty or small
/// stays when the table grows, and without `ANALYZE` (autovacuum off or behind) nothing
/// invalidates it: a customer read measured 190 req/s after 50 000 creates against 10 500
/// after an `ANALYZE` (docs/reliability.md). Every table grows only through writes, and every
/// write checks a connection out, so counting checkouts bounds how stale a plan can get
/// (a connection sees at most this many of its own statements between re-plans) at the cost
/// of one round trip per this many requests. The statements themselves are written so that
/// their plan does not depend on statistics where one index decides (see
/// `customers::queries::customer_row`).
pub const PLAN_REFRESH_USES: usize = 1000;

/// How long the check of an idle connection may take.
pub const RECYCLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a pool of at most `max_size` connections (at least 1). Connections are opened
/// lazily, so this succeeds even while the database is down.
pub fn build_pool(database_url: &str, max_size: usize) -> Result<PgPool, BuildError> {
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    // Connections whose socket closed or whose transaction state is not clean are dropped;
    // nothing is sent to the server for the check (see the module documentation).
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder(manager)
        .pre_recycle(Hook::async_fn(|conn: &mut AsyncPgConnection, metrics: &Metrics| {
            Box::pin(async move {
                let refresh = metrics.recycle_count % PLAN_REFRESH_USES == PLAN_REFRESH_USES - 1;
                if !refresh && metrics.last_used() < IDLE_CHECK_AFTER {
                    return Ok(());
                }
                // Either statement also shows the connection answers.
                let check = if refresh { "DISCARD PLANS" } else { "SELECT 1" };
                match tokio::time::timeout(RECYCLE_TIMEOUT, conn.batch_execute(check)).await {
                    Ok(Ok(())) => Ok(()),
                    _ => Err(HookError::message("an idle connection did not answer")),
                }
            })
        }))
        .max_size(max_size.max(1))
        .wait_timeout(Some(WAIT_TIMEOUT))
        .create_timeout(Some(CREATE_TIMEOUT))
        .recycle_timeout(Some(RECYCLE_TIMEOUT))
        .runtime(Runtime::Tokio1)
        .build()
}

/// Checks out a connection by `deadline`, mapping every failure to `Unavailable`. Deadpool
/// bounds each of its steps on its own (waiting, creating, checking an idle connection); the
/// deadline bounds them together: with a frozen server each idle connection's check would
/// otherwise take its own [`RECYCLE_TIMEOUT`] in turn.
pub(crate) async fn connection(pool: &PgPool, deadline: Instant) -> DomainResult<PgConn> {
    match tokio::time::timeout_at(deadline, pool.get()).await {
        Ok(got) => got.map_err(pool_error),
        Err(elapsed) => Err(DomainError::Unavailable(Box::new(elapsed))),
    }
}

/// Takes a connection that did not answer by its deadline out of the pool: it may still be
/// waiting for the server, and must not be handed to the next request.
pub(crate) fn discard(conn: PgConn) {
    drop(Object::take(conn));
}

/// Opens one connection and runs `SELECT 1` (the CLI's start-up check), within
/// [`CREATE_TIMEOUT`]. The error is one line for a human (callers add their own context, e.g.
/// "cannot reach the database: …"); it never contains the URL or its password.
pub async fn check_connect(database_url: &str) -> Result<(), String> {
    let server = server_address(database_url);
    let attempt = async {
        let mut conn = match AsyncPgConnection::establish(database_url).await {
            Ok(conn) => conn,
            Err(e) => return Err(connect_failure(server.as_deref(), e.to_string()).await),
        };
        conn.batch_execute("SELECT 1").await.map_err(|e| format!("the database does not answer: {e}"))
    };
    let at = server.as_deref().map(|s| format!("{s}: ")).unwrap_or_default();
    match tokio::time::timeout(CREATE_TIMEOUT, attempt).await {
        Ok(result) => result,
        Err(_) => Err(format!("{at}no answer within {} s", CREATE_TIMEOUT.as_secs())),
    }
}

/// `host:port` of a `postgres://` URL (port 5432 when absent), never its user or password.
pub fn server_address(database_url: &str) -> Option<String> {
    let rest = database_url.strip_prefix("postgres://").or_else(|| database_url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return None;
    }
    let has_port = match host_port.rfind(']') {
        Some(bracket) => host_port[bracket..].contains(':'),
        None => host_port.contains(':'),
    };
    Some(if has_port { host_port.to_owned() } else { format!("{host_port}:5432") })
}

/// Why a connection could not be opened, naming the server: the driver only says "error
/// connecting to server", so a plain TCP connect finds the cause (refused, unreachable, no
/// such host); when that connects, the driver's message stands (authentication, database).
async fn connect_failure(server: Option<&str>, driver: String) -> String {
    let Some(server) = server else { return driver };
    let probe = tokio::time::timeout(CREATE_TIMEOUT, tokio::net::TcpStream::connect(server)).await;
    let cause = match probe {
        Ok(Err(e)) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            _ => e.to_string(),
        },
        Err(_) => format!("no answer within {} s", CREATE_TIMEOUT.as_secs()),
        Ok(Ok(_)) => driver,
    };
    format!("{server}: {cause}")
}

/// Runs `SELECT 1` on a pooled connection by `deadline` (used by the health check).
pub(crate) async fn ping(pool: &PgPool, deadline: Instant) -> DomainResult<()> {
    let mut conn = connection(pool, deadline).await?;
    match tokio::time::timeout_at(deadline, conn.batch_execute("SELECT 1")).await {
        Ok(answer) => answer.map_err(|e| DomainError::Unavailable(Box::new(e))),
        Err(elapsed) => {
            discard(conn);
            Err(DomainError::Unavailable(Box::new(elapsed)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::server_address;

    #[test]
    fn server_addresses_hide_credentials() {
        assert_eq!(server_address("postgres://u:pw@127.0.0.1:5999/x").as_deref(), Some("127.0.0.1:5999"));
        assert_eq!(server_address("postgresql://db.example/x?sslmode=disable").as_deref(), Some("db.example:5432"));
        assert_eq!(server_address("postgres://u@[::1]:6000/x").as_deref(), Some("[::1]:6000"));
        assert_eq!(server_address("postgres://u@[::1]/x").as_deref(), Some("[::1]:5432"));
        assert_eq!(server_address("host=/tmp dbname=x"), None);
    }
}
