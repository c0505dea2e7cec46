//! [`TypeRepository`] on PostgreSQL, and the checks that tie groups to their custom types.
//!
//! Integrity between types and the groups that use them:
//!
//! * **Delete**: the foreign key `customer_groups_custom_type_fkey` (`ON DELETE RESTRICT`)
//!   refuses to delete a type a group uses; its violation is `ReferenceExists`.
//! * **Save** (optimistic, one `UPDATE … WHERE version = $expected`, which locks the row):
//!   in the same transaction, every group using the type must still conform to its field
//!   definitions — no field the type no longer defines (`ReferenceExists`), no required field
//!   missing (`InvalidOperation`).
//! * **Group writes** that set custom fields were validated by the service against the type at
//!   some version; the write ([`lock_checked_type`]) locks the type row `FOR SHARE` and goes on
//!   only if the type is still at that version (otherwise the service reads the type again,
//!   validates again and writes again). The share lock conflicts with a type save's row lock, so
//!   either the group write waits and then sees the new version (and is refused as stale), or
//!   the type save waits and then sees the group's fields (and refuses to break them): a
//!   concurrent pair can never leave a group that does not conform to its type. A group write
//!   that leaves the custom fields as they were (a rename, a metadata change) takes no lock:
//!   it writes them back at the group version they were read at, and every type save since
//!   checked them.
//!
//! Lock order: the project row (group creates), then the type row, then group rows.

mod row;
mod stored;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::sync::Arc;
use uuid::Uuid;
use xclade_domain::custom_type::{FieldDefinition, Type, TypeQuery};
use xclade_domain::customer_group::{CheckedType, ExpectedVersion, Version};
use xclade_domain::error::DomainResult;
use xclade_domain::event::{Event, EventEncoder, EventKind, WriteContext};
use xclade_domain::paging::QueryPage;
use xclade_domain::ports::TypeRepository;
use xclade_domain::{DomainError, ProjectId, Refusal, Resource, TypeId};

use crate::error::{missing_type, OnConstraint, TxError, TxResult};
use crate::group_query::{page, query_order, total_if, Compiler, CustomTyping, TYPES};
use crate::outbox::{record, Write};
use crate::pool::PgPool;
use crate::schema::types as t;
use crate::sql::{Bind, Sql};
use crate::tx::{point_read, read, transaction};

pub(crate) use row::TypeRow;

/// [`TypeRepository`] on PostgreSQL.
#[derive(Clone)]
pub struct PgTypeRepository {
    pool: PgPool,
    events: Arc<dyn EventEncoder>,
}

impl PgTypeRepository {
    /// Custom types in `pool`; `events` encodes the events the writes record.
    pub fn new(pool: PgPool, events: Arc<dyn EventEncoder>) -> Self {
        PgTypeRepository { pool, events }
    }

    fn write<'a>(&'a self, ctx: &'a WriteContext) -> Write<'a> {
        Write::new(ctx, self.events.as_ref())
    }
}

fn type_not_found(id: TypeId) -> TxError {
    TxError::Domain(DomainError::not_found(Resource::Type, id))
}

fn type_event(ctx: &WriteContext, kind: EventKind, ty: &Type) -> Event {
    Event::custom_type(ctx, kind, ty)
}

fn in_use() -> DomainError {
    DomainError::ReferenceExists { resource: Resource::Type, referenced_by: Resource::CustomerGroup }
}

async fn get(conn: &AsyncPgConnection, project: ProjectId, id: TypeId) -> TxResult<Type> {
    let mut c = conn;
    let row: Option<TypeRow> = t::table
        .filter(t::project_id.eq(project.0))
        .filter(t::id.eq(id.0))
        .select(TypeRow::as_select())
        .first(&mut c)
        .await
        .optional()?;
    Ok(row.ok_or_else(|| type_not_found(id))?.into_domain()?)
}

async fn get_by_key(conn: &AsyncPgConnection, project: ProjectId, key: &str) -> TxResult<Type> {
    let mut c = conn;
    let row: Option<TypeRow> = t::table
        .filter(t::project_id.eq(project.0))
        .filter(t::key.eq(key))
        .select(TypeRow::as_select())
        .first(&mut c)
        .await
        .optional()?;
    let row = row.ok_or_else(|| TxError::Domain(DomainError::not_found_key(Resource::Type, key)))?;
    Ok(row.into_domain()?)
}

/// After an optimistic write matched no row: a stale version, or no such type.
async fn conflict_or_missing(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    id: TypeId,
    expected: ExpectedVersion,
) -> TxError {
    let not_found = DomainError::not_found(Resource::Type, id);
    crate::error::conflict_or_missing(conn, "types", project, id.0, expected, not_found).await
}

