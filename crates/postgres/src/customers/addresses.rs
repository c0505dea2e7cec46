//! Addresses of a customer. The default billing/shipping address lives on the customer row
//! (`default_*_address_id`), so "at most one default of each kind" holds by construction and
//! setting a new default replaces the old one in the same statement.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use xclade_domain::customer::{Address, AddressFields, Customer, Listed, Relations};
use xclade_domain::event::Event;
use xclade_domain::{AddressId, CustomerId, DomainError, ProjectId, Resource};

use super::queries::{find_customer, keep_only, with_relations};
use crate::error::{TxError, TxResult};
use crate::models::{AddressRow, CustomerRow};
use crate::outbox::{record, Write};
use crate::schema::{customer_addresses as a, customers as c};

fn address_not_found(id: AddressId) -> TxError {
    TxError::Domain(DomainError::not_found(Resource::CustomerAddress, id))
}

async fn find_address(
    conn: &AsyncPgConnection,
    project: ProjectId,
    customer: CustomerId,
    id: AddressId,
) -> TxResult<AddressRow> {
    let mut c = conn;
    a::table
        .filter(a::project_id.eq(project.0))
        .filter(a::id.eq(id.0))
        .filter(a::customer_id.eq(customer.0))
        .select(AddressRow::as_select())
        .first(&mut c)
        .await
        .optional()?
        .ok_or_else(|| address_not_found(id))
}

pub(crate) async fn get_address(
    conn: &AsyncPgConnection,
    project: ProjectId,
    customer: CustomerId,
    id: AddressId,
) -> TxResult<Address> {
    let owner = find_customer(conn, project, customer, false).await?;
    let row = find_address(conn, project, customer, id).await?;
    Ok(row.into_domain(owner.default_billing_address_id, owner.default_shipping_address_id)?)
}

pub(crate) async fn list_addresses(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    customer: CustomerId,
    limit: u32,
    offset: u64,
) -> TxResult<Listed<Address>> {
    let owner = find_customer(conn, project, customer, false).await?;
    let mine = a::table.filter(a::project_id.eq(project.0)).filter(a::customer_id.eq(customer.0));
    let count: i64 = mine.count().get_result(conn).await?;
    let rows: Vec<AddressRow> = mine
        .order(a::id)
        .limit(i64::from(limit))
        .offset(i64::try_from(offset).unwrap_or(i64::MAX))
        .select(AddressRow::as_select())
        .load(conn)
        .await?;
    let items = rows
        .into_iter()
        .map(|r| r.into_domain(owner.default_billing_address_id, owner.default_shipping_address_id))
        .collect::<Result<_, _>>()?;
    Ok(Listed { items, count })
}

/// The new value of a default column: `Some(true)` points it at this address, `Some(false)`
/// clears it when it pointed at this address, `None` leaves it.
fn default_after(current: Option<Uuid>, address: Uuid, wanted: Option<bool>) -> Option<Uuid> {
    match wanted {
        Some(true) => Some(address),
        Some(false) if current == Some(address) => None,
        _ => current,
    }
}

/// Writes the customer's default columns and `updated_at`, records `customer.updated`
/// (payload: the customer with its addresses) and answers with the requested relations.
async fn finish(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    mut owner: CustomerRow,
    billing: Option<Uuid>,
    shipping: Option<Uuid>,
    relations: Relations,
) -> TxResult<Customer> {
    crate::sql::cached(
        diesel::update(c::table.filter(c::project_id.eq(ctx.project_id.0)).filter(c::id.eq(owner.id))).set((
            c::default_billing_address_id.eq(billing),
            c::default_shipping_address_id.eq(shipping),
            c::updated_at.eq(ctx.now),
        )),
    )
    .execute(conn)
    .await?;
    owner.default_billing_address_id = billing;
    owner.default_shipping_address_id = shipping;
    owner.updated_at = ctx.now;
    let customer = with_relations(conn, ctx.project_id, owner.into_domain()?, Relations::ALL).await?;
    record(conn, ctx, &Event::customer_updated(ctx, &customer)).await?;
    Ok(keep_only(customer, relations))
}

pub(crate) async fn upsert_address(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    customer: CustomerId,
    address: AddressId,
    create: bool,
    fields: &AddressFields,
    relations: Relations,
) -> TxResult<Customer> {
    let project = ctx.project_id;
    let owner = find_customer(conn, project, customer, true).await?;
    if create {
        let mut new = Address::new(address, customer, ctx.now);
        fields.apply(&mut new);
        crate::sql::cached(diesel::insert_into(a::table).values(AddressRow::from_domain(project, &new)))
            .execute(conn)
            .await?;
    } else {
        let row = find_address(conn, project, customer, address).await?;
        let mut current = row.into_domain(owner.default_billing_address_id, owner.default_shipping_address_id)?;
        fields.apply(&mut current);
        current.touch(ctx.now);
        let r = AddressRow::from_domain(project, &current);
        crate::sql::cached(
            diesel::update(a::table.filter(a::project_id.eq(project.0)).filter(a::id.eq(address.0))).set((
                a::address_name.eq(r.address_name),
                a::company.eq(r.company),
                a::first_name.eq(r.first_name),
                a::last_name.eq(r.last_name),
                a::address_1.eq(r.address_1),
                a::address_2.eq(r.address_2),
                a::city.eq(r.city),
                a::country_code.eq(r.country_code),
                a::province.eq(r.province),
                a::postal_code.eq(r.postal_code),
                a::phone.eq(r.phone),
                a::metadata.eq(r.metadata),
                a::updated_at.eq(r.updated_at),
            )),
        )
        .execute(conn)
        .await?;
    }
    let billing = default_after(owner.default_billing_address_id, address.0, fields.is_default_billing);
    let shipping = default_after(owner.default_shipping_address_id, address.0, fields.is_default_shipping);
    finish(conn, ctx, owner, billing, shipping, relations).await
}

pub(crate) async fn delete_address(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    customer: CustomerId,
    address: AddressId,
    relations: Relations,
) -> TxResult<Customer> {
    let project = ctx.project_id;
    let owner = find_customer(conn, project, customer, true).await?;
    find_address(conn, project, customer, address).await?;
    let billing = owner.default_billing_address_id.filter(|d| *d != address.0);
    let shipping = owner.default_shipping_address_id.filter(|d| *d != address.0);
    // The defaults must stop pointing at the address before it can go (foreign keys).
    crate::sql::cached(
        diesel::update(c::table.filter(c::project_id.eq(project.0)).filter(c::id.eq(customer.0)))
            .set((c::default_billing_address_id.eq(billing), c::default_shipping_address_id.eq(shipping))),
    )
    .execute(conn)
    .await?;
    diesel::delete(a::table.filter(a::project_id.eq(project.0)).filter(a::id.eq(address.0))).execute(conn).await?;
    finish(conn, ctx, owner, billing, shipping, relations).await
}
