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

pub use dto::{GroupJson, GroupView, PageJson, PageView};

use crate::auth::ProjectPrincipal;
use crate::body::ProjectJson;
use crate::error::project::ProjectResult;
use crate::error::ProjectError;
use crate::query::QueryPairs;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use dto::{HeadErrors, InvalidToken, NotFound, ServerErrors, TooLarge};
use futures::future::{ready, Ready};
use needs::{Needs, ReadGroups, WriteGroups};
use std::marker::PhantomData;
use xclade_domain::auth::Principal;
use xclade_domain::customer_group::GroupKey;
use xclade_domain::services::GroupTarget;
use xclade_domain::{DomainError, GroupId, Resource};

const GROUPS: &str = "/customer-groups";
const BY_KEY: &str = "/customer-groups/key={key}";
const BY_ID: &str = "/customer-groups/{id}";

/// Registers the routes, relative to the `/{project_key}` scope of [`crate::routes::project`];
/// `key={key}` comes before `{id}` so it is never taken for an id. Both address one group with
/// the same handlers ([`Address`] tells them apart).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(GROUPS)
            .route(web::post().to(create_group))
            .route(web::get().to(query_groups))
            .route(web::head().to(head_groups)),
    );
    addressed(cfg, [BY_KEY, BY_ID], |one| {
        one.route(web::get().to(get_group))
            .route(web::head().to(head_group))
            .route(web::post().to(update_group))
            .route(web::delete().to(delete_group))
    });
}

