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
    components(schemas(crate::error::admin::AdminErrorBody, crate::routes::oauth::TokenResponse, crate::routes::oauth::LoginResponse, crate::routes::oauth::LoginRequest, TokenRequest)),
    modifiers(&SecurityAddon),
    tags((name = "operations"), (name = "auth"), (name = "admin customers"), (name = "admin customer groups"), (name = "customer groups"))
)]
struct BaseDoc;

struct SecurityAddon;

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
    key_twins(&mut doc);
    harden::apply(&mut doc);
    doc
}

/// The project family's resources addressed both by `{id}` and by `key={key}`.
const KEYED: &[&str] = &["/{projectKey}/customer-groups", "/{projectKey}/types"];

/// Adds the `key={key}` twin of every `{id}` path of [`KEYED`], right after it: the same
/// operations, addressed by the resource's key. The handlers of both share their code, so one
/// annotation per operation documents both and the two cannot drift apart.
fn key_twins(doc: &mut utoipa::openapi::OpenApi) {
    let paths = std::mem::take(&mut doc.paths.paths);
    for (path, item) in paths {
        let twin = KEYED
            .iter()
            .find(|base| path.strip_prefix(**base) == Some("/{id}"))
            .map(|base| (format!("{base}/key={{key}}"), by_key(item.clone())));
        doc.paths.paths.insert(path, item);
        if let Some((path, item)) = twin {
            doc.paths.paths.insert(path, item);
        }
    }
}

/// An `{id}` path item rewritten for `key={key}`: path parameter, operation ids and the texts
/// that name the id.
fn by_key(mut item: utoipa::openapi::path::PathItem) -> utoipa::openapi::path::PathItem {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::RefOr;
    let words = |text: &str| {
        text.replace(" by id", " by key")
            .replace("with this id", "with this key")
            .replace("'s id", "'s key")
            .replace("with ID '", "with key '")
    };
    for op in harden::operations(&mut item) {
        op.operation_id = op.operation_id.as_deref().map(|id| id.replace("ById", "ByKey"));
        op.summary = op.summary.as_deref().map(words);
        op.description = op.description.as_deref().map(words);
        for p in op.parameters.iter_mut().flatten() {
            if p.parameter_in == ParameterIn::Path && p.name == "id" {
                p.name = "key".into();
                p.description = p.description.as_deref().map(words);
            }
        }
        for response in op.responses.responses.values_mut() {
            if let RefOr::T(response) = response {
                response.description = words(&response.description);
            }
        }
    }
    item
}

/// The limits the server enforces on query parameters and bodies, stated in the document from
/// the same constants the parsers use (§4.1: a client generated from the document never sends
/// what the server refuses).
mod harden {
    use crate::fields::{FieldSpec, CUSTOMER_GROUP_SPEC, CUSTOMER_SPEC};
    use crate::routes::admin_customers::support::{IDEMPOTENCY_HEADER, MAX_IDEMPOTENCY_KEY_CHARS};
    use std::collections::BTreeSet;
    use utoipa::openapi::path::{Operation, ParameterIn};
    use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::{OpenApi, Ref, RefOr, Required};
    use xclade_domain::customer::MAX_LIST_LIMIT;
    use xclade_domain::metadata::{MAX_METADATA_DEPTH, MAX_METADATA_KEYS};
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

    /// The language `crate::fields::parse_fields_for` accepts for `spec`, as sent in a
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

