//! [`CustomerGroupRepository`] on PostgreSQL.
//!
//! * The group limit is exact under concurrency: a create first increments the project's
//!   `customer_group_count` with `… WHERE customer_group_count < max` (one statement that
//!   serialises creates of a project on its row), a delete decrements it, both in the
//!   transaction of the change.
//! * Optimistic locking in one statement: `UPDATE … WHERE version = $expected RETURNING *`.
//! * A group write whose custom fields the service validated first locks their type `FOR SHARE`
//!   and compares its version with the one validated against (see [`crate::types`]); it checks
//!   no rule itself. Other saves are one statement.

use std::collections::HashSet;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::sync::Arc;
use uuid::Uuid;
use xclade_domain::customer::{Customer, Listed};
use xclade_domain::customer_group::{CheckedType, CustomerGroup, ExpectedVersion, Version};
use xclade_domain::error::DomainResult;
use xclade_domain::event::{Event, EventEncoder, EventKind, WriteContext};
use xclade_domain::paging::{GroupFilter, GroupQuery, QueryPage};
use xclade_domain::ports::CustomerGroupRepository;
use xclade_domain::{CustomerId, DomainError, GroupId, ProjectId, Resource};

use crate::customers::insert_memberships;
use crate::customers::queries::count;
use crate::error::{missing_type, OnConstraint, TxError, TxResult};
use crate::group_query::{
    counting, mentions_custom, page, query_order, sort_column, total_if, Compiler, CustomTyping, GROUPS,
};
use crate::models::{actor_json, micros, CustomerRow, GroupRow};
use crate::outbox::{record, Write};
use crate::pool::PgPool;
use crate::schema::{customer_group_memberships as m, customer_groups as g, customers as c, projects as p};
use crate::sql::{contains_pattern, prebuilt, Bind, Sql};
use crate::tx::{point_read, read, single_statement, transaction};
use crate::types::{custom_typing, lock_checked_type};

/// [`CustomerGroupRepository`] on PostgreSQL.
#[derive(Clone)]
pub struct PgCustomerGroupRepository {
    pool: PgPool,
    events: Arc<dyn EventEncoder>,
}

impl PgCustomerGroupRepository {
    /// Groups in `pool`; `events` encodes the events the writes record.
    pub fn new(pool: PgPool, events: Arc<dyn EventEncoder>) -> Self {
        PgCustomerGroupRepository { pool, events }
    }

    fn write<'a>(&'a self, ctx: &'a WriteContext) -> Write<'a> {
        Write::new(ctx, self.events.as_ref())
    }
}

fn group_not_found(id: GroupId) -> TxError {
    TxError::Domain(DomainError::not_found(Resource::CustomerGroup, id))
}

/// Maps the unique and foreign-key violations a group write can cause.
fn group_constraints<T>(result: Result<T, diesel::result::Error>, group: &CustomerGroup) -> TxResult<T> {
    result
        .on_constraint("customer_groups_name_key", || DomainError::Duplicate {
            resource: Resource::CustomerGroup,
            field: "name",
            value: group.name().as_str().to_owned(),
        })
        .on_constraint("customer_groups_key_key", || DomainError::Duplicate {
            resource: Resource::CustomerGroup,
            field: "key",
            value: group.key().map(|k| k.as_str().to_owned()).unwrap_or_default(),
        })
        .on_constraint("customer_groups_custom_type_fkey", || {
            missing_type(group.custom().map(|c| c.type_id.to_string()).unwrap_or_default())
        })
}

fn group_event(ctx: &WriteContext, kind: EventKind, group: &CustomerGroup) -> Event {
    Event::group(ctx, kind, group)
}

async fn find_group(conn: &AsyncPgConnection, project: ProjectId, id: GroupId) -> TxResult<Option<GroupRow>> {
    let mut c = conn;
    // The text `first` would write, written once per process (`prebuilt`): the group read and
    // every group update start here.
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let query = g::table.filter(g::project_id.eq(project.0)).filter(g::id.eq(id.0)).select(GroupRow::as_select());
    Ok(prebuilt(&TEXT, query.limit(1)).get_result(&mut c).await.optional()?)
}

