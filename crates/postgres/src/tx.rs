//! Running one unit of work: a connection from the pool, a transaction, retries of the whole
//! transaction when it lost a serialization race, and a bound on the time it may take.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures::future::BoxFuture;
use xclade_domain::error::DomainResult;
use xclade_domain::DomainError;

use crate::error::{db_error, is_connection_error, is_retryable, TxError, TxResult};
use crate::pool::{connection, discard, release, PgPool, DEADLINE};
use tokio::time::Instant;

/// How many times a transaction that lost a serialization race (40001/40P01) is run.
pub const MAX_ATTEMPTS: u32 = 5;

/// The work of one attempt at a unit of work, on the connection it was given, with the
/// caller's arguments: `|conn, args| Box::pin(async move { … })`.
pub(crate) trait Work<A: ?Sized, T>:
    for<'r> Fn(&'r mut AsyncPgConnection, &'r A) -> BoxFuture<'r, TxResult<T>> + Sync
{
}

impl<A: ?Sized, T, F> Work<A, T> for F where
    F: for<'r> Fn(&'r mut AsyncPgConnection, &'r A) -> BoxFuture<'r, TxResult<T>> + Sync
{
}

/// Runs `f` in a transaction, retrying the whole of it on serialization failures and
/// deadlocks (then `Conflict`). `args` is handed to every attempt by reference. All attempts
/// together end by [`DEADLINE`] (then `Unavailable`; a transaction cut off before its COMMIT
/// was sent is rolled back by the server when the connection closes).
///
/// `f` is called as `|conn, args| Box::pin(async move { … })`.
pub(crate) async fn transaction<A: Sync + ?Sized, T: Send>(
    pool: &PgPool,
    args: &A,
    f: impl Work<A, T>,
) -> DomainResult<T> {
    let deadline = Instant::now() + DEADLINE;
    for attempt in 1..=MAX_ATTEMPTS {
        let mut conn = connection(pool, deadline).await?;
        let pg: &mut AsyncPgConnection = &mut conn;
        let run = pg.transaction(async |c: &mut AsyncPgConnection| f(c, args).await);
        let outcome = match tokio::time::timeout_at(deadline, run).await {
            Ok(outcome) => outcome,
            Err(elapsed) => {
                discard(conn);
                return Err(DomainError::Unavailable(Box::new(elapsed)));
            }
        };
        match outcome {
            Ok(value) => return Ok(value),
            Err(TxError::Domain(e)) => return Err(e),
            Err(TxError::Db(e)) if is_retryable(&e) => {
                tracing::debug!(attempt, error = %e, "transaction lost a race; retrying");
                drop(conn);
                tokio::time::sleep_until(deadline.min(Instant::now() + backoff(attempt))).await;
            }
            Err(TxError::Db(e)) => return Err(classify(e, &conn, deadline).await),
        }
    }
    Err(DomainError::Conflict)
}

/// The work of one attempt on a connection that other requests' statements share
/// ([`PgPool::shared`](crate::pool::PgPool::shared)): it sends reads that stand alone (no
/// transaction), pipelined through the shared reference.
pub(crate) trait SharedWork<A: ?Sized, T>:
    for<'r> Fn(&'r AsyncPgConnection, &'r A) -> BoxFuture<'r, TxResult<T>> + Sync
{
}

impl<A: ?Sized, T, F> SharedWork<A, T> for F where
    F: for<'r> Fn(&'r AsyncPgConnection, &'r A) -> BoxFuture<'r, TxResult<T>> + Sync
{
}

/// Runs `f` on a pooled connection without a transaction (reads that may take long: lists,
/// queries). A read that fails because its connection was found dead (the server restarted or
/// ended the session while the connection sat in the pool) is run again on another
/// connection: reading twice is harmless.
pub(crate) async fn read<A: Sync + ?Sized, T: Send>(pool: &PgPool, args: &A, f: impl Work<A, T>) -> DomainResult<T> {
    exclusive(pool, args, f, true).await
}

async fn exclusive<A: Sync + ?Sized, T: Send>(
    pool: &PgPool,
    args: &A,
    f: impl Work<A, T>,
    retry_lost: bool,
) -> DomainResult<T> {
    let deadline = Instant::now() + DEADLINE;
    let mut attempt = 1;
    loop {
        let mut conn = connection(pool, deadline).await?;
        let outcome = match tokio::time::timeout_at(deadline, f(&mut conn, args)).await {
            Ok(outcome) => outcome,
            Err(elapsed) => {
                discard(conn);
                return Err(DomainError::Unavailable(Box::new(elapsed)));
            }
        };
        let e = match outcome {
            Ok(value) => return Ok(value),
            Err(TxError::Domain(e)) => return Err(e),
            Err(TxError::Db(e)) => classify(e, &conn, deadline).await,
        };
        if !(retry_lost && read_again(attempt, &e)) {
            return Err(e);
        }
        // The dead connection is dropped by the pool when it comes back (its socket is closed);
        // the next checkout gets another one or opens a new one.
        drop(conn);
        attempt += 1;
    }
}

