//! `/admin/customer-groups…` (admin family, §2.6): the one `CustomerGroup` of §3, seen the
//! Medusa way. A change here bumps the group's `version` like any project-family update.

use crate::auth::AdminPrincipal;
use crate::body::{admin_body, non_null};
use crate::error::admin::{AdminFailures, AdminResult};
use crate::error::AdminError;
use crate::fields::{SelectedFields, CUSTOMER_GROUP_SPEC};
use crate::query::QueryPairs;
use crate::routes::admin_customers::dto::{ids, timestamp, AdminCustomerSummary, AdminDeleteResponse};
use crate::routes::admin_customers::list_query::{id_list, last_non_empty, limit, list, offset, order};
use crate::routes::admin_customers::support::{self, customer_id, group_id, object, ok, to_value};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;
use xclade_domain::auth::{Permission, Principal};
use xclade_domain::customer::{Customer, Listed, MAX_LIST_LIMIT};
use xclade_domain::customer_group::{CustomerGroup, GroupDraft, GroupName};
use xclade_domain::ids::{CustomerId, GroupId};
use xclade_domain::metadata::Metadata;
use xclade_domain::paging::{GroupFilter, SortField};
use xclade_domain::services::GroupTarget;

/// Most members listed in a group's `customers`.
pub const MAX_MEMBERS_SHOWN: u32 = MAX_LIST_LIMIT;

/// Registers the routes, relative to the `/admin` scope of [`crate::routes::admin`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/customer-groups").route(web::get().to(list_groups)).route(web::post().to(create_group)),
    )
    .service(
        web::resource("/customer-groups/{id}")
            .route(web::get().to(get_group))
            .route(web::post().to(update_group))
            .route(web::delete().to(delete_group)),
    )
    .service(web::resource("/customer-groups/{id}/customers").route(web::post().to(manage_customers)));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_groups, create_group, get_group, update_group, delete_group, manage_customers),
    components(schemas(
        AdminCustomerGroup,
        AdminCustomerGroupResponse,
        AdminCustomerGroupListResponse,
        AdminCreateCustomerGroup,
        AdminUpdateCustomerGroup,
        AdminManageGroupCustomers,
        AdminCustomerSummary,
        AdminDeleteResponse,
        crate::error::admin::AdminErrorBody
    ))
)]
struct AdminGroupsDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    <AdminGroupsDoc as utoipa::OpenApi>::openapi()
}

// ---------------------------------------------------------------------------------------------
// DTOs

/// A customer group, admin flavour. `customers` is present only when asked for with `fields`
/// (`*customers`, `customers.id`, …), and then lists at most 1000 members.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerGroup {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    /// The id of the admin user or the `client_id` of the API client that created it.
    #[schema(required = true)]
    pub created_by: Option<String>,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub updated_at: String,
    /// Always `null`: deleted groups are gone.
    #[schema(format = DateTime, required = true)]
    pub deleted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub customers: Option<Vec<AdminCustomerSummary>>,
}

impl AdminCustomerGroup {
    pub fn new(group: &CustomerGroup, members: Option<&[Customer]>) -> Self {
        AdminCustomerGroup {
            id: group.id().0,
            name: group.name().as_str().to_owned(),
            metadata: group.metadata().as_map().clone(),
            created_by: group.created_by().map(|a| a.id().to_owned()),
            created_at: timestamp(&group.created_at()),
            updated_at: timestamp(&group.last_modified_at()),
            deleted_at: None,
            customers: members.map(|m| m.iter().map(AdminCustomerSummary::from).collect()),
        }
    }
}

/// `{"customer_group": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerGroupResponse {
    pub customer_group: AdminCustomerGroup,
}

/// A page of groups; `count` is the total number of matches.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerGroupListResponse {
    pub customer_groups: Vec<AdminCustomerGroup>,
    pub count: i64,
    pub offset: u64,
    pub limit: u32,
}

// Request bodies: read with `crate::body::admin_body`, then checked by the domain through
// `TryFrom`.

/// Body of `POST /admin/customer-groups`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdminCreateCustomerGroup {
    /// 1 to 256 characters, unique in the project.
    #[schema(min_length = 1, max_length = 256)]
    pub name: String,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