    pub(super) fn operations(item: &mut utoipa::openapi::path::PathItem) -> impl Iterator<Item = &mut Operation> {
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

    /// Adds the component schema `name` written as JSON. The JSON is this module's own, so a
    /// schema that does not parse is a bug: it is logged (and the unit tests miss it), never
    /// dropped in silence.
    fn put(components: &mut utoipa::openapi::Components, name: &str, value: serde_json::Value) {
        match serde_json::from_value::<Schema>(value) {
            Ok(schema) => {
                components.schemas.insert(name.to_owned(), RefOr::T(schema));
            }
            Err(error) => tracing::error!(schema = name, %error, "an OpenAPI schema of openapi::harden does not parse"),
        }
    }

    fn int(n: u64) -> Option<utoipa::Number> {
        Some(utoipa::Number::UInt(usize::try_from(n).unwrap_or(usize::MAX)))
    }

    /// A string without U+0000 (PostgreSQL cannot store it; every parser refuses it).
    const NO_NUL: &str = "^[^\\u0000]*$";
    /// Any JSON value whose strings and keys hold no U+0000.
    const JSON_VALUE: &str = "JsonValue";

    fn is(schema_type: &SchemaType, t: Type) -> bool {
        match schema_type {
            SchemaType::Type(one) => *one == t,
            SchemaType::Array(many) => many.contains(&t),
            SchemaType::AnyValue => false,
        }
    }

    /// States the NUL rule on every string and free-form object of the request schemas: plain
    /// strings get [`NO_NUL`], free-form objects (metadata, custom fields, localized strings)
    /// NUL-free keys and [`JSON_VALUE`] values.
    fn no_nul(components: &mut utoipa::openapi::Components, requests: &BTreeSet<String>) {
        fn walk(schema: &mut Schema) {
            match schema {
                Schema::Object(o) => {
                    let plain = o.pattern.is_none() && o.format.is_none() && o.enum_values.is_none();
                    if is(&o.schema_type, Type::String) && plain {
                        o.pattern = Some(NO_NUL.to_owned());
                    }
                    let free_form = o.properties.is_empty()
                        && matches!(
                            o.additional_properties.as_deref(),
                            None | Some(AdditionalProperties::FreeForm(true))
                        );
                    if is(&o.schema_type, Type::Object) && free_form {
                        let names = ObjectBuilder::new().schema_type(Type::String).pattern(Some(NO_NUL)).build();
                        o.property_names = Some(Box::new(Schema::Object(names)));
                        o.additional_properties =
                            Some(Box::new(AdditionalProperties::RefOr(RefOr::Ref(Ref::from_schema_name(JSON_VALUE)))));
                    }
                    for property in o.properties.values_mut() {
                        if let RefOr::T(inner) = property {
                            walk(inner);
                        }
                    }
                }
                Schema::Array(a) => {
                    if let ArrayItems::RefOrSchema(inner) = &mut a.items {
                        if let RefOr::T(inner) = inner.as_mut() {
                            walk(inner);
                        }
                    }
                }
                Schema::OneOf(one) => one.items.iter_mut().for_each(|i| {
                    if let RefOr::T(s) = i {
                        walk(s)
                    }
                }),
                Schema::AnyOf(any) => any.items.iter_mut().for_each(|i| {
                    if let RefOr::T(s) = i {
                        walk(s)
                    }
                }),
                Schema::AllOf(all) => all.items.iter_mut().for_each(|i| {
                    if let RefOr::T(s) = i {
                        walk(s)
                    }
                }),
                _ => {}
            }
        }
        for name in requests {
            if let Some(RefOr::T(schema)) = components.schemas.get_mut(name) {
                walk(schema);
            }
        }
        let value = format!("#/components/schemas/{JSON_VALUE}");
        put(
            components,
            JSON_VALUE,
            serde_json::json!({
            "description": "Any JSON value; no string or key may contain U+0000.",
            "anyOf": [
                {"type": "string", "pattern": NO_NUL},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"},
                {"type": "array", "items": {"$ref": value}},
                {"type": "object", "propertyNames": {"type": "string", "pattern": NO_NUL}, "additionalProperties": {"$ref": value}}
            ]
            }),
        );
    }

    /// The schemas `roots` name and every schema they reach through `$ref`.
    fn reachable(components: &utoipa::openapi::Components, roots: BTreeSet<String>) -> BTreeSet<String> {
        fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        match (k.as_str(), v) {
                            ("$ref", serde_json::Value::String(r)) => {
                                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                                    out.push(name.to_owned());
                                }
                            }
                            _ => refs(v, out),
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = roots.into_iter().collect();
        while let Some(name) = todo.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if let Some(schema) = components.schemas.get(&name) {
                if let Ok(value) = serde_json::to_value(schema) {
                    refs(&value, &mut todo);
                }
            }
        }
        seen
    }

