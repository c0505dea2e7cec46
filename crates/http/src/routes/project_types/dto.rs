//! What the type routes read and write: the response representations and the request bodies
//! (typed DTOs whose schemas are the documented ones; `parse` converts them).

use crate::routes::project_groups::dto::{timestamp, ActorDoc, ActorView};
use crate::routes::project_groups::wire::{self, wire_objects, Field, WireVersion};
use serde::de::{Deserializer, Error as _, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use xclade_domain::custom_type::{FieldDefinition, FieldType, LocalizedString, Type};
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
    pub name: LocalizedView,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, nullable = false)]
    pub description: Option<LocalizedView>,
    #[schema(example = json!(["customer-group"]))]
    pub resource_type_ids: Vec<String>,
    #[schema(value_type = Vec<FieldDefinitionDto>)]
    pub field_definitions: Vec<FieldDefinitionView>,
    #[schema(format = DateTime, example = "2024-05-01T12:00:00.000Z")]
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ActorDoc>, nullable = false)]
    pub created_by: Option<ActorView>,
    #[schema(format = DateTime, example = "2024-05-01T12:00:00.000Z")]
    pub last_modified_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ActorDoc>, nullable = false)]
    pub last_modified_by: Option<ActorView>,
}

impl From<&Type> for TypeView {
    fn from(t: &Type) -> Self {
        TypeView {
            id: t.id().to_string(),
            version: t.version().get(),
            key: t.key().as_str().to_owned(),
            name: t.name().as_map().clone(),
            description: t.description().map(|d| d.as_map().clone()),
            resource_type_ids: t.resource_type_ids().to_vec(),
            field_definitions: t.field_definitions().iter().map(FieldDefinitionView::from).collect(),
            created_at: timestamp(&t.created_at()),
            created_by: t.created_by().map(ActorView::from),
            last_modified_at: timestamp(&t.last_modified_at()),
            last_modified_by: t.last_modified_by().map(ActorView::from),
        }
    }
}

/// A localized string on the wire: `{"en": "Gold", "de": "Gold"}`, locales in order.
pub type LocalizedView = BTreeMap<String, String>;

fn localized(l: &LocalizedString) -> LocalizedView {
    l.as_map().clone()
}

/// A field definition as the type routes write it (its schema is [`FieldDefinitionDto`]):
/// `name`, `label`, `required`, `type`, `inputHint`, in this order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDefinitionView {
    name: String,
    label: LocalizedView,
    required: bool,
    #[serde(rename = "type")]
    field_type: FieldTypeView,
    input_hint: &'static str,
}

impl From<&FieldDefinition> for FieldDefinitionView {
    fn from(d: &FieldDefinition) -> Self {
        FieldDefinitionView {
            name: d.name.as_str().to_owned(),
            label: localized(&d.label),
            required: d.required,
            field_type: FieldTypeView::from(&d.field_type),
            input_hint: d.input_hint.name(),
        }
    }
}

/// A field type on the wire: `{"name": "Set", "elementType": {"name": "Enum", "values": […]}}`
/// (`name` first; `values` only for the enums, `elementType` only for a set).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldTypeView {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<Vec<EnumValueView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    element_type: Option<Box<FieldTypeView>>,
}

impl From<&FieldType> for FieldTypeView {
    fn from(t: &FieldType) -> Self {
        let value = |key: &str, label: LabelView| EnumValueView { key: key.to_owned(), label };
        let (values, element_type) = match t {
            FieldType::Enum { values } => {
                (Some(values.iter().map(|v| value(&v.key, LabelView::Plain(v.label.clone()))).collect()), None)
            }
            FieldType::LocalizedEnum { values } => {
                (Some(values.iter().map(|v| value(&v.key, LabelView::Localized(localized(&v.label)))).collect()), None)
            }
            FieldType::Set { element_type } => (None, Some(Box::new(FieldTypeView::from(element_type.as_ref())))),
            _ => (None, None),
        };
        FieldTypeView { name: t.name(), values, element_type }
    }
}

/// A value of an `Enum` or `LocalizedEnum` field type on the wire: `{"key", "label"}`.
#[derive(Debug, Clone, Serialize)]
pub struct EnumValueView {
    key: String,
    label: LabelView,
}

