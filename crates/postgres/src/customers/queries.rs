//! Reading customers: one customer, the admin list, and their relations (loaded only when
//! asked for, one query per relation for a whole page).

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Jsonb, Nullable, Record, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;
use xclade_domain::customer::{Address, Customer, CustomerFilter, CustomerOrderField, Listed, Relations, TimeRange};
use xclade_domain::customer_group::CustomerGroup;
use xclade_domain::{CustomerId, DomainError, ProjectId, Resource};

use crate::error::{TxError, TxResult};
use crate::models::{AddressRow, CustomerRow, GroupRow};
use crate::schema::{customer_addresses, customer_group_memberships, customer_groups, customers};
use crate::sql::{contains_pattern, prebuilt, Bind, Sql};

pub(crate) fn customer_not_found(id: CustomerId) -> TxError {
    TxError::Domain(DomainError::not_found(Resource::Customer, id))
}

/// The customer (not deleted), optionally locked `FOR NO KEY UPDATE` (which serialises the
/// writes of one customer without blocking inserts that merely reference it).
pub(crate) async fn find_customer(
    conn: &AsyncPgConnection,
    project: ProjectId,
    id: CustomerId,
    lock: bool,
) -> TxResult<CustomerRow> {
    customer_row(conn, project, id, lock).await?.ok_or_else(|| customer_not_found(id))
}

/// [`find_customer`] without the not-found error.
async fn customer_row(
    conn: &AsyncPgConnection,
    project: ProjectId,
    id: CustomerId,
    lock: bool,
) -> TxResult<Option<CustomerRow>> {
    let mut c = conn;
    // No `deleted_at IS NULL` in the statement: it would let the planner pick the partial
    // index `customers_created_at_idx` (project only, then a filter over every customer of
    // the project), which it does without statistics even for a fresh plan. The primary key
    // finds the one row; a deleted one is dropped here.
    let query = customers::table
        .filter(customers::project_id.eq(project.0))
        .filter(customers::id.eq(id.0))
        .select(CustomerRow::as_select());
    static LOCKED: OnceLock<String> = OnceLock::new();
    static PLAIN: OnceLock<String> = OnceLock::new();
    let row = if lock {
        prebuilt(&LOCKED, query.for_no_key_update().limit(1)).get_result(&mut c).await.optional()?
    } else {
        prebuilt(&PLAIN, query.limit(1)).get_result(&mut c).await.optional()?
    };
    Ok(row.filter(|row| row.deleted_at.is_none()))
}

/// The customer read's one statement: the customer's row, and its groups and addresses as arrays
/// of records (each relation's subquery runs only when `$3` / `$4` asks for it: a one-time
/// filter of the plan). One statement instead of three pipelined ones: PostgreSQL runs one
/// implicit transaction instead of three, and the service binds, sends and decodes one
/// (docs/benchmarks.md, change 38). The records are decoded in binary, field by field, like
/// columns; their fields are those of [`GroupRecord`] and [`AddressRecord`], in order.
pub(crate) const LOAD_CUSTOMER_SQL: &str = "SELECT c.project_id, c.id, c.email, c.company_name, c.first_name, \
c.last_name, c.phone, c.metadata, c.has_account, c.default_billing_address_id, c.default_shipping_address_id, \
c.created_by, c.created_at, c.updated_at, c.deleted_at, \
ARRAY(SELECT ROW(g.id, g.version, g.key, g.name, g.custom_type_id, g.custom_fields, g.metadata, g.created_at, \
g.created_by, g.last_modified_at, g.last_modified_by) FROM customer_group_memberships m JOIN customer_groups g \
ON g.project_id = m.project_id AND g.id = m.group_id \
WHERE $3 AND m.project_id = $1 AND m.customer_id = $2 ORDER BY g.id) AS groups, \
ARRAY(SELECT ROW(a.id, a.address_name, a.company, a.first_name, a.last_name, a.address_1, a.address_2, a.city, \
a.country_code, a.province, a.postal_code, a.phone, a.metadata, a.created_at, a.updated_at) \
FROM customer_addresses a WHERE $4 AND a.project_id = $1 AND a.customer_id = $2 ORDER BY a.id) AS addresses \
FROM customers c WHERE c.project_id = $1 AND c.id = $2 LIMIT 1";

/// One group of [`LOAD_CUSTOMER_SQL`]: the columns of [`GroupRow`] without the project.
type GroupRecordType = (
    SqlUuid,
    BigInt,
    Nullable<Text>,
    Text,
    Nullable<SqlUuid>,
    Nullable<Jsonb>,
    Jsonb,
    Timestamptz,
    Nullable<Jsonb>,
    Timestamptz,
    Nullable<Jsonb>,
);
type GroupRecord = (
    Uuid,
    i64,
    Option<String>,
    String,
    Option<Uuid>,
    Option<Value>,
    Value,
    DateTime<Utc>,
    Option<Value>,
    DateTime<Utc>,
    Option<Value>,
);

