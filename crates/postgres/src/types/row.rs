//! The `types` row and its translation to and from the domain's [`Type`].

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;
use xclade_domain::custom_type::{Type, TypeKey};
use xclade_domain::{DomainError, ProjectId, TypeId};

use super::stored::{field_definitions, field_definitions_json, localized, localized_json, StoredLocalized};
use crate::models::{actor_json, actor_of, corrupt};
use crate::schema::types;

fn read<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> Result<T, DomainError> {
    serde_json::from_value(value).map_err(|e| corrupt(what, e))
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = types, check_for_backend(diesel::pg::Pg))]
pub(crate) struct TypeRow {
    pub project_id: Uuid,
    pub id: Uuid,
    pub version: i64,
    pub key: String,
    pub name: Value,
    pub description: Option<Value>,
    pub resource_type_ids: Vec<String>,
    pub field_definitions: Value,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Value>,
    pub last_modified_at: DateTime<Utc>,
    pub last_modified_by: Option<Value>,
}

impl TypeRow {
    pub fn from_domain(project: ProjectId, t: &Type) -> TypeRow {
        TypeRow {
            project_id: project.0,
            id: t.id().0,
            version: t.version().get(),
            key: t.key().as_str().to_owned(),
            name: localized_json(t.name()),
            description: t.description().map(localized_json),
            resource_type_ids: t.resource_type_ids().to_vec(),
            field_definitions: field_definitions_json(t.field_definitions()),
            created_at: t.created_at(),
            created_by: t.created_by().map(actor_json),
            last_modified_at: t.last_modified_at(),
            last_modified_by: t.last_modified_by().map(actor_json),
        }
    }

    pub fn into_domain(self) -> Result<Type, DomainError> {
        Ok(Type::from_parts(xclade_domain::custom_type::TypeParts {
            id: TypeId(self.id),
            version: crate::models::stored_version(self.version, self.id)?,
            key: TypeKey::parse(&self.key).map_err(|e| crate::models::stored("type key", self.id, e))?,
            name: localized("type name", self.id, read::<StoredLocalized>("type name", self.name)?)?,
            description: self
                .description
                .map(|d| localized("type description", self.id, read::<StoredLocalized>("type description", d)?))
                .transpose()?,
            resource_type_ids: self.resource_type_ids,
            field_definitions: field_definitions(self.id, self.field_definitions)?,
            created_at: self.created_at,
            created_by: actor_of(self.created_by)?,
            last_modified_at: self.last_modified_at,
            last_modified_by: actor_of(self.last_modified_by)?,
        }))
    }
}