    /// A `LocalizedString`: text by locale.
    const LOCALIZED_STRING: &str = "LocalizedString";

    /// The localized strings of the type bodies (`parse::localized`: an object of strings) and
    /// the field types (`parse::field_type`: one shape per `name`, `Set` recursive).
    fn localized_and_field_types(components: &mut utoipa::openapi::Components) {
        const LOCALIZED: &[(&str, &str)] = &[
            ("TypeDraft", "name"),
            ("TypeDraft", "description"),
            ("FieldDefinition", "label"),
            ("TypeChangeNameAction", "name"),
            ("TypeSetDescriptionAction", "description"),
            ("TypeChangeLabelAction", "label"),
            ("LocalizedEnumValue", "label"),
        ];
        let localized = |nullable: bool| {
            let schema = RefOr::Ref(Ref::from_schema_name(LOCALIZED_STRING));
            if nullable {
                serde_json::from_value::<RefOr<Schema>>(serde_json::json!({
                    "anyOf": [{"$ref": format!("#/components/schemas/{LOCALIZED_STRING}")}, {"type": "null"}]
                }))
                .unwrap_or(schema)
            } else {
                schema
            }
        };
        for (schema, property) in LOCALIZED {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(*schema) {
                let nullable = !o.required.iter().any(|r| r == property);
                if let Some(p) = o.properties.get_mut(*property) {
                    *p = localized(nullable);
                }
            }
        }
        put(
            components,
            LOCALIZED_STRING,
            serde_json::json!({
                "type": "object",
                "description": "Text by locale, e.g. `{\"en\": \"Gold\"}`.",
                "propertyNames": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NO_NUL},
                "additionalProperties": {"type": "string", "pattern": NO_NUL}
            }),
        );
        // `check_resource_type_id`: lowercase letters and hyphens, 1–64 characters.
        if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut("TypeDraft") {
            if let Ok(ids) = serde_json::from_value::<RefOr<Schema>>(serde_json::json!({
                "type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[a-z-]{1,64}$"}
            })) {
                o.properties.insert("resourceTypeIds".to_owned(), ids);
            }
        }
        let schemas = |name: &str| format!("#/components/schemas/{name}");
        let simple = serde_json::json!([
            {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "enum": ["Boolean", "String", "LocalizedString", "Number", "Date", "DateTime"]}
            }},
            {"type": "object", "required": ["name", "values"], "properties": {
                "name": {"type": "string", "enum": ["Enum"]},
                "values": {"type": "array", "items": {"$ref": schemas("EnumValue")}}
            }},
            {"type": "object", "required": ["name", "values"], "properties": {
                "name": {"type": "string", "enum": ["LocalizedEnum"]},
                "values": {"type": "array", "items": {"$ref": schemas("LocalizedEnumValue")}}
            }}
        ]);
        put(
            components,
            "FieldTypeElement",
            serde_json::json!({"description": "The element type of a `Set`: any field type but `Set`.", "oneOf": simple}),
        );
        let mut all = simple.as_array().cloned().unwrap_or_default();
        all.push(serde_json::json!({"type": "object", "required": ["name", "elementType"], "properties": {
            "name": {"type": "string", "enum": ["Set"]},
            "elementType": {"$ref": schemas("FieldTypeElement")}
        }}));
        put(
            components,
            "FieldType",
            serde_json::json!({"description": "A field type, told apart by `name`; a `Set` has an `elementType`.", "oneOf": all}),
        );
    }

    fn metadata_value(depth: usize) -> String {
        format!("MetadataValue{depth}")
    }

    /// `MetadataValue<n>`: a JSON value nested at most `n` levels (`metadata::depth`), with no
    /// U+0000 in keys or strings.
    fn metadata_values(components: &mut utoipa::openapi::Components) {
        for depth in 0..MAX_METADATA_DEPTH {
            let mut any_of = vec![
                serde_json::json!({"type": "string", "pattern": NO_NUL}),
                serde_json::json!({"type": "number"}),
                serde_json::json!({"type": "boolean"}),
                serde_json::json!({"type": "null"}),
            ];
            if depth > 0 {
                let inner = format!("#/components/schemas/{}", metadata_value(depth - 1));
                any_of.push(serde_json::json!({"type": "array", "items": {"$ref": inner}}));
                any_of.push(serde_json::json!({
                    "type": "object",
                    "propertyNames": {"type": "string", "pattern": NO_NUL},
                    "additionalProperties": {"$ref": inner}
                }));
            }
            let schema = serde_json::json!({
                "description": format!("A metadata value nested at most {depth} levels deep."),
                "anyOf": any_of
            });
            put(components, &metadata_value(depth), schema);
        }
    }

    /// `TypeResourceIdentifier` names the type by a non-null `id` or a non-null `key`
    /// (`parse::type_ref`); JSON Schema says so with two alternatives.
    fn type_reference(components: &mut utoipa::openapi::Components) {
        let type_id = serde_json::json!({"type": ["string", "null"], "pattern": "^type$"});
        put(
            components,
            "TypeResourceIdentifier",
            serde_json::json!({
            "description": "A reference to a custom type by `id` or by `key` (`id` wins when both are given).",
            "anyOf": [
                {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"typeId": type_id, "id": {"type": "string", "pattern": NO_NUL}, "key": {"type": ["string", "null"], "pattern": NO_NUL}}
                },
                {
                    "type": "object",
                    "required": ["key"],
                    "properties": {"typeId": type_id, "id": {"type": "null"}, "key": {"type": "string", "pattern": NO_NUL}}
                }
            ]
            }),
        );
    }

    pub fn apply(doc: &mut OpenApi) {
        let mut strict: BTreeSet<String> = BTreeSet::new();
        let mut bodies: BTreeSet<String> = BTreeSet::new();
        for (path, item) in doc.paths.paths.iter_mut() {
            let admin = path.starts_with("/admin/") || path.starts_with("/auth/");
            let project = path.starts_with("/{projectKey}/");
            let spec = if path.starts_with("/admin/customer-groups") { &CUSTOMER_GROUP_SPEC } else { &CUSTOMER_SPEC };
            let order = if path.starts_with("/admin/customer-groups") { GROUP_ORDER } else { CUSTOMER_ORDER };
            for op in operations(item) {
                for p in op.parameters.iter_mut().flatten() {
                    if p.parameter_in == ParameterIn::Header && p.name.eq_ignore_ascii_case(IDEMPOTENCY_HEADER) {
                        if let Some(o) = target(&mut p.schema) {
                            // `check_idempotency_key`: 1–255 printable ASCII characters.
                            o.pattern = Some(format!("^[ -~]{{1,{MAX_IDEMPOTENCY_KEY_CHARS}}}$"));
                        }
                        continue;
                    }
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
                                "anyOf": [
                                    {"type": "string", "format": "date-time"},
                                    {"type": "string", "format": "date"},
                                    {"type": "string", "maxLength": 0}
                                ]
                            }))
                            .ok();
                            continue;
                        }
                        if name == "limit" || name == "offset" {
                            let max = if name == "limit" { u64::from(MAX_LIST_LIMIT) } else { i64::MAX as u64 };
                            // Empty is absent (above), which JSON Schema says with a second type.
                            p.schema = serde_json::from_value(serde_json::json!({
                                "anyOf": [{"type": "integer", "minimum": 0, "maximum": max}, {"type": "string", "maxLength": 0}]
                            }))
                            .ok();
                            continue;
                        }
                    }
                    let Some(o) = target(&mut p.schema) else { continue };
                    match (admin, project, name.as_str()) {
                        (true, _, "order") => o.pattern = Some(order_pattern(order)),
                        (true, _, "fields") => o.pattern = Some(fields_pattern(spec)),
                        // The text filters reach SQL; NUL is refused (`text::storable`).
                        (true, _, "q" | "email" | "name") => o.pattern = Some(NO_NUL.to_owned()),
                        (_, true, "limit") => (o.minimum, o.maximum) = (int(0), int(u64::from(MAX_QUERY_LIMIT))),
                        (_, true, "offset") => (o.minimum, o.maximum) = (int(0), int(u64::from(MAX_QUERY_OFFSET))),
                        (_, true, "sort") => o.pattern = Some(sort_pattern()),
                        _ => {}
                    }
                }
                // Every body is read up to the configured limit (`body.rs`); past it, 413 in the
                // family's format (the same body as its 400).
                if op.request_body.is_some() && !op.responses.responses.contains_key("413") {
                    if let Some(RefOr::T(mut too_large)) = op.responses.responses.get("400").cloned() {
                        too_large.description = format!(
                            "the body is larger than the server's limit ({} bytes by default)",
                            crate::state::DEFAULT_BODY_LIMIT
                        );
                        op.responses.responses.insert("413".to_owned(), RefOr::T(too_large));
                    }
                }
                for content in op.request_body.iter().flat_map(|b| b.content.values()) {
                    if let Some(RefOr::Ref(r)) = &content.schema {
                        if let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") {
                            bodies.insert(name.to_owned());
                        }
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
        localized_and_field_types(components);
        type_reference(components);
        let requests = reachable(components, bodies);
        no_nul(components, &requests);
        for name in &strict {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(name) {
                o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                if let Some(RefOr::T(Schema::Object(metadata))) = o.properties.get_mut("metadata") {
                    metadata.max_properties = Some(MAX_METADATA_KEYS);
                    // `Metadata::parse`: the object is level 1, so its values nest 4 deep.
                    metadata.additional_properties = Some(Box::new(AdditionalProperties::RefOr(RefOr::Ref(
                        Ref::from_schema_name(metadata_value(MAX_METADATA_DEPTH - 1)),
                    ))));
                }
            }
        }
        metadata_values(components);
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
        // Under a `/docs` scope: the router turns every other path away by comparing its first
        // segment, where the reference's `{_:.*}` route ran its regular expression on the path
        // of every project-family request (registered after this; docs/benchmarks.md, change 36).
        // `docs` is a reserved project key, so no project request is taken from that family.
        .service(
            web::scope("/docs").service(
                SwaggerUi::new("/{_:.*}")
                    .url("/openapi.json", doc)
                    .config(utoipa_swagger_ui::Config::new(["/docs/openapi.json"])),
            ),
        );
}