/// One address of [`LOAD_CUSTOMER_SQL`]: the columns of [`AddressRow`] without the project and
/// the customer.
type AddressRecordType = (
    SqlUuid,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Jsonb,
    Timestamptz,
    Timestamptz,
);
type AddressRecord = (
    Uuid,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Value,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// The one row of [`LOAD_CUSTOMER_SQL`].
#[derive(QueryableByName)]
struct CustomerWithRelations {
    #[diesel(embed)]
    customer: CustomerRow,
    #[diesel(sql_type = Array<Record<GroupRecordType>>)]
    groups: Vec<GroupRecord>,
    #[diesel(sql_type = Array<Record<AddressRecordType>>)]
    addresses: Vec<AddressRecord>,
}

fn group_row(project: ProjectId, r: GroupRecord) -> GroupRow {
    let (
        id,
        version,
        key,
        name,
        custom_type_id,
        custom_fields,
        metadata,
        created_at,
        created_by,
        last_modified_at,
        last_modified_by,
    ) = r;
    GroupRow {
        project_id: project.0,
        id,
        version,
        key,
        name,
        custom_type_id,
        custom_fields,
        metadata,
        created_at,
        created_by,
        last_modified_at,
        last_modified_by,
    }
}

fn address_row(project: ProjectId, customer: Uuid, r: AddressRecord) -> AddressRow {
    let (
        id,
        address_name,
        company,
        first_name,
        last_name,
        address_1,
        address_2,
        city,
        country_code,
        province,
        postal_code,
        phone,
        metadata,
        created_at,
        updated_at,
    ) = r;
    AddressRow {
        project_id: project.0,
        id,
        customer_id: customer,
        address_name,
        company,
        first_name,
        last_name,
        address_1,
        address_2,
        city,
        country_code,
        province,
        postal_code,
        phone,
        metadata,
        created_at,
        updated_at,
    }
}

/// The customer with the requested relations, in one statement ([`LOAD_CUSTOMER_SQL`]); a
/// deleted customer is not found.
pub(crate) async fn load_customer(
    conn: &AsyncPgConnection,
    project: ProjectId,
    id: CustomerId,
    relations: Relations,
) -> TxResult<Customer> {
    let mut c = conn;
    let row: Option<CustomerWithRelations> = crate::sql::constant!(LOAD_CUSTOMER_SQL, |q| q
        .bind::<SqlUuid, _>(project.0)
        .bind::<SqlUuid, _>(id.0)
        .bind::<Bool, _>(relations.groups)
        .bind::<Bool, _>(relations.addresses))
    .get_result(&mut c)
    .await
    .optional()?;
    let row = row.filter(|r| r.customer.deleted_at.is_none()).ok_or_else(|| customer_not_found(id))?;
    let groups = row.groups.into_iter().map(|g| (id.0, group_row(project, g))).collect();
    let addresses = row.addresses.into_iter().map(|a| address_row(project, id.0, a)).collect();
    let mut list = [row.customer.into_domain()?];
    attach(&mut list, groups, addresses, relations)?;
    let [customer] = list;
    Ok(customer)
}

/// The groups of the customers `ids` (with the customer each belongs to), ordered by customer
/// and group id; nothing is sent when `wanted` is false.
async fn group_rows(
    conn: &AsyncPgConnection,
    project: ProjectId,
    ids: &[Uuid],
    wanted: bool,
) -> TxResult<Vec<(Uuid, GroupRow)>> {
    if !wanted {
        return Ok(Vec::new());
    }
    let mut c = conn;
    let query = customer_group_memberships::table
        .inner_join(
            customer_groups::table.on(customer_groups::project_id
                .eq(customer_group_memberships::project_id)
                .and(customer_groups::id.eq(customer_group_memberships::group_id))),
        )
        .filter(customer_group_memberships::project_id.eq(project.0))
        .order((customer_group_memberships::customer_id, customer_groups::id))
        .select((customer_group_memberships::customer_id, GroupRow::as_select()));
    // One customer: `=` (see `address_rows`). Not boxed: a query of a static type finds its
    // prepared statement by type (a boxed one is looked up by its text), and `prebuilt` copies
    // its text instead of writing it at every execution (`sql::Prebuilt`).
    static ONE: OnceLock<String> = OnceLock::new();
    static MANY: OnceLock<String> = OnceLock::new();
    Ok(match ids {
        [one] => prebuilt(&ONE, query.filter(customer_group_memberships::customer_id.eq(*one))).load(&mut c).await?,
        _ => prebuilt(&MANY, query.filter(customer_group_memberships::customer_id.eq_any(ids))).load(&mut c).await?,
    })
}

/// The addresses of the customers `ids`, ordered by customer and address id; nothing is sent
/// when `wanted` is false.
async fn address_rows(
    conn: &AsyncPgConnection,
    project: ProjectId,
    ids: &[Uuid],
    wanted: bool,
) -> TxResult<Vec<AddressRow>> {
    if !wanted {
        return Ok(Vec::new());
    }
    let mut c = conn;
    let query = customer_addresses::table
        .filter(customer_addresses::project_id.eq(project.0))
        .order((customer_addresses::customer_id, customer_addresses::id))
        .select(AddressRow::as_select());
    // One customer (the customer read): `customer_id = $2`, whose plan is the index on
    // (project, customer) whatever the statistics say; `= ANY($2)` got a plan that filtered
    // every address of the project when it was cached while the table was small (the pool's
    // periodic `DISCARD PLANS` re-plans the list pages' statements).
    static ONE: OnceLock<String> = OnceLock::new();
    static MANY: OnceLock<String> = OnceLock::new();
    Ok(match ids {
        [one] => prebuilt(&ONE, query.filter(customer_addresses::customer_id.eq(*one))).load(&mut c).await?,
        _ => prebuilt(&MANY, query.filter(customer_addresses::customer_id.eq_any(ids))).load(&mut c).await?,
    })
}

/// Puts the relation rows on the customers of `page` (only the relations asked for are
/// replaced).
fn attach(
    page: &mut [Customer],
    groups: Vec<(Uuid, GroupRow)>,
    addresses: Vec<AddressRow>,
    relations: Relations,
) -> TxResult<()> {
    let index: HashMap<Uuid, usize> = page.iter().enumerate().map(|(i, c)| (c.id().0, i)).collect();
    if relations.groups {
        let mut loaded: Vec<Vec<CustomerGroup>> = vec![Vec::new(); page.len()];
        for (customer_id, row) in groups {
            if let Some(&i) = index.get(&customer_id) {
                loaded[i].push(row.into_domain()?);
            }
        }
        for (customer, groups) in page.iter_mut().zip(loaded) {
            customer.set_groups(groups);
        }
    }
    if relations.addresses {
        let mut loaded: Vec<Vec<Address>> = vec![Vec::new(); page.len()];
        for row in addresses {
            if let Some(&i) = index.get(&row.customer_id) {
                let c = &page[i];
                let billing = c.default_billing_address_id().map(|a| a.0);
                let shipping = c.default_shipping_address_id().map(|a| a.0);
                loaded[i].push(row.into_domain(billing, shipping)?);
            }
        }
        for (customer, addresses) in page.iter_mut().zip(loaded) {
            customer.set_addresses(addresses);
        }
    }
    Ok(())
}

/// Fills `groups` (ordered by group id) and `addresses` (ordered by address id) of every
/// customer of `page`: one query per relation for the whole page, both pipelined in one round
/// trip, and only the relations asked for.
pub(crate) async fn load_relations(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    page: &mut [Customer],
    relations: Relations,
) -> TxResult<()> {
    if page.is_empty() || relations == Relations::NONE {
        return Ok(());
    }
    let shared: &AsyncPgConnection = conn;
    let ids: Vec<Uuid> = page.iter().map(|c| c.id().0).collect();
    let (groups, addresses) = futures::try_join!(
        group_rows(shared, project, &ids, relations.groups),
        address_rows(shared, project, &ids, relations.addresses)
    )?;
    attach(page, groups, addresses, relations)
}

/// `customer` with its `relations` loaded ([`load_relations`] of one).
pub(crate) async fn with_relations(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    customer: Customer,
    relations: Relations,
) -> TxResult<Customer> {
    let mut list = [customer];
    load_relations(conn, project, &mut list, relations).await?;
    let [customer] = list;
    Ok(customer)
}

/// Drops the relations that were loaded for other reasons (an event) but not asked for.
pub(crate) fn keep_only(mut customer: Customer, relations: Relations) -> Customer {
    customer.keep_relations(relations);
    customer
}

fn order_column(field: CustomerOrderField) -> &'static str {
    match field {
        CustomerOrderField::Id => "c.id",
        CustomerOrderField::Email => "c.email",
        CustomerOrderField::FirstName => "c.first_name",
        CustomerOrderField::LastName => "c.last_name",
        CustomerOrderField::CompanyName => "c.company_name",
        CustomerOrderField::HasAccount => "c.has_account",
        CustomerOrderField::CreatedAt => "c.created_at",
        CustomerOrderField::UpdatedAt => "c.updated_at",
    }
}

