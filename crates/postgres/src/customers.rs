//! [`CustomerRepository`] on PostgreSQL: every write is one transaction that also writes its
//! outbox event (creates without an idempotency key that wait together share one statement, each
//! with its own outcome: `batch.rs`).

mod addresses;
mod batch;
mod memberships;
pub(crate) mod queries;

pub(crate) use memberships::insert_memberships;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Map, Value};
use std::sync::Arc;
use uuid::Uuid;
use xclade_domain::customer::{Address, AddressFields, Customer, CustomerFilter, Listed, Relations};
use xclade_domain::error::DomainResult;
use xclade_domain::event::{Event, EventEncoder, WriteContext};
use xclade_domain::ports::{CreateOutcome, CustomerChange, CustomerRepository, IdempotencyClaim};
use xclade_domain::{AddressId, CustomerId, DomainError, GroupId, ProjectId, Resource};

use crate::error::{OnConstraint, TxError, TxResult};
use crate::models::{micros, CustomerRow, CustomerSnapshot};
use crate::outbox::{record, Write};
use crate::pool::PgPool;
use crate::schema::{customers as c, idempotency_keys as k};
use crate::tx::{point_read, read, transaction};
use queries::{find_customer, load_relations};

/// [`CustomerRepository`] on PostgreSQL.
#[derive(Clone)]
pub struct PgCustomerRepository {
    pool: PgPool,
    events: Arc<dyn EventEncoder>,
    /// The creates without an idempotency key, written together when they wait together.
    batches: Arc<batch::Batches>,
}

impl PgCustomerRepository {
    /// Customers in `pool`; `events` encodes the events the writes record.
    pub fn new(pool: PgPool, events: Arc<dyn EventEncoder>) -> Self {
        let batches = batch::Batches::new(&pool);
        PgCustomerRepository { pool, events, batches }
    }

    fn write<'a>(&'a self, ctx: &'a WriteContext) -> Write<'a> {
        Write::new(ctx, self.events.as_ref())
    }
}

fn duplicate_email(email: &str) -> DomainError {
    DomainError::Duplicate { resource: Resource::Customer, field: "email", value: email.to_owned() }
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    key: String,
}

/// Claims the key atomically when it is new or expired. Concurrent claims of one key
/// serialise on its row: the later one waits for the first to commit, then sees it.
async fn claim_key(
    conn: &mut AsyncPgConnection,
    ctx: &WriteContext,
    claim: &IdempotencyClaim,
    customer: &Customer,
) -> TxResult<bool> {
    let response = CustomerSnapshot::text(customer)?;
    let rows: Vec<Claimed> = crate::sql::constant!(
        "INSERT INTO idempotency_keys (project_id, key, request_hash, resource_id, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (project_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, \
           resource_id = EXCLUDED.resource_id, response = EXCLUDED.response, created_at = EXCLUDED.created_at \
         WHERE idempotency_keys.created_at < $7 \
         RETURNING key",
        |q| q
            .bind::<SqlUuid, _>(ctx.project_id.0)
            .bind::<Text, _>(&claim.key)
            .bind::<Text, _>(&claim.request_hash)
            .bind::<Nullable<SqlUuid>, _>(Some(customer.id().0))
            .bind::<Nullable<Text>, _>(Some(response))
            .bind::<Timestamptz, _>(ctx.now)
            .bind::<Timestamptz, _>(claim.not_before)
    )
    .load(conn)
    .await?;
    Ok(!rows.is_empty())
}

/// The outcome of a key that is already taken (and now locked by us).
async fn replay(conn: &mut AsyncPgConnection, project: ProjectId, claim: &IdempotencyClaim) -> TxResult<CreateOutcome> {
    let (hash, resource, response): (String, Option<Uuid>, Option<String>) = k::table
        .filter(k::project_id.eq(project.0))
        .filter(k::key.eq(&claim.key))
        .select((k::request_hash, k::resource_id, k::response))
        .first(conn)
        .await?;
    if hash != claim.request_hash {
        return Err(TxError::Domain(DomainError::IdempotencyMismatch));
    }
    if let Some(text) = response {
        return Ok(CreateOutcome::Replayed(CustomerSnapshot::parse(&text)?));
    }
    // Claims without a stored response: answer with the customer as it is now.
    let id = resource.ok_or_else(|| TxError::Domain(DomainError::Conflict))?;
    let row: CustomerRow = c::table
        .filter(c::project_id.eq(project.0))
        .filter(c::id.eq(id))
        .select(CustomerRow::as_select())
        .first(conn)
        .await?;
    Ok(CreateOutcome::Replayed(row.into_domain()?))
}