/// Registers the routes of one resource (`routes` adds them) at both of its addresses, in
/// order: `key={key}` first, so that it is never taken for an `{id}`.
pub(crate) fn addressed(
    cfg: &mut web::ServiceConfig,
    paths: [&str; 2],
    routes: fn(actix_web::Resource) -> actix_web::Resource,
) {
    for path in paths {
        cfg.service(routes(web::resource(path)));
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create_group, query_groups, head_groups, get_group, head_group, update_group, delete_group,),
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
fn segment(req: &HttpRequest, name: &str) -> String {
    let raw = req.match_info().get(name).unwrap_or_default();
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// How the path addresses one resource of the family: `key={key}` or `{id}`, decoded.
pub(crate) enum Address {
    Id(String),
    Key(String),
}

impl Address {
    pub(crate) fn of(req: &HttpRequest) -> Address {
        match req.match_info().get("key") {
            Some(_) => Address::Key(segment(req, "key")),
            None => Address::Id(segment(req, "id")),
        }
    }
}

/// The group addressed by `{id}` or `key={key}`; an id that is not a UUID cannot exist (404),
/// nor can a key no group can have (it breaks the key rules, e.g. holds U+0000, which
/// PostgreSQL text cannot).
fn target(req: &HttpRequest) -> ProjectResult<GroupTarget> {
    match Address::of(req) {
        Address::Id(raw) => GroupId::parse(&raw)
            .map(GroupTarget::Id)
            .ok_or_else(|| DomainError::not_found(Resource::CustomerGroup, raw).into()),
        Address::Key(raw) => GroupKey::parse(&raw)
            .map(GroupTarget::Key)
            .map_err(|_| DomainError::not_found_key(Resource::CustomerGroup, raw).into()),
    }
}

/// The permissions the family's handlers need, as types: the parameter of [`Call`].
pub mod needs {
    use xclade_domain::auth::Permission;

    /// A permission a handler needs.
    pub trait Needs {
        const PERMISSION: Permission;
    }

    macro_rules! needs {
        ($($permission:ident),*) => {$(
            #[doc = concat!("`Permission::", stringify!($permission), "`.")]
            pub struct $permission;

            impl Needs for $permission {
                const PERMISSION: Permission = Permission::$permission;
            }
        )*};
    }

    needs!(ReadGroups, WriteGroups, ReadTypes, WriteTypes);
}

/// What every handler of the family starts from: a caller (401 `invalid_token` without a valid
/// token) who holds the permission `N` for the path's project (403 otherwise), the state and
/// the request. Only then does a handler read the query string or the body.
pub struct Call<N> {
    principal: ProjectPrincipal,
    pub(crate) state: web::Data<AppState>,
    pub(crate) req: HttpRequest,
    needs: PhantomData<N>,
}

impl<N> Call<N> {
    /// The caller.
    pub(crate) fn principal(&self) -> &Principal {
        &self.principal.principal
    }

    /// The query string's parameters.
    pub(crate) fn query(&self) -> QueryPairs {
        QueryPairs::parse(self.req.query_string())
    }

    /// The JSON body, read by `parse`.
    pub(crate) async fn body<T>(
        &self,
        payload: web::Payload,
        parse: fn(&serde_json::Value) -> ProjectResult<T>,
    ) -> ProjectResult<T> {
        let mut payload = payload.into_inner();
        parse(&ProjectJson::from_request(&self.req, &mut payload).await?.0)
    }
}

impl<N: Needs> FromRequest for Call<N> {
    type Error = ProjectError;
    type Future = Ready<ProjectResult<Call<N>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let call = ProjectPrincipal::from_request(req, payload).into_inner().and_then(|principal| {
            principal.require(N::PERMISSION)?;
            // The state is there whenever a caller is: authentication reads it too.
            let state = req.app_data::<web::Data<AppState>>().cloned().ok_or(ProjectError::InvalidToken)?;
            Ok(Call { principal, state, req: req.clone(), needs: PhantomData })
        });
        ready(call)
    }
}

fn group_response(group: &xclade_domain::customer_group::CustomerGroup) -> HttpResponse {
    crate::respond::json(HttpResponse::Ok(), &GroupJson(group), crate::respond::ONE_RESOURCE)
}

/// A HEAD answer: the status of `result`, never a body (errors included).
pub(crate) fn head_response(result: ProjectResult<HttpResponse>) -> HttpResponse {
    match result {
        Ok(resp) => resp,
        Err(err) => err.error_response().set_body(()).map_into_boxed_body(),
    }
}

// ------------------------------------------------------------------------------------------
// Handlers
// ------------------------------------------------------------------------------------------

/// Creates a customer group.
#[utoipa::path(post, path = "/{projectKey}/customer-groups", tag = "customer groups", operation_id = "createCustomerGroup",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key")),
    request_body(content = dto::GroupDraftDto, content_type = "application/json"),
    responses(ServerErrors, TooLarge,
        (status = 201, description = "The new group", body = dto::GroupView),
        (status = 400, description = "InvalidJsonInput, InvalidInput, DuplicateField (`name`, `key`), MaxResourceLimitExceeded, ReferencedResourceNotFound (custom type), InvalidField, RequiredField", body = dto::ErrorResponseDoc),
        (status = 401, description = "invalid_token: missing, malformed or expired token", body = dto::ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs manage_customer_groups or manage_customers", body = dto::ErrorResponseDoc)))]
pub async fn create_group(call: Call<WriteGroups>, payload: web::Payload) -> ProjectResult<HttpResponse> {
    let draft = call.body(payload, parse::group_draft).await?;
    let group = call.state.groups.create(call.principal(), draft).await?;
    Ok(crate::respond::json(HttpResponse::Created(), &GroupJson(&group), crate::respond::ONE_RESOURCE))
}

/// Queries customer groups.
#[utoipa::path(get, path = "/{projectKey}/customer-groups", tag = "customer groups", operation_id = "queryCustomerGroups",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), QueryParamsDoc),
    responses(InvalidToken, ServerErrors,
        (status = 200, description = "A page of groups", body = dto::PageView),
        (status = 400, description = "InvalidInput: `Malformed parameter: where|sort|limit|offset|withTotal: …`", body = dto::ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs view_customer_groups, manage_customer_groups, view_customers or manage_customers", body = dto::ErrorResponseDoc)))]
pub async fn query_groups(call: Call<ReadGroups>) -> ProjectResult<HttpResponse> {
    let query = parse::group_query(&call.query())?;
    let page = call.state.groups.query(call.principal(), &query).await?;
    let capacity = crate::respond::ONE_RESOURCE * page.results.len().max(1);
    Ok(crate::respond::json(HttpResponse::Ok(), &PageJson::new(query.limit, query.offset, &page), capacity))
}

/// Whether any customer group matches the `where` predicates (any group at all without one).
#[utoipa::path(head, path = "/{projectKey}/customer-groups", tag = "customer groups", operation_id = "headCustomerGroups",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), QueryParamsDoc),
    responses(HeadErrors,
        (status = 200, description = "At least one group matches (no body)"),
        (status = 400, description = "InvalidInput: a malformed parameter (no body)"),
        (status = 404, description = "No group matches (no body)")))]
pub async fn head_groups(call: ProjectResult<Call<ReadGroups>>) -> HttpResponse {
    let result = async {
        let call = call?;
        let mut query = parse::group_query(&call.query())?;
        query.limit = 1;
        query.offset = 0;
        query.with_total = false;
        query.sort.clear();
        let page = call.state.groups.query(call.principal(), &query).await?;
        if page.results.is_empty() {
            return Err(ProjectError::NotFound("No customer group matches the query.".into()));
        }
        Ok(HttpResponse::Ok().finish())
    };
    head_response(result.await)
}

// The handlers below serve both `{id}` and `key={key}`: one annotation documents the `{id}`
// path and `openapi::key_twins` derives the `key={key}` one.

/// Gets a customer group by id.
#[utoipa::path(get, path = "/{projectKey}/customer-groups/{id}", tag = "customer groups", operation_id = "getCustomerGroupById",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), ("id" = String, Path, description = "The group's id")),
    responses(InvalidToken, ServerErrors,
        (status = 200, description = "The group", body = dto::GroupView),
        (status = 403, description = "insufficient_scope", body = dto::ErrorResponseDoc),
        (status = 404, description = "ResourceNotFound: `The Resource with ID '…' was not found.`", body = dto::ErrorResponseDoc)))]
pub async fn get_group(call: Call<ReadGroups>) -> ProjectResult<HttpResponse> {
    let group = call.state.groups.get(call.principal(), &target(&call.req)?).await?;
    Ok(group_response(&group))
}

/// Whether a customer group with this id exists.
#[utoipa::path(head, path = "/{projectKey}/customer-groups/{id}", tag = "customer groups", operation_id = "headCustomerGroupById",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), ("id" = String, Path, description = "The group's id")),
    responses(HeadErrors,
        (status = 200, description = "The group exists (no body)"),
        (status = 404, description = "ResourceNotFound (no body)")))]
