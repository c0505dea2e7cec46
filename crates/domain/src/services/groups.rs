//! Customer-group use cases, shared by both families (§2.6, §3).

use super::write_context;
use crate::auth::Principal;
use crate::customer::{check_membership_lists, Listed};
use crate::customer_group::{
    CustomDraft, CustomerGroup, GroupAction, GroupDraft, GroupName, ResolvedAction, Version, MAX_ACTIONS,
};
use crate::error::{DomainError, DomainResult, Lookup};
use crate::ids::{CustomerId, GroupId};
use crate::metadata::Metadata;
use crate::paging::{GroupFilter, GroupQuery, QueryPage};
use crate::ports::{Clock, CustomerGroupRepository, IdGenerator};
use crate::Resource;
use std::sync::Arc;

/// How many times an admin-family update re-reads and re-applies after losing a version race.
const ADMIN_UPDATE_ATTEMPTS: usize = 5;

/// How a group is addressed in a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupTarget {
    Id(GroupId),
    Key(String),
}

#[derive(Clone)]
pub struct GroupService {
    repo: Arc<dyn CustomerGroupRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    max_groups: u32,
}

impl GroupService {
    pub fn new(
        repo: Arc<dyn CustomerGroupRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        max_groups: u32,
    ) -> Self {
        GroupService { repo, clock, ids, max_groups }
    }

    /// Custom types are resolved against the project's types; a reference that cannot be
    /// resolved is `ReferencedResourceNotFound`.
    fn resolve_custom(&self, draft: &CustomDraft) -> DomainError {
        let lookup = match &draft.type_ref {
            crate::customer_group::TypeRef::Id(id) => Lookup::Id(id.clone()),
            crate::customer_group::TypeRef::Key(key) => Lookup::Key(key.clone()),
        };
        DomainError::ReferencedResourceNotFound { resource: Resource::Type, lookup }
    }

    fn resolve(&self, action: GroupAction) -> DomainResult<ResolvedAction> {
        Ok(match action {
            GroupAction::ChangeName(n) => ResolvedAction::ChangeName(n),
            GroupAction::SetKey(k) => ResolvedAction::SetKey(k),
            GroupAction::SetMetadata(m) => ResolvedAction::SetMetadata(m),
            GroupAction::SetCustomType(None) => ResolvedAction::SetCustomType(None),
            GroupAction::SetCustomType(Some(draft)) => return Err(self.resolve_custom(&draft)),
            GroupAction::SetCustomField { name, value } => ResolvedAction::SetCustomField { name, value },
        })
    }

    pub async fn create(&self, principal: &Principal, draft: GroupDraft) -> DomainResult<CustomerGroup> {
        if let Some(custom) = &draft.custom {
            return Err(self.resolve_custom(custom));
        }
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        let group = CustomerGroup {
            id: GroupId(self.ids.new_id()),
            version: Version(1),
            key: draft.key,
            name: draft.name,
            custom: None,
            metadata: draft.metadata,
            created_at: ctx.now,
            created_by: Some(ctx.actor.clone()),
            last_modified_at: ctx.now,
            last_modified_by: Some(ctx.actor.clone()),
        };
        self.repo.create(&ctx, &group, self.max_groups).await
    }

    pub async fn get(&self, principal: &Principal, target: &GroupTarget) -> DomainResult<CustomerGroup> {
        match target {
            GroupTarget::Id(id) => self.repo.get(principal.project_id, *id).await,
            GroupTarget::Key(key) => self.repo.get_by_key(principal.project_id, key).await,
        }
    }

    pub async fn query(&self, principal: &Principal, query: &GroupQuery) -> DomainResult<QueryPage<CustomerGroup>> {
        self.repo.query(principal.project_id, query).await
    }