/// The label of an enum value: a text (`Enum`) or a localized string (`LocalizedEnum`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum LabelView {
    Plain(String),
    Localized(LocalizedView),
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
// Request bodies: read with serde into these (see `project_groups::wire`: every field records
// what was sent), converted into the domain's draft and actions by `parse` (`TryFrom`); their
// schemas are the documented ones.
// ------------------------------------------------------------------------------------------

/// A localized string in a body: an object of texts by locale (its entries are checked by
/// `parse`, in order). Documented as an object where it is used.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct LocalizedDto(pub(crate) Map<String, Value>);

/// A field type: `name` is one of `Boolean`, `String`, `LocalizedString`, `Number`, `Date`,
/// `DateTime`, `Enum` (with `values` of `{key, label}`), `LocalizedEnum` (with `values` of
/// `{key, label: {locale: text}}`), `Set` (with `elementType`, any of the others).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FieldType)]
pub struct FieldTypeDto {
    #[schema(value_type = String, example = "Enum")]
    pub(crate) name: Field<String>,
    // Read as `EnumValue`s or `LocalizedEnumValue`s once `name` says which.
    #[schema(value_type = Option<Vec<Object>>, example = json!([{"key": "gold", "label": "Gold"}]))]
    pub(crate) values: Field<Vec<Value>>,
    #[schema(value_type = Option<Object>, example = json!({"name": "Number"}))]
    pub(crate) element_type: Field<Box<FieldTypeDto>>,
}

/// A field definition. Values of custom fields: Boolean `true`, String `"x"`, LocalizedString
/// `{"en": "x"}`, Number any number, Date `"2024-05-01"`, DateTime `"2024-05-01T10:00:00.000Z"`
/// (stored in UTC with milliseconds), Enum/LocalizedEnum the value's key, Set an array.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FieldDefinition)]
pub struct FieldDefinitionDto {
    /// `^[A-Za-z0-9_-]+$`, 2–36 characters, unique in the type.
    #[schema(value_type = String, example = "tier", pattern = "^[A-Za-z0-9_-]{2,36}$")]
    pub(crate) name: Field<String>,
    #[schema(value_type = Object, example = json!({"en": "Tier"}))]
    pub(crate) label: Field<LocalizedDto>,
    #[schema(value_type = bool)]
    pub(crate) required: Field<bool>,
    #[serde(rename = "type")]
    #[schema(value_type = FieldTypeDto)]
    pub(crate) field_type: Field<FieldTypeDto>,
    /// `SingleLine` (default) or `MultiLine`.
    #[schema(value_type = Option<String>, example = "SingleLine", pattern = "^(SingleLine|MultiLine)$")]
    pub(crate) input_hint: Field<String>,
}

/// The body of a create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TypeDraft)]
pub struct TypeDraftDto {
    /// `^[A-Za-z0-9_-]+$`, 2–256 characters, unique in the project.
    #[schema(value_type = String, example = "group-fields", pattern = "^[A-Za-z0-9_-]{2,256}$")]
    pub(crate) key: Field<String>,
    #[schema(value_type = Object, example = json!({"en": "Group fields"}))]
    pub(crate) name: Field<LocalizedDto>,
    #[schema(value_type = Option<Object>)]
    pub(crate) description: Field<LocalizedDto>,
    /// At least one; a type is usable on customer groups when it lists `customer-group`.
    #[schema(value_type = Vec<String>, example = json!(["customer-group"]), min_items = 1)]
    pub(crate) resource_type_ids: Field<Vec<Field<String>>>,
    #[schema(value_type = Option<Vec<FieldDefinitionDto>>)]
    pub(crate) field_definitions: Field<Vec<Field<FieldDefinitionDto>>>,
}

// The `action` of each action below is documented on its DTO but read by `TypeActionDto`.

/// `changeName`: the type's new localized name.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TypeChangeNameAction)]
pub struct TypeChangeNameDto {
    #[serde(rename = "action")]
    #[schema(value_type = String, example = "changeName", pattern = "^changeName$")]
    _action: IgnoredAny,
    #[schema(value_type = Object, example = json!({"en": "Group fields"}))]
    pub(crate) name: Field<LocalizedDto>,
}

