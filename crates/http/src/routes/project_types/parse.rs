//! The pure part of the type routes: the typed bodies (`dto`) converted into `TypeDraft`, field
//! definitions and update actions with the family's messages, and the query parameters (the
//! groups' machinery with the type's fields).

use super::dto::{
    EnumValueDto, FieldDefinitionDto, FieldTypeDto, LocalizedDto, LocalizedEnumValueDto, TypeActionDto, TypeDraftDto,
    TypeUpdateDto,
};
use crate::error::ProjectError;
use crate::query::QueryPairs;
use crate::routes::project_groups::parse::{resource_query, QueryFields};
use crate::routes::project_groups::wire::{self, expected, join, Field, Wire};
use serde_json::Value;
use std::collections::BTreeMap;
use xclade_domain::custom_type::{
    EnumValue, FieldDefinition, FieldName, FieldType, InputHint, LocalizedEnumValue, LocalizedString, TypeAction,
    TypeDraft, TypeKey, TypeQuery,
};
use xclade_domain::customer_group::ExpectedVersion;

/// What a type query's `where` may name. `name` is localized and cannot be compared.
pub const TYPE_QUERY: QueryFields = QueryFields {
    plain: &["id", "key", "version", "createdAt", "lastModifiedAt"],
    numeric: &["version"],
    datetime: &["createdAt", "lastModifiedAt"],
    custom: false,
};

/// `where`, `var.*`, `sort`, `limit`, `offset`, `withTotal`, as for groups.
pub fn type_query(pairs: &QueryPairs) -> Result<TypeQuery, ProjectError> {
    resource_query(pairs, &TYPE_QUERY)
}

// ------------------------------------------------------------------------------------------
// JSON bodies: the DTOs (`dto`) converted into the domain's draft and actions, field by field
// in order, with the family's messages (see `project_groups::wire`).
// ------------------------------------------------------------------------------------------

/// A `LocalizedString` at `path`: every entry a text (the first one that is not is reported),
/// then the domain's rules.
fn localized(dto: LocalizedDto, path: &str) -> Result<LocalizedString, ProjectError> {
    let mut entries = BTreeMap::new();
    for (locale, text) in dto.0 {
        match text {
            Value::String(s) => {
                entries.insert(locale, s);
            }
            _ => return Err(expected(&join(path, &locale), "string")),
        }
    }
    Ok(LocalizedString::new(path, entries)?)
}

/// A required localized string: the field `name` of the object at `path`.
fn required_localized(field: Field<LocalizedDto>, path: &str, name: &str) -> Result<LocalizedString, ProjectError> {
    let path = join(path, name);
    localized(field.required(&path)?, &path)
}

/// An optional localized string: the field `name` of the object at `path`.
fn optional_localized(
    field: Field<LocalizedDto>,
    path: &str,
    name: &str,
) -> Result<Option<LocalizedString>, ProjectError> {
    let path = join(path, name);
    field.optional(&path)?.map(|l| localized(l, &path)).transpose()
}

/// `{"key", "label"}` of an `Enum`, at `path`.
fn enum_value(dto: EnumValueDto, path: &str) -> Result<EnumValue, ProjectError> {
    Ok(EnumValue { key: dto.key.required(&join(path, "key"))?, label: dto.label.required(&join(path, "label"))? })
}

/// `{"key", "label": {…}}` of a `LocalizedEnum`, at `path`.
fn localized_enum_value(dto: LocalizedEnumValueDto, path: &str) -> Result<LocalizedEnumValue, ProjectError> {
    Ok(LocalizedEnumValue {
        key: dto.key.required(&join(path, "key"))?,
        label: required_localized(dto.label, path, "label")?,
    })
}

/// The `values` of an `Enum` or `LocalizedEnum` field type at `path`, each read as `T` now that
/// the type's `name` says which.
fn values<T: Wire, V>(
    values: Field<Vec<Value>>,
    path: &str,
    read: impl Fn(T, &str) -> Result<V, ProjectError>,
) -> Result<Vec<V>, ProjectError> {
    let path = join(path, "values");
    values.required(&path)?.into_iter().map(|v| read(Field::<T>::of(v).element(&path)?, &path)).collect()
}

