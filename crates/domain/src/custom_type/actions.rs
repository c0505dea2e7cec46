//! Update actions of types and how they apply.

use super::{
    check_enum_key, check_label, duplicate_definition, EnumValue, FieldDefinition, FieldType, LocalizedEnumValue,
    LocalizedString, Type,
};
use crate::auth::Actor;
use crate::customer_group::Version;
use crate::error::{DomainError, Refusal};
use crate::versioned::replace;
use chrono::{DateTime, Utc};

/// One update action of a type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeAction {
    /// Changes the localized name.
    ChangeName(LocalizedString),
    /// `None` removes the description.
    SetDescription(Option<LocalizedString>),
    /// Adds a field definition (its name must be new in the type).
    AddFieldDefinition(FieldDefinition),
    /// Removes the field definition of this name.
    RemoveFieldDefinition(String),
    /// Changes the label of a field definition.
    ChangeLabel {
        /// The field definition.
        field_name: String,
        /// The new label.
        label: LocalizedString,
    },
    /// Adds a value to an `Enum` field (or a set of one).
    AddEnumValue {
        /// The field definition.
        field_name: String,
        /// The value to add.
        value: EnumValue,
    },
    /// Adds a value to a `LocalizedEnum` field (or a set of one).
    AddLocalizedEnumValue {
        /// The field definition.
        field_name: String,
        /// The value to add.
        value: LocalizedEnumValue,
    },
}

fn no_such_definition(name: &str) -> DomainError {
    DomainError::InvalidOperation(Refusal::NoSuchFieldDefinition { name: name.to_owned() })
}

impl Type {
    /// Applies one action; returns whether it changed the type.
    pub fn apply(&mut self, action: &TypeAction) -> Result<bool, DomainError> {
        Ok(match action {
            TypeAction::ChangeName(name) => replace(&mut self.0.name, name.clone()),
            TypeAction::SetDescription(d) => replace(&mut self.0.description, d.clone()),
            TypeAction::AddFieldDefinition(def) => {
                if self.field(def.name.as_str()).is_some() {
                    return Err(duplicate_definition(def.name.as_str()));
                }
                self.0.field_definitions.push(def.clone());
                true
            }
            TypeAction::RemoveFieldDefinition(name) => {
                let before = self.0.field_definitions.len();
                self.0.field_definitions.retain(|d| d.name.as_str() != name);
                if self.0.field_definitions.len() == before {
                    return Err(no_such_definition(name));
                }
                true
            }
            TypeAction::ChangeLabel { field_name, label } => {
                let def = self.field_mut(field_name)?;
                replace(&mut def.label, label.clone())
            }
            TypeAction::AddEnumValue { field_name, value } => {
                let def = self.field_mut(field_name)?;
                let values = match enum_target(&mut def.field_type) {
                    Some(EnumTarget::Plain(values)) => values,
                    _ => return Err(DomainError::InvalidOperation(Refusal::NotAnEnum { field: field_name.clone() })),
                };
                add_enum_key(field_name, values.iter().map(|v| v.key.as_str()), &value.key)?;
                check_label(&value.label)?;
                values.push(value.clone());
                true
            }
            TypeAction::AddLocalizedEnumValue { field_name, value } => {
                let def = self.field_mut(field_name)?;
                let values = match enum_target(&mut def.field_type) {
                    Some(EnumTarget::Localized(values)) => values,
                    _ => {
                        return Err(DomainError::InvalidOperation(Refusal::NotALocalizedEnum {
                            field: field_name.clone(),
                        }))
                    }
                };
                add_enum_key(field_name, values.iter().map(|v| v.key.as_str()), &value.key)?;
                values.push(value.clone());
                true
            }
        })
    }

    fn field_mut(&mut self, name: &str) -> Result<&mut FieldDefinition, DomainError> {
        self.0.field_definitions.iter_mut().find(|d| d.name.as_str() == name).ok_or_else(|| no_such_definition(name))
    }

    /// Applies actions in order, all or nothing. Returns the new type, its version grown by the
    /// number of actions that changed something, and that number.
    pub fn apply_all(&self, actions: &[TypeAction], at: DateTime<Utc>, by: &Actor) -> Result<(Type, i64), DomainError> {
        crate::versioned::apply_all(self, actions, at, by)
    }
}

impl crate::versioned::Versioned for Type {
    type Action = TypeAction;

    fn id_text(&self) -> String {
        self.0.id.to_string()
    }

    fn version(&self) -> Version {
        self.0.version
    }

    fn apply_action(&mut self, action: &TypeAction) -> Result<bool, DomainError> {
        self.apply(action)
    }

    fn touch(&mut self, version: Version, at: DateTime<Utc>, by: &Actor) {
        self.0.version = version;
        self.0.last_modified_at = at;
        self.0.last_modified_by = Some(by.clone());
    }
}

enum EnumTarget<'a> {
    Plain(&'a mut Vec<EnumValue>),
    Localized(&'a mut Vec<LocalizedEnumValue>),
}

fn enum_target(t: &mut FieldType) -> Option<EnumTarget<'_>> {
    match t {
        FieldType::Enum { values } => Some(EnumTarget::Plain(values)),
        FieldType::LocalizedEnum { values } => Some(EnumTarget::Localized(values)),
        FieldType::Set { element_type } => enum_target(element_type),
        _ => None,
    }
}

fn add_enum_key<'a>(field: &str, mut existing: impl Iterator<Item = &'a str>, key: &str) -> Result<(), DomainError> {
    check_enum_key(key)?;
    if existing.any(|k| k == key) {
        return Err(DomainError::InvalidOperation(Refusal::EnumKeyExists {
            field: field.to_owned(),
            key: key.to_owned(),
        }));
    }
    Ok(())
}