/// `setDescription`: an absent `description` removes it.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TypeSetDescriptionAction)]
pub struct TypeSetDescriptionDto {
    #[serde(rename = "action")]
    #[schema(value_type = String, example = "setDescription", pattern = "^setDescription$")]
    _action: IgnoredAny,
    #[schema(value_type = Option<Object>)]
    pub(crate) description: Field<LocalizedDto>,
}

/// `addFieldDefinition`: a new field, unique by name in the type.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TypeAddFieldDefinitionAction)]
pub struct TypeAddFieldDefinitionDto {
    #[serde(rename = "action")]
    #[schema(value_type = String, example = "addFieldDefinition", pattern = "^addFieldDefinition$")]
    _action: IgnoredAny,
    // Boxed: the largest action by far.
    #[schema(value_type = FieldDefinitionDto)]
    pub(crate) field_definition: Field<Box<FieldDefinitionDto>>,
}

/// `removeFieldDefinition`: refused with ReferenceExists while a group uses the field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TypeRemoveFieldDefinitionAction)]
pub struct TypeRemoveFieldDefinitionDto {
    #[serde(rename = "action")]
    #[schema(value_type = String, example = "removeFieldDefinition", pattern = "^removeFieldDefinition$")]
    _action: IgnoredAny,
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{2,36}$")]
    pub(crate) field_name: Field<String>,
}

/// `changeLabel`: a field's new localized label.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TypeChangeLabelAction)]
pub struct TypeChangeLabelDto {
    #[serde(rename = "action")]
    #[schema(value_type = String, example = "changeLabel", pattern = "^changeLabel$")]
    _action: IgnoredAny,
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{2,36}$")]
    pub(crate) field_name: Field<String>,
    #[schema(value_type = Object, example = json!({"en": "Tier"}))]
    pub(crate) label: Field<LocalizedDto>,
}

/// The value of `addEnumValue`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = EnumValue)]
pub struct EnumValueDto {
    #[schema(value_type = String, example = "silver", min_length = 1)]
    pub(crate) key: Field<String>,
    #[schema(value_type = String, example = "Silver")]
    pub(crate) label: Field<String>,
}

/// The value of `addLocalizedEnumValue`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = LocalizedEnumValue)]
pub struct LocalizedEnumValueDto {
    #[schema(value_type = String, example = "silver", min_length = 1)]
    pub(crate) key: Field<String>,
    #[schema(value_type = Object, example = json!({"en": "Silver"}))]
    pub(crate) label: Field<LocalizedDto>,
}

/// `addEnumValue`: a new value of an `Enum` field (or a `Set` of `Enum`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TypeAddEnumValueAction)]
pub struct TypeAddEnumValueDto {
    #[serde(rename = "action")]
    #[schema(value_type = String, example = "addEnumValue", pattern = "^addEnumValue$")]
    _action: IgnoredAny,
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{2,36}$")]
    pub(crate) field_name: Field<String>,
    #[schema(value_type = EnumValueDto)]
    pub(crate) value: Field<EnumValueDto>,
}

/// `addLocalizedEnumValue`: a new value of a `LocalizedEnum` field (or a `Set` of them).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TypeAddLocalizedEnumValueAction)]
pub struct TypeAddLocalizedEnumValueDto {
    #[serde(rename = "action")]
    #[schema(value_type = String, example = "addLocalizedEnumValue", pattern = "^addLocalizedEnumValue$")]
    _action: IgnoredAny,
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{2,36}$")]
    pub(crate) field_name: Field<String>,
    #[schema(value_type = LocalizedEnumValueDto)]
    pub(crate) value: Field<LocalizedEnumValueDto>,
}

