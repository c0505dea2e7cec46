//! The transactional outbox: events are written by the repositories in the transaction of
//! the change ([`record`]); relays claim, mark and purge them here.
//!
//! Claims (§6): every event has a partition (`part`, 16 of them, a hash of its resource id) and
//! a global write order (`seq`). A relay takes up to [`CLAIM_PARTS`] partitions that have
//! pending events with session advisory locks on a connection of its own (not the pool), reads
//! their pending events in `seq` order, publishes, marks, and unlocks. So the events of one
//! resource are only ever in one relay's hands, in write order, and a relay that dies gives its
//! partitions back with its session. A mark moves the published events from `events` into
//! `published_events`, where retention deletes them, so `events` holds the pending events only.
//! Claiming, marking, counting and purging read across projects:
//! they are the only statements on a tenant table without a `project_id` filter
//! ([`CROSS_PROJECT_STATEMENTS`], docs/scaling.md).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Array, BigInt, Int2, Integer, Json, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use std::io::Write as _;
use uuid::Uuid;
use xclade_domain::error::DomainResult;
use xclade_domain::event::{Event, EventEncoder, EventPayload, WriteContext};
use xclade_domain::ports::{EventOutbox, OutboxStats};
use xclade_domain::{DomainError, ProjectId};

use crate::error::{db_error, TxResult};
use crate::models::EventRow;
use crate::pool::PgPool;
use crate::schema::events;
use crate::tx::{read, single_statement};

/// An event's `data` in its `json` column, written and read as the JSON text it is: PostgreSQL
/// checks that it is JSON and stores the text (a `jsonb` column parsed it into a tree on the way
/// in and printed it again on the way out; docs/benchmarks.md, change 42).
#[derive(Debug, Clone, PartialEq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Json)]
pub(crate) struct StoredPayload(pub EventPayload);

impl ToSql<Json, Pg> for StoredPayload {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.0.as_json().as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<Json, Pg> for StoredPayload {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(StoredPayload(EventPayload::from_json(compact_json(std::str::from_utf8(value.as_bytes())?))?))
    }
}

/// `json` without the white space between tokens (`{"a": 1, "b": 2}` gives `{"a":1,"b":2}`):
/// the service writes compact text, but the events of the `jsonb` column before change 42 were
/// converted from PostgreSQL's printing, which has it; so an event is published as it was
/// recorded.
fn compact_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_ascii_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}

/// What a write needs besides its connection: the write's context (it dereferences to it) and
/// the encoder of the event it records.
pub(crate) struct Write<'a> {
    ctx: &'a WriteContext,
    events: &'a dyn EventEncoder,
}

impl<'a> Write<'a> {
    pub(crate) fn new(ctx: &'a WriteContext, events: &'a dyn EventEncoder) -> Write<'a> {
        Write { ctx, events }
    }

    /// The outbox row of `event`, its `data` encoded.
    pub(crate) fn row(&self, event: &Event) -> EventRow {
        EventRow::from_domain(event, self.events)
    }
}

impl std::ops::Deref for Write<'_> {
    type Target = WriteContext;

    fn deref(&self) -> &WriteContext {
        self.ctx
    }
}

/// Inserts `event` into the outbox (inside the caller's transaction), its `data` encoded by
/// the write's encoder.
pub(crate) async fn record(conn: &mut AsyncPgConnection, write: &Write<'_>, event: &Event) -> TxResult<()> {
    crate::sql::cached(diesel::insert_into(events::table).values(write.row(event))).execute(conn).await?;
    Ok(())
}

