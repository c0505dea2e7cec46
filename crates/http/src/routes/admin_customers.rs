//! `/admin/customers…` (admin family, §2.2–§2.6): customers, their group memberships and their
//! addresses.
//!
//! Every handler authenticates first (`AdminPrincipal`, 401), checks the permission (403), and
//! only then reads path ids (404 for anything that is not a UUID), `fields`, the query and the
//! body (400). Every answer that holds a customer is shaped by `fields`, and only the selected
//! relations are loaded.

pub mod dto;
pub mod list_query;
pub(crate) mod support;
#[cfg(test)]
pub(crate) mod tests;

use crate::auth::AdminPrincipal;
use crate::body::admin_body;
use crate::error::admin::{AdminFailures, AdminResult};
use crate::fields::CUSTOMER_SPEC;
use crate::query::QueryPairs;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};
use support::{customer_id, object, ok};
use xclade_domain::auth::Permission;
use xclade_domain::customer::{AddressFields, CustomerDraft, CustomerPatch, Listed};
use xclade_domain::ids::GroupId;
use xclade_domain::ports::CreateOutcome;

/// Registers the routes, relative to the `/admin` scope of [`crate::routes::admin`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/customers").route(web::get().to(list_customers)).route(web::post().to(create_customer)),
    )
    .service(
        web::resource("/customers/{id}")
            .route(web::get().to(get_customer))
            .route(web::post().to(update_customer))
            .route(web::delete().to(delete_customer)),
    )
    .service(web::resource("/customers/{id}/customer-groups").route(web::post().to(manage_groups)))
    .service(
        web::resource("/customers/{id}/addresses")
            .route(web::get().to(list_addresses))
            .route(web::post().to(create_address)),
    )
    .service(
        web::resource("/customers/{id}/addresses/{address_id}")
            .route(web::get().to(get_address))
            .route(web::post().to(update_address))
            .route(web::delete().to(delete_address)),
    );
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_customers,
        create_customer,
        get_customer,
        update_customer,
        delete_customer,
        manage_groups,
        list_addresses,
        create_address,
        get_address,
        update_address,
        delete_address
    ),
    components(schemas(
        dto::AdminCustomer,
        dto::AdminCustomerGroupSummary,
        dto::AdminCustomerAddress,
        dto::AdminCustomerSummary,
        dto::AdminCustomerResponse,
        dto::AdminCustomerListResponse,
        dto::AdminCustomerAddressResponse,
        dto::AdminCustomerAddressListResponse,
        dto::AdminDeleteResponse,
        dto::AdminAddressDeleteResponse,
        dto::AdminCreateCustomer,
        dto::AdminUpdateCustomer,
        dto::AdminManageCustomerGroups,
        dto::AdminCustomerAddressBody,
        crate::error::admin::AdminErrorBody
    ))
)]
struct AdminCustomersDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    <AdminCustomersDoc as utoipa::OpenApi>::openapi()
}

// ---------------------------------------------------------------------------------------------
// Bodies

/// Reads a create body (§2.3): every key of the seed is required, `additional_data` optional.
pub fn customer_draft(body: Map<String, Value>) -> AdminResult<CustomerDraft> {
    admin_body::<dto::AdminCreateCustomer>(body)?.try_into()
}

/// Reads an update body: the create keys, all optional; strings nullable except `email`.
pub fn customer_patch(body: Map<String, Value>) -> AdminResult<CustomerPatch> {
    admin_body::<dto::AdminUpdateCustomer>(body)?.try_into()
}

/// Reads an address create or update body.
pub fn address_fields(body: Map<String, Value>) -> AdminResult<AddressFields> {
    admin_body::<dto::AdminCustomerAddressBody>(body)?.try_into()
}

/// Reads `{add?, remove?}` of group ids; the first value that is not an id is 404, before
/// anything is written.
pub fn group_changes(body: Map<String, Value>) -> AdminResult<(Vec<GroupId>, Vec<GroupId>)> {
    admin_body::<dto::AdminManageCustomerGroups>(body)?.try_into()
}

// ---------------------------------------------------------------------------------------------
// Customers