/// One update action, told apart by `action`.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
#[schema(as = TypeUpdateAction, discriminator(property_name = "action", mapping(
    ("changeName" = "#/components/schemas/TypeChangeNameAction"),
    ("setDescription" = "#/components/schemas/TypeSetDescriptionAction"),
    ("addFieldDefinition" = "#/components/schemas/TypeAddFieldDefinitionAction"),
    ("removeFieldDefinition" = "#/components/schemas/TypeRemoveFieldDefinitionAction"),
    ("changeLabel" = "#/components/schemas/TypeChangeLabelAction"),
    ("addEnumValue" = "#/components/schemas/TypeAddEnumValueAction"),
    ("addLocalizedEnumValue" = "#/components/schemas/TypeAddLocalizedEnumValueAction"),
)))]
pub enum TypeActionDto {
    ChangeName(TypeChangeNameDto),
    SetDescription(TypeSetDescriptionDto),
    AddFieldDefinition(TypeAddFieldDefinitionDto),
    RemoveFieldDefinition(TypeRemoveFieldDefinitionDto),
    ChangeLabel(TypeChangeLabelDto),
    AddEnumValue(TypeAddEnumValueDto),
    AddLocalizedEnumValue(TypeAddLocalizedEnumValueDto),
    /// An object of `actions` that is none of these (no `action`, or an unknown one), kept to
    /// say why (`wire::not_an_action`); not in the schema.
    #[serde(skip)]
    NotAnAction(Value),
}

impl<'de> Deserialize<'de> for TypeActionDto {
    /// By `action` (see [`wire::action_name`]); the object is read once, then as its action.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let action = match wire::action_name(&value) {
            Some("changeName") => TypeChangeNameDto::deserialize(&value).map(TypeActionDto::ChangeName),
            Some("setDescription") => TypeSetDescriptionDto::deserialize(&value).map(TypeActionDto::SetDescription),
            Some("addFieldDefinition") => {
                TypeAddFieldDefinitionDto::deserialize(&value).map(TypeActionDto::AddFieldDefinition)
            }
            Some("removeFieldDefinition") => {
                TypeRemoveFieldDefinitionDto::deserialize(&value).map(TypeActionDto::RemoveFieldDefinition)
            }
            Some("changeLabel") => TypeChangeLabelDto::deserialize(&value).map(TypeActionDto::ChangeLabel),
            Some("addEnumValue") => TypeAddEnumValueDto::deserialize(&value).map(TypeActionDto::AddEnumValue),
            Some("addLocalizedEnumValue") => {
                TypeAddLocalizedEnumValueDto::deserialize(&value).map(TypeActionDto::AddLocalizedEnumValue)
            }
            _ => return Ok(TypeActionDto::NotAnAction(value)),
        };
        action.map_err(D::Error::custom)
    }
}

/// The body of an update: the expected version and up to 500 actions, applied atomically in order.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TypeUpdate)]
pub struct TypeUpdateDto {
    /// The type's current version; another one answers 409 ConcurrentModification.
    #[schema(value_type = i64)]
    pub(crate) version: Field<WireVersion>,
    #[schema(value_type = Vec<TypeActionDto>, max_items = 500)]
    pub(crate) actions: Field<Vec<Field<TypeActionDto>>>,
}

