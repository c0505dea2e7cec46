//! The project family's customer-group routes (`/{projectKey}/customer-groups…`, §3).
//!
//! Every handler authenticates first (`ProjectPrincipal`: 401 `invalid_token`), then checks the
//! scope (403 `insufficient_scope`), and only then reads the query string or the body — so GET,
//! HEAD and DELETE never look at a body or its `Content-Type`. Query strings and bodies are read
//! by `parse`, never by the framework's extractors, so every error has the family's envelope.

pub(crate) mod dto;
pub(crate) mod parse;
#[cfg(test)]
mod tests;
pub(crate) mod wire;

pub use dto::{GroupView, PageView};

use crate::auth::ProjectPrincipal;
use crate::body::ProjectJson;
use crate::error::project::ProjectResult;
use crate::error::ProjectError;
use crate::query::QueryPairs;
use crate::state::AppState;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use xclade_domain::auth::Permission;
use xclade_domain::customer_group::GroupKey;
use xclade_domain::services::GroupTarget;
use xclade_domain::{DomainError, GroupId, Resource};

const GROUPS: &str = "/{project_key}/customer-groups";
const BY_KEY: &str = "/{project_key}/customer-groups/key={key}";
const BY_ID: &str = "/{project_key}/customer-groups/{id}";

/// Registers the routes; `key={key}` comes before `{id}` so it is never taken for an id.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(GROUPS)
            .route(web::post().to(create_group))
            .route(web::get().to(query_groups))
            .route(web::head().to(head_groups)),
    )
    .service(
        web::resource(BY_KEY)
            .route(web::get().to(get_group_by_key))
            .route(web::head().to(head_group_by_key))
            .route(web::post().to(update_group_by_key))
            .route(web::delete().to(delete_group_by_key)),
    )
    .service(
        web::resource(BY_ID)
            .route(web::get().to(get_group_by_id))
            .route(web::head().to(head_group_by_id))
            .route(web::post().to(update_group_by_id))
            .route(web::delete().to(delete_group_by_id)),
    );
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create_group,
        query_groups,
        head_groups,
        get_group_by_id,
        head_group_by_id,
        update_group_by_id,
        delete_group_by_id,
    ),
    components(schemas(
        dto::GroupView,
        dto::PageView,
        dto::CustomFieldsView,
        dto::TypeReference,
        dto::ActorDoc,
        dto::GroupDraftDto,
        dto::CustomFieldsDraftDto,
        dto::TypeResourceIdentifierDto,
        dto::GroupUpdateDto,
        dto::GroupActionDto,
        dto::ChangeNameDto,
        dto::SetKeyDto,
        dto::SetCustomTypeDto,
        dto::SetCustomFieldDto,
        dto::ErrorResponseDoc,
        dto::ErrorObjectDoc,
    ))
)]
struct ProjectGroupsDoc;

/// The OpenAPI part of these routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <ProjectGroupsDoc as utoipa::OpenApi>::openapi()
}

/// The query parameters of `GET /{projectKey}/customer-groups` (documentation only).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct QueryParamsDoc {
    /// Query predicate (§3.4) over `id`, `key`, `name`, `version`, `createdAt`, `lastModifiedAt`
    /// and `custom(fields(<name>))`; repeatable, AND-ed. `:name` variables are bound from
    /// `var.<name>` parameters (repeat one for `in :name`).
    #[param(rename = "where", example = "name = \"Gold\"")]
    predicate: Option<Vec<String>>,
    /// `<field> asc|desc` over `id`, `key`, `name`, `version`, `createdAt`, `lastModifiedAt`;
    /// repeatable; ties are broken by `id`.
    #[param(example = "name asc")]
    sort: Option<Vec<String>>,
    /// Page size, 0–500 (default 20).
    #[param(minimum = 0, maximum = 500)]
    limit: Option<u32>,
    /// Matches to skip, 0–10000 (default 0).
    #[param(minimum = 0, maximum = 10000)]
    offset: Option<u32>,
    /// Whether to count all matches (`total`); `true`/`True`/`false`/`False`, default true.
    #[param(rename = "withTotal")]
    with_total: Option<bool>,
    /// Accepted and ignored.
    expand: Option<Vec<String>>,
}

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