/// List customers.
///
/// Filters combine with AND; a list filter matches any of its values. Lists may be sent in any
/// of the `qs` forms (`groups=a&groups=b`, `groups[]=a`, `groups[0]=a`); unknown keys are
/// ignored. Default order is `id` ascending (creation order).
#[utoipa::path(get, path = "/admin/customers", tag = "admin customers", security(("bearer" = [])),
    params(
        ("q" = Option<String>, Query, description = "Case-insensitive substring of email, first, last or company name"),
        ("id" = Option<Vec<String>>, Query, description = "Customer ids"),
        ("email" = Option<Vec<String>>, Query, description = "Exact emails"),
        ("groups" = Option<Vec<String>>, Query, description = "Ids of groups the customer belongs to (also `groups[id]`)"),
        ("has_account" = Option<bool>, Query, description = "`true` or `false`"),
        ("created_at[gte]" = Option<String>, Query, description = "RFC 3339 date-time or YYYY-MM-DD; also `[gt]`, `[lt]`, `[lte]`"),
        ("updated_at[gte]" = Option<String>, Query, description = "RFC 3339 date-time or YYYY-MM-DD; also `[gt]`, `[lt]`, `[lte]`"),
        ("order" = Option<String>, Query, description = "`field` or `-field`: id, email, first_name, last_name, company_name, has_account, created_at, updated_at"),
        ("limit" = Option<u32>, Query, description = "0 to 1000, default 50"),
        ("offset" = Option<u64>, Query, description = "Default 0"),
        ("fields" = Option<String>, Query, description = "Fields of each customer (§2.5), e.g. `-phone,+groups.id`"),
    ),
    responses(AdminFailures,
        (status = 200, body = dto::AdminCustomerListResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: a bad filter, `order`, `limit`, `offset` or `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `view_customers` or `manage_customers`"),
    ))]
pub async fn list_customers(
    principal: AdminPrincipal,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::ReadCustomers)?;
    let query = list_query::parse_customer_list(req.query_string())?;
    let selected = support::fields(&req, &CUSTOMER_SPEC)?;
    let listed = if query.matches_nothing {
        Listed { items: Vec::new(), count: 0 }
    } else {
        state.customers.list(principal, &query.filter, support::relations(&selected)).await?
    };
    Ok(dto::customer_list_response(&listed.items, &selected, listed.count, query.filter.offset, query.filter.limit))
}

/// Create a customer.
///
/// With an `Idempotency-Key`, a retry of the same request (same `fields`, same body) within
/// 24 h answers the first customer again and creates nothing; the same key with another
/// request is 422.
#[utoipa::path(post, path = "/admin/customers", tag = "admin customers", security(("bearer" = [])),
    params(
        ("fields" = Option<String>, Query, description = "Fields of the returned customer (§2.5)"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 printable ASCII characters"),
    ),
    request_body = dto::AdminCreateCustomer,
    responses(AdminFailures,
        (status = 200, body = dto::AdminCustomerResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: a missing, unknown or mistyped field, an invalid email, a limit exceeded, bad `fields` or `Idempotency-Key`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customers`"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent request with the same key; safe to retry"),
        (status = 413, body = crate::error::admin::AdminErrorBody, description = "The body is larger than the configured limit"),
        (status = 422, body = crate::error::admin::AdminErrorBody, description = "duplicate_error: the email is taken; invalid_data: the Idempotency-Key was used with another request"),
    ))]
pub async fn create_customer(
    principal: AdminPrincipal,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteCustomers)?;
    let selected = support::fields(&req, &CUSTOMER_SPEC)?;
    let key = support::idempotency_key(&req)?;
    let body = support::read_body(&req, payload).await?;
    let idempotency = match key {
        Some(key) => {
            Some((key, support::request_hash(req.method().as_str(), req.path(), support::raw_fields(&req), &body)?))
        }
        None => None,
    };
    let draft = customer_draft(body)?;
    let (CreateOutcome::Created(customer) | CreateOutcome::Replayed(customer)) =
        state.customers.create(principal, draft, idempotency).await?;
    Ok(dto::customer_response(&customer, &selected))
}