impl TryFrom<AdminCreateCustomerGroup> for GroupDraft {
    type Error = AdminError;

    fn try_from(b: AdminCreateCustomerGroup) -> Result<Self, AdminError> {
        Ok(GroupDraft {
            name: GroupName::parse("name", &b.name)?,
            key: None,
            custom: None,
            metadata: b.metadata.map(Metadata::parse).transpose()?.unwrap_or_default(),
        })
    }
}

/// Body of `POST /admin/customer-groups/{id}`: `metadata` is merged shallowly, a key set to
/// `""` is deleted.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdminUpdateCustomerGroup {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, min_length = 1, max_length = 256)]
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

impl TryFrom<AdminUpdateCustomerGroup> for (Option<GroupName>, Option<Metadata>) {
    type Error = AdminError;

    /// The new name and the metadata to merge, each if given.
    fn try_from(b: AdminUpdateCustomerGroup) -> Result<Self, AdminError> {
        Ok((b.name.map(|n| GroupName::parse("name", &n)).transpose()?, b.metadata.map(Metadata::parse).transpose()?))
    }
}

/// Body of `POST /admin/customer-groups/{id}/customers`; each list at most 1000 ids, no id in
/// both.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdminManageGroupCustomers {
    /// Ids of the customers to add to the group.
    #[schema(max_items = 1000)]
    pub add: Option<Vec<String>>,
    /// Ids of the customers to remove from the group.
    #[schema(max_items = 1000)]
    pub remove: Option<Vec<String>>,
}

impl TryFrom<AdminManageGroupCustomers> for (Vec<CustomerId>, Vec<CustomerId>) {
    type Error = AdminError;

    /// The customers to add and to remove; the first id that is not a UUID is 404, `add` first.
    fn try_from(b: AdminManageGroupCustomers) -> Result<Self, AdminError> {
        Ok((ids(b.add, customer_id)?, ids(b.remove, customer_id)?))
    }
}

// ---------------------------------------------------------------------------------------------
// Pure parts

/// Admin order names of groups.
pub fn group_order_field(name: &str) -> Option<SortField> {
    Some(match name {
        "id" => SortField::Id,
        "name" => SortField::Name,
        "created_at" => SortField::CreatedAt,
        "updated_at" => SortField::LastModifiedAt,
        _ => return None,
    })
}

/// A parsed `GET /admin/customer-groups` query (without `fields`).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupListQuery {
    pub filter: GroupFilter,
    /// `id` held only values that are not UUIDs: the answer is empty.
    pub matches_nothing: bool,
}

/// Parses the query string of `GET /admin/customer-groups`.
pub fn parse_group_list(raw: &str) -> AdminResult<GroupListQuery> {
    let q = QueryPairs::parse(raw);
    let (ids, matches_nothing) = id_list(&q, &["id"], GroupId::parse);
    let (order, descending) = order(&q, group_order_field)?.unwrap_or((SortField::Id, false));
    let filter = GroupFilter {
        q: last_non_empty(&q, "q").map(str::to_owned),
        ids,
        names: list(&q, &["name"]),
        order,
        descending,
        limit: limit(&q)?,
        offset: offset(&q)?,
    };
    Ok(GroupListQuery { filter, matches_nothing })
}

/// Reads a create body.
pub fn group_draft(body: Map<String, Value>) -> AdminResult<GroupDraft> {
    admin_body::<AdminCreateCustomerGroup>(body)?.try_into()
}

/// Reads an update body.
pub fn group_patch(body: Map<String, Value>) -> AdminResult<(Option<GroupName>, Option<Metadata>)> {
    admin_body::<AdminUpdateCustomerGroup>(body)?.try_into()
}

/// Reads `{add?, remove?}` of customer ids; the first value that is not an id is 404, before
/// anything is written.
pub fn customer_changes(body: Map<String, Value>) -> AdminResult<(Vec<CustomerId>, Vec<CustomerId>)> {
    admin_body::<AdminManageGroupCustomers>(body)?.try_into()
}

/// The group's JSON, shaped by `fields`.
pub fn group_value(
    group: &CustomerGroup,
    members: Option<&[Customer]>,
    selected: &SelectedFields,
) -> AdminResult<Value> {
    Ok(selected.shape(to_value(&AdminCustomerGroup::new(group, members))?))
}