/// A path segment, fully percent-decoded (the router leaves `%25`, `%2F` and `%2B` encoded).
pub(crate) fn segment(req: &HttpRequest, name: &str) -> String {
    let raw = req.match_info().get(name).unwrap_or_default();
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// The group addressed by `{id}`; an id that is not a UUID cannot exist (404).
fn by_id(req: &HttpRequest) -> ProjectResult<GroupTarget> {
    let raw = segment(req, "id");
    GroupId::parse(&raw).map(GroupTarget::Id).ok_or_else(|| DomainError::not_found(Resource::CustomerGroup, raw).into())
}

/// The group addressed by `key={key}`; a key no group can have (it breaks the key rules, e.g.
/// holds U+0000, which PostgreSQL text cannot) cannot exist either (404).
fn by_key(req: &HttpRequest) -> ProjectResult<GroupTarget> {
    let raw = segment(req, "key");
    match GroupKey::parse(&raw) {
        Ok(key) => Ok(GroupTarget::Key(key)),
        Err(_) => Err(DomainError::not_found_key(Resource::CustomerGroup, raw).into()),
    }
}

type Target = fn(&HttpRequest) -> ProjectResult<GroupTarget>;

/// The body, read only after authentication and authorization passed.
pub(crate) async fn json_body(req: &HttpRequest, payload: web::Payload) -> ProjectResult<serde_json::Value> {
    let mut payload = payload.into_inner();
    Ok(ProjectJson::from_request(req, &mut payload).await?.0)
}

fn group_response(group: &xclade_domain::customer_group::CustomerGroup) -> HttpResponse {
    HttpResponse::Ok().json(GroupView::from(group))
}

/// A HEAD answer: the status of `result`, never a body (errors included).
pub(crate) fn head_response(result: ProjectResult<HttpResponse>) -> HttpResponse {
    match result {
        Ok(resp) => resp,
        Err(err) => err.error_response().set_body(()).map_into_boxed_body(),
    }
}

async fn get(
    principal: ProjectPrincipal,
    state: web::Data<AppState>,
    req: HttpRequest,
    target: Target,
) -> ProjectResult<HttpResponse> {
    let principal = principal.require(Permission::ReadGroups)?;
    let group = state.groups.get(principal, &target(&req)?).await?;
    Ok(group_response(&group))
}

async fn head(
    principal: ProjectResult<ProjectPrincipal>,
    state: web::Data<AppState>,
    req: HttpRequest,
    target: Target,
) -> HttpResponse {
    let result = async {
        let principal = principal?;
        let principal = principal.require(Permission::ReadGroups)?;
        state.groups.get(principal, &target(&req)?).await?;
        Ok(HttpResponse::Ok().finish())
    };
    head_response(result.await)
}

async fn update(
    principal: ProjectPrincipal,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
    target: Target,
) -> ProjectResult<HttpResponse> {
    let principal = principal.require(Permission::WriteGroups)?;
    let body = json_body(&req, payload).await?;
    let (version, actions) = parse::group_update(&body)?;
    let group = state.groups.update(principal, &target(&req)?, version, actions).await?;
    Ok(group_response(&group))
}

async fn delete(
    principal: ProjectPrincipal,
    state: web::Data<AppState>,
    req: HttpRequest,
    target: Target,
) -> ProjectResult<HttpResponse> {
    let principal = principal.require(Permission::WriteGroups)?;
    let version = parse::delete_version(&QueryPairs::parse(req.query_string()))?;
    let group = state.groups.delete(principal, &target(&req)?, Some(version)).await?;
    Ok(group_response(&group))
}

// ------------------------------------------------------------------------------------------
// Handlers
// ------------------------------------------------------------------------------------------

/// Creates a customer group.
#[utoipa::path(post, path = "/{projectKey}/customer-groups", tag = "customer groups", operation_id = "createCustomerGroup",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key")),
    request_body(content = dto::GroupDraftDto, content_type = "application/json"),
    responses(
        (status = 201, description = "The new group", body = dto::GroupView),
        (status = 400, description = "InvalidJsonInput, InvalidInput, DuplicateField (`name`, `key`), MaxResourceLimitExceeded, ReferencedResourceNotFound (custom type), InvalidField, RequiredField", body = dto::ErrorResponseDoc),
        (status = 401, description = "invalid_token: missing, malformed or expired token", body = dto::ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs manage_customer_groups or manage_customers", body = dto::ErrorResponseDoc),
        (status = 413, description = "The body is larger than the limit", body = dto::ErrorResponseDoc),
        (status = 500, description = "General", body = dto::ErrorResponseDoc),
        (status = 503, description = "General: the database is unavailable", body = dto::ErrorResponseDoc)))]