fn time_range(sql: &mut Sql, column: &str, range: &TimeRange) {
    for (op, value) in [(">", range.gt), (">=", range.gte), ("<", range.lt), ("<=", range.lte)] {
        if let Some(t) = value {
            sql.push(" AND ").push(column).push(" ").push(op).push(" ").bind(Bind::Timestamptz(t));
        }
    }
}

/// `FROM customers c WHERE …` of the admin list (`$1` is the project).
fn filtered(project: ProjectId, filter: &CustomerFilter) -> Sql {
    let mut sql = Sql::new(" FROM customers c WHERE c.project_id = ");
    sql.bind(Bind::Uuid(project.0)).push(" AND c.deleted_at IS NULL");
    if let Some(q) = filter.q.as_deref().filter(|q| !q.is_empty()) {
        // The first condition is the one the trigram index (customers_search_trgm) answers;
        // the second keeps the meaning exact (a match within one column).
        // Planned for its pattern every time: a generic plan of `ILIKE $n` cannot use the
        // trigram index (docs/benchmarks.md).
        sql.plan_each_time();
        sql.push(" AND customer_search_text(c.email, c.first_name, c.last_name, c.company_name) ILIKE ");
        let p = sql.bind_ref(Bind::Text(contains_pattern(q)));
        sql.push(&format!(
            " AND (c.email ILIKE {p} OR c.first_name ILIKE {p} OR c.last_name ILIKE {p} OR c.company_name ILIKE {p})"
        ));
    }
    if !filter.ids.is_empty() {
        sql.push(" AND c.id = ANY(").bind(Bind::Uuids(filter.ids.iter().map(|i| i.0).collect())).push(")");
    }
    if !filter.emails.is_empty() {
        let emails = filter.emails.iter().map(|e| e.to_lowercase()).collect();
        sql.push(" AND lower(c.email) = ANY(").bind(Bind::Texts(emails)).push(")");
    }
    if !filter.groups.is_empty() {
        sql.push(
            " AND EXISTS (SELECT 1 FROM customer_group_memberships m \
             WHERE m.project_id = c.project_id AND m.customer_id = c.id AND m.group_id = ANY(",
        )
        .bind(Bind::Uuids(filter.groups.iter().map(|g| g.0).collect()))
        .push("))");
    }
    if let Some(has_account) = filter.has_account {
        sql.push(" AND c.has_account = ").bind(Bind::Bool(has_account));
    }
    time_range(&mut sql, "c.created_at", &filter.created_at);
    time_range(&mut sql, "c.updated_at", &filter.updated_at);
    sql
}