    pub async fn list(&self, principal: &Principal, filter: &GroupFilter) -> DomainResult<Listed<CustomerGroup>> {
        if filter.limit > crate::customer::MAX_LIST_LIMIT {
            return Err(DomainError::validation(format!(
                "Field 'limit' must be at most {}",
                crate::customer::MAX_LIST_LIMIT
            )));
        }
        self.repo.list(principal.project_id, filter).await
    }

    /// Applies `actions` in order at `version`, all or nothing. The version grows by the number
    /// of actions that changed something; a request that changes nothing writes nothing.
    pub async fn update(
        &self,
        principal: &Principal,
        target: &GroupTarget,
        version: Version,
        actions: Vec<GroupAction>,
    ) -> DomainResult<CustomerGroup> {
        if actions.len() > MAX_ACTIONS {
            return Err(DomainError::validation(format!(
                "At most {MAX_ACTIONS} update actions are allowed per request."
            )));
        }
        let resolved = actions.into_iter().map(|a| self.resolve(a)).collect::<DomainResult<Vec<_>>>()?;
        let current = self.get(principal, target).await?;
        if current.version != version {
            return Err(DomainError::VersionConflict {
                id: current.id.to_string(),
                expected: version.0,
                current: current.version.0,
            });
        }
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        let (next, effective) = current.apply_all(&resolved, ctx.now, &ctx.actor)?;
        if effective == 0 {
            return Ok(current);
        }
        self.repo.save(&ctx, &next, version).await
    }

    /// Admin-family update (`name`, `metadata` merged shallowly): no version from the client,
    /// so a lost race is re-read and re-applied a few times before answering `Conflict`.
    pub async fn admin_update(
        &self,
        principal: &Principal,
        id: GroupId,
        name: Option<GroupName>,
        metadata: Option<Metadata>,
    ) -> DomainResult<CustomerGroup> {
        for _ in 0..ADMIN_UPDATE_ATTEMPTS {
            let current = self.repo.get(principal.project_id, id).await?;
            let mut actions = Vec::new();
            if let Some(name) = &name {
                actions.push(ResolvedAction::ChangeName(name.clone()));
            }
            if let Some(patch) = &metadata {
                actions.push(ResolvedAction::SetMetadata(current.metadata.merged(patch)?));
            }
            let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
            let (next, effective) = current.apply_all(&actions, ctx.now, &ctx.actor)?;
            if effective == 0 {
                return Ok(current);
            }
            match self.repo.save(&ctx, &next, current.version).await {
                Err(DomainError::VersionConflict { .. }) => continue,
                other => return other,
            }
        }
        Err(DomainError::Conflict)
    }

    /// Deletes a group; the project family must give the current version.
    pub async fn delete(
        &self,
        principal: &Principal,
        target: &GroupTarget,
        version: Option<Version>,
    ) -> DomainResult<CustomerGroup> {
        let id = match target {
            GroupTarget::Id(id) => *id,
            GroupTarget::Key(_) => self.get(principal, target).await?.id,
        };
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        self.repo.delete(&ctx, id, version).await
    }

    /// Adds and removes members, all or nothing (§2.6).
    pub async fn set_customers(
        &self,
        principal: &Principal,
        id: GroupId,
        add: Vec<CustomerId>,
        remove: Vec<CustomerId>,
    ) -> DomainResult<CustomerGroup> {
        check_membership_lists(&add, &remove)?;
        let mut add = add;
        add.sort();
        add.dedup();
        let mut remove = remove;
        remove.sort();
        remove.dedup();
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        self.repo.set_customers(&ctx, id, &add, &remove).await
    }

