//! Creates that wait together are written together.
//!
//! A create without an `Idempotency-Key` is one statement: the customer and its
//! `customer.created` event (no BEGIN/COMMIT, PostgreSQL runs a statement atomically). Each
//! worker thread's creates go through its [`Batches`] queue. A create that finds fewer than
//! [`WRITERS`] of the thread's statements out is sent at once, alone, with the same statement as
//! before; the creates that arrive while [`WRITERS`] statements are out wait for one of them, and
//! are then sent together as **one statement** that inserts all of them and their events. A
//! burst of *n* creates costs one round trip, one execution and one commit (one WAL flush)
//! instead of *n*. A create's send and receive, with the wake-ups they cause, were about half of
//! the server's CPU per create; PostgreSQL's work per create falls with the statements too
//! (docs/benchmarks.md, change 40).
//!
//! Each create keeps its own outcome, exactly as when it is sent alone:
//! * the statement of several rows inserts with `ON CONFLICT (project_id, lower(email)) WHERE
//!   deleted_at IS NULL DO NOTHING` and returns the ids it inserted: a create whose email was
//!   taken (by a stored customer, a concurrent create, or an earlier row of the same batch)
//!   inserted nothing and gets the duplicate-email error; an event is written for exactly the
//!   customers inserted;
//! * any other failure of that statement wrote nothing (a statement is atomic): its creates
//!   are then sent again one by one on the same connection, so a create that cannot be stored
//!   fails alone (and a deadlock between two batches over the same emails cannot fail both);
//! * a connection lost while a statement is out fails the creates that statement carried with
//!   `Unavailable` (it may have committed, so it is never sent again), as before;
//! * a create whose request is gone (cancelled, or past its deadline) before its batch is sent
//!   is not written.
//!
//! Nothing waits on purpose (no timer): a batch is whatever queued while the thread's statements
//! were out, so a create on a quiet service is sent at once, and one under load waits for the
//! first of the statements ahead of it to come back. A batch carries at most [`MAX_BATCH`]
//! creates.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use diesel::sql_types::{Bool, Json, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tokio::sync::oneshot;
use tokio::time::Instant;
use uuid::Uuid;
use xclade_domain::error::DomainResult;
use xclade_domain::DomainError;

use crate::error::{is_connection_error, OnConstraint, TxError, TxResult};
use crate::models::{CustomerRow, EventRow};
use crate::pool::{PgPool, DEADLINE};
use crate::tx::{classify, single_statement};

/// The statements of one queue out at a time.
pub(crate) const WRITERS: usize = 2;

/// The most creates one statement carries.
pub(crate) const MAX_BATCH: usize = 32;

/// The customer and its `customer.created` event in one statement (a create sent alone).
const CREATE_WITH_EVENT: &str = "WITH customer AS (\
    INSERT INTO customers (project_id, id, email, company_name, first_name, last_name, phone, metadata, \
    has_account, default_billing_address_id, default_shipping_address_id, created_by, created_at, updated_at, \
    deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id) \
    INSERT INTO events (project_id, id, project_key, kind, resource_id, actor, payload, created_at, published_at) \
    SELECT $1, $16, $17, $18, customer.id, $19, $20, $21, $22 FROM customer";

/// One create: its rows, and where its outcome goes.
pub(crate) struct Pending {
    customer: CustomerRow,
    event: EventRow,
    answer: oneshot::Sender<DomainResult<()>>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Pending>,
    /// Tasks writing this queue's creates (each takes the waiting ones when its statement is
    /// back, and stops when it finds none); at most [`WRITERS`].
    writing: usize,
}

/// The create queues of a pool: one per shard (so per worker thread).
pub(crate) struct Batches {
    queues: Box<[Mutex<Queue>]>,
}

impl Batches {
    pub(crate) fn new(pool: &PgPool) -> Arc<Batches> {
        Arc::new(Batches { queues: (0..pool.shard_count().max(1)).map(|_| Mutex::default()).collect() })
    }

