//! Running one unit of work: a connection from the pool, a transaction, retries of the whole
//! transaction when it lost a serialization race, and a bound on the time it may take.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures::future::BoxFuture;
use xclade_domain::error::DomainResult;
use xclade_domain::DomainError;

use crate::error::{db_error, is_connection_error, is_retryable, TxError, TxResult};
use crate::pool::{connection, discard, PgPool, DEADLINE};
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
            Err(TxError::Db(e)) => return Err(classify(e, &mut conn, deadline).await),
        }
    }
    Err(DomainError::Conflict)
}

/// Runs `f` on a pooled connection without a transaction (reads). A read that fails because its
/// connection was found dead (the server restarted or ended the session while the connection
/// sat in the pool) is run again on another connection: reading twice is harmless.
pub(crate) async fn read<A: Sync + ?Sized, T: Send>(pool: &PgPool, args: &A, f: impl Work<A, T>) -> DomainResult<T> {
    without_transaction(pool, args, f, true).await
}

/// Runs `f`, which sends exactly one writing statement, without an explicit transaction:
/// PostgreSQL runs a single statement atomically (every insert of its CTEs commits or none
/// does), and the BEGIN and COMMIT round trips are saved. Never run twice: a connection lost
/// mid-statement may have committed it, so that is `Unavailable`.
pub(crate) async fn single_statement<A: Sync + ?Sized, T: Send>(
    pool: &PgPool,
    args: &A,
    f: impl Work<A, T>,
) -> DomainResult<T> {
    without_transaction(pool, args, f, false).await
}

async fn without_transaction<A: Sync + ?Sized, T: Send>(
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
            Err(TxError::Db(e)) => classify(e, &mut conn, deadline).await,
        };
        // `Unavailable`: the connection died with the statement (closed socket, or the server
        // ending the session: "terminating connection due to administrator command").
        if !(retry_lost && attempt < MAX_ATTEMPTS && matches!(e, DomainError::Unavailable(_))) {
            return Err(e);
        }
        // The dead connection is dropped by the pool when it comes back (its socket is closed);
        // the next checkout gets another one or opens a new one.
        tracing::debug!(attempt, error = %e, "connection lost during a read; reading again");
        drop(conn);
        attempt += 1;
    }
}

/// A database error that is not a rule: `Unavailable` when the connection died with it
/// (the server went away mid-request), else the default mapping.
async fn classify(e: diesel::result::Error, conn: &mut AsyncPgConnection, deadline: Instant) -> DomainError {
    if is_connection_error(&e) {
        return DomainError::Unavailable(Box::new(e));
    }
    let check_by = deadline.min(Instant::now() + Duration::from_secs(1));
    let alive = tokio::time::timeout_at(check_by, conn.batch_execute("SELECT 1")).await;
    match alive {
        Ok(Ok(())) => db_error(e),
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
