//! The pure part of the type routes: `TypeDraft`, field definitions and update actions read
//! from raw JSON with the family's messages, and the query parameters (the groups' machinery
//! with the type's fields).

use crate::error::ProjectError;
use crate::query::QueryPairs;
use crate::routes::project_groups::parse::{resource_query, QueryFields};
use crate::routes::project_groups::wire::{expected, join, missing};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use xclade_domain::custom_type::{
    EnumValue, FieldDefinition, FieldName, FieldType, InputHint, LocalizedEnumValue, LocalizedString, TypeAction,
    TypeDraft, TypeKey, TypeQuery,
};
use xclade_domain::customer_group::{ExpectedVersion, MAX_ACTIONS};

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

/// A JSON object being read field by field; `path` prefixes every detailed message.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Obj<'a> {
    fn of(value: &'a Value, path: &'a str) -> Result<Obj<'a>, ProjectError> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            _ if path.is_empty() => Err(ProjectError::InvalidJson("The request body must be a JSON object.".into())),
            _ => Err(expected(path, "object")),
        }
    }

    /// The field, with null counted as absent.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// `version`: a JSON integer. A number with no fractional part (`3.0`) counts as one, as
    /// JSON Schema says.
    fn version(&self) -> Result<ExpectedVersion, ProjectError> {
        let value = self.get("version").ok_or_else(|| missing(&join(self.path, "version")))?;
        let integral = value.as_i64().or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= i64::MIN as f64 && *f < i64::MAX as f64)
                .map(|f| f as i64)
        });
        integral.map(ExpectedVersion::new).ok_or_else(|| expected(&join(self.path, "version"), "integer"))
    }

    fn required_string(&self, name: &str) -> Result<&'a str, ProjectError> {
        match self.get(name) {
            None => Err(missing(&join(self.path, name))),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(expected(&join(self.path, name), "string")),
        }
    }

    fn optional_string(&self, name: &str) -> Result<Option<&'a str>, ProjectError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(expected(&join(self.path, name), "string")),
        }
    }

    fn required(&self, name: &str) -> Result<&'a Value, ProjectError> {
        self.get(name).ok_or_else(|| missing(&join(self.path, name)))
    }

    fn required_bool(&self, name: &str) -> Result<bool, ProjectError> {
        match self.get(name) {
            None => Err(missing(&join(self.path, name))),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(expected(&join(self.path, name), "boolean")),
        }
    }

    fn required_array(&self, name: &str) -> Result<&'a Vec<Value>, ProjectError> {
        match self.get(name) {
            None => Err(missing(&join(self.path, name))),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(expected(&join(self.path, name), "array")),
        }
    }
}

/// A `LocalizedString`: an object of strings by locale.
fn localized(value: &Value, path: &str) -> Result<LocalizedString, ProjectError> {
    let obj = Obj::of(value, path)?;
    let mut entries = BTreeMap::new();
    for (locale, text) in obj.map {
        match text {
            Value::String(s) => {
                entries.insert(locale.clone(), s.clone());
            }
            _ => return Err(expected(&join(path, locale), "string")),
        }
    }
    Ok(LocalizedString::new(path, entries)?)
}

fn required_localized(obj: &Obj<'_>, name: &str) -> Result<LocalizedString, ProjectError> {
    localized(obj.required(name)?, &join(obj.path, name))
}

/// `{"key", "label"}` of an `Enum`.
fn enum_value(value: &Value, path: &str) -> Result<EnumValue, ProjectError> {
    let obj = Obj::of(value, path)?;
    Ok(EnumValue { key: obj.required_string("key")?.to_owned(), label: obj.required_string("label")?.to_owned() })
}

/// `{"key", "label": {…}}` of a `LocalizedEnum`.
fn localized_enum_value(value: &Value, path: &str) -> Result<LocalizedEnumValue, ProjectError> {
    let obj = Obj::of(value, path)?;
    Ok(LocalizedEnumValue { key: obj.required_string("key")?.to_owned(), label: required_localized(&obj, "label")? })
}

/// A `FieldType`: `{"name": "Boolean" | … | "Enum", "values": […] | "Set", "elementType": {…}}`.
fn field_type(value: &Value, path: &str) -> Result<FieldType, ProjectError> {
    let obj = Obj::of(value, path)?;
    let values_path = join(path, "values");
    Ok(match obj.required_string("name")? {
        "Boolean" => FieldType::Boolean,
        "String" => FieldType::String,
        "LocalizedString" => FieldType::LocalizedString,
        "Number" => FieldType::Number,
        "Date" => FieldType::Date,
        "DateTime" => FieldType::DateTime,
        "Enum" => FieldType::Enum {
            values: obj
                .required_array("values")?
                .iter()
                .map(|v| enum_value(v, &values_path))
                .collect::<Result<_, _>>()?,
        },
        "LocalizedEnum" => FieldType::LocalizedEnum {
            values: obj
                .required_array("values")?
                .iter()
                .map(|v| localized_enum_value(v, &values_path))
                .collect::<Result<_, _>>()?,
        },
        "Set" => {
            let element = obj.required("elementType")?;
            FieldType::Set { element_type: Box::new(field_type(element, &join(path, "elementType"))?) }
        }
        other => {
            return Err(ProjectError::InvalidJson(format!(
                "{}: Unknown field type '{other}'. Expected one of Boolean, String, LocalizedString, Number, Date, DateTime, Enum, LocalizedEnum, Set.",
                join(path, "name")
            )))
        }
    })
}

