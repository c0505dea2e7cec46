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

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
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
///
/// It is made of one deadpool pool per HTTP worker thread (a *shard*), each with its share of
/// the connections. A thread always takes its connections from the same shard, so the task that
/// drives a connection's socket (spawned where the connection was opened) runs on the thread
/// whose requests use it: every round trip then wakes only that thread. With one pool shared by
/// the workers, a round trip often woke the other worker's thread as well, which cost about a
/// quarter of the server's CPU per customer read (docs/benchmarks.md). Threads are given shards
/// in turn, the first time they use the pool; more threads than shards share them.
#[derive(Clone)]
pub struct PgPool {
    shards: Arc<[Pool<AsyncPgConnection>]>,
    id: usize,
    next: Arc<AtomicUsize>,
}

/// Connections in use and free, requests waiting, and the maximum, over every shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open.
    pub size: usize,
    /// Connections open and free.
    pub available: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
    /// The most connections the pool opens.
    pub max_size: usize,
}

static POOL_IDS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The shard this thread uses, per pool (pool id, shard); a handful of pools at most.
    static SHARD_OF: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

/// How many (pool, shard) choices a thread remembers (tests open many pools on one thread).
const REMEMBERED_POOLS: usize = 16;

impl PgPool {
    /// A pool of one shard (tests build their own deadpool pool and wrap it).
    pub fn single(pool: Pool<AsyncPgConnection>) -> PgPool {
        PgPool::from_shards(vec![pool])
    }