// ---------------------------------------------------------------------------------------------
// Handlers' helpers

/// The group `fields` of the request. Asking for `customers` shows customers' data, so it also
/// needs the permission to read customers.
fn selection(req: &HttpRequest, principal: &Principal) -> AdminResult<SelectedFields> {
    let selected = support::fields(req, &CUSTOMER_GROUP_SPEC)?;
    if wants_members(&selected) && !principal.allows_own(Permission::ReadCustomers) {
        return Err(crate::error::AdminError::Forbidden(crate::error::sentences::insufficient_scope_message(
            Permission::ReadCustomers,
        )));
    }
    Ok(selected)
}

fn wants_members(selected: &SelectedFields) -> bool {
    selected.relation("customers").is_some()
}

async fn members(
    state: &AppState,
    principal: &Principal,
    id: GroupId,
    selected: &SelectedFields,
) -> AdminResult<Option<Vec<Customer>>> {
    if !wants_members(selected) {
        return Ok(None);
    }
    Ok(Some(state.groups.customers_of(principal, id, MAX_MEMBERS_SHOWN).await?))
}

async fn group_body(
    state: &AppState,
    principal: &Principal,
    group: &CustomerGroup,
    selected: &SelectedFields,
) -> AdminResult<Map<String, Value>> {
    let members = members(state, principal, group.id(), selected).await?;
    Ok(object([("customer_group", group_value(group, members.as_deref(), selected)?)]))
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// List customer groups.
#[utoipa::path(get, path = "/admin/customer-groups", tag = "admin customer groups", security(("bearer" = [])),
    params(
        ("q" = Option<String>, Query, description = "Case-insensitive substring of the name"),
        ("id" = Option<Vec<String>>, Query, description = "Group ids"),
        ("name" = Option<Vec<String>>, Query, description = "Exact names"),
        ("order" = Option<String>, Query, description = "`field` or `-field`: id, name, created_at, updated_at"),
        ("limit" = Option<u32>, Query, description = "0 to 1000, default 50"),
        ("offset" = Option<u64>, Query, description = "Default 0"),
        ("fields" = Option<String>, Query, description = "Fields of each group, e.g. `*customers` or `customers.id` (needs the permission to read customers)"),
    ),
    responses(AdminFailures,
        (status = 200, body = AdminCustomerGroupListResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: a bad `order`, `limit`, `offset` or `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `view_customer_groups`, `manage_customer_groups`, `view_customers` or `manage_customers`"),
    ))]
pub async fn list_groups(
    principal: AdminPrincipal,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::ReadGroups)?;
    let query = parse_group_list(req.query_string())?;
    let selected = selection(&req, principal)?;
    let listed = if query.matches_nothing {
        Listed { items: Vec::new(), count: 0 }
    } else {
        state.groups.list(principal, &query.filter).await?
    };
    // The members of the whole page in one read; a group deleted by another request since the
    // page was read is listed as the page saw it, without members.
    let members = if wants_members(&selected) {
        let ids: Vec<GroupId> = listed.items.iter().map(CustomerGroup::id).collect();
        Some(state.groups.customers_of_groups(principal, &ids, MAX_MEMBERS_SHOWN).await?)
    } else {
        None
    };
    let mut groups = Vec::with_capacity(listed.items.len());
    for (i, group) in listed.items.iter().enumerate() {
        let members = members.as_ref().and_then(|all| all.get(i)).map(Vec::as_slice);
        groups.push(group_value(group, members, &selected)?);
    }
    Ok(ok(object([
        ("customer_groups", Value::Array(groups)),
        ("count", json!(listed.count)),
        ("offset", json!(query.filter.offset)),
        ("limit", json!(query.filter.limit)),
    ])))
}

/// Create a customer group.
#[utoipa::path(post, path = "/admin/customer-groups", tag = "admin customer groups", security(("bearer" = [])),
    params(("fields" = Option<String>, Query, description = "Fields of the returned group")),
    request_body = AdminCreateCustomerGroup,
    responses(AdminFailures,
        (status = 200, body = AdminCustomerGroupResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: a missing, unknown or mistyped field, a limit exceeded, bad `fields`; not_allowed: the project has reached its number of groups"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customer_groups` or `manage_customers`"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent write; safe to retry"),
        (status = 413, body = crate::error::admin::AdminErrorBody, description = "The body is larger than the configured limit"),
        (status = 422, body = crate::error::admin::AdminErrorBody, description = "duplicate_error: `Customer group with name: X already exists.`"),
    ))]
