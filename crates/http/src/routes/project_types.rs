//! The project family's custom-type routes (`/{projectKey}/types…`, §3.5, issue 7).
//!
//! Reading needs `view_types`/`manage_types` or any customer-group or customer scope of the
//! project (groups reference types); writing needs `manage_types` (or `manage_project`). As in
//! the group routes, every handler authenticates, then checks the scope, and only then reads
//! the query string or the body; queries reuse the groups' `where`/`sort`/paging machinery.

pub(crate) mod dto;
mod parse;

pub use dto::{TypePageView, TypeView};

use crate::error::project::{envelope, ProjectResult};
use crate::routes::project_groups::dto::{ErrorResponseDoc, InvalidToken, NotFound, ServerErrors};
use crate::routes::project_groups::needs::{ReadTypes, WriteTypes};
use crate::routes::project_groups::parse::delete_version;
use crate::routes::project_groups::{addressed, Address, Call};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map};
use xclade_domain::custom_type::TypeKey;
use xclade_domain::services::TypeTarget;
use xclade_domain::{DomainError, Resource, TypeId};

const TYPES: &str = "/types";
const BY_KEY: &str = "/types/key={key}";
const BY_ID: &str = "/types/{id}";

/// Registers the routes, relative to the `/{project_key}` scope of [`crate::routes::project`];
/// `key={key}` comes before `{id}` so it is never taken for an id. Both address one type with
/// the same handlers ([`target`] tells them apart).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(TYPES).route(web::post().to(create_type)).route(web::get().to(query_types)));
    addressed(cfg, [BY_KEY, BY_ID], |one| {
        one.route(web::get().to(get_type)).route(web::post().to(update_type)).route(web::delete().to(delete_type))
    });
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create_type,
        query_types,
        get_type,
        update_type,
        delete_type,
    ),
    components(schemas(
        dto::TypeView,
        dto::TypePageView,
        dto::FieldDefinitionDto,
        dto::FieldTypeDto,
        dto::TypeDraftDto,
        dto::TypeUpdateDto,
        dto::TypeActionDto,
    )),
    tags((name = "types", description = "Custom types: the fields `custom` of a customer group may carry. Read: view_types, manage_types or any customer-group or customer scope; write: manage_types (or manage_project)."))
)]
struct ProjectTypesDoc;

/// The OpenAPI part of these routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <ProjectTypesDoc as utoipa::OpenApi>::openapi()
}

/// The query parameters of `GET /{projectKey}/types` (documentation only).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct QueryParamsDoc {
    /// Query predicate (as for groups) over `id`, `key`, `version`, `createdAt`,
    /// `lastModifiedAt`; repeatable, AND-ed; `:name` variables from `var.<name>`.
    #[param(rename = "where", example = "key = \"group-fields\"")]
    predicate: Option<Vec<String>>,
    /// `<field> asc|desc` over `id`, `key`, `name`, `version`, `createdAt`, `lastModifiedAt`;
    /// repeatable; ties are broken by `id`.
    #[param(example = "key asc")]
    sort: Option<Vec<String>>,
    /// Page size, 0–500 (default 20).
    #[param(minimum = 0, maximum = 500)]
    limit: Option<u32>,
    /// Matches to skip, 0–10000 (default 0).
    #[param(minimum = 0, maximum = 10000)]
    offset: Option<u32>,
    /// Whether to count all matches (`total`), default true.
    #[param(rename = "withTotal")]
    with_total: Option<bool>,
}

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

/// The type addressed by `{id}` or `key={key}`; an id that is not a UUID, or a key no type can
/// have, cannot exist (404).
fn target(req: &HttpRequest) -> ProjectResult<TypeTarget> {
    match Address::of(req) {
        Address::Id(raw) => {
            TypeId::parse(&raw).map(TypeTarget::Id).ok_or_else(|| DomainError::not_found(Resource::Type, raw).into())
        }
        Address::Key(raw) => TypeKey::parse(&raw)
            .map(TypeTarget::Key)
            .map_err(|_| DomainError::not_found_key(Resource::Type, raw).into()),
    }
}

fn type_response(t: &xclade_domain::custom_type::Type) -> HttpResponse {
    HttpResponse::Ok().json(TypeView::from(t))
}

/// `ReferenceExists` from an update means a removed field definition is still used; its
/// message says so (the domain's names a delete).
fn field_in_use() -> HttpResponse {
    let status = StatusCode::BAD_REQUEST;
    let extra: Map<String, serde_json::Value> =
        [("referencedBy".to_owned(), json!("customer-group"))].into_iter().collect();
    HttpResponse::build(status).json(envelope(
        status,
        "ReferenceExists",
        "Can not remove a field definition while it is used by at least one customer-group.",
        extra,
        Map::new(),
    ))
}

// ------------------------------------------------------------------------------------------
// Handlers
// ------------------------------------------------------------------------------------------

