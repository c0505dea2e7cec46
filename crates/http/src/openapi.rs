//! The OpenAPI 3.1 document, generated from the route annotations, and the offline API reference.

use actix_web::{web, HttpResponse};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "xclade customers", description = "Customers and customer groups: the admin family (`/admin/*`) and the project family (`/{projectKey}/*`)."),
    paths(
        crate::routes::ops::live,
        crate::routes::ops::ready,
        crate::routes::ops::metrics,
        crate::routes::oauth::token,
        crate::routes::oauth::login,
    ),
    components(schemas(crate::error::admin::AdminErrorBody, crate::routes::oauth::TokenResponse, crate::routes::oauth::LoginResponse, LoginRequest, TokenRequest)),
    modifiers(&SecurityAddon),
    tags((name = "operations"), (name = "auth"), (name = "admin customers"), (name = "admin customer groups"), (name = "customer groups"))
)]
struct BaseDoc;

struct SecurityAddon;

/// The body of `POST /auth/user/emailpass` (strict, like every admin body).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LoginRequest {
    #[schema(example = "admin@example.com")]
    email: String,
    password: String,
}

/// The form body of `POST /oauth/token` (the same parameters are accepted in the query string;
/// other parameters are ignored).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    #[schema(pattern = "^client_credentials$", example = "client_credentials")]
    grant_type: String,
    /// Space-separated scopes, each covered by the client's; absent: all of the client's.
    #[schema(example = "manage_customer_groups:demo")]
    scope: Option<String>,
    /// With `client_secret`, instead of HTTP Basic.
    client_id: Option<String>,
    client_secret: Option<String>,
}

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The whole document: the base plus every family's routes.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = BaseDoc::openapi();
    doc.merge(crate::routes::admin_customers::openapi());
    doc.merge(crate::routes::admin_groups::openapi());
    doc.merge(crate::routes::project_groups::openapi());
    doc.merge(crate::routes::project_types::openapi());
    harden::apply(&mut doc);
    doc
}