/// Number of outbox partitions (`part` is `hashtext(resource_id::text) & 15`).
pub const PARTS: i32 = 16;
/// Most partitions one relay holds in one batch, so that several relays share the work.
pub const CLAIM_PARTS: i64 = 4;
/// The first key of the relays' advisory locks (the second is the partition).
pub const LOCK_CLASS: i32 = 0x7863_6c64; // "xcld"
/// How long a statement of the relay's own connection may take.
const RELAY_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Takes up to [`CLAIM_PARTS`] free partitions with pending events, in random order (so that
/// relays spread over them). The volatile lock call is not pushed into the subquery, and the
/// limit stops taking locks once enough are held.
pub const CLAIM_PARTS_SQL: &str = "SELECT p FROM (SELECT p FROM generate_series(0, 15) AS p \
    WHERE EXISTS (SELECT 1 FROM events WHERE part = p AND published_at IS NULL) ORDER BY random()) AS free \
    WHERE pg_try_advisory_lock($1, p) LIMIT $2";
/// The pending events of the held partitions, in write order.
pub const CLAIM_EVENTS_SQL: &str = "SELECT project_id, id, project_key, kind, resource_id, actor, payload, \
    created_at, published_at FROM events WHERE part = ANY($1) AND published_at IS NULL ORDER BY seq LIMIT $2";
/// Marks published events by their keys, whatever projects they belong to (one statement for a
/// batch): each is deleted from `events` and inserted into `published_events` with its
/// publication time. Deleting touches no index, where setting `published_at` in place was a
/// non-HOT update: a new row version and new entries in two indexes, with uniqueness checks and
/// bottom-up deletion in the primary key (docs/benchmarks.md, change 42). Each key is looked up
/// on its own in the primary key (a scalar subquery per key, which the planner cannot turn into
/// a join) and the rows found are deleted by their `ctid`: a plain `(project_id, id) IN (…)` lets
/// the planner hash-join the keys against every pending event, whose cost grows with the backlog
/// (change 18). A row another relay moved meanwhile is gone, and left alone; the statement
/// answers how many it moved.
pub const MARK_SQL: &str = "WITH moved AS (DELETE FROM events WHERE ctid = ANY(ARRAY(\
    SELECT (SELECT e.ctid FROM events e WHERE e.project_id = k.p AND e.id = k.i) \
    FROM unnest($2::uuid[], $3::uuid[]) AS k(p, i))) AND published_at IS NULL \
    RETURNING project_id, id, project_key, kind, resource_id, actor, payload, created_at, seq) \
    INSERT INTO published_events (project_id, id, project_key, kind, resource_id, actor, payload, created_at, \
    published_at, seq) SELECT project_id, id, project_key, kind, resource_id, actor, payload, created_at, $1, seq \
    FROM moved";
/// The backlog.
pub const STATS_SQL: &str =
    "SELECT count(*) AS pending, min(created_at) AS oldest FROM events WHERE published_at IS NULL";
/// Retention: events published before a cutoff, a bounded number at a time.
pub const PURGE_SQL: &str = "DELETE FROM published_events WHERE (project_id, id) IN (SELECT project_id, id \
    FROM published_events WHERE published_at < $1 LIMIT $2)";

/// The statements that read or write `events` and `published_events` across projects (the
/// relay's). Every other statement on a tenant table filters by `project_id` (a test checks it).
pub const CROSS_PROJECT_STATEMENTS: [&str; 5] = [CLAIM_PARTS_SQL, CLAIM_EVENTS_SQL, MARK_SQL, STATS_SQL, PURGE_SQL];

#[derive(QueryableByName)]
struct PartRow {
    #[diesel(sql_type = Integer)]
    p: i32,
}

#[derive(QueryableByName)]
struct StatsRow {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    oldest: Option<DateTime<Utc>>,
}

/// The relay's own connection, which holds its partition locks and marks what it published.
struct RelaySession {
    database_url: String,
    conn: tokio::sync::Mutex<Option<AsyncPgConnection>>,
}

/// [`EventOutbox`] on PostgreSQL.
#[derive(Clone)]
pub struct PgEventOutbox {
    pool: PgPool,
    relay: Option<Arc<RelaySession>>,
}

impl PgEventOutbox {
    /// An outbox for reading and statistics; [`EventOutbox::claim`] needs [`Self::for_relay`].
    pub fn new(pool: PgPool) -> Self {
        PgEventOutbox { pool, relay: None }
    }

    /// An outbox a relay can claim from: claims, marks and releases run on a connection of their
    /// own to `database_url`, opened on first use and again after it failed.
    pub fn for_relay(pool: PgPool, database_url: &str) -> Self {
        let session = RelaySession { database_url: database_url.to_owned(), conn: tokio::sync::Mutex::new(None) };
        PgEventOutbox { pool, relay: Some(Arc::new(session)) }
    }

    fn session(&self) -> DomainResult<&RelaySession> {
        self.relay.as_deref().ok_or_else(|| DomainError::internal("this outbox was not built for a relay"))
    }
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> DomainError {
    DomainError::Unavailable(Box::new(e))
}

async fn claim_on(conn: &mut AsyncPgConnection, limit: u32) -> Result<Vec<EventRow>, diesel::result::Error> {
    let parts: Vec<PartRow> =
        crate::sql::constant!(CLAIM_PARTS_SQL, |q| q.bind::<Integer, _>(LOCK_CLASS).bind::<BigInt, _>(CLAIM_PARTS))
            .load(conn)
            .await?;
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<i16> = parts.into_iter().filter_map(|r| i16::try_from(r.p).ok()).collect();
    crate::sql::constant!(CLAIM_EVENTS_SQL, |q| q.bind::<Array<Int2>, _>(parts).bind::<BigInt, _>(i64::from(limit)))
        .load(conn)
        .await
}

async fn mark_on(
    conn: &mut AsyncPgConnection,
    projects: Vec<Uuid>,
    event_ids: Vec<Uuid>,
) -> Result<u64, diesel::result::Error> {
    let n = crate::sql::constant!(MARK_SQL, |q| q
        .bind::<Timestamptz, _>(Utc::now())
        .bind::<Array<SqlUuid>, _>(projects)
        .bind::<Array<SqlUuid>, _>(event_ids))
    .execute(conn)
    .await?;
    Ok(n as u64)
}

type SessionFuture<'c, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, diesel::result::Error>> + Send + 'c>>;

impl RelaySession {
    /// Runs `work` on the session's connection (opened when there is none) within
    /// [`RELAY_STATEMENT_TIMEOUT`]. A failure or a timeout closes the connection, which gives its
    /// locks back; it answers `Unavailable` unless the database refused the statement for another
    /// reason.
    async fn run<T>(
        &self,
        work: impl for<'c> FnOnce(&'c mut AsyncPgConnection) -> SessionFuture<'c, T>,
    ) -> DomainResult<T> {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            let conn = tokio::time::timeout(RELAY_STATEMENT_TIMEOUT, AsyncPgConnection::establish(&self.database_url))
                .await
                .map_err(unavailable)?
                .map_err(unavailable)?;
            *guard = Some(conn);
        }
        Self::run_on(&mut guard, work).await
    }

    /// Runs `work` on the connection in `slot`, as [`Self::run`] does, without opening one.
    async fn run_on<T>(
        slot: &mut Option<AsyncPgConnection>,
        work: impl for<'c> FnOnce(&'c mut AsyncPgConnection) -> SessionFuture<'c, T>,
    ) -> DomainResult<T> {
        let Some(conn) = slot.as_mut() else { return Err(DomainError::internal("no relay connection")) };
        match tokio::time::timeout(RELAY_STATEMENT_TIMEOUT, work(conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                // A failed session may still hold locks: closing it gives them back.
                *slot = None;
                Err(match db_error(e) {
                    DomainError::Storage(e) => DomainError::Unavailable(e),
                    other => other,
                })
            }
            Err(elapsed) => {
                *slot = None;
                Err(unavailable(elapsed))
            }
        }
    }
}

