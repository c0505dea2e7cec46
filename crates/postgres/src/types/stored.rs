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

use crate::models::stored;

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

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "name")]
enum StoredFieldType {
    Boolean,
    String,
    LocalizedString,
    Number,
    Date,
    DateTime,
    Enum {
        values: Vec<StoredEnumValue>,
    },
    LocalizedEnum {
        values: Vec<StoredLocalizedEnumValue>,
    },
    Set {
        #[serde(rename = "elementType")]
        element_type: Box<StoredFieldType>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredEnumValue {
    key: String,
    label: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredLocalizedEnumValue {
    key: String,
    label: StoredLocalized,
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
        match t {
            FieldType::Boolean => StoredFieldType::Boolean,
            FieldType::String => StoredFieldType::String,
            FieldType::LocalizedString => StoredFieldType::LocalizedString,
            FieldType::Number => StoredFieldType::Number,
            FieldType::Date => StoredFieldType::Date,
            FieldType::DateTime => StoredFieldType::DateTime,
            FieldType::Enum { values } => StoredFieldType::Enum {
                values: values.iter().map(|v| StoredEnumValue { key: v.key.clone(), label: v.label.clone() }).collect(),
            },
            FieldType::LocalizedEnum { values } => StoredFieldType::LocalizedEnum {
                values: values
                    .iter()
                    .map(|v| StoredLocalizedEnumValue { key: v.key.clone(), label: v.label.as_map().clone() })
                    .collect(),
            },
            FieldType::Set { element_type } => {
                StoredFieldType::Set { element_type: Box::new(StoredFieldType::from(element_type.as_ref())) }
            }
        }
    }
}

impl StoredFieldType {
    /// The domain's field type; its rules are checked by [`FieldDefinition::new`].
    fn into_domain(self, id: Uuid) -> Result<FieldType, DomainError> {
        Ok(match self {
            StoredFieldType::Boolean => FieldType::Boolean,
            StoredFieldType::String => FieldType::String,
            StoredFieldType::LocalizedString => FieldType::LocalizedString,
            StoredFieldType::Number => FieldType::Number,
            StoredFieldType::Date => FieldType::Date,
            StoredFieldType::DateTime => FieldType::DateTime,
            StoredFieldType::Enum { values } => FieldType::Enum {
                values: values.into_iter().map(|v| EnumValue { key: v.key, label: v.label }).collect(),
            },
            StoredFieldType::LocalizedEnum { values } => FieldType::LocalizedEnum {
                values: values
                    .into_iter()
                    .map(|v| Ok(LocalizedEnumValue { key: v.key, label: localized("enum value label", id, v.label)? }))
                    .collect::<Result<_, DomainError>>()?,
            },
            StoredFieldType::Set { element_type } => {
                FieldType::Set { element_type: Box::new(element_type.into_domain(id)?) }
            }
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
    let defs: Vec<StoredFieldDefinition> = serde_json::from_value(json)
        .map_err(|e| DomainError::Storage(format!("stored field definitions cannot be read: {e}").into()))?;
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
