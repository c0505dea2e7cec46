//! Group memberships seen from the customer: `set_groups`, and leaving every group on delete.
//!
//! Lock order, everywhere in this crate: the customer row(s) first, then group rows in
//! ascending id order. Group rows whose version is bumped are locked `FOR NO KEY UPDATE`
//! in ascending order before the `UPDATE`, so two transactions never wait on each other in
//! opposite orders.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use xclade_domain::customer::{Customer, Relations};
use xclade_domain::event::{Event, WriteContext};
use xclade_domain::{CustomerId, DomainError, GroupId, ProjectId, Resource};

use super::queries::{find_customer, keep_only, with_relations};
use crate::error::{TxError, TxResult};
use crate::models::actor_json;
use crate::outbox::{record, Write};
use crate::schema::{customer_group_memberships as m, customer_groups as g};

/// Bumps `version` by one (and the last-modified stamp) of each group of `$2`, locking them in
/// ascending id order first (`locked` is sorted before its rows are locked, and the update only
/// touches rows it holds).
const BUMP_GROUPS: &str = "WITH locked AS (SELECT id FROM customer_groups WHERE project_id = $1 AND id = ANY($2) \
    ORDER BY id FOR NO KEY UPDATE) \
    UPDATE customer_groups g SET version = g.version + 1, last_modified_at = $3, last_modified_by = $4 \
    FROM locked WHERE g.project_id = $1 AND g.id = locked.id";

/// Bumps `version` by one (and the last-modified stamp) of each group of `ids`, locking
/// them in ascending id order first; one statement.
pub(crate) async fn bump_groups(conn: &mut AsyncPgConnection, ctx: &WriteContext, ids: &[Uuid]) -> TxResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    crate::sql::constant!(BUMP_GROUPS, |q| q
        .bind::<SqlUuid, _>(ctx.project_id.0)
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Timestamptz, _>(ctx.now)
        .bind::<Jsonb, _>(actor_json(&ctx.actor)))
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes every membership of a customer (soft delete) and bumps the groups it left.
pub(crate) async fn leave_all_groups(
    conn: &mut AsyncPgConnection,
    ctx: &WriteContext,
    customer: CustomerId,
) -> TxResult<()> {
    // Lock the groups first (ascending), then delete: a concurrent delete of one of these
    // groups then finishes before we touch its membership rows.
    let _locked: Vec<Uuid> = g::table
        .inner_join(m::table.on(m::project_id.eq(g::project_id).and(m::group_id.eq(g::id))))
        .filter(m::project_id.eq(ctx.project_id.0))
        .filter(m::customer_id.eq(customer.0))
        .order(g::id)
        .select(g::id)
        .for_no_key_update()
        .load(conn)
        .await?;
    let left: Vec<Uuid> =
        diesel::delete(m::table.filter(m::project_id.eq(ctx.project_id.0)).filter(m::customer_id.eq(customer.0)))
            .returning(m::group_id)
            .get_results(conn)
            .await?;
    bump_groups(conn, ctx, &left).await
}

/// The groups of `wanted` that exist in the project (locked `FOR KEY SHARE`, so none of
/// them can be deleted before we commit); the first missing one, in input order, is
/// `NotFound`.
pub(crate) async fn check_groups_exist(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    wanted: &[GroupId],
) -> TxResult<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = wanted.iter().map(|id| id.0).collect();
    let found: Vec<Uuid> = g::table
        .filter(g::project_id.eq(project.0))
        .filter(g::id.eq_any(&ids))
        .order(g::id)
        .select(g::id)
        .for_key_share()
        .load(conn)
        .await?;
    let found: std::collections::HashSet<Uuid> = found.into_iter().collect();
    match wanted.iter().find(|id| !found.contains(&id.0)) {
        Some(missing) => Err(TxError::Domain(DomainError::not_found(Resource::CustomerGroup, missing))),
        None => Ok(()),
    }
}

/// Inserts the memberships (customer, group) of `$3`/`$4` taken pairwise that do not exist yet;
/// one text for any number of pairs.
const INSERT_MEMBERSHIPS: &str =
    "INSERT INTO customer_group_memberships (project_id, customer_id, group_id, created_at) \
    SELECT $1, pair.customer_id, pair.group_id, $2 FROM unnest($3::uuid[], $4::uuid[]) AS pair(customer_id, group_id) \
    ON CONFLICT DO NOTHING RETURNING customer_id, group_id";