    fn from_shards(shards: Vec<Pool<AsyncPgConnection>>) -> PgPool {
        PgPool {
            shards: shards.into(),
            id: POOL_IDS.fetch_add(1, Ordering::Relaxed),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The shard of the calling thread.
    fn shard(&self) -> &Pool<AsyncPgConnection> {
        &self.shards[self.shard_index()]
    }

    /// How many shards the pool has (one per HTTP worker thread).
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The index of the calling thread's shard, below [`PgPool::shard_count`].
    pub(crate) fn shard_index(&self) -> usize {
        let n = self.shards.len();
        if n == 1 {
            return 0;
        }
        let index = SHARD_OF.with(|cell| {
            let mut known = cell.borrow_mut();
            if let Some(&(_, shard)) = known.iter().find(|(id, _)| *id == self.id) {
                return shard;
            }
            let shard = self.next.fetch_add(1, Ordering::Relaxed) % n;
            if known.len() == REMEMBERED_POOLS {
                known.remove(0);
            }
            known.push((self.id, shard));
            shard
        });
        index % n
    }

    /// Checks out a connection of the calling thread's shard (deadpool's own bounds apply).
    pub async fn get(
        &self,
    ) -> Result<PgConn, deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>> {
        self.shard().get().await
    }

    /// The sums over every shard.
    pub fn status(&self) -> PoolStatus {
        self.shards.iter().map(Pool::status).fold(
            PoolStatus { size: 0, available: 0, waiting: 0, max_size: 0 },
            |acc, s| PoolStatus {
                size: acc.size + s.size,
                available: acc.available + s.available,
                waiting: acc.waiting + s.waiting,
                max_size: acc.max_size + s.max_size,
            },
        )
    }

    /// Closes every shard: waiting and later checkouts fail, open connections are dropped.
    pub fn close(&self) {
        for shard in self.shards.iter() {
            shard.close();
        }
    }
}

/// A connection checked out of the pool.
pub type PgConn = Object<AsyncPgConnection>;

/// A connection that the short reads of the requests running on one thread share, each
/// request's statements pipelined with the others' (see [`PgPool::shared`]).
///
/// It stays checked out of the pool while any request holds it, and goes back when the last
/// one lets go. A request that finds it broken or frozen `retire`s it, so that later requests
/// check out another; one that gave up waiting for it also `discard`s it: it is then taken out
/// of the pool by the last request to [`release`] it instead of going back.
pub(crate) struct SharedConn {
    conn: PgConn,
    /// Requests that joined it since it was checked out.
    joins: AtomicUsize,
    retired: AtomicBool,
    discarded: AtomicBool,
}

impl SharedConn {
    /// The connection, to send statements on (`&AsyncPgConnection` pipelines them).
    pub(crate) fn pg(&self) -> &AsyncPgConnection {
        &self.conn
    }

    /// No request joins it any more.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
    }

    /// It is taken out of the pool when the last request lets go (it may still be waiting
    /// for the server).
    pub(crate) fn discard(&self) {
        self.retire();
        self.discarded.store(true, Ordering::Relaxed);
    }

    /// Counts a request in; true when this one should refresh the connection's plans first
    /// (every [`PLAN_REFRESH_USES`] joins, as an exclusive connection is every that many
    /// checkouts: a connection shared under steady load may never go back to the pool).
    fn join(&self) -> bool {
        self.joins.fetch_add(1, Ordering::Relaxed) % PLAN_REFRESH_USES == PLAN_REFRESH_USES - 1
    }
}

/// Lets go of a shared connection: the last request to let go of one that was discarded takes
/// it out of the pool. (A request dropped before it releases lets go without this: a discarded
/// connection may then go back to the pool, and the next request to wait on it in vain
/// discards it again.)
pub(crate) fn release(hold: SharedHold) {
    if let Some(last) = Arc::into_inner(hold.shared) {
        if last.discarded.load(Ordering::Relaxed) {
            discard(last.conn);
        }
    }
}

/// A request's hold on a shared connection.
pub(crate) struct SharedHold {
    pub(crate) shared: Arc<SharedConn>,
    /// This request sends `DISCARD PLANS` before its own statements.
    pub(crate) refresh_plans: bool,
}

thread_local! {
    /// The connection this thread's requests share, per pool (pool id, connection).
    static SHARED_OF: RefCell<Vec<(usize, Weak<SharedConn>)>> = const { RefCell::new(Vec::new()) };
}

impl PgPool {
    /// The connection the calling thread's short reads share, checked out by `deadline`.
    ///
    /// Requests running on one thread at the same time send their statements on one
    /// connection instead of one each: the driver writes all that are queued in one system
    /// call and reads as many answers as have arrived in one, and PostgreSQL's backend finds
    /// the next statement already waiting instead of sleeping until it comes. A customer read
    /// measured 98 → 73 µs of server CPU and 130 → 94 µs of PostgreSQL CPU per request, a group
    /// read 57 → 44 and 48 → 34 (docs/benchmarks.md). Only reads that stand alone and are short
    /// use it (one customer, one group): each statement ends in its own `Sync`, so one's error
    /// is not the others'. Transactions, writes (a commit waits for its WAL flush, and commits
    /// queued on one connection would wait for each other's) and long reads (lists, queries,
    /// which the short ones would wait behind) keep a connection to themselves.
    pub(crate) async fn shared(&self, deadline: Instant) -> DomainResult<SharedHold> {
        if let Some(shared) = self.current_shared() {
            let refresh_plans = shared.join();
            return Ok(SharedHold { shared, refresh_plans });
        }
        let conn = connection(self, deadline).await?;
        // Another request of this thread may have checked one out while this one waited.
        if let Some(shared) = self.current_shared() {
            drop(conn);
            let refresh_plans = shared.join();
            return Ok(SharedHold { shared, refresh_plans });
        }
        let shared = Arc::new(SharedConn {
            conn,
            joins: AtomicUsize::new(1),
            retired: AtomicBool::new(false),
            discarded: AtomicBool::new(false),
        });
        SHARED_OF.with(|cell| {
            let mut known = cell.borrow_mut();
            known.retain(|(id, weak)| *id != self.id && weak.strong_count() > 0);
            if known.len() == REMEMBERED_POOLS {
                known.remove(0);
            }
            known.push((self.id, Arc::downgrade(&shared)));
        });
        Ok(SharedHold { shared, refresh_plans: false })
    }