pub async fn create_group(
    principal: ProjectPrincipal,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ProjectResult<HttpResponse> {
    let principal = principal.require(Permission::WriteGroups)?;
    let body = json_body(&req, payload).await?;
    let draft = parse::group_draft(&body)?;
    let group = state.groups.create(principal, draft).await?;
    Ok(HttpResponse::Created().json(GroupView::from(&group)))
}

/// Queries customer groups.
#[utoipa::path(get, path = "/{projectKey}/customer-groups", tag = "customer groups", operation_id = "queryCustomerGroups",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), QueryParamsDoc),
    responses(
        (status = 200, description = "A page of groups", body = dto::PageView),
        (status = 400, description = "InvalidInput: `Malformed parameter: where|sort|limit|offset|withTotal: …`", body = dto::ErrorResponseDoc),
        (status = 401, description = "invalid_token", body = dto::ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs view_customer_groups, manage_customer_groups, view_customers or manage_customers", body = dto::ErrorResponseDoc),
        (status = 500, description = "General", body = dto::ErrorResponseDoc),
        (status = 503, description = "General: the database is unavailable", body = dto::ErrorResponseDoc)))]
pub async fn query_groups(
    principal: ProjectPrincipal,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ProjectResult<HttpResponse> {
    let principal = principal.require(Permission::ReadGroups)?;
    let query = parse::group_query(&QueryPairs::parse(req.query_string()))?;
    let page = state.groups.query(principal, &query).await?;
    Ok(HttpResponse::Ok().json(PageView::new(query.limit, query.offset, &page)))
}

/// Whether any customer group matches the `where` predicates (any group at all without one).
#[utoipa::path(head, path = "/{projectKey}/customer-groups", tag = "customer groups", operation_id = "headCustomerGroups",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), QueryParamsDoc),
    responses(
        (status = 200, description = "At least one group matches (no body)"),
        (status = 400, description = "InvalidInput: a malformed parameter (no body)"),
        (status = 401, description = "invalid_token (no body)"),
        (status = 403, description = "insufficient_scope (no body)"),
        (status = 404, description = "No group matches (no body)"),
        (status = 500, description = "General (no body)"),
        (status = 503, description = "General: the database is unavailable (no body)")))]
pub async fn head_groups(
    principal: ProjectResult<ProjectPrincipal>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let result = async {
        let principal = principal?;
        let principal = principal.require(Permission::ReadGroups)?;
        let mut query = parse::group_query(&QueryPairs::parse(req.query_string()))?;
        query.limit = 1;
        query.offset = 0;
        query.with_total = false;
        query.sort.clear();
        let page = state.groups.query(principal, &query).await?;
        if page.results.is_empty() {
            return Err(ProjectError::NotFound("No customer group matches the query.".into()));
        }
        Ok(HttpResponse::Ok().finish())
    };
    head_response(result.await)
}