/// The limits the server enforces on query parameters and bodies, stated in the document from
/// the same constants the parsers use (§4.1: a client generated from the document never sends
/// what the server refuses).
mod harden {
    use std::collections::BTreeSet;
    use utoipa::openapi::path::{Operation, ParameterIn};
    use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema};
    use utoipa::openapi::{OpenApi, RefOr, Required};
    use xclade_domain::customer::MAX_LIST_LIMIT;
    use xclade_domain::fields::{FieldSpec, CUSTOMER_GROUP_SPEC, CUSTOMER_SPEC};
    use xclade_domain::metadata::MAX_METADATA_KEYS;
    use xclade_domain::paging::{MAX_QUERY_LIMIT, MAX_QUERY_OFFSET};

    /// What `str::trim`/`split_whitespace` remove (Unicode White_Space), as a regex class body.
    const WHITE_SPACE: &str = r"\t\n\x0b\x0c\r\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

    /// Admin `order` names, in the parsers' spelling (a test checks that each one parses).
    pub(super) const CUSTOMER_ORDER: &[&str] =
        &["id", "email", "first_name", "last_name", "company_name", "has_account", "created_at", "updated_at"];
    pub(super) const GROUP_ORDER: &[&str] = &["id", "name", "created_at", "updated_at"];
    /// Project-family `sort` fields.
    pub(super) const SORT_FIELDS: &[&str] = &["id", "key", "name", "version", "createdAt", "lastModifiedAt"];

    /// The schemas of answers shaped by `fields`: any field but `id` may be left out.
    const SHAPED: &[&str] = &[
        "AdminCustomer",
        "AdminCustomerGroupSummary",
        "AdminCustomerAddress",
        "AdminCustomerSummary",
        "AdminCustomerGroup",
    ];

    fn escape(name: &str) -> String {
        name.replace('.', r"\.").replace('*', r"\*")
    }

    /// The language `xclade_domain::fields::parse_fields_for` accepts for `spec`, as sent in a
    /// query string: comma-separated items, each trimmed, empty ones skipped, an optional sign
    /// (`+`, `-`, or a leading space, which is what a form-encoded `+` is) before a name. The
    /// value is percent-decoded but not form-decoded, so a space sent as `+` is a sign.
    pub(super) fn fields_pattern(spec: &FieldSpec) -> String {
        let mut names: Vec<String> = spec.scalars.iter().map(|s| escape(s)).collect();
        for (rel, fields) in spec.relations {
            names.push(escape(rel));
            names.push(escape(&format!("*{rel}")));
            names.push(escape(&format!("{rel}.*")));
            names.extend(fields.iter().map(|f| escape(&format!("{rel}.{f}"))));
        }
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        // No plain space: a space arrives as a `+`, which is a sign (see above).
        let w = format!("[{WHITE_SPACE}]*");
        let piece = format!("{w}(?:[+ -]?{w}(?:{})){w}", names.join("|"));
        format!("^(?:{piece}|{w})(?:,(?:{piece}|{w}))*$")
    }

    /// Admin `order`: `field` or `-field` (or `+field`); empty is the default order.
    pub(super) fn order_pattern(names: &[&str]) -> String {
        format!("^(?:[+-]?(?:{}))?$", names.join("|"))
    }

    /// Project-family `sort`: `<field>`, `<field> asc` or `<field> desc` (direction in any case).
    pub(super) fn sort_pattern() -> String {
        let w = format!("[ {WHITE_SPACE}]");
        format!("^{w}*(?:{}){w}*(?:{w}(?:[aA][sS][cC]|[dD][eE][sS][cC]){w}*)?$", SORT_FIELDS.join("|"))
    }

    fn operations(item: &mut utoipa::openapi::path::PathItem) -> impl Iterator<Item = &mut Operation> {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
    }

    /// The object schema of a parameter, or of its items when it is a repeatable one.
    fn target(schema: &mut Option<RefOr<Schema>>) -> Option<&mut utoipa::openapi::schema::Object> {
        match schema.as_mut()? {
            RefOr::T(Schema::Object(o)) => Some(o),
            RefOr::T(Schema::Array(a)) => match &mut a.items {
                ArrayItems::RefOrSchema(inner) => match inner.as_mut() {
                    RefOr::T(Schema::Object(o)) => Some(o),
                    _ => None,
                },
                ArrayItems::False => None,
            },
            _ => None,
        }
    }

    fn int(n: u64) -> Option<utoipa::Number> {
        Some(utoipa::Number::UInt(usize::try_from(n).unwrap_or(usize::MAX)))
    }

    pub fn apply(doc: &mut OpenApi) {
        let mut strict: BTreeSet<String> = BTreeSet::new();
        for (path, item) in doc.paths.paths.iter_mut() {
            let admin = path.starts_with("/admin/") || path.starts_with("/auth/");
            let project = path.starts_with("/{projectKey}/");
            let spec = if path.starts_with("/admin/customer-groups") { &CUSTOMER_GROUP_SPEC } else { &CUSTOMER_SPEC };
            let order = if path.starts_with("/admin/customer-groups") { GROUP_ORDER } else { CUSTOMER_ORDER };
            for op in operations(item) {
                for p in op.parameters.iter_mut().flatten() {
                    if p.parameter_in != ParameterIn::Query {
                        continue;
                    }
                    let name = p.name.clone();
                    if admin {
                        // The admin family reads an empty value as an absent one (`qs` sends them).
                        if let Ok(extensions) = serde_json::from_value(serde_json::json!({"allowEmptyValue": true})) {
                            p.extensions = Some(extensions);
                        }
                        if name.ends_with("_at[gte]") {
                            // `list_query::parse_time`: an RFC 3339 date-time or a `YYYY-MM-DD` date.
                            p.schema = serde_json::from_value(serde_json::json!({
                                "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]
                            }))
                            .ok();
                            continue;
                        }
                    }
                    let Some(o) = target(&mut p.schema) else { continue };
                    match (admin, project, name.as_str()) {
                        (true, _, "limit") => (o.minimum, o.maximum) = (int(0), int(u64::from(MAX_LIST_LIMIT))),
                        (true, _, "offset") => (o.minimum, o.maximum) = (int(0), int(i64::MAX as u64)),
                        (true, _, "order") => o.pattern = Some(order_pattern(order)),
                        (true, _, "fields") => o.pattern = Some(fields_pattern(spec)),
                        (_, true, "limit") => (o.minimum, o.maximum) = (int(0), int(u64::from(MAX_QUERY_LIMIT))),
                        (_, true, "offset") => (o.minimum, o.maximum) = (int(0), int(u64::from(MAX_QUERY_OFFSET))),
                        (_, true, "sort") => o.pattern = Some(sort_pattern()),
                        _ => {}
                    }
                }
                // The admin family's bodies are strict (unknown keys are 400), and an empty
                // body reads as `{}`.
                if admin {
                    if let Some(body) = op.request_body.as_mut() {
                        for content in body.content.values() {
                            if let Some(RefOr::Ref(r)) = &content.schema {
                                if let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") {
                                    strict.insert(name.to_owned());
                                }
                            }
                        }
                    }
                }
            }
        }
        let Some(components) = doc.components.as_mut() else { return };
        for name in &strict {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(name) {
                o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                if let Some(RefOr::T(Schema::Object(metadata))) = o.properties.get_mut("metadata") {
                    metadata.max_properties = Some(MAX_METADATA_KEYS);
                }
            }
        }
        for name in SHAPED {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(*name) {
                o.required.retain(|f| f == "id");
            }
        }
        // A body whose schema requires nothing may be left out (it reads as `{}`).
        let optional: BTreeSet<String> = strict
            .iter()
            .filter(
                |n| matches!(components.schemas.get(*n), Some(RefOr::T(Schema::Object(o))) if o.required.is_empty()),
            )
            .cloned()
            .collect();
        for item in doc.paths.paths.values_mut() {
            for op in operations(item) {
                if let Some(body) = op.request_body.as_mut() {
                    let refs_optional = body.content.values().any(|c| {
                        matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.strip_prefix("#/components/schemas/").is_some_and(|n| optional.contains(n)))
                    });
                    if refs_optional {
                        body.required = Some(Required::False);
                    }
                }
            }
        }
    }
}

