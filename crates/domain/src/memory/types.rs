//! [`TypeRepository`] over the in-memory state.

use super::query::{by_key, query_page};
use super::{MemoryStore, State};
use crate::custom_type::{Type, TypeQuery};
use crate::customer_group::{ExpectedVersion, Version};
use crate::error::{DomainError, DomainResult, Refusal};
use crate::event::{Event, EventKind, WriteContext};
use crate::ids::{ProjectId, TypeId};
use crate::paging::QueryPage;
use crate::ports::TypeRepository;
use crate::versioned::check_version;
use crate::Resource;
use async_trait::async_trait;

fn in_use() -> DomainError {
    DomainError::ReferenceExists { resource: Resource::Type, referenced_by: Resource::CustomerGroup }
}

impl State {
    fn custom_type(&self, project: ProjectId, id: TypeId) -> DomainResult<Type> {
        self.types.get(&(project, id)).cloned().ok_or_else(|| DomainError::not_found(Resource::Type, id))
    }

    fn check_type_key_free(&self, project: ProjectId, t: &Type) -> DomainResult<()> {
        if self.types.iter().any(|((p, id), o)| *p == project && *id != t.id() && o.key() == t.key()) {
            return Err(DomainError::Duplicate {
                resource: Resource::Type,
                field: "key",
                value: t.key().as_str().to_owned(),
            });
        }
        Ok(())
    }

    /// The groups of the project that use the type `id`.
    fn groups_using(
        &self,
        project: ProjectId,
        id: TypeId,
    ) -> impl Iterator<Item = &crate::customer_group::CustomFields> {
        self.groups
            .iter()
            .filter(move |((p, _), _)| *p == project)
            .filter_map(|(_, g)| g.custom())
            .filter(move |c| c.type_id == id)
    }
}

#[async_trait]
impl TypeRepository for MemoryStore {
    async fn create(&self, ctx: &WriteContext, t: &Type) -> DomainResult<Type> {
        self.write(|s| {
            s.check_type_key_free(ctx.project_id, t)?;
            s.types.insert((ctx.project_id, t.id()), t.clone());
            s.record(Event::custom_type(ctx, EventKind::TypeCreated, t));
            Ok(t.clone())
        })
    }

    async fn get(&self, project: ProjectId, id: TypeId) -> DomainResult<Type> {
        self.read(|s| s.custom_type(project, id))
    }

    async fn get_by_key(&self, project: ProjectId, key: &str) -> DomainResult<Type> {
        self.read(|s| by_key(&s.types, project, key, |t| Some(t.key().as_str()), Resource::Type))
    }

    async fn query(&self, project: ProjectId, query: &TypeQuery) -> DomainResult<QueryPage<Type>> {
        self.read(|s| query_page(&s.types, project, query))
    }

    async fn save(&self, ctx: &WriteContext, t: &Type, expected: Version) -> DomainResult<Type> {
        self.write(|s| {
            let current = s.custom_type(ctx.project_id, t.id())?;
            check_version(&current, expected.into())?;
            s.check_type_key_free(ctx.project_id, t)?;
            let names = t.field_names();
            let required = t.required_fields();
            let users: Vec<_> = s.groups_using(ctx.project_id, t.id()).collect();
            if users.iter().any(|c| c.fields.keys().any(|k| !names.contains(&k.as_str()))) {
                return Err(in_use());
            }
            if users.iter().any(|c| required.iter().any(|r| !c.fields.contains_key(*r))) {
                return Err(DomainError::InvalidOperation(Refusal::RequiredFieldLacking));
            }
            s.types.insert((ctx.project_id, t.id()), t.clone());
            s.record(Event::custom_type(ctx, EventKind::TypeUpdated, t));
            Ok(t.clone())
        })
    }

    async fn delete(&self, ctx: &WriteContext, id: TypeId, expected: ExpectedVersion) -> DomainResult<Type> {
        self.write(|s| {
            let current = s.custom_type(ctx.project_id, id)?;
            check_version(&current, expected)?;
            if s.groups_using(ctx.project_id, id).next().is_some() {
                return Err(in_use());
            }
            s.types.remove(&(ctx.project_id, id));
            s.record(Event::custom_type(ctx, EventKind::TypeDeleted, &current));
            Ok(current)
        })
    }
}