/// The customer with its timestamps as PostgreSQL stores them.
fn truncated(customer: &Customer) -> Customer {
    let mut parts = customer.clone().into_parts();
    parts.created_at = micros(parts.created_at);
    parts.updated_at = micros(parts.updated_at);
    parts.deleted_at = parts.deleted_at.map(micros);
    Customer::from_parts(parts)
}

async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    customer: &Customer,
    additional_data: Option<&Map<String, Value>>,
    idempotency: Option<&IdempotencyClaim>,
) -> TxResult<CreateOutcome> {
    let customer = truncated(customer);
    if let Some(claim) = idempotency {
        if !claim_key(conn, ctx, claim, &customer).await? {
            return replay(conn, ctx.project_id, claim).await;
        }
    }
    crate::sql::cached(diesel::insert_into(c::table).values(CustomerRow::from_domain(ctx.project_id, &customer)))
        .execute(conn)
        .await
        .on_constraint("customers_email_key", || duplicate_email(customer.email_str()))?;
    record(conn, ctx, &Event::customer_created(ctx, &customer, additional_data)).await?;
    Ok(CreateOutcome::Created(customer))
}

async fn update(
    conn: &mut AsyncPgConnection,
    ctx: &Write<'_>,
    id: CustomerId,
    change: &CustomerChange,
    relations: Relations,
) -> TxResult<Customer> {
    // Locked: concurrent updates run `change` one after the other, on the committed customer.
    let row = find_customer(conn, ctx.project_id, id, true).await?;
    let mut customer = row.into_domain()?;
    let changed = change(&mut customer)?;
    if changed {
        customer = truncated(&customer);
        let r = CustomerRow::from_domain(ctx.project_id, &customer);
        crate::sql::cached(
            diesel::update(c::table.filter(c::project_id.eq(ctx.project_id.0)).filter(c::id.eq(id.0))).set((
                c::email.eq(r.email),
                c::company_name.eq(r.company_name),
                c::first_name.eq(r.first_name),
                c::last_name.eq(r.last_name),
                c::phone.eq(r.phone),
                c::metadata.eq(r.metadata),
                c::updated_at.eq(r.updated_at),
            )),
        )
        .execute(conn)
        .await
        .on_constraint("customers_email_key", || duplicate_email(customer.email_str()))?;
    }
    // The event carries the whole customer; the answer what was asked for.
    let loaded = if changed { Relations::ALL } else { relations };
    let customer = queries::with_relations(conn, ctx.project_id, customer, loaded).await?;
    if changed {
        record(conn, ctx, &Event::customer_updated(ctx, &customer)).await?;
    }
    Ok(queries::keep_only(customer, relations))
}

async fn delete(conn: &mut AsyncPgConnection, ctx: &Write<'_>, id: CustomerId) -> TxResult<()> {
    let now = micros(ctx.now);
    let row: Option<CustomerRow> = crate::sql::cached(
        diesel::update(
            c::table.filter(c::project_id.eq(ctx.project_id.0)).filter(c::id.eq(id.0)).filter(c::deleted_at.is_null()),
        )
        .set((c::deleted_at.eq(Some(now)), c::updated_at.eq(now)))
        .returning(CustomerRow::as_returning()),
    )
    .get_result(conn)
    .await
    .optional()?;
    let row = row.ok_or_else(|| queries::customer_not_found(id))?;
    // The last state: as deleted, with the groups it leaves now and its addresses.
    let mut list = [row.into_domain()?];
    load_relations(conn, ctx.project_id, &mut list, Relations { groups: true, addresses: true }).await?;
    let [last] = list;
    memberships::leave_all_groups(conn, ctx, id).await?;
    record(conn, ctx, &Event::customer_deleted(ctx, &last)).await?;
    Ok(())
}

