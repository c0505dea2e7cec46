//! Custom types (§3.5, issue 7): the definitions of the custom fields a resource may carry.
//!
//! A [`Type`] has a key, a localized name and description, the resource type ids it may be
//! used on (`customer-group`) and its [`FieldDefinition`]s. [`Type::check_fields`] validates
//! (and normalizes) a whole `fields` object against the type, [`Type::check_value`] one value;
//! both are pure. Types are versioned like groups: [`Type::apply_all`] applies
//! [`TypeAction`]s and counts those that changed something.
//!
//! What the type alone cannot decide — that no group still uses a removed field definition,
//! that no group using the type lacks a newly required field, that no group uses a deleted
//! type — is the repository's to guarantee (see [`crate::ports::TypeRepository`]).

mod actions;
mod values;

#[cfg(test)]
mod tests;

use crate::auth::Actor;
use crate::customer_group::{GroupKey, Version};
use crate::error::{DomainError, FieldProblem, Refusal, TextKind, Violation};
use crate::ids::TypeId;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub use actions::TypeAction;
pub use values::{parse_date, parse_datetime_strict};

/// The resource type id of customer groups, which a type must list to be used on them.
pub const CUSTOMER_GROUP_RESOURCE: &str = "customer-group";

/// A query of types: the same `where`/`sort`/paging machinery as groups.
pub type TypeQuery = crate::paging::GroupQuery;

/// A localized string: locale → text (`{"en": "Gold", "de": "Gold"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalizedString(BTreeMap<String, String>);

impl LocalizedString {
    /// Builds a localized string; locales must be non-empty and at most 64 characters, and no
    /// text may hold U+0000 (which PostgreSQL cannot store).
    pub fn new(field: &str, entries: BTreeMap<String, String>) -> Result<Self, DomainError> {
        if let Some(bad) = entries.keys().find(|l| l.is_empty() || l.chars().count() > 64 || l.contains('\0')) {
            return Err(DomainError::invalid_field(field, Violation::InvalidLocale { locale: bad.clone() }));
        }
        if entries.values().any(|v| v.contains('\0')) {
            return Err(DomainError::invalid_field(field, Violation::ContainsNul { kind: TextKind::Localized }));
        }
        Ok(LocalizedString(entries))
    }

    /// The text in `locale`, if there is one.
    pub fn get(&self, locale: &str) -> Option<&str> {
        self.0.get(locale).map(String::as_str)
    }

    /// Every locale and its text.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

/// A type's key: `^[A-Za-z0-9_-]+$`, 2–256 characters (like a group's key), unique per project.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeKey(String);

impl TypeKey {
    /// Parses a type key (the rules of a group key).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        GroupKey::parse(s).map(|k| TypeKey(k.as_str().to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a field definition: `^[A-Za-z0-9_-]+$`, 2–36 characters, unique in its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldName(String);

impl FieldName {
    /// Parses a field definition name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if !crate::text::is_key_like(s, 2..=36) {
            return Err(DomainError::invalid_field("name", Violation::InvalidFieldName { name: s.to_owned() }));
        }
        Ok(FieldName(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A value of an `Enum` field type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue {
    /// The key (what a field value holds).
    pub key: String,
    /// The label shown for it.
    pub label: String,
}

/// A value of a `LocalizedEnum` field type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalizedEnumValue {
    /// The key (what a field value holds).
    pub key: String,
    /// The localized label shown for it.
    pub label: LocalizedString,
}

/// The type of a custom field. Its JSON forms (the type routes', the stored one, the event's)
/// belong to the adapters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// `true` or `false`.
    Boolean,
    /// Any string.
    String,
    /// A localized string (`{"en": …}`).
    LocalizedString,
    /// A JSON number.
    Number,
    /// `"2024-05-01"`.
    Date,
    /// `"2024-05-01T10:00:00.000Z"`, stored in UTC with milliseconds.
    DateTime,
    /// A value is the key of one of `values`.
    Enum {
        /// The allowed values.
        values: Vec<EnumValue>,
    },
    /// A value is the key of one of `values`.
    LocalizedEnum {
        /// The allowed values.
        values: Vec<LocalizedEnumValue>,
    },
    /// A JSON array of values of `element_type` (which is not itself a set).
    Set {
        /// The type of the elements.
        element_type: Box<FieldType>,
    },
}

impl FieldType {
    /// The `name` of the type (`"Enum"`, `"Set"`, …).
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Boolean => "Boolean",
            FieldType::String => "String",
            FieldType::LocalizedString => "LocalizedString",
            FieldType::Number => "Number",
            FieldType::Date => "Date",
            FieldType::DateTime => "DateTime",
            FieldType::Enum { .. } => "Enum",
            FieldType::LocalizedEnum { .. } => "LocalizedEnum",
            FieldType::Set { .. } => "Set",
        }
    }