target_handlers! {
    /// Gets a customer group by id.
    #[utoipa::path(get, path = "/{projectKey}/customer-groups/{id}", tag = "customer groups", operation_id = "getCustomerGroupById",
        security(("bearer" = [])),
        params(("projectKey" = String, Path, description = "The project's key"), ("id" = String, Path, description = "The group's id")),
        responses(
            (status = 200, description = "The group", body = dto::GroupView),
            (status = 401, description = "invalid_token", body = dto::ErrorResponseDoc),
            (status = 403, description = "insufficient_scope", body = dto::ErrorResponseDoc),
            (status = 404, description = "ResourceNotFound: `The Resource with ID '…' was not found.`", body = dto::ErrorResponseDoc),
            (status = 500, description = "General", body = dto::ErrorResponseDoc),
            (status = 503, description = "General: the database is unavailable", body = dto::ErrorResponseDoc)))]
    get_group_by_id => get(by_id);

    /// Whether a customer group with this id exists.
    #[utoipa::path(head, path = "/{projectKey}/customer-groups/{id}", tag = "customer groups", operation_id = "headCustomerGroupById",
        security(("bearer" = [])),
        params(("projectKey" = String, Path, description = "The project's key"), ("id" = String, Path, description = "The group's id")),
        responses(
            (status = 200, description = "The group exists (no body)"),
            (status = 401, description = "invalid_token (no body)"),
            (status = 403, description = "insufficient_scope (no body)"),
            (status = 404, description = "ResourceNotFound (no body)"),
            (status = 500, description = "General (no body)"),
            (status = 503, description = "General: the database is unavailable (no body)")))]
    head_group_by_id => head head(by_id);

    /// Gets a customer group by key.
    // Documented by the `{id}` twin (`openapi::key_twins`).
    get_group_by_key => get(by_key);

    /// Whether a customer group with this key exists.
    // Documented by the `{id}` twin (`openapi::key_twins`).
    head_group_by_key => head head(by_key);

    /// Updates a customer group by id: the actions are applied atomically, in order.
    #[utoipa::path(post, path = "/{projectKey}/customer-groups/{id}", tag = "customer groups", operation_id = "updateCustomerGroupById",
        security(("bearer" = [])),
        params(("projectKey" = String, Path, description = "The project's key"), ("id" = String, Path, description = "The group's id")),
        request_body(content = dto::GroupUpdateDto, content_type = "application/json"),
        responses(
            (status = 200, description = "The updated group (unchanged, same version, when no action changed anything)", body = dto::GroupView),
            (status = 400, description = "InvalidJsonInput, InvalidInput (`Invalid action …`, more than 500 actions), InvalidOperation, DuplicateField, ReferencedResourceNotFound, InvalidField, RequiredField", body = dto::ErrorResponseDoc),
            (status = 401, description = "invalid_token", body = dto::ErrorResponseDoc),
            (status = 403, description = "insufficient_scope: needs manage_customer_groups or manage_customers", body = dto::ErrorResponseDoc),
            (status = 404, description = "ResourceNotFound", body = dto::ErrorResponseDoc),
            (status = 409, description = "ConcurrentModification: `version` is not the current one (`currentVersion`)", body = dto::ErrorResponseDoc),
            (status = 413, description = "The body is larger than the limit", body = dto::ErrorResponseDoc),
            (status = 500, description = "General", body = dto::ErrorResponseDoc),
            (status = 503, description = "General: the database is unavailable", body = dto::ErrorResponseDoc)))]
    update_group_by_id => update(payload, by_id);

    /// Updates a customer group by key: the actions are applied atomically, in order.
    // Documented by the `{id}` twin (`openapi::key_twins`).
    update_group_by_key => update(payload, by_key);

    /// Deletes a customer group by id; its members leave it.
    #[utoipa::path(delete, path = "/{projectKey}/customer-groups/{id}", tag = "customer groups", operation_id = "deleteCustomerGroupById",
        security(("bearer" = [])),
        params(
            ("projectKey" = String, Path, description = "The project's key"),
            ("id" = String, Path, description = "The group's id"),
            ("version" = i64, Query, description = "The group's current version")),
        responses(
            (status = 200, description = "The deleted group", body = dto::GroupView),
            (status = 400, description = "InvalidOperation `Missing version number`; InvalidInput `Malformed parameter: version: …`", body = dto::ErrorResponseDoc),
            (status = 401, description = "invalid_token", body = dto::ErrorResponseDoc),
            (status = 403, description = "insufficient_scope: needs manage_customer_groups or manage_customers", body = dto::ErrorResponseDoc),
            (status = 404, description = "ResourceNotFound", body = dto::ErrorResponseDoc),
            (status = 409, description = "ConcurrentModification: `version` is not the current one", body = dto::ErrorResponseDoc),
            (status = 500, description = "General", body = dto::ErrorResponseDoc),
            (status = 503, description = "General: the database is unavailable", body = dto::ErrorResponseDoc)))]
    delete_group_by_id => delete(by_id);

    /// Deletes a customer group by key; its members leave it.
    // Documented by the `{id}` twin (`openapi::key_twins`).
    delete_group_by_key => delete(by_key);
}