async fn get(conn: &AsyncPgConnection, project: ProjectId, id: GroupId) -> TxResult<CustomerGroup> {
    Ok(find_group(conn, project, id).await?.ok_or_else(|| group_not_found(id))?.into_domain()?)
}

async fn get_by_key(conn: &AsyncPgConnection, project: ProjectId, key: &str) -> TxResult<CustomerGroup> {
    let mut c = conn;
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let query = g::table.filter(g::project_id.eq(project.0)).filter(g::key.eq(key)).select(GroupRow::as_select());
    let row: Option<GroupRow> = prebuilt(&TEXT, query.limit(1)).get_result(&mut c).await.optional()?;
    let row = row.ok_or_else(|| TxError::Domain(DomainError::not_found_key(Resource::CustomerGroup, key)))?;
    Ok(row.into_domain()?)
}

/// After an optimistic write matched no row: a stale version, or no such group.
async fn conflict_or_missing(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    id: GroupId,
    expected: ExpectedVersion,
) -> TxError {
    let not_found = DomainError::not_found(Resource::CustomerGroup, id);
    crate::error::conflict_or_missing(conn, "customer_groups", project, id.0, expected, not_found).await
}

async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    group: &CustomerGroup,
    max_groups: u32,
    checked: Option<CheckedType>,
) -> TxResult<CustomerGroup> {
    let counted: Option<i32> = crate::sql::cached(
        diesel::update(
            p::table
                .filter(p::project_id.eq(ctx.project_id.0))
                .filter(p::customer_group_count.lt(i32::try_from(max_groups).unwrap_or(i32::MAX))),
        )
        .set(p::customer_group_count.eq(p::customer_group_count + 1))
        .returning(p::customer_group_count),
    )
    .get_result(conn)
    .await
    .optional()?;
    if counted.is_none() {
        return Err(TxError::Domain(DomainError::LimitExceeded {
            resource: Resource::CustomerGroup,
            limit: max_groups,
        }));
    }
    lock_checked_type(conn, ctx.project_id, checked).await?;
    let inserted = crate::sql::cached(
        diesel::insert_into(g::table)
            .values(GroupRow::from_domain(ctx.project_id, group))
            .returning(GroupRow::as_returning()),
    )
    .get_result(conn)
    .await;
    let created = group_constraints(inserted, group)?.into_domain()?;
    record(conn, ctx, &group_event(ctx, EventKind::GroupCreated, &created)).await?;
    Ok(created)
}

async fn save(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    group: &CustomerGroup,
    expected: Version,
    checked: CheckedType,
) -> TxResult<CustomerGroup> {
    lock_checked_type(conn, ctx.project_id, Some(checked)).await?;
    let r = GroupRow::from_domain(ctx.project_id, group);
    let updated = crate::sql::cached(
        diesel::update(
            g::table
                .filter(g::project_id.eq(ctx.project_id.0))
                .filter(g::id.eq(group.id().0))
                .filter(g::version.eq(expected.get())),
        )
        .set((
            g::version.eq(r.version),
            g::key.eq(r.key),
            g::name.eq(r.name),
            g::custom_type_id.eq(r.custom_type_id),
            g::custom_fields.eq(r.custom_fields),
            g::metadata.eq(r.metadata),
            g::last_modified_at.eq(r.last_modified_at),
            g::last_modified_by.eq(r.last_modified_by),
        ))
        .returning(GroupRow::as_returning()),
    )
    .get_result(conn)
    .await
    .optional();
    let Some(row) = group_constraints(updated, group)? else {
        return Err(conflict_or_missing(conn, ctx.project_id, group.id(), expected.into()).await);
    };
    let saved = row.into_domain()?;
    record(conn, ctx, &group_event(ctx, EventKind::GroupUpdated, &saved)).await?;
    Ok(saved)
}

