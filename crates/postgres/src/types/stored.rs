//! The stored JSON of a type's localized strings and field definitions (the `name`,
//! `description` and `field_definitions` columns), and its translation to and from the domain's
//! values. Reading goes through the domain's checked constructors: a stored value they refuse
//! was changed behind the service's back and is an internal error.
//!
//! The JSON must stay exactly what it has always been (`stored_type_json_is_unchanged` in
//! `tests/postgres/types.rs` pins it): `{"name", "label", "required", "type", "inputHint"}`,
//! the type tagged by `name` with `values` or `elementType`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;
use xclade_domain::custom_type::{
    EnumValue, FieldDefinition, FieldName, FieldType, InputHint, LocalizedEnumValue, LocalizedString,
};
use xclade_domain::DomainError;

use crate::models::{corrupt, stored};

/// A stored localized string: locale → text.
pub(crate) type StoredLocalized = BTreeMap<String, String>;

/// The stored JSON of a localized string.
pub(crate) fn localized_json(l: &LocalizedString) -> Value {
    Value::Object(l.as_map().iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// A stored localized string through [`LocalizedString::new`].
pub(crate) fn localized(what: &'static str, id: Uuid, l: StoredLocalized) -> Result<LocalizedString, DomainError> {
    LocalizedString::new(what, l).map_err(|e| stored(what, id, e))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredFieldDefinition {
    name: String,
    label: StoredLocalized,
    required: bool,
    #[serde(rename = "type")]
    field_type: StoredFieldType,
    #[serde(default)]
    input_hint: StoredInputHint,
}

/// A stored field type: `{"name": …}`, the domain's [`FieldType::name`], with `values` for
/// `Enum` and `LocalizedEnum` and `elementType` for `Set`.
#[derive(Debug, Serialize, Deserialize)]
struct StoredFieldType {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    values: Option<Vec<StoredEnumValue>>,
    #[serde(rename = "elementType", default, skip_serializing_if = "Option::is_none")]
    element_type: Option<Box<StoredFieldType>>,
}

/// A stored enum value; its label is a string (`Enum`) or a localized string (`LocalizedEnum`).
#[derive(Debug, Serialize, Deserialize)]
struct StoredEnumValue {
    key: String,
    label: Value,
}

#[derive(Debug, Default, Serialize, Deserialize)]
enum StoredInputHint {
    #[default]
    SingleLine,
    MultiLine,
}

impl From<&FieldDefinition> for StoredFieldDefinition {
    fn from(d: &FieldDefinition) -> Self {
        StoredFieldDefinition {
            name: d.name.as_str().to_owned(),
            label: d.label.as_map().clone(),
            required: d.required,
            field_type: StoredFieldType::from(&d.field_type),
            input_hint: match d.input_hint {
                InputHint::SingleLine => StoredInputHint::SingleLine,
                InputHint::MultiLine => StoredInputHint::MultiLine,
            },
        }
    }
}

impl From<&FieldType> for StoredFieldType {
    fn from(t: &FieldType) -> Self {
        let mut stored = StoredFieldType { name: t.name().to_owned(), values: None, element_type: None };
        match t {
            FieldType::Enum { values } => {
                let stored_value =
                    |v: &EnumValue| StoredEnumValue { key: v.key.clone(), label: Value::from(v.label.as_str()) };
                stored.values = Some(values.iter().map(stored_value).collect());
            }
            FieldType::LocalizedEnum { values } => {
                let stored_value =
                    |v: &LocalizedEnumValue| StoredEnumValue { key: v.key.clone(), label: localized_json(&v.label) };
                stored.values = Some(values.iter().map(stored_value).collect());
            }
            FieldType::Set { element_type } => {
                stored.element_type = Some(Box::new(StoredFieldType::from(element_type.as_ref())));
            }
            _ => {}
        }
        stored
    }
}

impl StoredFieldType {
    /// The domain's field type; its rules are checked by [`FieldDefinition::new`]. JSON of
    /// another shape cannot be read (a storage error).
    fn into_domain(self, id: Uuid) -> Result<FieldType, DomainError> {
        let name = self.name;
        let unreadable = |what: &str| corrupt("field definitions", format!("{what} of a {name} type"));
        let values = || self.values.ok_or_else(|| unreadable("no values"));
        Ok(match name.as_str() {
            "Enum" => FieldType::Enum {
                values: values()?
                    .into_iter()
                    .map(|v| match v.label {
                        Value::String(label) => Ok(EnumValue { key: v.key, label }),
                        _ => Err(unreadable("a label that is not a string")),
                    })
                    .collect::<Result<_, DomainError>>()?,
            },
            "LocalizedEnum" => FieldType::LocalizedEnum {
                values: values()?
                    .into_iter()
                    .map(|v| {
                        let label = serde_json::from_value(v.label).map_err(|_| unreadable("a label"))?;
                        Ok(LocalizedEnumValue { key: v.key, label: localized("enum value label", id, label)? })
                    })
                    .collect::<Result<_, DomainError>>()?,
            },
            "Set" => match self.element_type {
                Some(element_type) => FieldType::Set { element_type: Box::new(element_type.into_domain(id)?) },
                None => return Err(unreadable("no element type")),
            },
            scalar => FieldType::scalar(scalar).ok_or_else(|| unreadable("the name"))?,
        })
    }
}

impl StoredFieldDefinition {
    /// The domain's definition of type `id`, through its checked constructors.
    fn into_domain(self, id: Uuid) -> Result<FieldDefinition, DomainError> {
        let name = FieldName::parse(&self.name).map_err(|e| stored("field definition name", id, e))?;
        let label = localized("field definition label", id, self.label)?;
        let input_hint = match self.input_hint {
            StoredInputHint::SingleLine => InputHint::SingleLine,
            StoredInputHint::MultiLine => InputHint::MultiLine,
        };
        let field_type = self.field_type.into_domain(id)?;
        FieldDefinition::new(name, label, self.required, field_type, input_hint)
            .map_err(|e| stored("field definition", id, e))
    }
}

/// The stored JSON of a type's field definitions.
pub(crate) fn field_definitions_json(defs: &[FieldDefinition]) -> Value {
    Value::Array(
        defs.iter().map(|d| serde_json::to_value(StoredFieldDefinition::from(d)).unwrap_or(Value::Null)).collect(),
    )
}

/// The field definitions of type `id` from their stored JSON: JSON of another shape cannot be
/// read (a storage error), a definition the domain refuses is an internal error.
pub(crate) fn field_definitions(id: Uuid, json: Value) -> Result<Vec<FieldDefinition>, DomainError> {
    let defs: Vec<StoredFieldDefinition> = serde_json::from_value(json).map_err(|e| corrupt("field definitions", e))?;
    defs.into_iter().map(|d| d.into_domain(id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn definitions_read_back_and_default_their_input_hint() {
        let id = Uuid::nil();
        let stored = json!([
            {"name": "colors", "label": {"en": "colors"}, "required": false,
             "type": {"name": "Set", "elementType": {"name": "LocalizedEnum", "values": [{"key": "red", "label": {"en": "Red"}}]}},
             "inputHint": "SingleLine"},
            {"name": "points", "label": {}, "required": true, "type": {"name": "Number"}},
        ]);
        let defs = field_definitions(id, stored.clone()).expect("reads");
        assert_eq!(defs[1].field_type, FieldType::Number);
        assert_eq!(defs[1].input_hint, InputHint::SingleLine);
        let mut written = stored;
        written[1]["inputHint"] = json!("SingleLine");
        assert_eq!(field_definitions_json(&defs), written);
    }

    #[test]
    fn refused_stored_definitions_are_internal_errors() {
        let id = Uuid::nil();
        let def = |name: &str, t: Value| json!([{"name": name, "label": {}, "required": false, "type": t}]);
        for bad in [
            def("x", json!({"name": "Number"})),
            def("ok", json!({"name": "Set", "elementType": {"name": "Set", "elementType": {"name": "Number"}}})),
            def("ok", json!({"name": "Enum", "values": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]})),
            json!([{"name": "ok", "label": {"": "x"}, "required": false, "type": {"name": "Number"}}]),
        ] {
            assert!(matches!(field_definitions(id, bad.clone()), Err(DomainError::Internal(_))), "{bad}");
        }
        assert!(matches!(field_definitions(id, def("ok", json!({"name": "Money"}))), Err(DomainError::Storage(_))));
    }
}