/// A `FieldDefinition`: `name`, `label`, `required`, `type`, `inputHint`?.
fn field_definition(value: &Value, path: &str) -> Result<FieldDefinition, ProjectError> {
    let obj = Obj::of(value, path)?;
    let name = obj.required_string("name")?;
    let label = required_localized(&obj, "label")?;
    let required = obj.required_bool("required")?;
    let t = field_type(obj.required("type")?, &join(path, "type"))?;
    let input_hint = match obj.optional_string("inputHint")? {
        None | Some("SingleLine") => InputHint::SingleLine,
        Some("MultiLine") => InputHint::MultiLine,
        Some(other) => {
            return Err(ProjectError::InvalidJson(format!(
                "{}: Invalid value '{other}', expected 'SingleLine' or 'MultiLine'.",
                join(path, "inputHint")
            )))
        }
    };
    Ok(FieldDefinition::new(FieldName::parse(name)?, label, required, t, input_hint)?)
}

/// A `TypeDraft`: `key`, `name`, `description`?, `resourceTypeIds`, `fieldDefinitions`?;
/// unknown fields are ignored.
pub fn type_draft(body: &Value) -> Result<TypeDraft, ProjectError> {
    let obj = Obj::of(body, "")?;
    let key = obj.required_string("key")?;
    let name = required_localized(&obj, "name")?;
    let description = obj.get("description").map(|d| localized(d, "description")).transpose()?;
    let mut resource_type_ids = Vec::new();
    for id in obj.required_array("resourceTypeIds")? {
        match id {
            Value::String(s) => resource_type_ids.push(s.clone()),
            _ => return Err(expected("resourceTypeIds", "string")),
        }
    }
    let definitions = match obj.get("fieldDefinitions") {
        None => Vec::new(),
        Some(Value::Array(items)) => {
            items.iter().map(|d| field_definition(d, "fieldDefinitions")).collect::<Result<_, _>>()?
        }
        Some(_) => return Err(expected("fieldDefinitions", "array")),
    };
    Ok(TypeDraft::new(TypeKey::parse(key)?, name, description, resource_type_ids, definitions)?)
}

/// One update action of a type.
fn action(value: &Value) -> Result<TypeAction, ProjectError> {
    let obj = Obj::of(value, "actions")?;
    let field_name = || obj.required_string("fieldName").map(str::to_owned);
    Ok(match obj.required_string("action")? {
        "changeName" => TypeAction::ChangeName(required_localized(&obj, "name")?),
        "setDescription" => TypeAction::SetDescription(
            obj.get("description").map(|d| localized(d, "actions -> description")).transpose()?,
        ),
        "addFieldDefinition" => TypeAction::AddFieldDefinition(field_definition(
            obj.required("fieldDefinition")?,
            "actions -> fieldDefinition",
        )?),
        "removeFieldDefinition" => TypeAction::RemoveFieldDefinition(field_name()?),
        "changeLabel" => {
            TypeAction::ChangeLabel { field_name: field_name()?, label: required_localized(&obj, "label")? }
        }
        "addEnumValue" => TypeAction::AddEnumValue {
            field_name: field_name()?,
            value: enum_value(obj.required("value")?, "actions -> value")?,
        },
        "addLocalizedEnumValue" => TypeAction::AddLocalizedEnumValue {
            field_name: field_name()?,
            value: localized_enum_value(obj.required("value")?, "actions -> value")?,
        },
        other => return Err(ProjectError::InvalidInput(format!("Invalid action {other}"))),
    })
}

/// An update body: `{"version", "actions": […]}`.
pub fn type_update(body: &Value) -> Result<(ExpectedVersion, Vec<TypeAction>), ProjectError> {
    let obj = Obj::of(body, "")?;
    let version = obj.version()?;
    let actions = obj.required_array("actions")?;
    if actions.len() > MAX_ACTIONS {
        return Err(ProjectError::InvalidInput(format!(
            "At most {MAX_ACTIONS} update actions are allowed per request."
        )));
    }
    let actions = actions.iter().map(action).collect::<Result<Vec<_>, _>>()?;
    Ok((version, actions))
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

    #[test]
    fn queries_reuse_the_group_machinery() {
        let q = type_query(&QueryPairs::parse("where=key%3D%22a%22&sort=name+desc&limit=5")).expect("ok");
        assert_eq!((q.limit, q.sort.len(), q.predicate.is_some()), (5, 1, true));
        assert!(type_query(&QueryPairs::parse("where=custom(fields(a))%3D1")).is_err());
        assert!(type_query(&QueryPairs::parse("where=name%3D%22a%22")).is_err());
    }
}