/// Runs `f`, a short read of statements that stand alone (one customer, one group, a project
/// or API client by its key), on the connection the requests of the calling thread share
/// ([`PgPool::shared`](crate::pool::PgPool::shared)); a read that meets a dead connection is
/// run again on another, like [`read`].
pub(crate) async fn point_read<A: Sync + ?Sized, T: Send>(
    pool: &PgPool,
    args: &A,
    f: impl SharedWork<A, T>,
) -> DomainResult<T> {
    shared(pool, args, f).await
}

/// Runs `f`, which sends exactly one writing statement, without an explicit transaction:
/// PostgreSQL runs a single statement atomically (every insert of its CTEs commits or none
/// does), and the BEGIN and COMMIT round trips are saved. Never run twice: a connection lost
/// mid-statement may have committed it, so that is `Unavailable`.
///
/// The connection is the request's own, not shared: a commit waits for its WAL flush, and
/// writes pipelined on one connection would wait for each other's (on separate connections
/// their flushes are one: PostgreSQL's group commit). Sharing the creates' connection measured
/// 1 031 against 1 768 for pgbench's (docs/benchmarks.md).
pub(crate) async fn single_statement<A: Sync + ?Sized, T: Send>(
    pool: &PgPool,
    args: &A,
    f: impl Work<A, T>,
) -> DomainResult<T> {
    exclusive(pool, args, f, false).await
}

async fn shared<A: Sync + ?Sized, T: Send>(pool: &PgPool, args: &A, f: impl SharedWork<A, T>) -> DomainResult<T> {
    let deadline = Instant::now() + DEADLINE;
    let mut attempt = 1;
    loop {
        let hold = pool.shared(deadline).await?;
        let conn = hold.shared.pg();
        let work = async {
            if hold.refresh_plans {
                let mut c = conn;
                diesel::sql_query("DISCARD PLANS").execute(&mut c).await?;
            }
            f(conn, args).await
        };
        let outcome = match tokio::time::timeout_at(deadline, work).await {
            Ok(outcome) => outcome,
            Err(elapsed) => {
                hold.shared.discard();
                release(hold);
                return Err(DomainError::Unavailable(Box::new(elapsed)));
            }
        };
        let e = match outcome {
            Ok(value) => {
                release(hold);
                return Ok(value);
            }
            Err(TxError::Domain(e)) => {
                release(hold);
                return Err(e);
            }
            Err(TxError::Db(e)) => classify(e, conn, deadline).await,
        };
        if matches!(e, DomainError::Unavailable(_)) {
            // Nobody else joins a connection found dead; it goes when its last request does.
            hold.shared.retire();
        }
        release(hold);
        if !read_again(attempt, &e) {
            return Err(e);
        }
        attempt += 1;
    }
}

/// Whether a read that failed with `e` is run again: when its connection died with it
/// (`Unavailable`: a closed socket, or the server ending the session: "terminating connection
/// due to administrator command"), a few times.
fn read_again(attempt: u32, e: &DomainError) -> bool {
    let again = attempt < MAX_ATTEMPTS && matches!(e, DomainError::Unavailable(_));
    if again {
        tracing::debug!(attempt, error = %e, "connection lost during a read; reading again");
    }
    again
}

/// A database error that is not a rule: `Unavailable` when the connection died with it
/// (the server went away mid-request), else the default mapping.
pub(crate) async fn classify(e: diesel::result::Error, conn: &AsyncPgConnection, deadline: Instant) -> DomainError {
    if is_connection_error(&e) {
        return DomainError::Unavailable(Box::new(e));
    }
    let check_by = deadline.min(Instant::now() + Duration::from_secs(1));
    let mut c = conn;
    let alive = tokio::time::timeout_at(check_by, diesel::sql_query("SELECT 1").execute(&mut c)).await;
    match alive {
        Ok(Ok(_)) => db_error(e),
        _ => DomainError::Unavailable(Box::new(e)),
    }
}

fn backoff(attempt: u32) -> Duration {
    // 5, 10, 20, 40 ms plus a little jitter from the clock, so retries do not align.
    let jitter = u64::from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_micros()) % 5,
    );
    Duration::from_millis(5 * (1 << (attempt - 1).min(4)) + jitter)
}