/// A `FieldType` at `path`: `{"name": "Boolean" | … | "Enum", "values": […] | "Set",
/// "elementType": {…}}`.
fn field_type(dto: FieldTypeDto, path: &str) -> Result<FieldType, ProjectError> {
    let name_path = join(path, "name");
    Ok(match dto.name.required(&name_path)?.as_str() {
        "Boolean" => FieldType::Boolean,
        "String" => FieldType::String,
        "LocalizedString" => FieldType::LocalizedString,
        "Number" => FieldType::Number,
        "Date" => FieldType::Date,
        "DateTime" => FieldType::DateTime,
        "Enum" => FieldType::Enum { values: values(dto.values, path, enum_value)? },
        "LocalizedEnum" => FieldType::LocalizedEnum { values: values(dto.values, path, localized_enum_value)? },
        "Set" => {
            let element_path = join(path, "elementType");
            let element = dto.element_type.required(&element_path)?;
            FieldType::Set { element_type: Box::new(field_type(*element, &element_path)?) }
        }
        other => {
            return Err(ProjectError::InvalidJson(format!(
                "{name_path}: Unknown field type '{other}'. Expected one of Boolean, String, LocalizedString, Number, Date, DateTime, Enum, LocalizedEnum, Set."
            )))
        }
    })
}

/// A `FieldDefinition` at `path`: `name`, `label`, `required`, `type`, `inputHint`?.
fn field_definition(dto: FieldDefinitionDto, path: &str) -> Result<FieldDefinition, ProjectError> {
    let name = dto.name.required(&join(path, "name"))?;
    let label = required_localized(dto.label, path, "label")?;
    let required = dto.required.required(&join(path, "required"))?;
    let type_path = join(path, "type");
    let t = field_type(dto.field_type.required(&type_path)?, &type_path)?;
    let hint_path = join(path, "inputHint");
    let input_hint = match dto.input_hint.optional(&hint_path)?.as_deref() {
        None | Some("SingleLine") => InputHint::SingleLine,
        Some("MultiLine") => InputHint::MultiLine,
        Some(other) => {
            return Err(ProjectError::InvalidJson(format!(
                "{hint_path}: Invalid value '{other}', expected 'SingleLine' or 'MultiLine'."
            )))
        }
    };
    Ok(FieldDefinition::new(FieldName::parse(&name)?, label, required, t, input_hint)?)
}

/// A `TypeDraft`: `key`, `name`, `description`?, `resourceTypeIds`, `fieldDefinitions`?;
/// unknown fields are ignored.
impl TryFrom<TypeDraftDto> for TypeDraft {
    type Error = ProjectError;

    fn try_from(dto: TypeDraftDto) -> Result<Self, ProjectError> {
        let key = dto.key.required("key")?;
        let name = required_localized(dto.name, "", "name")?;
        let description = optional_localized(dto.description, "", "description")?;
        let resource_type_ids = dto
            .resource_type_ids
            .required("resourceTypeIds")?
            .into_iter()
            .map(|id| id.element("resourceTypeIds"))
            .collect::<Result<Vec<_>, _>>()?;
        let definitions = dto
            .field_definitions
            .optional("fieldDefinitions")?
            .unwrap_or_default()
            .into_iter()
            .map(|d| field_definition(d.element("fieldDefinitions")?, "fieldDefinitions"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TypeDraft::new(TypeKey::parse(&key)?, name, description, resource_type_ids, definitions)?)
    }
}

/// One update action of a type (its fields are at `actions`).
impl TryFrom<TypeActionDto> for TypeAction {
    type Error = ProjectError;