    pub async fn customers_of(
        &self,
        principal: &Principal,
        id: GroupId,
        limit: u32,
    ) -> DomainResult<Vec<crate::customer::Customer>> {
        self.repo.customers_of(principal.project_id, id, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Actor, Scope};
    use crate::ids::ProjectId;
    use crate::ports::{MockClock, MockCustomerGroupRepository, MockIdGenerator};
    use chrono::Utc;
    use futures::executor::block_on;

    fn principal() -> Principal {
        Principal {
            project_id: ProjectId(uuid::Uuid::nil()),
            project_key: "demo".into(),
            actor: Actor::Client("c".into()),
            scopes: vec![Scope::manage_project("demo")],
        }
    }

    fn group(version: i64, name: &str) -> CustomerGroup {
        CustomerGroup {
            id: GroupId(uuid::Uuid::from_u128(7)),
            version: Version(version),
            key: None,
            name: GroupName::parse("name", name).expect("valid"),
            custom: None,
            metadata: Metadata::default(),
            created_at: Utc::now(),
            created_by: None,
            last_modified_at: Utc::now(),
            last_modified_by: None,
        }
    }

    fn service(repo: MockCustomerGroupRepository) -> GroupService {
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(uuid::Uuid::now_v7);
        GroupService::new(Arc::new(repo), Arc::new(clock), Arc::new(ids), 1000)
    }

    fn rename(s: &str) -> GroupAction {
        GroupAction::ChangeName(GroupName::parse("name", s).expect("valid"))
    }

    #[test]
    fn no_op_update_writes_nothing() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(|_, _| Ok(group(3, "Gold")));
        repo.expect_save().never();
        let svc = service(repo);
        let g = block_on(svc.update(
            &principal(),
            &GroupTarget::Id(GroupId(uuid::Uuid::from_u128(7))),
            Version(3),
            vec![rename("Gold")],
        ))
        .expect("ok");
        assert_eq!(g.version, Version(3));
    }

    #[test]
    fn stale_version_is_a_conflict_without_write() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(|_, _| Ok(group(2, "Gold")));
        repo.expect_save().never();
        let svc = service(repo);
        let err = block_on(svc.update(
            &principal(),
            &GroupTarget::Id(GroupId(uuid::Uuid::from_u128(7))),
            Version(1),
            vec![rename("X")],
        ))
        .expect_err("conflict");
        assert!(matches!(err, DomainError::VersionConflict { expected: 1, current: 2, .. }));
    }

    #[test]
    fn effective_actions_bump_version_and_save_at_expected() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(|_, _| Ok(group(1, "Gold")));
        repo.expect_save()
            .withf(|_, g, expected| g.version == Version(3) && *expected == Version(1))
            .returning(|_, g, _| Ok(g.clone()));
        let svc = service(repo);
        let g = block_on(svc.update(
            &principal(),
            &GroupTarget::Id(GroupId(uuid::Uuid::from_u128(7))),
            Version(1),
            vec![rename("a"), rename("a"), rename("b")],
        ))
        .expect("ok");
        assert_eq!(g.version, Version(3));
    }

    #[test]
    fn admin_update_retries_lost_races() {
        let mut repo = MockCustomerGroupRepository::new();
        let mut seq = mockall::Sequence::new();
        repo.expect_get().times(1).in_sequence(&mut seq).returning(|_, _| Ok(group(1, "Gold")));
        repo.expect_save()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, g, _| Err(DomainError::VersionConflict { id: g.id.to_string(), expected: 1, current: 2 }));
        repo.expect_get().times(1).in_sequence(&mut seq).returning(|_, _| Ok(group(2, "Gold")));
        repo.expect_save()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|_, g, e| *e == Version(2) && g.version == Version(3))
            .returning(|_, g, _| Ok(g.clone()));
        let svc = service(repo);
        let g = block_on(svc.admin_update(
            &principal(),
            GroupId(uuid::Uuid::from_u128(7)),
            Some(GroupName::parse("name", "Silver").expect("valid")),
            None,
        ))
        .expect("ok");
        assert_eq!(g.name.as_str(), "Silver");
    }

    #[test]
    fn too_many_actions_are_refused() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().never();
        let svc = service(repo);
        let actions = (0..501).map(|i| rename(&format!("n{i}"))).collect();
        assert!(block_on(svc.update(&principal(), &GroupTarget::Key("k".into()), Version(1), actions)).is_err());
    }
}