pub async fn create_group(
    principal: AdminPrincipal,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteGroups)?;
    let selected = selection(&req, principal)?;
    let draft = group_draft(support::read_body(&req, payload).await?)?;
    let group = state.groups.create(principal, draft).await?;
    // A new group has no members: nothing to load.
    let members: Option<Vec<Customer>> = wants_members(&selected).then(Vec::new);
    Ok(ok(object([("customer_group", group_value(&group, members.as_deref(), &selected)?)])))
}

/// Retrieve a customer group.
#[utoipa::path(get, path = "/admin/customer-groups/{id}", tag = "admin customer groups", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The group's id"),
        ("fields" = Option<String>, Query, description = "Fields of the returned group, e.g. `*customers`"),
    ),
    responses(AdminFailures,
        (status = 200, body = AdminCustomerGroupResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: bad `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `view_customer_groups`, `manage_customer_groups`, `view_customers` or `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer group with id: X was not found`"),
    ))]
pub async fn get_group(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::ReadGroups)?;
    let id = group_id(&path)?;
    let selected = selection(&req, principal)?;
    let group = state.groups.get(principal, &GroupTarget::Id(id)).await?;
    Ok(ok(group_body(&state, principal, &group, &selected).await?))
}

/// Update a customer group.
#[utoipa::path(post, path = "/admin/customer-groups/{id}", tag = "admin customer groups", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The group's id"),
        ("fields" = Option<String>, Query, description = "Fields of the returned group"),
    ),
    request_body = AdminUpdateCustomerGroup,
    responses(AdminFailures,
        (status = 200, body = AdminCustomerGroupResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: an unknown or mistyped field, a limit exceeded, bad `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customer_groups` or `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer group with id: X was not found`"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: concurrent writes kept winning; safe to retry"),
        (status = 413, body = crate::error::admin::AdminErrorBody, description = "The body is larger than the configured limit"),
        (status = 422, body = crate::error::admin::AdminErrorBody, description = "duplicate_error: `Customer group with name: X already exists.`"),
    ))]
pub async fn update_group(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteGroups)?;
    let id = group_id(&path)?;
    let selected = selection(&req, principal)?;
    let (name, metadata) = group_patch(support::read_body(&req, payload).await?)?;
    let group = state.groups.admin_update(principal, id, name, metadata).await?;
    Ok(ok(group_body(&state, principal, &group, &selected).await?))
}

/// Delete a customer group (its memberships go with it).
#[utoipa::path(delete, path = "/admin/customer-groups/{id}", tag = "admin customer groups", security(("bearer" = [])),
    params(("id" = String, Path, description = "The group's id")),
    responses(AdminFailures,
        (status = 200, body = AdminDeleteResponse, description = "The group is deleted", example = json!({"id": "0193a1b2-0000-7000-8000-000000000001", "object": "customer_group", "deleted": true})),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "not_allowed: the group is still referenced"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customer_groups` or `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer group with id: X was not found`"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent write; safe to retry"),
    ))]
pub async fn delete_group(
    principal: AdminPrincipal,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteGroups)?;
    let id = group_id(&path)?;
    let deleted = state.groups.delete(principal, &GroupTarget::Id(id), None).await?;
    Ok(HttpResponse::Ok().json(AdminDeleteResponse {
        id: deleted.id().0,
        object: "customer_group".into(),
        deleted: true,
    }))
}