/// Retrieve a customer.
#[utoipa::path(get, path = "/admin/customers/{id}", tag = "admin customers", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The customer's id"),
        ("fields" = Option<String>, Query, description = "Fields of the returned customer (§2.5)"),
    ),
    responses(AdminFailures,
        (status = 200, body = dto::AdminCustomerResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: bad `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `view_customers` or `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer with id: X was not found`"),
    ))]
pub async fn get_customer(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::ReadCustomers)?;
    let id = customer_id(&path)?;
    let selected = support::fields(&req, &CUSTOMER_SPEC)?;
    let customer = state.customers.get(principal, id, support::relations(&selected)).await?;
    Ok(dto::customer_response(&customer, &selected))
}

/// Update a customer.
///
/// Only the given keys change; `null` clears a string (not `email`); `metadata` is merged
/// shallowly and a key set to `""` is deleted.
#[utoipa::path(post, path = "/admin/customers/{id}", tag = "admin customers", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The customer's id"),
        ("fields" = Option<String>, Query, description = "Fields of the returned customer (§2.5)"),
    ),
    request_body = dto::AdminUpdateCustomer,
    responses(AdminFailures,
        (status = 200, body = dto::AdminCustomerResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: an unknown or mistyped field, an invalid email, a limit exceeded, bad `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer with id: X was not found`"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent write; safe to retry"),
        (status = 413, body = crate::error::admin::AdminErrorBody, description = "The body is larger than the configured limit"),
        (status = 422, body = crate::error::admin::AdminErrorBody, description = "duplicate_error: the email is taken"),
    ))]
pub async fn update_customer(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteCustomers)?;
    let id = customer_id(&path)?;
    let selected = support::fields(&req, &CUSTOMER_SPEC)?;
    let patch = customer_patch(support::read_body(&req, payload).await?)?;
    let customer = state.customers.update(principal, id, patch, support::relations(&selected)).await?;
    Ok(dto::customer_response(&customer, &selected))
}

/// Delete a customer.
///
/// Soft delete: the customer is 404 from then on, its email is free again and it leaves all its
/// groups.
#[utoipa::path(delete, path = "/admin/customers/{id}", tag = "admin customers", security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's id")),
    responses(AdminFailures,
        (status = 200, body = dto::AdminDeleteResponse, description = "The customer is deleted", example = json!({"id": "0193a1b2-0000-7000-8000-000000000001", "object": "customer", "deleted": true})),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer with id: X was not found`"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent write; safe to retry"),
    ))]
pub async fn delete_customer(
    principal: AdminPrincipal,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteCustomers)?;
    let id = customer_id(&path)?;
    state.customers.delete(principal, id).await?;
    Ok(HttpResponse::Ok().json(dto::AdminDeleteResponse { id: id.0, object: "customer".into(), deleted: true }))
}

/// Manage the customer groups of a customer.
///
/// All or nothing: an unknown group id is 404 naming it and changes nothing. Adding a group the
/// customer is in, or removing one it is not in, is a no-op; the same id in both lists is 400.
#[utoipa::path(post, path = "/admin/customers/{id}/customer-groups", tag = "admin customers", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The customer's id"),
        ("fields" = Option<String>, Query, description = "Fields of the returned customer (§2.5)"),
    ),
    request_body = dto::AdminManageCustomerGroups,
    responses(AdminFailures,
        (status = 200, body = dto::AdminCustomerResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: an unknown or mistyped field, more than 1000 ids, an id in both lists, bad `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer with id: X was not found` or `Customer group with id: X was not found`"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent write; safe to retry"),
        (status = 413, body = crate::error::admin::AdminErrorBody, description = "The body is larger than the configured limit"),
    ))]
pub async fn manage_groups(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteCustomers)?;
    let id = customer_id(&path)?;
    let selected = support::fields(&req, &CUSTOMER_SPEC)?;
    let (add, remove) = group_changes(support::read_body(&req, payload).await?)?;
    let customer = state.customers.set_groups(principal, id, add, remove, support::relations(&selected)).await?;
    Ok(dto::customer_response(&customer, &selected))
}

// ---------------------------------------------------------------------------------------------
// Addresses

/// List a customer's addresses.
#[utoipa::path(get, path = "/admin/customers/{id}/addresses", tag = "admin customers", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The customer's id"),
        ("limit" = Option<u32>, Query, description = "0 to 1000, default 50"),
        ("offset" = Option<u64>, Query, description = "Default 0"),
    ),
    responses(AdminFailures,
        (status = 200, body = dto::AdminCustomerAddressListResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: a bad `limit` or `offset`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `view_customers` or `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer with id: X was not found`"),
    ))]
pub async fn list_addresses(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::ReadCustomers)?;
    let id = customer_id(&path)?;
    let q = QueryPairs::parse(req.query_string());
    let limit = list_query::limit(&q)?;
    let offset = list_query::offset(&q)?;
    let listed = state.customers.list_addresses(principal, id, limit, offset).await?;
    let addresses = listed.items.iter().map(dto::address_value).collect::<AdminResult<Vec<_>>>()?;
    Ok(ok(object([
        ("addresses", Value::Array(addresses)),
        ("count", json!(listed.count)),
        ("offset", json!(offset)),
        ("limit", json!(limit)),
    ])))
}