    fn try_from(dto: TypeActionDto) -> Result<Self, ProjectError> {
        const AT: &str = "actions";
        let field_name = |f: Field<String>| f.required("actions -> fieldName");
        Ok(match dto {
            TypeActionDto::ChangeName(a) => TypeAction::ChangeName(required_localized(a.name, AT, "name")?),
            TypeActionDto::SetDescription(a) => {
                TypeAction::SetDescription(optional_localized(a.description, AT, "description")?)
            }
            TypeActionDto::AddFieldDefinition(a) => {
                let path = join(AT, "fieldDefinition");
                TypeAction::AddFieldDefinition(field_definition(*a.field_definition.required(&path)?, &path)?)
            }
            TypeActionDto::RemoveFieldDefinition(a) => TypeAction::RemoveFieldDefinition(field_name(a.field_name)?),
            TypeActionDto::ChangeLabel(a) => TypeAction::ChangeLabel {
                field_name: field_name(a.field_name)?,
                label: required_localized(a.label, AT, "label")?,
            },
            TypeActionDto::AddEnumValue(a) => {
                let field_name = field_name(a.field_name)?;
                let path = join(AT, "value");
                TypeAction::AddEnumValue { field_name, value: enum_value(a.value.required(&path)?, &path)? }
            }
            TypeActionDto::AddLocalizedEnumValue(a) => {
                let field_name = field_name(a.field_name)?;
                let path = join(AT, "value");
                TypeAction::AddLocalizedEnumValue {
                    field_name,
                    value: localized_enum_value(a.value.required(&path)?, &path)?,
                }
            }
            TypeActionDto::NotAnAction(raw) => return Err(wire::not_an_action(&raw)),
        })
    }
}

/// An update body: `{"version", "actions": […]}`.
impl TryFrom<TypeUpdateDto> for (ExpectedVersion, Vec<TypeAction>) {
    type Error = ProjectError;