    /// The field type without data (no values, no element type) whose [`FieldType::name`] is
    /// `name`: `Boolean`, `String`, `LocalizedString`, `Number`, `Date` or `DateTime`.
    pub fn scalar(name: &str) -> Option<FieldType> {
        SCALAR_TYPES.into_iter().find(|t| t.name() == name)
    }

    /// Checks the rules a field type must follow: enum keys non-empty and unique, no set of sets.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self {
            FieldType::Enum { values } => {
                values.iter().try_for_each(|v| check_label(&v.label))?;
                unique_keys(values.iter().map(|v| v.key.as_str()))
            }
            FieldType::LocalizedEnum { values } => unique_keys(values.iter().map(|v| v.key.as_str())),
            FieldType::Set { element_type } => match element_type.as_ref() {
                FieldType::Set { .. } => Err(DomainError::invalid_field("type", Violation::NestedSet)),
                inner => inner.validate(),
            },
            _ => Ok(()),
        }
    }
}

/// The field types without data.
const SCALAR_TYPES: [FieldType; 6] = [
    FieldType::Boolean,
    FieldType::String,
    FieldType::LocalizedString,
    FieldType::Number,
    FieldType::Date,
    FieldType::DateTime,
];

fn unique_keys<'a>(keys: impl Iterator<Item = &'a str>) -> Result<(), DomainError> {
    let mut seen = std::collections::HashSet::new();
    let mut duplicates: Vec<String> = Vec::new();
    for key in keys {
        check_enum_key(key)?;
        if !seen.insert(key) && !duplicates.iter().any(|d| d == key) {
            duplicates.push(key.to_owned());
        }
    }
    if duplicates.is_empty() {
        Ok(())
    } else {
        // Like a field name listed twice: `InvalidOperation` (docs/decisions.md).
        Err(DomainError::InvalidOperation(Refusal::DuplicateEnumKeys { keys: duplicates }))
    }
}

/// An enum key (or label) is non-empty and holds no U+0000.
fn check_enum_key(key: &str) -> Result<(), DomainError> {
    if key.is_empty() || key.contains('\0') {
        return Err(DomainError::invalid_field("values", Violation::InvalidEnumKey { key: key.to_owned() }));
    }
    Ok(())
}

/// An enum label holds no U+0000.
fn check_label(label: &str) -> Result<(), DomainError> {
    if label.contains('\0') {
        return Err(DomainError::invalid_field("label", Violation::ContainsNul { kind: TextKind::EnumLabel }));
    }
    Ok(())
}

/// How a `String` field is meant to be edited (informational).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InputHint {
    #[default]
    /// A single line of text.
    SingleLine,
    /// Several lines of text.
    MultiLine,
}

impl InputHint {
    /// The name of the hint (`"SingleLine"` or `"MultiLine"`).
    pub fn name(self) -> &'static str {
        match self {
            InputHint::SingleLine => "SingleLine",
            InputHint::MultiLine => "MultiLine",
        }
    }
}

/// The definition of one custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDefinition {
    /// The field's name, unique in its type.
    pub name: FieldName,
    /// Its label.
    pub label: LocalizedString,
    /// Whether every resource using the type must have a value.
    pub required: bool,
    /// The type of its values.
    pub field_type: FieldType,
    /// How it is meant to be edited.
    pub input_hint: InputHint,
}

impl FieldDefinition {
    /// A validated definition.
    pub fn new(
        name: FieldName,
        label: LocalizedString,
        required: bool,
        field_type: FieldType,
        input_hint: InputHint,
    ) -> Result<Self, DomainError> {
        field_type.validate()?;
        Ok(FieldDefinition { name, label, required, field_type, input_hint })
    }
}