wire_objects!(
    LocalizedDto,
    FieldTypeDto,
    FieldDefinitionDto,
    TypeDraftDto,
    EnumValueDto,
    LocalizedEnumValueDto,
    TypeActionDto,
    TypeUpdateDto,
);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use xclade_domain::custom_type::{
        EnumValue, FieldDefinition, FieldName, FieldType, InputHint, LocalizedEnumValue, TypeKey, TypeParts,
    };
    use xclade_domain::customer_group::Version;
    use xclade_domain::TypeId;

    fn two(en: &str, de: &str) -> LocalizedString {
        LocalizedString::new("label", [("en".to_owned(), en.to_owned()), ("de".to_owned(), de.to_owned())].into())
            .expect("valid")
    }

    fn with(name: &str, t: FieldType, required: bool, hint: InputHint) -> FieldDefinition {
        FieldDefinition::new(FieldName::parse(name).expect("name"), two(name, &name.to_uppercase()), required, t, hint)
            .expect("def")
    }

    /// The wire JSON of a type with every field type and both input hints, byte for byte.
    #[test]
    fn the_wire_json_of_a_type_is_unchanged() {
        let enums = || FieldType::Enum {
            values: vec![
                EnumValue { key: "gold".into(), label: "Gold".into() },
                EnumValue { key: "silver".into(), label: "Silver \"S\"".into() },
            ],
        };
        let lenums = || FieldType::LocalizedEnum {
            values: vec![LocalizedEnumValue { key: "red".into(), label: two("Red", "Rot") }],
        };
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("time");
        let t = Type::from_parts(TypeParts {
            id: TypeId(uuid::Uuid::nil()),
            version: Version::new(3).expect("version"),
            key: TypeKey::parse("every-field").expect("key"),
            name: two("Every field", "Jedes Feld"),
            description: Some(two("All of them", "Alle")),
            resource_type_ids: vec!["customer-group".into()],
            field_definitions: vec![
                with("flag", FieldType::Boolean, true, InputHint::SingleLine),
                with("note", FieldType::String, false, InputHint::MultiLine),
                with("title", FieldType::LocalizedString, false, InputHint::SingleLine),
                with("points", FieldType::Number, false, InputHint::SingleLine),
                with("born", FieldType::Date, false, InputHint::SingleLine),
                with("seen", FieldType::DateTime, false, InputHint::SingleLine),
                with("tier", enums(), false, InputHint::SingleLine),
                with("color", lenums(), false, InputHint::SingleLine),
                with("tiers", FieldType::Set { element_type: Box::new(enums()) }, false, InputHint::SingleLine),
                with("colors", FieldType::Set { element_type: Box::new(lenums()) }, false, InputHint::SingleLine),
                with(
                    "numbers",
                    FieldType::Set { element_type: Box::new(FieldType::Number) },
                    false,
                    InputHint::MultiLine,
                ),
            ],
            created_at: at,
            created_by: None,
            last_modified_at: at,
            last_modified_by: None,
        });
        let wire = serde_json::to_string(&TypeView::from(&t)).expect("json");
        assert_eq!(
            wire,
            concat!(
                r#"{"id":"00000000-0000-0000-0000-000000000000","version":3,"key":"every-field","name":{"de":"Jedes Feld","en":"Every field"},"description":{"de":"Alle","en":"All of them"},"resourceTypeIds":["customer-group"],"fieldDefinitions":["#,
                r#"{"name":"flag","label":{"de":"FLAG","en":"flag"},"required":true,"type":{"name":"Boolean"},"inputHint":"SingleLine"},"#,
                r#"{"name":"note","label":{"de":"NOTE","en":"note"},"required":false,"type":{"name":"String"},"inputHint":"MultiLine"},"#,
                r#"{"name":"title","label":{"de":"TITLE","en":"title"},"required":false,"type":{"name":"LocalizedString"},"inputHint":"SingleLine"},"#,
                r#"{"name":"points","label":{"de":"POINTS","en":"points"},"required":false,"type":{"name":"Number"},"inputHint":"SingleLine"},"#,
                r#"{"name":"born","label":{"de":"BORN","en":"born"},"required":false,"type":{"name":"Date"},"inputHint":"SingleLine"},"#,
                r#"{"name":"seen","label":{"de":"SEEN","en":"seen"},"required":false,"type":{"name":"DateTime"},"inputHint":"SingleLine"},"#,
                r#"{"name":"tier","label":{"de":"TIER","en":"tier"},"required":false,"type":{"name":"Enum","values":[{"key":"gold","label":"Gold"},{"key":"silver","label":"Silver \"S\""}]},"inputHint":"SingleLine"},"#,
                r#"{"name":"color","label":{"de":"COLOR","en":"color"},"required":false,"type":{"name":"LocalizedEnum","values":[{"key":"red","label":{"de":"Rot","en":"Red"}}]},"inputHint":"SingleLine"},"#,
                r#"{"name":"tiers","label":{"de":"TIERS","en":"tiers"},"required":false,"type":{"name":"Set","elementType":{"name":"Enum","values":[{"key":"gold","label":"Gold"},{"key":"silver","label":"Silver \"S\""}]}},"inputHint":"SingleLine"},"#,
                r#"{"name":"colors","label":{"de":"COLORS","en":"colors"},"required":false,"type":{"name":"Set","elementType":{"name":"LocalizedEnum","values":[{"key":"red","label":{"de":"Rot","en":"Red"}}]}},"inputHint":"SingleLine"},"#,
                r#"{"name":"numbers","label":{"de":"NUMBERS","en":"numbers"},"required":false,"type":{"name":"Set","elementType":{"name":"Number"}},"inputHint":"MultiLine"}"#,
                r#"],"createdAt":"2024-05-01T12:00:00.000Z","lastModifiedAt":"2024-05-01T12:00:00.000Z"}"#
            )
        );
    }
}