async fn create(conn: &mut AsyncPgConnection, ctx: &Write<'_>, ty: &Type) -> TxResult<Type> {
    let inserted = crate::sql::cached(
        diesel::insert_into(t::table)
            .values(TypeRow::from_domain(ctx.project_id, ty))
            .returning(TypeRow::as_returning()),
    )
    .get_result(conn)
    .await
    .on_constraint("types_key_key", || DomainError::Duplicate {
        resource: Resource::Type,
        field: "key",
        value: ty.key().as_str().to_owned(),
    })?;
    let created = inserted.into_domain()?;
    record(conn, ctx, &type_event(ctx, EventKind::TypeCreated, &created)).await?;
    Ok(created)
}

/// Whether some group using the type has a field it does not define, and whether some group
/// lacks one of its required fields.
#[derive(QueryableByName)]
struct Conformance {
    #[diesel(sql_type = Bool)]
    undefined: bool,
    #[diesel(sql_type = Bool)]
    missing: bool,
}

async fn conformance(conn: &mut AsyncPgConnection, project: ProjectId, ty: &Type) -> TxResult<Conformance> {
    let names: Vec<String> = ty.field_names().into_iter().map(str::to_owned).collect();
    let required: Vec<String> = ty.required_fields().into_iter().map(str::to_owned).collect();
    let mut sql = Sql::new(
        "SELECT COALESCE(bool_or(EXISTS (SELECT 1 FROM jsonb_object_keys(COALESCE(g.custom_fields, '{}'::jsonb)) AS f(k) \
         WHERE NOT (f.k = ANY(",
    );
    sql.bind(Bind::Texts(names))
        .push(
            ")))), FALSE) AS undefined, COALESCE(bool_or(NOT jsonb_exists_all(COALESCE(g.custom_fields, '{}'::jsonb), ",
        )
        .bind(Bind::Texts(required))
        .push(")), FALSE) AS missing FROM customer_groups g WHERE g.project_id = ")
        .bind(Bind::Uuid(project.0))
        .push(" AND g.custom_type_id = ")
        .bind(Bind::Uuid(ty.id().0));
    let rows: Vec<Conformance> = sql.query().load(conn).await?;
    Ok(rows.into_iter().next().unwrap_or(Conformance { undefined: false, missing: false }))
}

async fn save(conn: &mut AsyncPgConnection, ctx: &Write<'_>, ty: &Type, expected: Version) -> TxResult<Type> {
    let r = TypeRow::from_domain(ctx.project_id, ty);
    let updated: Option<TypeRow> = crate::sql::cached(
        diesel::update(
            t::table
                .filter(t::project_id.eq(ctx.project_id.0))
                .filter(t::id.eq(ty.id().0))
                .filter(t::version.eq(expected.get())),
        )
        .set((
            t::version.eq(r.version),
            t::name.eq(r.name),
            t::description.eq(r.description),
            t::field_definitions.eq(r.field_definitions),
            t::last_modified_at.eq(r.last_modified_at),
            t::last_modified_by.eq(r.last_modified_by),
        ))
        .returning(TypeRow::as_returning()),
    )
    .get_result(conn)
    .await
    .optional()?;
    let Some(row) = updated else {
        return Err(conflict_or_missing(conn, ctx.project_id, ty.id(), expected.into()).await);
    };
    let saved = row.into_domain()?;
    // The row is locked now: groups that start using the type wait for this transaction.
    let c = conformance(conn, ctx.project_id, &saved).await?;
    if c.undefined {
        return Err(in_use().into());
    }
    if c.missing {
        return Err(DomainError::InvalidOperation(Refusal::RequiredFieldLacking).into());
    }
    record(conn, ctx, &type_event(ctx, EventKind::TypeUpdated, &saved)).await?;
    Ok(saved)
}

async fn delete(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    id: TypeId,
    expected: ExpectedVersion,
) -> TxResult<Type> {
    let deleted: Option<TypeRow> = diesel::delete(
        t::table
            .filter(t::project_id.eq(ctx.project_id.0))
            .filter(t::id.eq(id.0))
            .filter(t::version.eq(expected.get())),
    )
    .returning(TypeRow::as_returning())
    .get_result(conn)
    .await
    .optional()
    .on_constraint("customer_groups_custom_type_fkey", in_use)?;
    let Some(row) = deleted else {
        return Err(conflict_or_missing(conn, ctx.project_id, id, expected).await);
    };
    let ty = row.into_domain()?;
    record(conn, ctx, &type_event(ctx, EventKind::TypeDeleted, &ty)).await?;
    Ok(ty)
}

