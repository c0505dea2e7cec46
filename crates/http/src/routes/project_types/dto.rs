//! What the type routes write, and the documented request bodies (read from raw JSON by
//! `parse`, never deserialized from these).

use crate::routes::project_groups::dto::{timestamp, ActorDoc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use xclade_domain::auth::Actor;
use xclade_domain::custom_type::{FieldDefinition, LocalizedString, Type};
use xclade_domain::paging::QueryPage;

/// A custom type (§3.5). Absent optional fields are omitted.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Type)]
pub struct TypeView {
    #[schema(format = Uuid)]
    pub id: String,
    pub version: i64,
    pub key: String,
    #[schema(value_type = Object, example = json!({"en": "Group fields"}))]
    pub name: LocalizedString,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, nullable = false)]
    pub description: Option<LocalizedString>,
    #[schema(example = json!(["customer-group"]))]
    pub resource_type_ids: Vec<String>,
    #[schema(value_type = Vec<FieldDefinitionDoc>)]
    pub field_definitions: Vec<FieldDefinition>,
    #[schema(format = DateTime, example = "2024-05-01T12:00:00.000Z")]
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ActorDoc>, nullable = false)]
    pub created_by: Option<Actor>,
    #[schema(format = DateTime, example = "2024-05-01T12:00:00.000Z")]
    pub last_modified_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ActorDoc>, nullable = false)]
    pub last_modified_by: Option<Actor>,
}

impl From<&Type> for TypeView {
    fn from(t: &Type) -> Self {
        TypeView {
            id: t.id.to_string(),
            version: t.version.0,
            key: t.key.as_str().to_owned(),
            name: t.name.clone(),
            description: t.description.clone(),
            resource_type_ids: t.resource_type_ids.clone(),
            field_definitions: t.field_definitions.clone(),
            created_at: timestamp(&t.created_at),
            created_by: t.created_by.clone(),
            last_modified_at: timestamp(&t.last_modified_at),
            last_modified_by: t.last_modified_by.clone(),
        }
    }
}

/// A page of types, like a page of groups.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TypePagedQueryResponse)]
pub struct TypePageView {
    pub limit: u32,
    pub offset: u32,
    pub count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub total: Option<i64>,
    pub results: Vec<TypeView>,
}

impl TypePageView {
    pub fn new(limit: u32, offset: u32, page: &QueryPage<Type>) -> Self {
        let results: Vec<TypeView> = page.results.iter().map(TypeView::from).collect();
        TypePageView { limit, offset, count: results.len(), total: page.total, results }
    }
}

// ------------------------------------------------------------------------------------------
// Documentation of bodies.
// ------------------------------------------------------------------------------------------

/// A field type: `name` is one of `Boolean`, `String`, `LocalizedString`, `Number`, `Date`,
/// `DateTime`, `Enum` (with `values` of `{key, label}`), `LocalizedEnum` (with `values` of
/// `{key, label: {locale: text}}`), `Set` (with `elementType`, any of the others).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(as = FieldType)]
pub struct FieldTypeDoc {
    #[schema(example = "Enum")]
    name: String,
    #[schema(value_type = Option<Vec<Object>>, example = json!([{"key": "gold", "label": "Gold"}]))]
    values: Option<Vec<Value>>,
    #[schema(rename = "elementType", value_type = Option<Object>, example = json!({"name": "Number"}))]
    element_type: Option<Value>,
}

/// A field definition. Values of custom fields: Boolean `true`, String `"x"`, LocalizedString
/// `{"en": "x"}`, Number any number, Date `"2024-05-01"`, DateTime `"2024-05-01T10:00:00.000Z"`
/// (stored in UTC with milliseconds), Enum/LocalizedEnum the value's key, Set an array.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(as = FieldDefinition)]
pub struct FieldDefinitionDoc {
    /// `^[A-Za-z0-9_-]+$`, 2–36 characters, unique in the type.
    #[schema(example = "tier")]
    name: String,
    #[schema(value_type = Object, example = json!({"en": "Tier"}))]
    label: Map<String, Value>,
    required: bool,
    #[schema(rename = "type")]
    field_type: FieldTypeDoc,
    /// `SingleLine` (default) or `MultiLine`.
    #[schema(rename = "inputHint", example = "SingleLine")]
    input_hint: Option<String>,
}

/// The body of a create.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(as = TypeDraft)]
pub struct TypeDraftDoc {
    /// `^[A-Za-z0-9_-]+$`, 2–256 characters, unique in the project.
    #[schema(example = "group-fields")]
    key: String,
    #[schema(value_type = Object, example = json!({"en": "Group fields"}))]
    name: Map<String, Value>,
    #[schema(value_type = Option<Object>)]
    description: Option<Map<String, Value>>,
    /// At least one; a type is usable on customer groups when it lists `customer-group`.
    #[schema(rename = "resourceTypeIds", example = json!(["customer-group"]))]
    resource_type_ids: Vec<String>,
    #[schema(rename = "fieldDefinitions")]
    field_definitions: Option<Vec<FieldDefinitionDoc>>,
}

/// One update action, told apart by `action`: `changeName {name}`, `setDescription
/// {description?}`, `addFieldDefinition {fieldDefinition}`, `removeFieldDefinition {fieldName}`
/// (refused with ReferenceExists while a group uses the field), `changeLabel {fieldName,
/// label}`, `addEnumValue {fieldName, value: {key, label}}`, `addLocalizedEnumValue
/// {fieldName, value: {key, label: {…}}}`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(as = TypeUpdateAction)]
pub struct TypeActionDoc {
    #[schema(example = "addEnumValue")]
    action: String,
    #[schema(rename = "fieldName")]
    field_name: Option<String>,
    #[schema(value_type = Option<Object>)]
    name: Option<Value>,
    #[schema(value_type = Option<Object>)]
    description: Option<Value>,
    #[schema(rename = "fieldDefinition")]
    field_definition: Option<FieldDefinitionDoc>,
    #[schema(value_type = Option<Object>)]
    label: Option<Value>,
    #[schema(value_type = Option<Object>, example = json!({"key": "silver", "label": "Silver"}))]
    value: Option<Value>,
}

/// The body of an update: the expected version and up to 500 actions, applied atomically in order.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(as = TypeUpdate)]
pub struct TypeUpdateDoc {
    /// The type's current version; another one answers 409 ConcurrentModification.
    version: i64,
    #[schema(max_items = 500)]
    actions: Vec<TypeActionDoc>,
}