    fn current_shared(&self) -> Option<Arc<SharedConn>> {
        SHARED_OF.with(|cell| {
            let known = cell.borrow();
            let (_, weak) = known.iter().find(|(id, _)| *id == self.id)?;
            weak.upgrade().filter(|shared| !shared.retired.load(Ordering::Relaxed))
        })
    }
}

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

/// Builds a pool of at most `max_size` connections (at least 1) in `shards` shards (at least 1,
/// at most `max_size`; one per HTTP worker thread), the connections shared out evenly.
/// Connections are opened lazily, so this succeeds even while the database is down.
pub fn build_pool(database_url: &str, max_size: usize, shards: usize) -> Result<PgPool, BuildError> {
    let max_size = max_size.max(1);
    let shards = shards.clamp(1, max_size);
    let pools = (0..shards)
        .map(|i| build_shard(database_url, max_size / shards + usize::from(i < max_size % shards)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PgPool::from_shards(pools))
}

fn build_shard(database_url: &str, max_size: usize) -> Result<Pool<AsyncPgConnection>, BuildError> {
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
        .max_size(max_size)
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

/// `database_url` with `application_name` set to `name` (unless it sets one already), so that
/// operators (and `pg_stat_activity`) can tell the service's connections, and its request pool
/// from its background tasks, apart. Works for URLs and for `key=value` connection strings.
pub fn with_application_name(database_url: &str, name: &str) -> String {
    if database_url.contains("application_name=") {
        return database_url.to_owned();
    }
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        let separator = if database_url.contains('?') { '&' } else { '?' };
        format!("{database_url}{separator}application_name={name}")
    } else {
        format!("{database_url} application_name={name}")
    }
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
    use super::{server_address, with_application_name};

    #[test]
    fn each_thread_keeps_one_shard_and_threads_take_them_in_turn() {
        let pool = super::build_pool("postgres://u@127.0.0.1:1/x", 5, 2).expect("a pool builds without connecting");
        assert_eq!(pool.status().max_size, 5, "the connections are shared out, not multiplied");
        let here = |p: &super::PgPool| std::ptr::from_ref(p.shard()) as usize;
        let first = here(&pool);
        assert_eq!(here(&pool), first, "a thread keeps its shard");
        let other = std::thread::scope(|s| s.spawn(|| here(&pool)).join().expect("thread"));
        assert_ne!(other, first, "the next thread takes the other shard");
        let single = super::build_pool("postgres://u@127.0.0.1:1/x", 1, 4).expect("pool");
        assert_eq!((single.shards.len(), single.status().max_size), (1, 1), "never more shards than connections");
    }

    #[test]
    fn application_names_are_added_once() {
        assert_eq!(with_application_name("postgres://u@h/db", "svc"), "postgres://u@h/db?application_name=svc");
        assert_eq!(
            with_application_name("postgres://u@h/db?sslmode=disable", "svc"),
            "postgres://u@h/db?sslmode=disable&application_name=svc"
        );
        assert_eq!(
            with_application_name("postgres://u@h/db?application_name=mine", "svc"),
            "postgres://u@h/db?application_name=mine"
        );
        assert_eq!(with_application_name("host=/tmp dbname=x", "svc"), "host=/tmp dbname=x application_name=svc");
    }

    #[test]
    fn server_addresses_hide_credentials() {
        assert_eq!(server_address("postgres://u:pw@127.0.0.1:5999/x").as_deref(), Some("127.0.0.1:5999"));
        assert_eq!(server_address("postgresql://db.example/x?sslmode=disable").as_deref(), Some("db.example:5432"));
        assert_eq!(server_address("postgres://u@[::1]:6000/x").as_deref(), Some("[::1]:6000"));
        assert_eq!(server_address("postgres://u@[::1]/x").as_deref(), Some("[::1]:5432"));
        assert_eq!(server_address("host=/tmp dbname=x"), None);
    }
}