/// A resource type id a type may be used on (`customer-group`, …): lowercase letters and
/// hyphens, 1–64 characters.
fn check_resource_type_id(id: &str) -> Result<(), DomainError> {
    let valid = (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(DomainError::invalid_field("resourceTypeIds", Violation::InvalidResourceTypeId { id: id.to_owned() }))
    }
}

fn check_unique_names(defs: &[FieldDefinition]) -> Result<(), DomainError> {
    let mut seen = std::collections::HashSet::new();
    for d in defs {
        if !seen.insert(d.name.as_str()) {
            return Err(duplicate_definition(d.name.as_str()));
        }
    }
    Ok(())
}

fn duplicate_definition(name: &str) -> DomainError {
    DomainError::InvalidOperation(Refusal::FieldDefinitionExists { name: name.to_owned() })
}

/// A validated create of a type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDraft {
    /// The key, unique per project.
    pub key: TypeKey,
    /// The localized name.
    pub name: LocalizedString,
    /// The localized description, if any.
    pub description: Option<LocalizedString>,
    /// The resource type ids it may be used on (`customer-group`).
    pub resource_type_ids: Vec<String>,
    /// The definitions of its fields.
    pub field_definitions: Vec<FieldDefinition>,
}

impl TypeDraft {
    /// Checks the draft: at least one resource type id (each well-formed, duplicates dropped),
    /// unique field definition names.
    pub fn new(
        key: TypeKey,
        name: LocalizedString,
        description: Option<LocalizedString>,
        resource_type_ids: Vec<String>,
        field_definitions: Vec<FieldDefinition>,
    ) -> Result<Self, DomainError> {
        if resource_type_ids.is_empty() {
            return Err(DomainError::invalid_field("resourceTypeIds", Violation::NoResourceTypeIds));
        }
        let mut ids: Vec<String> = Vec::with_capacity(resource_type_ids.len());
        for id in resource_type_ids {
            check_resource_type_id(&id)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        check_unique_names(&field_definitions)?;
        Ok(TypeDraft { key, name, description, resource_type_ids: ids, field_definitions })
    }

    /// The type this draft creates: id `id`, [`Version::INITIAL`], created and last changed
    /// `at` by `by`.
    pub fn into_type(self, id: TypeId, at: DateTime<Utc>, by: Option<Actor>) -> Type {
        let TypeDraft { key, name, description, resource_type_ids, field_definitions } = self;
        Type(TypeParts {
            id,
            version: Version::INITIAL,
            key,
            name,
            description,
            resource_type_ids,
            field_definitions,
            created_at: at,
            created_by: by.clone(),
            last_modified_at: at,
            last_modified_by: by,
        })
    }
}

/// A custom type. It holds its [`TypeParts`]: an adapter builds one with [`Type::from_parts`],
/// the rules change it only through its update actions.
#[derive(Debug, Clone, PartialEq)]
pub struct Type(TypeParts);

/// Every field of a [`Type`], in the validated types: what an adapter hands to
/// [`Type::from_parts`] when it loads a stored type, and what [`Type::into_parts`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeParts {
    /// The id of the type.
    pub id: TypeId,
    /// Its version: 1 when created, grown by every effective update action.
    pub version: Version,
    /// Its key, unique per project.
    pub key: TypeKey,
    /// Its localized name.
    pub name: LocalizedString,
    /// Its localized description, if any.
    pub description: Option<LocalizedString>,
    /// The resource type ids it may be used on.
    pub resource_type_ids: Vec<String>,
    /// The definitions of its fields.
    pub field_definitions: Vec<FieldDefinition>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: Option<Actor>,
    /// When it last changed.
    pub last_modified_at: DateTime<Utc>,
    /// Who last changed it.
    pub last_modified_by: Option<Actor>,
}

impl Type {
    /// Builds a type from its parts (each already valid by its type).
    pub fn from_parts(parts: TypeParts) -> Type {
        Type(parts)
    }

    /// Takes the type apart, to change what the rules leave to an adapter and build it again.
    pub fn into_parts(self) -> TypeParts {
        self.0
    }