#[derive(QueryableByName)]
pub(crate) struct Count {
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Runs a `SELECT count(*) AS count …` query (on a shared connection, so that it can be
/// pipelined with the page it counts).
pub(crate) async fn count(conn: &AsyncPgConnection, sql: &Sql) -> TxResult<i64> {
    let mut c = conn;
    let rows: Vec<Count> = sql.query().load(&mut c).await?;
    Ok(rows.into_iter().next().map_or(0, |c| c.count))
}

/// The admin list: filters, total count, order (then id), page, relations of the page.
pub(crate) async fn list(
    conn: &mut AsyncPgConnection,
    project: ProjectId,
    filter: &CustomerFilter,
    relations: Relations,
) -> TxResult<Listed<Customer>> {
    let from = filtered(project, filter);
    let mut total = Sql::new("SELECT count(*) AS count");
    total.append(&from);

    let direction = if filter.descending { " DESC" } else { " ASC" };
    let mut page = Sql::new("SELECT c.*");
    page.append(&from);
    page.push(" ORDER BY ").push(order_column(filter.order)).push(direction);
    if filter.order != CustomerOrderField::Id {
        page.push(", c.id").push(direction);
    }
    page.push(" LIMIT ")
        .bind(Bind::BigInt(i64::from(filter.limit)))
        .push(" OFFSET ")
        .bind(Bind::BigInt(i64::try_from(filter.offset).unwrap_or(i64::MAX)));
    // The count and the page are pipelined: one round trip.
    let shared: &AsyncPgConnection = conn;
    let rows = async {
        let mut c = shared;
        page.query().load::<CustomerRow>(&mut c).await.map_err(TxError::from)
    };
    let (count, rows) = futures::try_join!(count(shared, &total), rows)?;
    let mut items: Vec<Customer> = rows.into_iter().map(CustomerRow::into_domain).collect::<Result<_, _>>()?;
    load_relations(conn, project, &mut items, relations).await?;
    Ok(Listed { items, count })
}