#[cfg(test)]
mod tests {
    use super::harden::*;
    use crate::fields::{parse_fields_for, CUSTOMER_GROUP_SPEC, CUSTOMER_SPEC};
    use xclade_domain::customer::CustomerOrderField;
    use xclade_domain::paging::Sort;

    #[test]
    fn every_id_operation_has_its_key_twin() {
        let doc = serde_json::to_value(super::document()).expect("document");
        let paths = doc["paths"].as_object().expect("paths");
        let mut twins = 0;
        for base in super::KEYED {
            let by_id = paths[&format!("{base}/{{id}}")].as_object().expect("id path");
            let by_key = paths[&format!("{base}/key={{key}}")].as_object().expect("key path");
            assert_eq!(by_id.keys().collect::<Vec<_>>(), by_key.keys().collect::<Vec<_>>(), "{base}");
            for (method, op) in by_id {
                let twin = &by_key[method];
                let id = op["operationId"].as_str().expect("operationId");
                assert_eq!(twin["operationId"], id.replace("ById", "ByKey"), "{base} {method}");
                let names = |op: &serde_json::Value| -> Vec<String> {
                    op["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| format!("{}:{}", p["in"].as_str().unwrap_or(""), p["name"].as_str().unwrap_or("")))
                        .collect()
                };
                let expected: Vec<String> =
                    names(op).iter().map(|n| if n == "path:id" { "path:key".to_string() } else { n.clone() }).collect();
                assert_eq!(names(twin), expected, "{base} {method}");
                assert!(!twin.to_string().contains(" by id"), "{base} {method}: {twin}");
                assert_eq!(
                    twin["responses"].as_object().map(|r| r.len()),
                    op["responses"].as_object().map(|r| r.len())
                );
                twins += 1;
            }
        }
        assert_eq!(twins, 7, "get/head/post/delete of groups, get/post/delete of types");
    }

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

    /// The limits the parsers enforce and that tests/fuzz found missing are in the document.
    #[test]
    fn document_states_the_parsers_limits() {
        let doc = serde_json::to_value(crate::openapi::document()).expect("json");
        let schemas = &doc["components"]["schemas"];
        // Every schema `harden` writes as JSON parsed and is there.
        for name in ["JsonValue", "LocalizedString", "TypeResourceIdentifier"]
            .into_iter()
            .map(str::to_owned)
            .chain((0..xclade_domain::metadata::MAX_METADATA_DEPTH).map(|depth| format!("MetadataValue{depth}")))
        {
            assert!(schemas.get(&name).is_some_and(|s| s.is_object()), "{name} is missing");
        }
        // Strings and free-form objects refuse U+0000.
        assert_eq!(
            schemas["AdminCreateCustomer"]["properties"]["last_name"]["pattern"], "^[^\\u0000]*$",
            "{}",
            schemas["AdminCreateCustomer"]
        );
        assert_eq!(schemas["JsonValue"]["anyOf"][0]["pattern"], "^[^\\u0000]*$");
        // A type is referenced by a non-null id or key.
        assert_eq!(schemas["TypeResourceIdentifier"]["anyOf"][0]["required"], serde_json::json!(["id"]));
        // Type update actions are told apart by `action`, each with its required fields.
        let actions = schemas["TypeUpdateAction"]["oneOf"].as_array().expect("oneOf");
        assert_eq!(actions.len(), 7);
        assert!(schemas["TypeAddEnumValueAction"]["required"]
            .as_array()
            .expect("required")
            .contains(&"fieldName".into()));
        // Metadata values nest at most four levels below the object.
        assert_eq!(
            schemas["AdminCreateCustomer"]["properties"]["metadata"]["additionalProperties"]["$ref"],
            "#/components/schemas/MetadataValue4"
        );
        assert_eq!(schemas["MetadataValue0"]["anyOf"].as_array().map(Vec::len), Some(4));
        assert_eq!(schemas["MetadataValue4"]["anyOf"].as_array().map(Vec::len), Some(6));
        // Field types are told apart by `name`; localized strings hold strings.
        assert_eq!(schemas["FieldType"]["oneOf"].as_array().map(Vec::len), Some(4), "{}", schemas["FieldType"]);
        assert_eq!(schemas["FieldTypeElement"]["oneOf"].as_array().map(Vec::len), Some(3));
        assert_eq!(schemas["TypeDraft"]["properties"]["resourceTypeIds"]["minItems"], 1);
        let update = &doc["paths"]["/{projectKey}/types/{id}"]["post"]["responses"];
        assert!(update["413"].is_object(), "{update}");
        assert_eq!(schemas["LocalizedString"]["additionalProperties"]["type"], "string");
        assert_eq!(
            schemas["TypeChangeLabelAction"]["properties"]["label"]["$ref"],
            "#/components/schemas/LocalizedString"
        );
        // The Idempotency-Key header and the empty date filter.
        let create = &doc["paths"]["/admin/customers"]["post"]["parameters"];
        let key = create.as_array().expect("params").iter().find(|p| p["name"] == "Idempotency-Key").expect("header");
        assert_eq!(key["schema"]["pattern"], "^[ -~]{1,255}$");
        let list = &doc["paths"]["/admin/customers"]["get"]["parameters"];
        let since = list.as_array().expect("params").iter().find(|p| p["name"] == "updated_at[gte]").expect("filter");
        assert_eq!(since["schema"]["anyOf"][2]["maxLength"], 0);
        // The admin text filters refuse NUL (a list filter in its items).
        for (path, name, pointer) in [
            ("/admin/customers", "q", "/schema/pattern"),
            ("/admin/customers", "email", "/schema/items/pattern"),
            ("/admin/customer-groups", "q", "/schema/pattern"),
            ("/admin/customer-groups", "name", "/schema/items/pattern"),
        ] {
            let params = doc["paths"][path]["get"]["parameters"].as_array().expect("params");
            let param = params.iter().find(|p| p["name"] == name).expect("filter");
            assert_eq!(param.pointer(pointer), Some(&serde_json::json!("^[^\\u0000]*$")), "{path} {name}");
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