    fn try_from(dto: TypeUpdateDto) -> Result<Self, ProjectError> {
        wire::update(dto.version, dto.actions)
    }
}

/// A create body read and converted.
pub fn type_draft(body: &Value) -> Result<TypeDraft, ProjectError> {
    wire::body::<TypeDraftDto>(body)?.try_into()
}

/// An update body read and converted.
pub fn type_update(body: &Value) -> Result<(ExpectedVersion, Vec<TypeAction>), ProjectError> {
    wire::body::<TypeUpdateDto>(body)?.try_into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use xclade_domain::DomainError;

    fn json_detail<T: std::fmt::Debug>(r: Result<T, ProjectError>) -> String {
        match r {
            Err(ProjectError::InvalidJson(d)) => d,
            other => panic!("expected InvalidJsonInput, got {other:?}"),
        }
    }

    fn full_draft() -> Value {
        json!({
            "key": "group-fields",
            "name": {"en": "Group fields"},
            "description": {"en": "d"},
            "resourceTypeIds": ["customer-group"],
            "fieldDefinitions": [
                {"name": "flag", "label": {"en": "F"}, "required": false, "type": {"name": "Boolean"}},
                {"name": "note", "label": {"en": "N"}, "required": false, "type": {"name": "String"}, "inputHint": "MultiLine"},
                {"name": "title", "label": {"en": "T"}, "required": true, "type": {"name": "LocalizedString"}},
                {"name": "points", "label": {"en": "P"}, "required": false, "type": {"name": "Number"}},
                {"name": "born", "label": {"en": "B"}, "required": false, "type": {"name": "Date"}},
                {"name": "seen", "label": {"en": "S"}, "required": false, "type": {"name": "DateTime"}},
                {"name": "tier", "label": {"en": "T"}, "required": false, "type": {"name": "Enum", "values": [{"key": "gold", "label": "Gold"}]}},
                {"name": "color", "label": {"en": "C"}, "required": false, "type": {"name": "LocalizedEnum", "values": [{"key": "red", "label": {"en": "Red"}}]}},
                {"name": "tags", "label": {"en": "T"}, "required": false, "type": {"name": "Set", "elementType": {"name": "Enum", "values": [{"key": "a", "label": "A"}]}}},
            ],
        })
    }

    #[test]
    fn drafts_read_every_field_type() {
        let d = type_draft(&full_draft()).expect("ok");
        assert_eq!(d.key.as_str(), "group-fields");
        assert_eq!(d.field_definitions.len(), 9);
        // What is read is what the type routes write back (the platform's shape).
        let views: Vec<_> =
            d.field_definitions.iter().map(crate::routes::project_types::dto::FieldDefinitionView::from).collect();
        let back = serde_json::to_value(&views).expect("json");
        assert_eq!(back[1]["inputHint"], json!("MultiLine"));
        assert_eq!(back[0]["inputHint"], json!("SingleLine"));
        assert_eq!(back[8]["type"], full_draft()["fieldDefinitions"][8]["type"]);
        let minimal = type_draft(&json!({"key": "kk", "name": {"en": "K"}, "resourceTypeIds": ["customer-group"]}));
        assert_eq!(minimal.expect("ok").field_definitions, vec![]);
    }

    #[test]
    fn draft_shape_errors() {
        let mut no_key = full_draft();
        no_key.as_object_mut().map(|o| o.remove("key"));
        assert_eq!(json_detail(type_draft(&no_key)), "key: Missing required value");
        let mut bad_name = full_draft();
        bad_name["name"] = json!("Group");
        assert_eq!(json_detail(type_draft(&bad_name)), "name: JSON object expected.");
        let mut bad_locale = full_draft();
        bad_locale["name"] = json!({"en": 1});
        assert_eq!(json_detail(type_draft(&bad_locale)), "name -> en: JSON string expected.");
        let mut bad_type = full_draft();
        bad_type["fieldDefinitions"][0]["type"] = json!({"name": "Money"});
        assert!(json_detail(type_draft(&bad_type))
            .starts_with("fieldDefinitions -> type -> name: Unknown field type 'Money'."));
        let mut no_required = full_draft();
        no_required["fieldDefinitions"][0].as_object_mut().map(|o| o.remove("required"));
        assert_eq!(json_detail(type_draft(&no_required)), "fieldDefinitions -> required: Missing required value");
        let mut no_values = full_draft();
        no_values["fieldDefinitions"][6]["type"] = json!({"name": "Enum"});
        assert_eq!(json_detail(type_draft(&no_values)), "fieldDefinitions -> type -> values: Missing required value");
        let mut no_ids = full_draft();
        no_ids["resourceTypeIds"] = json!("customer-group");
        assert_eq!(json_detail(type_draft(&no_ids)), "resourceTypeIds: JSON array expected.");
    }

    #[test]
    fn draft_rule_errors() {
        let mut dup = full_draft();
        dup["fieldDefinitions"][1]["name"] = json!("flag");
        assert!(matches!(type_draft(&dup), Err(ProjectError::Domain(DomainError::InvalidOperation(_)))));
        let mut bad_field_name = full_draft();
        bad_field_name["fieldDefinitions"][1]["name"] = json!("a b");
        assert!(matches!(type_draft(&bad_field_name), Err(ProjectError::Domain(DomainError::Validation { .. }))));
        let mut nested = full_draft();
        nested["fieldDefinitions"][8]["type"]["elementType"] =
            json!({"name": "Set", "elementType": {"name": "String"}});
        assert!(matches!(type_draft(&nested), Err(ProjectError::Domain(DomainError::Validation { .. }))));
        let mut no_resource = full_draft();
        no_resource["resourceTypeIds"] = json!([]);
        assert!(matches!(type_draft(&no_resource), Err(ProjectError::Domain(DomainError::Validation { .. }))));
    }

    #[test]
    fn every_action() {
        let (version, actions) = type_update(&json!({"version": 3, "actions": [
            {"action": "changeName", "name": {"en": "N"}},
            {"action": "setDescription"},
            {"action": "setDescription", "description": {"en": "D"}},
            {"action": "addFieldDefinition", "fieldDefinition": {"name": "extra", "label": {"en": "E"}, "required": false, "type": {"name": "String"}}},
            {"action": "removeFieldDefinition", "fieldName": "extra"},
            {"action": "changeLabel", "fieldName": "tier", "label": {"en": "Tier"}},
            {"action": "addEnumValue", "fieldName": "tier", "value": {"key": "silver", "label": "Silver"}},
            {"action": "addLocalizedEnumValue", "fieldName": "color", "value": {"key": "blue", "label": {"en": "Blue"}}},
        ]}))
        .expect("ok");
        assert_eq!(version, ExpectedVersion::new(3));
        assert_eq!(actions.len(), 8);
        assert!(matches!(&actions[1], TypeAction::SetDescription(None)));
        assert!(
            matches!(&actions[6], TypeAction::AddEnumValue { field_name, value } if field_name == "tier" && value.key == "silver")
        );
        assert!(
            matches!(type_update(&json!({"version": 1, "actions": [{"action": "nope"}]})), Err(ProjectError::InvalidInput(m)) if m == "Invalid action nope")
        );
        assert_eq!(
            json_detail(type_update(&json!({"version": 1, "actions": [{"action": "removeFieldDefinition"}]}))),
            "actions -> fieldName: Missing required value"
        );
        assert_eq!(json_detail(type_update(&json!({"actions": []}))), "version: Missing required value");
    }

    /// serde reads a struct from an array too (field by position); the bodies never do.
    #[test]
    fn arrays_are_not_objects() {
        let mut positional = full_draft();
        positional["fieldDefinitions"] = json!([["flag", {"en": "F"}, false, {"name": "Boolean"}]]);
        assert_eq!(json_detail(type_draft(&positional)), "fieldDefinitions: JSON object expected.");
        let mut positional_type = full_draft();
        positional_type["fieldDefinitions"][0]["type"] = json!(["Boolean"]);
        assert_eq!(json_detail(type_draft(&positional_type)), "fieldDefinitions -> type: JSON object expected.");
        let mut positional_value = full_draft();
        positional_value["fieldDefinitions"][6]["type"]["values"] = json!([["gold", "Gold"]]);
        assert_eq!(
            json_detail(type_draft(&positional_value)),
            "fieldDefinitions -> type -> values: JSON object expected."
        );
        assert_eq!(json_detail(type_draft(&json!(["kk"]))), "The request body must be a JSON object.");
        let update = |action: Value| type_update(&json!({"version": 1, "actions": [action]}));
        assert_eq!(
            json_detail(update(json!({"action": "addEnumValue", "fieldName": "tier", "value": ["silver", "Silver"]}))),
            "actions -> value: JSON object expected."
        );
        assert_eq!(
            json_detail(update(
                json!({"action": "addFieldDefinition", "fieldDefinition": ["x", {"en": "X"}, true, {"name": "String"}]})
            )),
            "actions -> fieldDefinition: JSON object expected."
        );
    }

    /// Localized strings report the first entry that is not a text, in the body's order.
    #[test]
    fn localized_entries_in_order() {
        let mut draft = full_draft();
        draft["name"] = json!({"en": "N", "fr": 1, "de": 2});
        assert_eq!(json_detail(type_draft(&draft)), "name -> fr: JSON string expected.");
        draft["name"] = json!({"de": 2, "fr": 1});
        assert_eq!(json_detail(type_draft(&draft)), "name -> de: JSON string expected.");
        let mut label = full_draft();
        label["fieldDefinitions"][7]["type"]["values"][0]["label"] = json!({"en": null});
        assert_eq!(
            json_detail(type_draft(&label)),
            "fieldDefinitions -> type -> values -> label -> en: JSON string expected."
        );
    }

    #[test]
    fn queries_reuse_the_group_machinery() {
        let q = type_query(&QueryPairs::parse("where=key%3D%22a%22&sort=name+desc&limit=5")).expect("ok");
        assert_eq!((q.limit, q.sort.len(), q.predicate.is_some()), (5, 1, true));
        assert!(type_query(&QueryPairs::parse("where=custom(fields(a))%3D1")).is_err());
        assert!(type_query(&QueryPairs::parse("where=name%3D%22a%22")).is_err());
    }
}