pub async fn head_group(call: ProjectResult<Call<ReadGroups>>) -> HttpResponse {
    let result = async {
        let call = call?;
        call.state.groups.get(call.principal(), &target(&call.req)?).await?;
        Ok(HttpResponse::Ok().finish())
    };
    head_response(result.await)
}

/// Updates a customer group by id: the actions are applied atomically, in order.
#[utoipa::path(post, path = "/{projectKey}/customer-groups/{id}", tag = "customer groups", operation_id = "updateCustomerGroupById",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), ("id" = String, Path, description = "The group's id")),
    request_body(content = dto::GroupUpdateDto, content_type = "application/json"),
    responses(InvalidToken, NotFound, ServerErrors, TooLarge,
        (status = 200, description = "The updated group (unchanged, same version, when no action changed anything)", body = dto::GroupView),
        (status = 400, description = "InvalidJsonInput, InvalidInput (`Invalid action …`, more than 500 actions), InvalidOperation, DuplicateField, ReferencedResourceNotFound, InvalidField, RequiredField", body = dto::ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs manage_customer_groups or manage_customers", body = dto::ErrorResponseDoc),
        (status = 409, description = "ConcurrentModification: `version` is not the current one (`currentVersion`)", body = dto::ErrorResponseDoc)))]
pub async fn update_group(call: Call<WriteGroups>, payload: web::Payload) -> ProjectResult<HttpResponse> {
    let (version, actions) = call.body(payload, parse::group_update).await?;
    let group = call.state.groups.update(call.principal(), &target(&call.req)?, version, actions).await?;
    Ok(group_response(&group))
}

/// Deletes a customer group by id; its members leave it.
#[utoipa::path(delete, path = "/{projectKey}/customer-groups/{id}", tag = "customer groups", operation_id = "deleteCustomerGroupById",
    security(("bearer" = [])),
    params(
        ("projectKey" = String, Path, description = "The project's key"),
        ("id" = String, Path, description = "The group's id"),
        ("version" = i64, Query, description = "The group's current version")),
    responses(InvalidToken, NotFound, ServerErrors,
        (status = 200, description = "The deleted group", body = dto::GroupView),
        (status = 400, description = "InvalidOperation `Missing version number`; InvalidInput `Malformed parameter: version: …`", body = dto::ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs manage_customer_groups or manage_customers", body = dto::ErrorResponseDoc),
        (status = 409, description = "ConcurrentModification: `version` is not the current one", body = dto::ErrorResponseDoc)))]
pub async fn delete_group(call: Call<WriteGroups>) -> ProjectResult<HttpResponse> {
    let version = parse::delete_version(&call.query())?;
    let group = call.state.groups.delete(call.principal(), &target(&call.req)?, Some(version)).await?;
    Ok(group_response(&group))
}