/// Add customers to and remove them from a group.
///
/// All or nothing: an unknown customer id is 404 naming it and changes nothing. Adding a member,
/// or removing a non-member, is a no-op; the same id in both lists is 400.
#[utoipa::path(post, path = "/admin/customer-groups/{id}/customers", tag = "admin customer groups", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The group's id"),
        ("fields" = Option<String>, Query, description = "Fields of the returned group, e.g. `customers.id`"),
    ),
    request_body = AdminManageGroupCustomers,
    responses(AdminFailures,
        (status = 200, body = AdminCustomerGroupResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody, description = "invalid_data: an unknown or mistyped field, more than 1000 ids, an id in both lists, bad `fields`"),
        (status = 403, body = crate::error::admin::AdminErrorBody, description = "forbidden: needs `manage_customer_groups` or `manage_customers`"),
        (status = 404, body = crate::error::admin::AdminErrorBody, description = "not_found: `Customer group with id: X was not found` or `Customer with id: X was not found`"),
        (status = 409, body = crate::error::admin::AdminErrorBody, description = "conflict: a concurrent write; safe to retry"),
        (status = 413, body = crate::error::admin::AdminErrorBody, description = "The body is larger than the configured limit"),
    ))]
pub async fn manage_customers(
    principal: AdminPrincipal,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AdminResult<HttpResponse> {
    let principal = principal.require(Permission::WriteGroups)?;
    let id = group_id(&path)?;
    let selected = selection(&req, principal)?;
    let (add, remove) = customer_changes(support::read_body(&req, payload).await?)?;
    let group = state.groups.set_customers(principal, id, add, remove).await?;
    Ok(ok(group_body(&state, principal, &group, &selected).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::parse_fields_for;
    use crate::routes::admin_customers::support::tests::map;
    use crate::routes::admin_customers::tests::harness::{self, call, customer, group, message, Harness};
    use chrono::{TimeZone, Utc};
    use xclade_domain::auth::Actor;

    #[test]
    fn group_json_key_order_and_customers_only_when_asked() {
        let mut g = group("Gold").into_parts();
        g.created_by = Some(Actor::Client("shop-client".into()));
        g.last_modified_at = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).single().expect("time");
        let g = CustomerGroup::from_parts(g);
        let defaults = SelectedFields::defaults_for(&CUSTOMER_GROUP_SPEC);
        let v = group_value(&g, None, &defaults).expect("json");
        let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "name", "metadata", "created_by", "created_at", "updated_at", "deleted_at"]);
        assert_eq!(v["created_by"], json!("shop-client"));
        assert_eq!(v["created_at"], json!("2019-08-24T14:15:22.000Z"));
        assert_eq!(v["updated_at"], json!("2024-05-06T07:08:09.000Z"));
        assert_eq!(v["deleted_at"], Value::Null);

        let star = parse_fields_for(&CUSTOMER_GROUP_SPEC, Some("*customers")).expect("valid");
        assert!(wants_members(&star));
        let member = harness::customer("a@b.co");
        let v = group_value(&g, Some(std::slice::from_ref(&member)), &star).expect("json");
        let members = v["customers"].as_array().expect("members");
        assert_eq!(members[0]["email"], json!("a@b.co"));
        assert!(members[0].get("groups").is_none() && members[0].get("addresses").is_none());

        let only_ids = parse_fields_for(&CUSTOMER_GROUP_SPEC, Some("name,customers.id")).expect("valid");
        let v = group_value(&g, Some(std::slice::from_ref(&member)), &only_ids).expect("json");
        assert_eq!(v, json!({"id": g.id().0, "name": "Gold", "customers": [{"id": member.id().0}]}));
    }

    #[test]
    fn list_query() {
        let q = parse_group_list("q=go&name[]=Gold&name[]=Silver&order=-updated_at&limit=10&offset=5").expect("valid");
        assert_eq!(q.filter.q.as_deref(), Some("go"));
        assert_eq!(q.filter.names, ["Gold", "Silver"]);
        assert_eq!((q.filter.order, q.filter.descending), (SortField::LastModifiedAt, true));
        assert_eq!((q.filter.limit, q.filter.offset), (10, 5));
        assert!(parse_group_list("id=gold").expect("valid").matches_nothing);
        assert_eq!(
            parse_group_list("order=version").expect_err("bad").to_string(),
            "Invalid request: Invalid order field 'version'"
        );
        assert!(parse_group_list("limit=1001").is_err());
    }

    #[test]
    fn bodies() {
        let d = group_draft(map(json!({"name": "Gold", "metadata": {"tier": 1}}))).expect("valid");
        assert_eq!(d.name.as_str(), "Gold");
        assert_eq!(
            message(&group_draft(map(json!({}))).expect_err("missing")),
            "Invalid request: Field 'name' is required"
        );
        assert_eq!(
            message(&group_draft(map(json!({"name": ""}))).expect_err("empty")),
            "Invalid request: Field 'name' must not be empty"
        );
        assert_eq!(
            message(&group_draft(map(json!({"name": "a", "key": "k"}))).expect_err("unknown")),
            "Invalid request: Unrecognized fields: 'key'"
        );
        let (name, metadata) = group_patch(map(json!({"metadata": {"a": ""}}))).expect("valid");
        assert!(name.is_none() && metadata.is_some());
        assert_eq!(
            message(&group_patch(map(json!({"name": null}))).expect_err("null")),
            "Invalid request: Expected type: 'string' for field 'name', got: 'null'"
        );
    }

    #[actix_web::test]
    async fn members_need_the_customer_read_permission() {
        let mut h = Harness::new();
        h.groups.expect_get().returning(|_, _| Ok(group("Gold")));
        let app = h.app().await;
        let id = Uuid::now_v7();
        let (status, body) =
            call(&app, "GET", &format!("/admin/customer-groups/{id}?fields=*customers"), "view_customer_groups", None)
                .await;
        assert_eq!(status, 403, "{body}");
        let (status, body) =
            call(&app, "GET", &format!("/admin/customer-groups/{id}"), "view_customer_groups", None).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["customer_group"].get("customers").is_none());
    }

    #[actix_web::test]
    async fn a_page_reads_the_members_of_all_its_groups_at_once() {
        let mut h = Harness::new();
        h.groups.expect_list().returning(|_, _| Ok(Listed { items: vec![group("Gold"), group("Silver")], count: 2 }));
        h.groups.expect_customers_of().never();
        // The second group was deleted since the page was read: the adapter gives it no members.
        h.groups.expect_customers_of_groups().times(1).returning(|_, ids, limit| {
            assert_eq!((ids.len(), limit), (2, MAX_MEMBERS_SHOWN));
            Ok(vec![vec![customer("a@example.com")], Vec::new()])
        });
        let app = h.app().await;
        let (status, body) =
            call(&app, "GET", "/admin/customer-groups?fields=name,*customers", "manage_customers", None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["customer_groups"][0]["customers"][0]["email"], json!("a@example.com"), "{body}");
        assert_eq!(body["customer_groups"][1]["customers"], json!([]), "{body}");
        assert_eq!(body["count"], json!(2));
    }

    #[actix_web::test]
    async fn create_answers_the_group_and_an_empty_member_list_without_loading_it() {
        let mut h = Harness::new();
        h.groups.expect_create().times(1).returning(|_, g, max, checked| {
            assert_eq!((max, checked), (1000, None));
            Ok(g.clone())
        });
        h.groups.expect_customers_of().never();
        let app = h.app().await;
        let (status, body) = call(
            &app,
            "POST",
            "/admin/customer-groups?fields=name,*customers",
            "manage_customers",
            Some(json!({"name": "Gold", "metadata": {"t": 1}})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let g = body["customer_group"].as_object().expect("group");
        assert_eq!(g.keys().map(String::as_str).collect::<Vec<_>>(), ["id", "name", "customers"]);
        assert_eq!((g["name"].clone(), g["customers"].clone()), (json!("Gold"), json!([])));
        let (status, _) =
            call(&app, "POST", "/admin/customer-groups", "view_customer_groups", Some(json!({"name": "Gold"}))).await;
        assert_eq!(status, 403);
    }

    #[actix_web::test]
    async fn non_uuid_customer_in_add_is_404_before_any_write() {
        let mut h = Harness::new();
        h.groups.expect_set_customers().never();
        let app = h.app().await;
        let id = Uuid::now_v7();
        let (status, body) = call(
            &app,
            "POST",
            &format!("/admin/customer-groups/{id}/customers"),
            "manage_customer_groups",
            Some(json!({"add": ["nope"]})),
        )
        .await;
        assert_eq!(status, 404);
        assert_eq!(body, json!({"type": "not_found", "message": "Customer with id: nope was not found"}));
        let (status, body) = call(&app, "DELETE", "/admin/customer-groups/gold", "manage_customer_groups", None).await;
        assert_eq!(status, 404);
        assert_eq!(body["message"], json!("Customer group with id: gold was not found"));
    }
}