/// Creates a custom type.
#[utoipa::path(post, path = "/{projectKey}/types", tag = "types", operation_id = "createType",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key")),
    request_body(content = dto::TypeDraftDto, content_type = "application/json"),
    responses(InvalidToken, ServerErrors,
        (status = 201, description = "The new type", body = dto::TypeView),
        (status = 400, description = "InvalidJsonInput, InvalidInput, InvalidOperation (duplicate field definition), DuplicateField (`key`)", body = ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs manage_types (or manage_project)", body = ErrorResponseDoc)))]
pub async fn create_type(call: Call<WriteTypes>, payload: web::Payload) -> ProjectResult<HttpResponse> {
    let draft = call.body(payload, parse::type_draft).await?;
    let t = call.state.types.create(call.principal(), draft).await?;
    Ok(HttpResponse::Created().json(TypeView::from(&t)))
}

/// Queries custom types.
#[utoipa::path(get, path = "/{projectKey}/types", tag = "types", operation_id = "queryTypes",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), QueryParamsDoc),
    responses(InvalidToken, ServerErrors,
        (status = 200, description = "A page of types", body = dto::TypePageView),
        (status = 400, description = "InvalidInput: `Malformed parameter: where|sort|limit|offset|withTotal: …`", body = ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs view_types, manage_types or a customer-group or customer scope", body = ErrorResponseDoc)))]
pub async fn query_types(call: Call<ReadTypes>) -> ProjectResult<HttpResponse> {
    let query = parse::type_query(&call.query())?;
    let page = call.state.types.query(call.principal(), &query).await?;
    Ok(HttpResponse::Ok().json(TypePageView::new(query.limit, query.offset, &page)))
}

// The handlers below serve both `{id}` and `key={key}`: one annotation documents the `{id}`
// path and `openapi::key_twins` derives the `key={key}` one.

/// Gets a custom type by id.
#[utoipa::path(get, path = "/{projectKey}/types/{id}", tag = "types", operation_id = "getTypeById",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), ("id" = String, Path, description = "The type's id")),
    responses(InvalidToken, NotFound, ServerErrors,
        (status = 200, description = "The type", body = dto::TypeView),
        (status = 403, description = "insufficient_scope", body = ErrorResponseDoc)))]
pub async fn get_type(call: Call<ReadTypes>) -> ProjectResult<HttpResponse> {
    let t = call.state.types.get(call.principal(), &target(&call.req)?).await?;
    Ok(type_response(&t))
}

/// Updates a custom type by id: the actions apply in order, all or nothing; the version
/// grows by one per action that changed something.
#[utoipa::path(post, path = "/{projectKey}/types/{id}", tag = "types", operation_id = "updateTypeById",
    security(("bearer" = [])),
    params(("projectKey" = String, Path, description = "The project's key"), ("id" = String, Path, description = "The type's id")),
    request_body(content = dto::TypeUpdateDto, content_type = "application/json"),
    responses(InvalidToken, NotFound, ServerErrors,
        (status = 200, description = "The updated type", body = dto::TypeView),
        (status = 400, description = "InvalidJsonInput, InvalidInput (`Invalid action …`), InvalidOperation (unknown or duplicate field definition or enum key; a required field added while groups lack it), ReferenceExists (a removed field definition is used by a group)", body = ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs manage_types (or manage_project)", body = ErrorResponseDoc),
        (status = 409, description = "ConcurrentModification", body = ErrorResponseDoc)))]
pub async fn update_type(call: Call<WriteTypes>, payload: web::Payload) -> ProjectResult<HttpResponse> {
    let (version, actions) = call.body(payload, parse::type_update).await?;
    match call.state.types.update(call.principal(), &target(&call.req)?, version, actions).await {
        Ok(t) => Ok(type_response(&t)),
        Err(DomainError::ReferenceExists { .. }) => Ok(field_in_use()),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a custom type by id; refused while a customer group uses it.
#[utoipa::path(delete, path = "/{projectKey}/types/{id}", tag = "types", operation_id = "deleteTypeById",
    security(("bearer" = [])),
    params(
        ("projectKey" = String, Path, description = "The project's key"),
        ("id" = String, Path, description = "The type's id"),
        ("version" = i64, Query, description = "The type's current version")),
    responses(InvalidToken, NotFound, ServerErrors,
        (status = 200, description = "The deleted type", body = dto::TypeView),
        (status = 400, description = "InvalidOperation `Missing version number`; InvalidInput; ReferenceExists (a group uses the type)", body = ErrorResponseDoc),
        (status = 403, description = "insufficient_scope: needs manage_types (or manage_project)", body = ErrorResponseDoc),
        (status = 409, description = "ConcurrentModification", body = ErrorResponseDoc)))]
pub async fn delete_type(call: Call<WriteTypes>) -> ProjectResult<HttpResponse> {
    let version = delete_version(&call.query())?;
    let t = call.state.types.delete(call.principal(), &target(&call.req)?, version).await?;
    Ok(type_response(&t))
}