#[async_trait]
impl CustomerRepository for PgCustomerRepository {
    async fn create<'a>(
        &self,
        ctx: &WriteContext,
        customer: &Customer,
        additional_data: Option<&'a Map<String, Value>>,
        idempotency: Option<&'a IdempotencyClaim>,
    ) -> DomainResult<CreateOutcome> {
        if idempotency.is_none() {
            // One statement, with the creates that wait with it (batch.rs).
            let customer = truncated(customer);
            let write = self.write(ctx);
            let event = write.row(&Event::customer_created(&write, &customer, additional_data));
            let row = CustomerRow::from_domain(ctx.project_id, &customer);
            self.batches.create(&self.pool, row, event).await?;
            return Ok(CreateOutcome::Created(customer));
        }
        let args = (self.write(ctx), customer, additional_data, idempotency);
        transaction(&self.pool, &args, |conn, (ctx, customer, data, idem)| {
            Box::pin(create(conn, ctx, customer, *data, *idem))
        })
        .await
    }

    async fn get(&self, project: ProjectId, id: CustomerId, relations: Relations) -> DomainResult<Customer> {
        let args = (project, id, relations);
        point_read(&self.pool, &args, |conn, (project, id, relations)| {
            Box::pin(queries::load_customer(conn, *project, *id, *relations))
        })
        .await
    }

    async fn list(
        &self,
        project: ProjectId,
        filter: &CustomerFilter,
        relations: Relations,
    ) -> DomainResult<Listed<Customer>> {
        let args = (project, filter, relations);
        read(&self.pool, &args, |conn, (project, filter, relations)| {
            Box::pin(queries::list(conn, *project, filter, *relations))
        })
        .await
    }

    async fn update<'a>(
        &self,
        ctx: &WriteContext,
        id: CustomerId,
        change: &'a CustomerChange,
        relations: Relations,
    ) -> DomainResult<Customer> {
        let args = (self.write(ctx), id, change, relations);
        transaction(&self.pool, &args, |conn, (ctx, id, change, relations)| {
            Box::pin(update(conn, ctx, *id, *change, *relations))
        })
        .await
    }

    async fn delete(&self, ctx: &WriteContext, id: CustomerId) -> DomainResult<()> {
        let args = (self.write(ctx), id);
        transaction(&self.pool, &args, |conn, (ctx, id)| Box::pin(delete(conn, ctx, *id))).await
    }

    async fn set_groups(
        &self,
        ctx: &WriteContext,
        id: CustomerId,
        add: &[GroupId],
        remove: &[GroupId],
        relations: Relations,
    ) -> DomainResult<Customer> {
        let args = (self.write(ctx), id, add, remove, relations);
        transaction(&self.pool, &args, |conn, (ctx, id, add, remove, relations)| {
            Box::pin(memberships::set_groups(conn, ctx, *id, add, remove, *relations))
        })
        .await
    }

    async fn get_address(&self, project: ProjectId, customer: CustomerId, address: AddressId) -> DomainResult<Address> {
        let args = (project, customer, address);
        point_read(&self.pool, &args, |conn, (project, customer, address)| {
            Box::pin(addresses::get_address(conn, *project, *customer, *address))
        })
        .await
    }

    async fn list_addresses(
        &self,
        project: ProjectId,
        customer: CustomerId,
        limit: u32,
        offset: u64,
    ) -> DomainResult<Listed<Address>> {
        let args = (project, customer, limit, offset);
        read(&self.pool, &args, |conn, (project, customer, limit, offset)| {
            Box::pin(addresses::list_addresses(conn, *project, *customer, *limit, *offset))
        })
        .await
    }

    async fn upsert_address(
        &self,
        ctx: &WriteContext,
        customer: CustomerId,
        address: AddressId,
        create: bool,
        fields: &AddressFields,
        relations: Relations,
    ) -> DomainResult<Customer> {
        let args = (self.write(ctx), customer, address, create, fields, relations);
        transaction(&self.pool, &args, |conn, (ctx, customer, address, create, fields, relations)| {
            Box::pin(addresses::upsert_address(conn, ctx, *customer, *address, *create, fields, *relations))
        })
        .await
    }

    async fn delete_address(
        &self,
        ctx: &WriteContext,
        customer: CustomerId,
        address: AddressId,
        relations: Relations,
    ) -> DomainResult<Customer> {
        let args = (self.write(ctx), customer, address, relations);
        transaction(&self.pool, &args, |conn, (ctx, customer, address, relations)| {
            Box::pin(addresses::delete_address(conn, ctx, *customer, *address, *relations))
        })
        .await
    }
}