async fn openapi_json(doc: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((actix_web::http::header::LOCATION, "/docs/")).finish()
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let doc = document();
    cfg.app_data(web::Data::new(doc.clone()))
        .route("/openapi.json", web::get().to(openapi_json))
        // The reference's address is `/docs`; its assets are relative to `/docs/`.
        .route("/docs", web::get().to(docs_redirect))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/docs/openapi.json", doc));
}

#[cfg(test)]
mod tests {
    use super::harden::*;
    use xclade_domain::customer::CustomerOrderField;
    use xclade_domain::fields::{parse_fields_for, CUSTOMER_GROUP_SPEC, CUSTOMER_SPEC};
    use xclade_domain::paging::Sort;

    #[test]
    fn order_and_sort_names_parse() {
        for name in CUSTOMER_ORDER {
            assert!(CustomerOrderField::parse(name).is_some(), "{name}");
        }
        for name in GROUP_ORDER {
            assert!(crate::routes::admin_groups::group_order_field(name).is_some(), "{name}");
        }
        for name in SORT_FIELDS {
            assert!(Sort::parse(&format!("{name} DESC")).is_ok(), "{name}");
        }
    }

    #[test]
    fn fields_pattern_covers_every_name() {
        for spec in [&CUSTOMER_SPEC, &CUSTOMER_GROUP_SPEC] {
            let pattern = fields_pattern(spec);
            for scalar in spec.scalars {
                assert!(pattern.contains(scalar), "{scalar}");
                assert!(parse_fields_for(spec, Some(scalar)).is_ok());
            }
        }
    }
}