    fn queue(&self, shard: usize) -> MutexGuard<'_, Queue> {
        self.queues[shard % self.queues.len()].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `customer` and its `event`, with the creates that wait with it; the create's own
    /// outcome (the duplicate-email error when its email is taken). Ends by [`DEADLINE`].
    pub(crate) async fn create(
        self: &Arc<Self>,
        pool: &PgPool,
        customer: CustomerRow,
        event: EventRow,
    ) -> DomainResult<()> {
        let deadline = Instant::now() + DEADLINE;
        let (answer, outcome) = oneshot::channel();
        let shard = pool.shard_index();
        let start = {
            let mut queue = self.queue(shard);
            queue.waiting.push(Pending { customer, event, answer });
            let start = queue.writing < WRITERS;
            queue.writing += usize::from(start);
            start
        };
        if start {
            // On an HTTP worker (a current-thread runtime) the task runs on this thread, so it
            // uses this thread's shard of the pool.
            tokio::spawn(Arc::clone(self).write(pool.clone(), shard));
        }
        match tokio::time::timeout_at(deadline, outcome).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(unavailable("the write of this create was abandoned before its outcome was known")),
            // Dropping `outcome` closes the channel: a create not sent yet is not sent.
            Err(elapsed) => Err(DomainError::Unavailable(Box::new(elapsed))),
        }
    }

    /// Writes the queue's creates, a batch per statement, until none waits.
    async fn write(self: Arc<Self>, pool: PgPool, shard: usize) {
        let mut writing = Writing { batches: &self, shard, done: false };
        loop {
            let batch: Vec<Pending> = {
                let mut queue = self.queue(shard);
                queue.waiting.retain(|p| !p.answer.is_closed());
                if queue.waiting.is_empty() {
                    queue.writing -= 1;
                    writing.done = true;
                    return;
                }
                let n = queue.waiting.len().min(MAX_BATCH);
                queue.waiting.drain(..n).collect()
            };
            let outcome = single_statement(&pool, &batch[..], |conn, batch| Box::pin(insert(conn, batch))).await;
            match outcome {
                Ok(outcomes) => {
                    for (pending, outcome) in batch.into_iter().zip(outcomes) {
                        let _ = pending.answer.send(outcome);
                    }
                }
                Err(e) => {
                    // A statement of several creates fails as a whole only when its connection
                    // did (or none could be had): `Unavailable`, for each create it carried.
                    let message = e.to_string();
                    let mut first = Some(e);
                    for pending in batch {
                        let e = first.take().unwrap_or_else(|| unavailable(&message));
                        let _ = pending.answer.send(Err(e));
                    }
                }
            }
        }
    }
}

/// Ends the queue's writing when the writing task ends otherwise than by finding the queue
/// empty (the runtime shutting down, a panic): the creates still waiting are answered
/// `Unavailable` (their channels close) and the next create starts a new task.
struct Writing<'a> {
    batches: &'a Batches,
    shard: usize,
    done: bool,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut queue = self.batches.queue(self.shard);
            queue.writing -= 1;
            if queue.writing == 0 {
                queue.waiting.clear();
            }
        }
    }
}

fn unavailable(message: &str) -> DomainError {
    DomainError::Unavailable(Box::new(std::io::Error::other(message.to_owned())))
}

