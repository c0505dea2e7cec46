//! The transactional outbox: events are written by the repositories in the transaction of
//! the change ([`record`]); relays read and mark them here.

use async_trait::async_trait;
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use xclade_domain::error::DomainResult;
use xclade_domain::event::Event;
use xclade_domain::ports::EventOutbox;
use xclade_domain::ProjectId;

use crate::error::TxResult;
use crate::models::EventRow;
use crate::pool::PgPool;
use crate::schema::events;
use crate::tx::{read, transaction};

/// Inserts `event` into the outbox (inside the caller's transaction).
pub(crate) async fn record(conn: &mut AsyncPgConnection, event: &Event) -> TxResult<()> {
    diesel::insert_into(events::table).values(EventRow::from_domain(event)).execute(conn).await?;
    Ok(())
}

/// [`EventOutbox`] on PostgreSQL.
#[derive(Clone)]
pub struct PgEventOutbox {
    pool: PgPool,
}

impl PgEventOutbox {
    pub fn new(pool: PgPool) -> Self {
        PgEventOutbox { pool }
    }
}

#[async_trait]
impl EventOutbox for PgEventOutbox {
    async fn pending(&self, limit: u32) -> DomainResult<Vec<Event>> {
        read(&self.pool, &limit, |conn, limit| {
            Box::pin(async move {
                let rows: Vec<EventRow> = events::table
                    .filter(events::published_at.is_null())
                    .order((events::created_at, events::project_id, events::id))
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
        transaction(&self.pool, ids, |conn, ids| {
            Box::pin(async move {
                let now = Utc::now();
                let mut marked = 0u64;
                let mut by_project: Vec<(ProjectId, Uuid)> = ids.to_vec();
                by_project.sort();
                for chunk in by_project.chunk_by(|a, b| a.0 == b.0) {
                    let project = chunk[0].0;
                    let event_ids: Vec<Uuid> = chunk.iter().map(|(_, id)| *id).collect();
                    let n = diesel::update(
                        events::table
                            .filter(events::project_id.eq(project.0))
                            .filter(events::id.eq_any(event_ids))
                            .filter(events::published_at.is_null()),
                    )
                    .set(events::published_at.eq(now))
                    .execute(conn)
                    .await?;
                    marked += n as u64;
                }
                Ok(marked)
            })
        })
        .await
    }
}
