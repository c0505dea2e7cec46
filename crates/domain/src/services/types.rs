//! Custom-type use cases (§3.5): create, read, query, versioned update and delete.

use super::write_context;
use crate::auth::Principal;
use crate::custom_type::{Type, TypeAction, TypeDraft, TypeKey, TypeQuery};
use crate::customer_group::{ExpectedVersion, Version};
use crate::error::DomainResult;
use crate::ids::TypeId;
use crate::paging::QueryPage;
use crate::ports::{Clock, IdGenerator, TypeRepository};
use crate::versioned;
use std::sync::Arc;

/// How a type is addressed in a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeTarget {
    /// By id.
    Id(TypeId),
    /// By key.
    Key(TypeKey),
}

#[derive(Clone)]
/// Custom-type use cases: create, read, query, versioned update, delete.
pub struct TypeService {
    repo: Arc<dyn TypeRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl TypeService {
    /// A service over these ports.
    pub fn new(repo: Arc<dyn TypeRepository>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        TypeService { repo, clock, ids }
    }

    /// Creates a type; `Duplicate` when the key is taken.
    pub async fn create(&self, principal: &Principal, draft: TypeDraft) -> DomainResult<Type> {
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        let t = Type::from_parts(crate::custom_type::TypeParts {
            id: TypeId(self.ids.new_id()),
            version: Version::INITIAL,
            key: draft.key,
            name: draft.name,
            description: draft.description,
            resource_type_ids: draft.resource_type_ids,
            field_definitions: draft.field_definitions,
            created_at: ctx.now,
            created_by: Some(ctx.actor.clone()),
            last_modified_at: ctx.now,
            last_modified_by: Some(ctx.actor.clone()),
        });
        self.repo.create(&ctx, &t).await
    }

    /// The type addressed by `target`; `NotFound` otherwise.
    pub async fn get(&self, principal: &Principal, target: &TypeTarget) -> DomainResult<Type> {
        match target {
            TypeTarget::Id(id) => self.repo.get(principal.project_id, *id).await,
            TypeTarget::Key(key) => self.repo.get_by_key(principal.project_id, key.as_str()).await,
        }
    }

    /// Types of the principal's project matching a `where` query, one page.
    pub async fn query(&self, principal: &Principal, query: &TypeQuery) -> DomainResult<QueryPage<Type>> {
        self.repo.query(principal.project_id, query).await
    }

    /// Applies `actions` in order at `version`, all or nothing; the version grows by the number
    /// of actions that changed something, and a request that changes nothing writes nothing.
    pub async fn update(
        &self,
        principal: &Principal,
        target: &TypeTarget,
        version: ExpectedVersion,
        actions: Vec<TypeAction>,
    ) -> DomainResult<Type> {
        versioned::check_action_count(actions.len())?;
        let current = self.get(principal, target).await?;
        versioned::check_version(&current, version)?;
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        let (next, effective) = current.apply_all(&actions, ctx.now, &ctx.actor)?;
        if effective == 0 {
            return Ok(current);
        }
        self.repo.save(&ctx, &next, current.version()).await
    }

    /// Deletes a type at `version`; refused while a group uses it.
    pub async fn delete(
        &self,
        principal: &Principal,
        target: &TypeTarget,
        version: ExpectedVersion,
    ) -> DomainResult<Type> {
        let id = match target {
            TypeTarget::Id(id) => *id,
            TypeTarget::Key(_) => self.get(principal, target).await?.id(),
        };
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        self.repo.delete(&ctx, id, version).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{clock, ids, principal};
    use super::*;
    use crate::custom_type::{LocalizedString, TypeKey};
    use crate::error::DomainError;
    use crate::ports::MockTypeRepository;
    use chrono::Utc;
    use futures::executor::block_on;

    fn ls(s: &str) -> LocalizedString {
        LocalizedString::new("name", [("en".to_owned(), s.to_owned())].into_iter().collect()).expect("valid")
    }

    fn a_type(version: i64) -> Type {
        Type::from_parts(crate::custom_type::TypeParts {
            id: TypeId(uuid::Uuid::from_u128(5)),
            version: Version::new(version).unwrap(),
            key: TypeKey::parse("tk").expect("valid"),
            name: ls("T"),
            description: None,
            resource_type_ids: vec!["customer-group".into()],
            field_definitions: vec![],
            created_at: Utc::now(),
            created_by: None,
            last_modified_at: Utc::now(),
            last_modified_by: None,
        })
    }

    fn service(repo: MockTypeRepository) -> TypeService {
        TypeService::new(Arc::new(repo), clock(), ids())
    }

    #[test]
    fn updates_bump_per_effective_action_and_no_ops_write_nothing() {
        let mut repo = MockTypeRepository::new();
        repo.expect_get().returning(|_, _| Ok(a_type(2)));
        repo.expect_save()
            .times(1)
            .withf(|_, t, expected| t.version() == Version::new(4).unwrap() && *expected == Version::new(2).unwrap())
            .returning(|_, t, _| Ok(t.clone()));
        let svc = service(repo);
        let target = TypeTarget::Id(TypeId(uuid::Uuid::from_u128(5)));
        let actions = vec![
            TypeAction::ChangeName(ls("T")),
            TypeAction::ChangeName(ls("U")),
            TypeAction::SetDescription(Some(ls("d"))),
        ];
        let t = block_on(svc.update(&principal(), &target, ExpectedVersion::new(2), actions)).expect("ok");
        assert_eq!(t.version(), Version::new(4).unwrap());
        let t =
            block_on(svc.update(&principal(), &target, ExpectedVersion::new(2), vec![TypeAction::ChangeName(ls("T"))]))
                .expect("ok");
        assert_eq!(t.version(), Version::new(2).unwrap());
    }

    #[test]
    fn stale_versions_conflict() {
        let mut repo = MockTypeRepository::new();
        repo.expect_get_by_key().returning(|_, _| Ok(a_type(3)));
        repo.expect_save().never();
        let svc = service(repo);
        let err = block_on(svc.update(
            &principal(),
            &TypeTarget::Key(TypeKey::parse("tk").unwrap()),
            ExpectedVersion::new(1),
            vec![],
        ))
        .expect_err("conflict");
        assert!(matches!(err, DomainError::VersionConflict { expected: 1, current: 3, .. }));
    }
}