/// Sends `batch`: alone with the statement of one create, else with the statement of several;
/// the outcome of each create in order. `Err` when the connection failed under a statement
/// (then nothing after it was sent) or, for a create sent alone, any database error (the
/// caller tells a lost connection from the rest, as for every single statement).
async fn insert(conn: &mut AsyncPgConnection, batch: &[Pending]) -> TxResult<Vec<DomainResult<()>>> {
    if let [one] = batch {
        return Ok(vec![insert_one(conn, one).await?]);
    }
    match insert_many(conn, batch).await {
        Ok(inserted) => Ok(batch
            .iter()
            .map(|p| {
                if inserted.contains(&p.customer.id) {
                    Ok(())
                } else {
                    Err(super::duplicate_email(&p.customer.email))
                }
            })
            .collect()),
        Err(e) if is_connection_error(&e) => Err(TxError::Db(e)),
        Err(e) => {
            // Nothing of the statement was written: one create at a time, each with its own
            // outcome; after a lost connection the rest are not sent.
            tracing::debug!(error = %e, creates = batch.len(), "a batch of creates failed; writing them one by one");
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut lost = false;
            for p in batch {
                if lost {
                    outcomes.push(Err(unavailable("the connection to the database was lost")));
                    continue;
                }
                outcomes.push(match insert_one(conn, p).await {
                    Ok(outcome) => outcome,
                    // As for a create sent alone: `Unavailable` when the connection died with
                    // the error (then nothing more is sent), else the error's own mapping.
                    Err(TxError::Db(e)) => {
                        let e = classify(e, conn, Instant::now() + DEADLINE).await;
                        lost = matches!(e, DomainError::Unavailable(_));
                        Err(e)
                    }
                    Err(TxError::Domain(e)) => Err(e),
                });
            }
            Ok(outcomes)
        }
    }
}

/// One create with its event: `Ok(Err(duplicate))` when the email is taken.
async fn insert_one(conn: &mut AsyncPgConnection, p: &Pending) -> TxResult<DomainResult<()>> {
    let (r, e) = (&p.customer, &p.event);
    let sent = crate::sql::constant!(CREATE_WITH_EVENT, |q| {
        q.bind::<SqlUuid, _>(r.project_id)
            .bind::<SqlUuid, _>(r.id)
            .bind::<Text, _>(&r.email)
            .bind::<Nullable<Text>, _>(&r.company_name)
            .bind::<Nullable<Text>, _>(&r.first_name)
            .bind::<Nullable<Text>, _>(&r.last_name)
            .bind::<Nullable<Text>, _>(&r.phone)
            .bind::<Jsonb, _>(&r.metadata)
            .bind::<Bool, _>(r.has_account)
            .bind::<Nullable<SqlUuid>, _>(r.default_billing_address_id)
            .bind::<Nullable<SqlUuid>, _>(r.default_shipping_address_id)
            .bind::<Nullable<Text>, _>(&r.created_by)
            .bind::<Timestamptz, _>(r.created_at)
            .bind::<Timestamptz, _>(r.updated_at)
            .bind::<Nullable<Timestamptz>, _>(r.deleted_at)
            .bind::<SqlUuid, _>(e.id)
            .bind::<Text, _>(&e.project_key)
            .bind::<Text, _>(&e.kind)
            .bind::<Jsonb, _>(&e.actor)
            .bind::<Json, _>(&e.payload)
            .bind::<Timestamptz, _>(e.created_at)
            .bind::<Nullable<Timestamptz>, _>(e.published_at)
    })
    .execute(conn)
    .await
    .on_constraint("customers_email_key", || super::duplicate_email(&r.email));
    match sent {
        Ok(_) => Ok(Ok(())),
        Err(TxError::Domain(e)) => Ok(Err(e)),
        Err(e) => Err(e),
    }
}