#[derive(QueryableByName)]
pub(crate) struct Membership {
    #[diesel(sql_type = SqlUuid)]
    customer_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
}

/// Inserts the memberships that do not exist yet; returns the pairs actually added.
pub(crate) async fn insert_memberships(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    pairs: &[(Uuid, Uuid)],
    at: DateTime<Utc>,
) -> TxResult<Vec<(Uuid, Uuid)>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let (customers, groups): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().copied().unzip();
    let added: Vec<Membership> = crate::sql::constant!(INSERT_MEMBERSHIPS, |q| q
        .bind::<SqlUuid, _>(project.0)
        .bind::<Timestamptz, _>(at)
        .bind::<Array<SqlUuid>, _>(customers)
        .bind::<Array<SqlUuid>, _>(groups))
    .load(conn)
    .await?;
    Ok(added.into_iter().map(|m| (m.customer_id, m.group_id)).collect())
}

/// Adds and removes memberships of one customer and bumps the version of every group it
/// joined or left, in one statement (the groups were checked and locked `FOR KEY SHARE` before;
/// `locked` takes them `FOR NO KEY UPDATE` in ascending id order before the update, like
/// [`BUMP_GROUPS`]). Answers the groups added (`joined`) and removed.
const CHANGE_MEMBERSHIPS: &str = "WITH added AS (\
    INSERT INTO customer_group_memberships (project_id, customer_id, group_id, created_at) \
    SELECT $1, $2, added.id, $3 FROM unnest($4::uuid[]) AS added(id) ON CONFLICT DO NOTHING RETURNING group_id), \
    removed AS (DELETE FROM customer_group_memberships WHERE project_id = $1 AND customer_id = $2 \
    AND group_id = ANY($5) RETURNING group_id), \
    locked AS (SELECT id FROM customer_groups WHERE project_id = $1 \
    AND id IN (SELECT group_id FROM added UNION ALL SELECT group_id FROM removed) ORDER BY id FOR NO KEY UPDATE), \
    bumped AS (UPDATE customer_groups g SET version = g.version + 1, last_modified_at = $3, last_modified_by = $6 \
    FROM locked WHERE g.project_id = $1 AND g.id = locked.id) \
    SELECT TRUE AS joined, group_id FROM added UNION ALL SELECT FALSE AS joined, group_id FROM removed";

#[derive(QueryableByName)]
struct Changed {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    joined: bool,
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
}

/// `set_groups` of the customer repository.
pub(crate) async fn set_groups(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    id: CustomerId,
    add: &[GroupId],
    remove: &[GroupId],
    relations: Relations,
) -> TxResult<Customer> {
    let project = ctx.project_id;
    let row = find_customer(conn, project, id, true).await?;
    let all: Vec<GroupId> = add.iter().chain(remove).copied().collect();
    check_groups_exist(conn, project, &all).await?;

    let changes: Vec<Changed> = if all.is_empty() {
        Vec::new()
    } else {
        crate::sql::constant!(CHANGE_MEMBERSHIPS, |q| q
            .bind::<SqlUuid, _>(project.0)
            .bind::<SqlUuid, _>(id.0)
            .bind::<Timestamptz, _>(ctx.now)
            .bind::<Array<SqlUuid>, _>(add.iter().map(|g| g.0).collect::<Vec<_>>())
            .bind::<Array<SqlUuid>, _>(remove.iter().map(|g| g.0).collect::<Vec<_>>())
            .bind::<Jsonb, _>(actor_json(&ctx.actor)))
        .load(conn)
        .await?
    };
    let (added, removed): (Vec<Changed>, Vec<Changed>) = changes.into_iter().partition(|c| c.joined);
    let added: Vec<Uuid> = added.into_iter().map(|c| c.group_id).collect();
    let removed: Vec<Uuid> = removed.into_iter().map(|c| c.group_id).collect();
    let changed = !added.is_empty() || !removed.is_empty();

    // The event carries the customer with its groups; the answer what was asked for.
    let loaded = if changed { Relations::ALL } else { relations };
    let customer = with_relations(conn, project, row.into_domain()?, loaded).await?;
    if changed {
        let added: Vec<GroupId> = added.into_iter().map(GroupId).collect();
        let removed: Vec<GroupId> = removed.into_iter().map(GroupId).collect();
        record(conn, ctx, &Event::customer_groups_changed(ctx, &customer, &added, &removed)).await?;
    }
    Ok(keep_only(customer, relations))
}
