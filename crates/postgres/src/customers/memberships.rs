//! Group memberships seen from the customer: `set_groups`, and leaving every group on delete.
//!
//! Lock order, everywhere in this crate: the customer row(s) first, then group rows in
//! ascending id order. Group rows whose version is bumped are locked `FOR NO KEY UPDATE`
//! in ascending order before the `UPDATE`, so two transactions never wait on each other in
//! opposite orders.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use xclade_domain::customer::{Customer, Relations};
use xclade_domain::event::{Event, WriteContext};
use xclade_domain::{CustomerId, DomainError, GroupId, ProjectId, Resource};

use super::queries::{find_customer, keep_only, load_relations};
use crate::error::{TxError, TxResult};
use crate::models::actor_json;
use crate::outbox::record;
use crate::schema::{customer_group_memberships as m, customer_groups as g};

/// Bumps `version` by one (and the last-modified stamp) of each group of `ids`, locking
/// them in ascending id order first.
pub(crate) async fn bump_groups(conn: &mut AsyncPgConnection, ctx: &WriteContext, ids: &[Uuid]) -> TxResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut sorted = ids.to_vec();
    sorted.sort();
    sorted.dedup();
    let _locked: Vec<Uuid> = g::table
        .filter(g::project_id.eq(ctx.project_id.0))
        .filter(g::id.eq_any(&sorted))
        .order(g::id)
        .select(g::id)
        .for_no_key_update()
        .load(conn)
        .await?;
    diesel::update(g::table.filter(g::project_id.eq(ctx.project_id.0)).filter(g::id.eq_any(&sorted)))
        .set((
            g::version.eq(g::version + 1),
            g::last_modified_at.eq(ctx.now),
            g::last_modified_by.eq(Some(actor_json(&ctx.actor))),
        ))
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

/// Inserts the memberships that do not exist yet; returns the group ids actually added.
pub(crate) async fn insert_memberships(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    pairs: &[(Uuid, Uuid)],
    at: DateTime<Utc>,
) -> TxResult<Vec<(Uuid, Uuid)>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<_> = pairs
        .iter()
        .map(|(customer, group)| {
            (m::project_id.eq(project.0), m::customer_id.eq(*customer), m::group_id.eq(*group), m::created_at.eq(at))
        })
        .collect();
    Ok(diesel::insert_into(m::table)
        .values(rows)
        .on_conflict_do_nothing()
        .returning((m::customer_id, m::group_id))
        .get_results(conn)
        .await?)
}

/// `set_groups` of the customer repository.
pub(crate) async fn set_groups(
    conn: &mut AsyncPgConnection,
    ctx: &WriteContext,
    id: CustomerId,
    add: &[GroupId],
    remove: &[GroupId],
    relations: Relations,
) -> TxResult<Customer> {
    let project = ctx.project_id;
    let row = find_customer(conn, project, id, true).await?;
    let all: Vec<GroupId> = add.iter().chain(remove).copied().collect();
    check_groups_exist(conn, project, &all).await?;

    let pairs: Vec<(Uuid, Uuid)> = add.iter().map(|g| (id.0, g.0)).collect();
    let added: Vec<Uuid> =
        insert_memberships(conn, project, &pairs, ctx.now).await?.into_iter().map(|(_, g)| g).collect();
    let removed: Vec<Uuid> = if remove.is_empty() {
        Vec::new()
    } else {
        let remove: Vec<Uuid> = remove.iter().map(|g| g.0).collect();
        diesel::delete(
            m::table
                .filter(m::project_id.eq(project.0))
                .filter(m::customer_id.eq(id.0))
                .filter(m::group_id.eq_any(&remove)),
        )
        .returning(m::group_id)
        .get_results(conn)
        .await?
    };
    let changed: Vec<Uuid> = added.iter().chain(&removed).copied().collect();
    bump_groups(conn, ctx, &changed).await?;

    // The event carries the customer with its groups; the answer what was asked for.
    let loaded = if changed.is_empty() { relations } else { Relations { groups: true, addresses: true } };
    let mut list = [row.into_domain()?];
    load_relations(conn, project, &mut list, loaded).await?;
    let [customer] = list;
    if !changed.is_empty() {
        let added: Vec<GroupId> = added.into_iter().map(GroupId).collect();
        let removed: Vec<GroupId> = removed.into_iter().map(GroupId).collect();
        record(conn, &Event::customer_groups_changed(ctx, &customer, &added, &removed)).await?;
    }
    Ok(keep_only(customer, relations))
}