/// The statement of several creates, for any number of them: each column's values bound as one
/// array, so the connection keeps one prepared statement for every batch size.
const CREATE_MANY_WITH_EVENTS: &str = "WITH input AS (SELECT * FROM unnest(\
    $1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::bool[], \
    $10::uuid[], $11::uuid[], $12::text[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], \
    $16::uuid[], $17::text[], $18::text[], $19::jsonb[], $20::json[], $21::timestamptz[], $22::timestamptz[]) \
    AS i (project_id, id, email, company_name, first_name, last_name, phone, metadata, has_account, \
    default_billing_address_id, default_shipping_address_id, created_by, created_at, updated_at, deleted_at, \
    event_id, project_key, kind, actor, payload, event_created_at, published_at)), \
    customer AS (INSERT INTO customers (project_id, id, email, company_name, first_name, last_name, phone, metadata, \
    has_account, default_billing_address_id, default_shipping_address_id, created_by, created_at, updated_at, \
    deleted_at) SELECT project_id, id, email, company_name, first_name, last_name, phone, metadata, has_account, \
    default_billing_address_id, default_shipping_address_id, created_by, created_at, updated_at, deleted_at \
    FROM input ON CONFLICT (project_id, lower(email)) WHERE deleted_at IS NULL DO NOTHING RETURNING id) \
    INSERT INTO events (project_id, id, project_key, kind, resource_id, actor, payload, created_at, published_at) \
    SELECT input.project_id, input.event_id, input.project_key, input.kind, input.id, input.actor, input.payload, \
    input.event_created_at, input.published_at FROM input JOIN customer ON customer.id = input.id \
    RETURNING resource_id";

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = SqlUuid)]
    resource_id: Uuid,
}

/// The statement of several creates: the ids of the customers it inserted.
async fn insert_many(conn: &mut AsyncPgConnection, batch: &[Pending]) -> diesel::QueryResult<Vec<Uuid>> {
    use diesel::sql_types::Array;
    fn column<'a, T>(batch: &'a [Pending], f: impl Fn(&'a CustomerRow, &'a EventRow) -> T) -> Vec<T> {
        batch.iter().map(|p| f(&p.customer, &p.event)).collect()
    }
    let q = crate::sql::constant!(CREATE_MANY_WITH_EVENTS, |q| {
        q.bind::<Array<SqlUuid>, _>(column(batch, |r, _| r.project_id))
            .bind::<Array<SqlUuid>, _>(column(batch, |r, _| r.id))
            .bind::<Array<Text>, _>(column(batch, |r, _| r.email.as_str()))
            .bind::<Array<Nullable<Text>>, _>(column(batch, |r, _| r.company_name.as_deref()))
            .bind::<Array<Nullable<Text>>, _>(column(batch, |r, _| r.first_name.as_deref()))
            .bind::<Array<Nullable<Text>>, _>(column(batch, |r, _| r.last_name.as_deref()))
            .bind::<Array<Nullable<Text>>, _>(column(batch, |r, _| r.phone.as_deref()))
            .bind::<Array<Jsonb>, _>(column(batch, |r, _| &r.metadata))
            .bind::<Array<Bool>, _>(column(batch, |r, _| r.has_account))
            .bind::<Array<Nullable<SqlUuid>>, _>(column(batch, |r, _| r.default_billing_address_id))
            .bind::<Array<Nullable<SqlUuid>>, _>(column(batch, |r, _| r.default_shipping_address_id))
            .bind::<Array<Nullable<Text>>, _>(column(batch, |r, _| r.created_by.as_deref()))
            .bind::<Array<Timestamptz>, _>(column(batch, |r, _| r.created_at))
            .bind::<Array<Timestamptz>, _>(column(batch, |r, _| r.updated_at))
            .bind::<Array<Nullable<Timestamptz>>, _>(column(batch, |r, _| r.deleted_at))
            .bind::<Array<SqlUuid>, _>(column(batch, |_, e| e.id))
            .bind::<Array<Text>, _>(column(batch, |_, e| e.project_key.as_str()))
            .bind::<Array<Text>, _>(column(batch, |_, e| e.kind.as_str()))
            .bind::<Array<Jsonb>, _>(column(batch, |_, e| &e.actor))
            .bind::<Array<Json>, _>(column(batch, |_, e| &e.payload))
            .bind::<Array<Timestamptz>, _>(column(batch, |_, e| e.created_at))
            .bind::<Array<Nullable<Timestamptz>>, _>(column(batch, |_, e| e.published_at))
    });
    let rows: Vec<Inserted> = q.load(conn).await?;
    Ok(rows.into_iter().map(|r| r.resource_id).collect())
}