    /// The id of the type.
    pub fn id(&self) -> TypeId {
        self.0.id
    }

    /// Its version: 1 when created, grown by every effective update action.
    pub fn version(&self) -> Version {
        self.0.version
    }

    /// Its key, unique per project.
    pub fn key(&self) -> &TypeKey {
        &self.0.key
    }

    /// Its localized name.
    pub fn name(&self) -> &LocalizedString {
        &self.0.name
    }

    /// Its localized description, if any.
    pub fn description(&self) -> Option<&LocalizedString> {
        self.0.description.as_ref()
    }

    /// The resource type ids it may be used on.
    pub fn resource_type_ids(&self) -> &[String] {
        &self.0.resource_type_ids
    }

    /// The definitions of its fields.
    pub fn field_definitions(&self) -> &[FieldDefinition] {
        &self.0.field_definitions
    }

    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Who created it.
    pub fn created_by(&self) -> Option<&Actor> {
        self.0.created_by.as_ref()
    }

    /// When it last changed.
    pub fn last_modified_at(&self) -> DateTime<Utc> {
        self.0.last_modified_at
    }

    /// Who last changed it.
    pub fn last_modified_by(&self) -> Option<&Actor> {
        self.0.last_modified_by.as_ref()
    }
}

impl Type {
    /// The definition of the field `name`.
    pub fn field(&self, name: &str) -> Option<&FieldDefinition> {
        self.0.field_definitions.iter().find(|d| d.name.as_str() == name)
    }

    /// Whether the type may be used on resources of `resource_type_id`.
    pub fn applies_to(&self, resource_type_id: &str) -> bool {
        self.0.resource_type_ids.iter().any(|r| r == resource_type_id)
    }

    /// Checks that the type may be used on customer groups: a rule on the stored type, so
    /// `InvalidOperation` (as a missing type is `ReferencedResourceNotFound`), not a shape error.
    pub fn check_usable_on_groups(&self) -> Result<(), DomainError> {
        if self.applies_to(CUSTOMER_GROUP_RESOURCE) {
            Ok(())
        } else {
            Err(DomainError::InvalidOperation(Refusal::TypeNotApplicable {
                type_key: self.0.key.as_str().to_owned(),
                resource_type_id: CUSTOMER_GROUP_RESOURCE.to_owned(),
            }))
        }
    }

    /// Validates the value of the field `name` and returns it normalized (date-times in UTC
    /// with milliseconds). A field the type does not define, or a value of the wrong type, is
    /// `InvalidField`.
    pub fn check_value(&self, name: &str, value: &Value) -> Result<Value, DomainError> {
        let Some(def) = self.field(name) else {
            return Err(DomainError::InvalidField {
                field: name.to_owned(),
                invalid_value: value.clone(),
                problem: FieldProblem::NotDefined { type_key: self.0.key.as_str().to_owned() },
            });
        };
        values::check(&def.field_type, value).ok_or_else(|| DomainError::InvalidField {
            field: name.to_owned(),
            invalid_value: value.clone(),
            problem: FieldProblem::WrongType { expected: Box::new(def.field_type.clone()) },
        })
    }

    /// Validates a whole `fields` object: every field defined and of its type (`InvalidField`),
    /// every required field present (`RequiredField`). `null` values count as absent. Returns
    /// the fields normalized.
    pub fn check_fields(&self, fields: &Map<String, Value>) -> Result<Map<String, Value>, DomainError> {
        let mut out = Map::new();
        for (name, value) in fields {
            if value.is_null() {
                continue;
            }
            out.insert(name.clone(), self.check_value(name, value)?);
        }
        if let Some(missing) =
            self.0.field_definitions.iter().find(|d| d.required && !out.contains_key(d.name.as_str()))
        {
            return Err(DomainError::RequiredField { field: missing.name.as_str().to_owned() });
        }
        Ok(out)
    }

    /// The names of the required field definitions.
    pub fn required_fields(&self) -> Vec<&str> {
        self.0.field_definitions.iter().filter(|d| d.required).map(|d| d.name.as_str()).collect()
    }

    /// The names of every field definition.
    pub fn field_names(&self) -> Vec<&str> {
        self.0.field_definitions.iter().map(|d| d.name.as_str()).collect()
    }
}