/// A versioned update of a group and its `customer-group.updated` event in one statement, when
/// there is no type to compare: PostgreSQL runs it atomically (both rows or neither), so no
/// BEGIN/COMMIT is needed and the save is one round trip (docs/benchmarks.md). Writes of custom
/// fields the service validated take [`save`], which locks the type in the same transaction.
const SAVE_WITH_EVENT: &str = "WITH saved AS (\
    UPDATE customer_groups SET version = $4, key = $5, name = $6, custom_type_id = $7, custom_fields = $8, \
    metadata = $9, last_modified_at = $10, last_modified_by = $11 \
    WHERE project_id = $1 AND id = $2 AND version = $3 RETURNING *), \
    event AS (INSERT INTO events (project_id, id, project_key, kind, resource_id, actor, payload, created_at, \
    published_at) SELECT $1, $12, $13, $14, saved.id, $15, $16, $17, NULL FROM saved) \
    SELECT saved.* FROM saved";

async fn save_in_one_statement(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    group: &CustomerGroup,
    expected: Version,
) -> TxResult<CustomerGroup> {
    use diesel::sql_types::{BigInt, Json, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
    let mut parts = group.clone().into_parts();
    parts.created_at = micros(parts.created_at);
    parts.last_modified_at = micros(parts.last_modified_at);
    let stored = CustomerGroup::from_parts(parts);
    let r = GroupRow::from_domain(ctx.project_id, &stored);
    // The event carries the group as it is stored (what a read of the row gives).
    let event = ctx.row(&group_event(ctx, EventKind::GroupUpdated, &r.clone().into_domain()?));
    let updated: Result<Vec<GroupRow>, _> = crate::sql::constant!(SAVE_WITH_EVENT, |q| q
        .bind::<SqlUuid, _>(r.project_id)
        .bind::<SqlUuid, _>(r.id)
        .bind::<BigInt, _>(expected.get())
        .bind::<BigInt, _>(r.version)
        .bind::<Nullable<Text>, _>(&r.key)
        .bind::<Text, _>(&r.name)
        .bind::<Nullable<SqlUuid>, _>(r.custom_type_id)
        .bind::<Nullable<Jsonb>, _>(&r.custom_fields)
        .bind::<Jsonb, _>(&r.metadata)
        .bind::<Timestamptz, _>(r.last_modified_at)
        .bind::<Nullable<Jsonb>, _>(&r.last_modified_by)
        .bind::<SqlUuid, _>(event.id)
        .bind::<Text, _>(&event.project_key)
        .bind::<Text, _>(&event.kind)
        .bind::<Jsonb, _>(&event.actor)
        .bind::<Json, _>(&event.payload)
        .bind::<Timestamptz, _>(event.created_at))
    .load(conn)
    .await;
    match group_constraints(updated, group)?.pop() {
        Some(row) => Ok(row.into_domain()?),
        None => Err(conflict_or_missing(conn, ctx.project_id, group.id(), expected.into()).await),
    }
}

async fn delete(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    id: GroupId,
    expected: Option<ExpectedVersion>,
) -> TxResult<CustomerGroup> {
    // The project row first, like `create`: both lock it before any group row.
    crate::sql::cached(
        diesel::update(p::table.filter(p::project_id.eq(ctx.project_id.0)).filter(p::customer_group_count.gt(0)))
            .set(p::customer_group_count.eq(p::customer_group_count - 1)),
    )
    .execute(conn)
    .await?;
    let target = g::table.filter(g::project_id.eq(ctx.project_id.0)).filter(g::id.eq(id.0));
    let deleted: Option<GroupRow> = match expected {
        Some(v) => {
            diesel::delete(target.filter(g::version.eq(v.get())))
                .returning(GroupRow::as_returning())
                .get_result(conn)
                .await
        }
        None => diesel::delete(target).returning(GroupRow::as_returning()).get_result(conn).await,
    }
    .optional()?;
    let Some(row) = deleted else {
        // Rolls the decrement back with everything else.
        return Err(match expected {
            Some(v) => conflict_or_missing(conn, ctx.project_id, id, v).await,
            None => group_not_found(id),
        });
    };
    let group = row.into_domain()?;
    record(conn, ctx, &group_event(ctx, EventKind::GroupDeleted, &group)).await?;
    Ok(group)
}

async fn set_customers(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    id: GroupId,
    add: &[CustomerId],
    remove: &[CustomerId],
) -> TxResult<CustomerGroup> {
    let project = ctx.project_id;
    if find_group(conn, project, id).await?.is_none() {
        return Err(group_not_found(id));
    }
    // Customers before the group (the crate's lock order). `FOR SHARE` keeps them from being
    // deleted (which would leave memberships behind) until we commit.
    let wanted: Vec<Uuid> = add.iter().chain(remove).map(|c| c.0).collect();
    if !wanted.is_empty() {
        let found: Vec<Uuid> = c::table
            .filter(c::project_id.eq(project.0))
            .filter(c::id.eq_any(&wanted))
            .filter(c::deleted_at.is_null())
            .order(c::id)
            .select(c::id)
            .for_share()
            .load(conn)
            .await?;
        let found: HashSet<Uuid> = found.into_iter().collect();
        if let Some(missing) = add.iter().chain(remove).find(|c| !found.contains(&c.0)) {
            return Err(TxError::Domain(DomainError::not_found(Resource::Customer, missing)));
        }
    }
    let locked: Option<Uuid> = g::table
        .filter(g::project_id.eq(project.0))
        .filter(g::id.eq(id.0))
        .select(g::id)
        .for_no_key_update()
        .first(conn)
        .await
        .optional()?;
    if locked.is_none() {
        return Err(group_not_found(id));
    }
    let pairs: Vec<(Uuid, Uuid)> = add.iter().map(|c| (c.0, id.0)).collect();
    let mut changed = !insert_memberships(conn, project, &pairs, ctx.now).await?.is_empty();
    if !remove.is_empty() {
        let remove: Vec<Uuid> = remove.iter().map(|c| c.0).collect();
        let removed = diesel::delete(
            m::table
                .filter(m::project_id.eq(project.0))
                .filter(m::group_id.eq(id.0))
                .filter(m::customer_id.eq_any(&remove)),
        )
        .execute(conn)
        .await?;
        changed |= removed > 0;
    }
    if !changed {
        return get(conn, project, id).await;
    }
    let row: GroupRow = crate::sql::cached(
        diesel::update(g::table.filter(g::project_id.eq(project.0)).filter(g::id.eq(id.0)))
            .set((
                g::version.eq(g::version + 1),
                g::last_modified_at.eq(ctx.now),
                g::last_modified_by.eq(Some(actor_json(&ctx.actor))),
            ))
            .returning(GroupRow::as_returning()),
    )
    .get_result(conn)
    .await?;
    let group = row.into_domain()?;
    record(conn, ctx, &group_event(ctx, EventKind::GroupUpdated, &group)).await?;
    Ok(group)
}

async fn customers_of(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    id: GroupId,
    limit: u32,
) -> TxResult<Vec<Customer>> {
    if find_group(conn, project, id).await?.is_none() {
        return Err(group_not_found(id));
    }
    // The page read with a page of one.
    Ok(customers_of_groups(conn, project, &[id], limit).await?.into_iter().next().unwrap_or_default())
}

/// The members of a page of groups in one statement: for each group id (in the order given),
/// its first `$3` live members in id order, read by the memberships' group index.
const MEMBERS_OF_GROUPS: &str = "SELECT x.n, c.project_id, c.id, c.email, c.company_name, \
c.first_name, c.last_name, c.phone, c.metadata, c.has_account, c.default_billing_address_id, \
c.default_shipping_address_id, c.created_by, c.created_at, c.updated_at, c.deleted_at \
FROM unnest($2::uuid[]) WITH ORDINALITY AS x(group_id, n) CROSS JOIN LATERAL (SELECT c.* \
FROM customer_group_memberships m JOIN customers c ON c.project_id = m.project_id AND c.id = m.customer_id \
WHERE m.project_id = $1 AND m.group_id = x.group_id AND c.deleted_at IS NULL \
ORDER BY m.customer_id LIMIT $3) c ORDER BY x.n, c.id";

/// A row of [`MEMBERS_OF_GROUPS`].
#[derive(QueryableByName)]
struct MemberRow {
    /// The 1-based position of the group in the ids given.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(embed)]
    customer: CustomerRow,
}

async fn customers_of_groups(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    ids: &[GroupId],
    limit: u32,
) -> TxResult<Vec<Vec<Customer>>> {
    use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
    let mut all: Vec<Vec<Customer>> = ids.iter().map(|_| Vec::new()).collect();
    if ids.is_empty() || limit == 0 {
        return Ok(all);
    }
    let keys: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let rows: Vec<MemberRow> = crate::sql::constant!(MEMBERS_OF_GROUPS, |q| q
        .bind::<SqlUuid, _>(project.0)
        .bind::<Array<SqlUuid>, _>(&keys)
        .bind::<BigInt, _>(i64::from(limit)))
    .load(conn)
    .await?;
    for row in rows {
        let slot = usize::try_from(row.n - 1)
            .ok()
            .and_then(|i| all.get_mut(i))
            .ok_or_else(|| TxError::Domain(DomainError::internal(format!("member row of group #{}", row.n))))?;
        slot.push(row.customer.into_domain()?);
    }
    Ok(all)
}

async fn load_groups(conn: &AsyncPgConnection, sql: &Sql) -> TxResult<Vec<CustomerGroup>> {
    let mut c = conn;
    let rows: Vec<GroupRow> = sql.query().load(&mut c).await?;
    Ok(rows.into_iter().map(GroupRow::into_domain).collect::<Result<Vec<_>, _>>()?)
}

async fn query(conn: &mut AsyncPgConnection, project: ProjectId, q: &GroupQuery) -> TxResult<QueryPage<CustomerGroup>> {
    // Custom fields compare by their type: read the project's types only when needed.
    let typing = match &q.predicate {
        Some(p) if mentions_custom(p) => custom_typing(conn, project).await?,
        _ => CustomTyping::default(),
    };
    let from = Compiler { table: &GROUPS, typing: &typing }.filtered(project, q.predicate.as_ref())?;
    // The total and the page are pipelined: one round trip.
    let shared: &AsyncPgConnection = conn;
    let total = total_if(shared, q.with_total, &from);
    let results = async {
        match q.limit {
            0 => Ok(Vec::new()),
            limit => {
                let order = query_order(&GROUPS, &q.sort);
                load_groups(shared, &page(&GROUPS, &from, &order, limit, u64::from(q.offset))).await
            }
        }
    };
    let (total, results) = futures::try_join!(total, results)?;
    Ok(QueryPage { results, total })
}

async fn list(conn: &mut AsyncPgConnection, project: ProjectId, f: &GroupFilter) -> TxResult<Listed<CustomerGroup>> {
    let mut from = Sql::new(" FROM customer_groups g WHERE g.project_id = ");
    from.bind(Bind::Uuid(project.0));
    if let Some(q) = f.q.as_deref().filter(|q| !q.is_empty()) {
        from.push(" AND g.name ILIKE ").bind(Bind::Text(contains_pattern(q)));
    }
    if !f.ids.is_empty() {
        from.push(" AND g.id = ANY(").bind(Bind::Uuids(f.ids.iter().map(|i| i.0).collect())).push(")");
    }
    if !f.names.is_empty() {
        from.push(" AND g.name = ANY(").bind(Bind::Texts(f.names.clone())).push(")");
    }
    let mut order = vec![(sort_column(f.order), f.descending)];
    if f.order != xclade_domain::paging::SortField::Id {
        order.push(("g.id", f.descending));
    }
    // The count and the page are pipelined: one round trip.
    let shared: &AsyncPgConnection = conn;
    let (count_sql, page_sql) = (counting(&from), page(&GROUPS, &from, &order, f.limit, f.offset));
    let (count, items) = futures::try_join!(count(shared, &count_sql), load_groups(shared, &page_sql))?;
    Ok(Listed { items, count })
}

#[async_trait]
impl CustomerGroupRepository for PgCustomerGroupRepository {
    async fn create(
        &self,
        ctx: &WriteContext,
        group: &CustomerGroup,
        max_groups: u32,
        checked: Option<CheckedType>,
    ) -> DomainResult<CustomerGroup> {
        let args = (self.write(ctx), group, max_groups, checked);
        transaction(&self.pool, &args, |conn, (ctx, group, max, checked)| {
            Box::pin(create(conn, ctx, group, *max, *checked))
        })
        .await
    }

    async fn get(&self, project: ProjectId, id: GroupId) -> DomainResult<CustomerGroup> {
        point_read(&self.pool, &(project, id), |conn, (project, id)| Box::pin(get(conn, *project, *id))).await
    }

    async fn get_by_key(&self, project: ProjectId, key: &str) -> DomainResult<CustomerGroup> {
        point_read(&self.pool, &(project, key), |conn, (project, key)| Box::pin(get_by_key(conn, *project, key))).await
    }

    async fn query(&self, project: ProjectId, q: &GroupQuery) -> DomainResult<QueryPage<CustomerGroup>> {
        read(&self.pool, &(project, q), |conn, (project, q)| Box::pin(query(conn, *project, q))).await
    }

    async fn list(&self, project: ProjectId, filter: &GroupFilter) -> DomainResult<Listed<CustomerGroup>> {
        read(&self.pool, &(project, filter), |conn, (project, filter)| Box::pin(list(conn, *project, filter))).await
    }

    async fn save(
        &self,
        ctx: &WriteContext,
        group: &CustomerGroup,
        expected: Version,
        checked: Option<CheckedType>,
    ) -> DomainResult<CustomerGroup> {
        let Some(checked) = checked else {
            let args = (self.write(ctx), group, expected);
            return single_statement(&self.pool, &args, |conn, (ctx, group, expected)| {
                Box::pin(save_in_one_statement(conn, ctx, group, *expected))
            })
            .await;
        };
        let args = (self.write(ctx), group, expected, checked);
        transaction(&self.pool, &args, |conn, (ctx, group, expected, checked)| {
            Box::pin(save(conn, ctx, group, *expected, *checked))
        })
        .await
    }

    async fn delete(
        &self,
        ctx: &WriteContext,
        id: GroupId,
        expected: Option<ExpectedVersion>,
    ) -> DomainResult<CustomerGroup> {
        let args = (self.write(ctx), id, expected);
        transaction(&self.pool, &args, |conn, (ctx, id, expected)| Box::pin(delete(conn, ctx, *id, *expected))).await
    }

    async fn set_customers(
        &self,
        ctx: &WriteContext,
        id: GroupId,
        add: &[CustomerId],
        remove: &[CustomerId],
    ) -> DomainResult<CustomerGroup> {
        let args = (self.write(ctx), id, add, remove);
        transaction(&self.pool, &args, |conn, (ctx, id, add, remove)| {
            Box::pin(set_customers(conn, ctx, *id, add, remove))
        })
        .await
    }

    async fn customers_of(&self, project: ProjectId, id: GroupId, limit: u32) -> DomainResult<Vec<Customer>> {
        let args = (project, id, limit);
        read(&self.pool, &args, |conn, (project, id, limit)| Box::pin(customers_of(conn, *project, *id, *limit))).await
    }

    async fn customers_of_groups(
        &self,
        project: ProjectId,
        ids: &[GroupId],
        limit: u32,
    ) -> DomainResult<Vec<Vec<Customer>>> {
        let args = (project, ids, limit);
        read(&self.pool, &args, |conn, (project, ids, limit)| {
            Box::pin(customers_of_groups(conn, *project, ids, *limit))
        })
        .await
    }
}