#[async_trait]
impl EventOutbox for PgEventOutbox {
    async fn pending(&self, limit: u32) -> DomainResult<Vec<Event>> {
        read(&self.pool, &limit, |conn, limit| {
            Box::pin(async move {
                let rows: Vec<EventRow> = events::table
                    .filter(events::published_at.is_null())
                    .order(events::seq)
                    .limit(i64::from(*limit))
                    .select(EventRow::as_select())
                    .load(conn)
                    .await?;
                Ok(rows.into_iter().map(EventRow::into_domain).collect::<Result<Vec<_>, _>>()?)
            })
        })
        .await
    }

    async fn mark_published(&self, ids: &[(ProjectId, Uuid)]) -> DomainResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let (projects, event_ids): (Vec<Uuid>, Vec<Uuid>) = ids.iter().map(|(p, id)| (p.0, *id)).unzip();
        if let Some(session) = &self.relay {
            // On the connection that holds the partitions, before it releases them.
            return session.run(move |conn| Box::pin(mark_on(conn, projects, event_ids))).await;
        }
        // One statement for the whole batch, whatever projects it spans: atomic without a
        // transaction around it.
        single_statement(&self.pool, &(projects, event_ids), |conn, (projects, event_ids)| {
            Box::pin(async move { Ok(mark_on(conn, projects.clone(), event_ids.clone()).await?) })
        })
        .await
    }

    async fn claim(&self, limit: u32) -> DomainResult<Vec<Event>> {
        let rows = self.session()?.run(|conn| Box::pin(claim_on(conn, limit))).await?;
        rows.into_iter().map(EventRow::into_domain).collect()
    }

    async fn release(&self) -> DomainResult<()> {
        let mut guard = self.session()?.conn.lock().await;
        if guard.is_none() {
            // No connection, no locks.
            return Ok(());
        }
        RelaySession::run_on(&mut guard, |conn| Box::pin(conn.batch_execute("SELECT pg_advisory_unlock_all()"))).await
    }

    async fn delete_published_before(&self, cutoff: DateTime<Utc>, limit: u32) -> DomainResult<u64> {
        single_statement(&self.pool, &(cutoff, limit), |conn, (cutoff, limit)| {
            Box::pin(async move {
                let n = crate::sql::constant!(PURGE_SQL, |q| q
                    .bind::<Timestamptz, _>(*cutoff)
                    .bind::<BigInt, _>(i64::from(*limit)))
                .execute(conn)
                .await?;
                Ok(n as u64)
            })
        })
        .await
    }

    async fn stats(&self) -> DomainResult<OutboxStats> {
        read(&self.pool, &(), |conn, _| {
            Box::pin(async move {
                let row: StatsRow = crate::sql::constant!(STATS_SQL).get_result(conn).await?;
                Ok(OutboxStats { pending: u64::try_from(row.pending).unwrap_or(0), oldest_pending_at: row.oldest })
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::compact_json;

    #[test]
    fn compact_json_drops_white_space_between_tokens_only() {
        assert_eq!(
            compact_json(r#"{"a": 1, "b": [true, null], "c": {"d": "x y"}}"#),
            r#"{"a":1,"b":[true,null],"c":{"d":"x y"}}"#
        );
        assert_eq!(compact_json(r#"{"q": "say \"hi, there\"", "n": "a\\"}"#), r#"{"q":"say \"hi, there\"","n":"a\\"}"#);
        assert_eq!(compact_json("[\n 1 ,\t2 ]"), "[1,2]");
    }
}