/// Add an address to a customer.
///
/// `is_default_shipping`/`is_default_billing` make it the default, clearing the old one.
/// Answers the refreshed customer.
#[utoipa::path(post, path = "/admin/customers/{id}/addresses", tag = "admin customers", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The customer's id"),
        ("fields" = Option<String>, Query, description = "Fields of the returned customer (§2.5)"),
    ),
    request_body = dto::AdminCustomerAddressBody,
    responses(AdminFailures,
        (status = 200, body = dto::AdminCustomerResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: an unknown or mistyped field, a limit exceeded, bad `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer with id: X was not found`"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent write; safe to retry"),
        (status = 413, body = crate::error::admin::AdminErrorBody, description = "The body is larger than the configured limit"),
    ))]
pub async fn create_address(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteCustomers)?;
    let id = customer_id(&path)?;
    let selected = support::fields(&req, &CUSTOMER_SPEC)?;
    let fields = address_fields(support::read_body(&req, payload).await?)?;
    let customer = state.customers.add_address(principal, id, fields, support::relations(&selected)).await?;
    Ok(dto::customer_response(&customer, &selected))
}

/// Retrieve an address of a customer.
#[utoipa::path(get, path = "/admin/customers/{id}/addresses/{address_id}", tag = "admin customers", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The customer's id"),
        ("address_id" = String, Path, description = "The address's id"),
    ),
    responses(AdminFailures,
        (status = 200, body = dto::AdminCustomerAddressResponse),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `view_customers` or `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: the customer, or an address of this customer"),
    ))]
pub async fn get_address(
    principal: AdminPrincipal,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::ReadCustomers)?;
    let id = customer_id(&path.0)?;
    let address = support::address_id(&path.1)?;
    let address = state.customers.get_address(principal, id, address).await?;
    Ok(ok(object([("address", dto::address_value(&address)?)])))
}

/// Update an address of a customer.
///
/// Only the given keys change; `null` clears a string; `metadata` replaces the address's.
/// Answers the refreshed customer.
#[utoipa::path(post, path = "/admin/customers/{id}/addresses/{address_id}", tag = "admin customers", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The customer's id"),
        ("address_id" = String, Path, description = "The address's id"),
        ("fields" = Option<String>, Query, description = "Fields of the returned customer (§2.5)"),
    ),
    request_body = dto::AdminCustomerAddressBody,
    responses(AdminFailures,
        (status = 200, body = dto::AdminCustomerResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: an unknown or mistyped field, a limit exceeded, bad `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: the customer, or an address of this customer"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent write; safe to retry"),
        (status = 413, body = crate::error::admin::AdminErrorBody, description = "The body is larger than the configured limit"),
    ))]
pub async fn update_address(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteCustomers)?;
    let id = customer_id(&path.0)?;
    let address = support::address_id(&path.1)?;
    let selected = support::fields(&req, &CUSTOMER_SPEC)?;
    let fields = address_fields(support::read_body(&req, payload).await?)?;
    let customer =
        state.customers.update_address(principal, id, address, fields, support::relations(&selected)).await?;
    Ok(dto::customer_response(&customer, &selected))
}

/// Delete an address of a customer.
///
/// Answers the refreshed customer as `parent`; a deleted default address leaves the customer
/// without that default.
#[utoipa::path(delete, path = "/admin/customers/{id}/addresses/{address_id}", tag = "admin customers", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The customer's id"),
        ("address_id" = String, Path, description = "The address's id"),
        ("fields" = Option<String>, Query, description = "Fields of the returned `parent` customer (§2.5)"),
    ),
    responses(AdminFailures,
        (status = 200, body = dto::AdminAddressDeleteResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: bad `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: the customer, or an address of this customer"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent write; safe to retry"),
    ))]
pub async fn delete_address(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteCustomers)?;
    let id = customer_id(&path.0)?;
    let address = support::address_id(&path.1)?;
    let selected = support::fields(&req, &CUSTOMER_SPEC)?;
    let customer = state.customers.delete_address(principal, id, address, support::relations(&selected)).await?;
    Ok(ok(object([
        ("id", Value::String(address.to_string())),
        ("object", json!("customer_address")),
        ("deleted", Value::Bool(true)),
        ("parent", dto::customer_value(&customer, &selected)?),
    ])))
}