async fn query(conn: &mut AsyncPgConnection, project: ProjectId, q: &TypeQuery) -> TxResult<QueryPage<Type>> {
    let typing = CustomTyping::default();
    let from = Compiler { table: &TYPES, typing: &typing }.filtered(project, q.predicate.as_ref())?;
    // The total and the page are pipelined: one round trip.
    let shared: &AsyncPgConnection = conn;
    let total = total_if(shared, q.with_total, &from);
    let rows = async {
        if q.limit == 0 {
            return Ok(Vec::new());
        }
        let order = query_order(&TYPES, &q.sort);
        let mut c = shared;
        page(&TYPES, &from, &order, q.limit, u64::from(q.offset))
            .query()
            .load::<TypeRow>(&mut c)
            .await
            .map_err(TxError::from)
    };
    let (total, rows) = futures::try_join!(total, rows)?;
    let results = rows.into_iter().map(TypeRow::into_domain).collect::<Result<Vec<_>, _>>()?;
    Ok(QueryPage { results, total })
}

/// The typing of custom fields for group predicates: every type of the project that may be
/// used on groups.
pub(crate) async fn custom_typing(conn: &mut AsyncPgConnection, project: ProjectId) -> TxResult<CustomTyping> {
    let rows: Vec<(Uuid, serde_json::Value)> =
        t::table.filter(t::project_id.eq(project.0)).select((t::id, t::field_definitions)).load(conn).await?;
    let mut types: Vec<(Uuid, Vec<FieldDefinition>)> = Vec::with_capacity(rows.len());
    for (id, defs) in rows {
        types.push((id, stored::field_definitions(id, defs)?));
    }
    Ok(CustomTyping::new(types.iter().map(|(id, defs)| (*id, defs.as_slice()))))
}

/// Before a group is written with custom fields the service validated against `checked`:
/// locks that type's row `FOR SHARE` (so a concurrent type save is ordered with this write) and
/// compares its version as committed with the one the fields were validated against. A type
/// that is gone is `ReferencedResourceNotFound`; one at another version is a `VersionConflict`
/// naming the type (the service validates again against the type as it is now). No rule runs
/// here: same version, same definitions.
pub(crate) async fn lock_checked_type(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    checked: Option<CheckedType>,
) -> TxResult<()> {
    let Some(checked) = checked else {
        return Ok(());
    };
    let version: Option<i64> = t::table
        .filter(t::project_id.eq(project.0))
        .filter(t::id.eq(checked.id.0))
        .select(t::version)
        .for_share()
        .first(conn)
        .await
        .optional()?;
    let current = version.ok_or_else(|| TxError::Domain(missing_type(checked.id)))?;
    if current != checked.version.get() {
        return Err(TxError::Domain(DomainError::VersionConflict {
            id: checked.id.to_string(),
            expected: checked.version.get(),
            current,
        }));
    }
    Ok(())
}

#[async_trait]
impl TypeRepository for PgTypeRepository {
    async fn create(&self, ctx: &WriteContext, ty: &Type) -> DomainResult<Type> {
        transaction(&self.pool, &(self.write(ctx), ty), |conn, (ctx, ty)| Box::pin(create(conn, ctx, ty))).await
    }

    async fn get(&self, project: ProjectId, id: TypeId) -> DomainResult<Type> {
        point_read(&self.pool, &(project, id), |conn, (project, id)| Box::pin(get(conn, *project, *id))).await
    }

    async fn get_by_key(&self, project: ProjectId, key: &str) -> DomainResult<Type> {
        point_read(&self.pool, &(project, key), |conn, (project, key)| Box::pin(get_by_key(conn, *project, key))).await
    }

    async fn query(&self, project: ProjectId, q: &TypeQuery) -> DomainResult<QueryPage<Type>> {
        read(&self.pool, &(project, q), |conn, (project, q)| Box::pin(query(conn, *project, q))).await
    }

    async fn save(&self, ctx: &WriteContext, ty: &Type, expected: Version) -> DomainResult<Type> {
        let args = (self.write(ctx), ty, expected);
        transaction(&self.pool, &args, |conn, (ctx, ty, expected)| Box::pin(save(conn, ctx, ty, *expected))).await
    }

    async fn delete(&self, ctx: &WriteContext, id: TypeId, expected: ExpectedVersion) -> DomainResult<Type> {
        let args = (self.write(ctx), id, expected);
        transaction(&self.pool, &args, |conn, (ctx, id, expected)| Box::pin(delete(conn, ctx, *id, *expected))).await
    }
}
