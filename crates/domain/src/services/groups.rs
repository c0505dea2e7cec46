//! Customer-group use cases, shared by both families (§2.6, §3).

use super::{check_list_limit, write_context};
use crate::auth::Principal;
use crate::custom_type::Type;
use crate::customer::{check_membership_lists, Listed};
use crate::customer_group::{
    CheckedType, CustomDraft, CustomFields, CustomerGroup, ExpectedVersion, GroupAction, GroupDraft, GroupKey,
    GroupName, ResolvedAction, TypeRef, Version,
};
use crate::error::{DomainError, DomainResult, Lookup};
use crate::ids::{CustomerId, GroupId, TypeId};
use crate::metadata::Metadata;
use crate::paging::{GroupFilter, GroupQuery, QueryPage};
use crate::ports::{Clock, CustomerGroupRepository, IdGenerator, TypeRepository};
use crate::versioned;
use crate::Resource;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

/// How a group is addressed in a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupTarget {
    /// By id.
    Id(GroupId),
    /// By key.
    Key(GroupKey),
}

#[derive(Clone)]
/// Customer-group use cases: create, read, query, list, versioned update, delete, members.
pub struct GroupService {
    repo: Arc<dyn CustomerGroupRepository>,
    types: Arc<dyn TypeRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    max_groups: u32,
}

/// The types one request has read, by id.
type TypeCache = HashMap<TypeId, Type>;

/// How many times a group write is tried in all when the type its custom fields were validated
/// against was saved in between (each try reads the type again and validates again).
const TYPE_ATTEMPTS: usize = 10;

/// How many times an admin-family update is tried in all when the group was written in between
/// (each try reads the group again and applies the update to it). Every lost try means another
/// write committed, so `n` concurrent updates of one group all apply when `n` is at most this.
const ADMIN_UPDATE_ATTEMPTS: usize = 32;

/// What a group write validated its custom fields against: the type `custom` names, as read.
fn checked_type(custom: &CustomFields, types: &TypeCache) -> Option<CheckedType> {
    types.get(&custom.type_id).map(|t| CheckedType { id: t.id(), version: t.version() })
}

impl GroupService {
    /// A service over these ports; a project holds at most `max_groups` groups.
    pub fn new(
        repo: Arc<dyn CustomerGroupRepository>,
        types: Arc<dyn TypeRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        max_groups: u32,
    ) -> Self {
        GroupService { repo, types, clock, ids, max_groups }
    }

    /// The type a draft refers to (by id or key) in the principal's project; one that does not
    /// exist there is `ReferencedResourceNotFound`.
    async fn find_type(&self, principal: &Principal, type_ref: &TypeRef) -> DomainResult<Type> {
        let (found, lookup) = match type_ref {
            TypeRef::Id(raw) => match TypeId::parse(raw) {
                Some(id) => (self.types.get(principal.project_id, id).await, Lookup::Id(raw.clone())),
                None => (Err(DomainError::not_found(Resource::Type, raw)), Lookup::Id(raw.clone())),
            },
            // A key no type can have (e.g. holding U+0000) is looked up nowhere.
            TypeRef::Key(key) if crate::custom_type::TypeKey::parse(key).is_err() => {
                (Err(DomainError::not_found_key(Resource::Type, key.clone())), Lookup::Key(key.clone()))
            }
            TypeRef::Key(key) => (self.types.get_by_key(principal.project_id, key).await, Lookup::Key(key.clone())),
        };
        match found {
            Err(DomainError::NotFound { .. }) => {
                Err(DomainError::ReferencedResourceNotFound { resource: Resource::Type, lookup })
            }
            other => other,
        }
    }

    /// The type `id` (a group's current type), from the cache or the repository.
    async fn type_by_id<'c>(
        &self,
        principal: &Principal,
        id: TypeId,
        cache: &'c mut TypeCache,
    ) -> DomainResult<&'c Type> {
        Ok(match cache.entry(id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(self.find_type(principal, &TypeRef::Id(id.to_string())).await?),
        })
    }

    /// Resolves `custom` of a draft or of `setCustomType`: the type must exist in the project
    /// and list `customer-group`; the fields are validated and normalized against it.
    async fn resolve_custom(
        &self,
        principal: &Principal,
        draft: &CustomDraft,
        cache: &mut TypeCache,
    ) -> DomainResult<CustomFields> {
        let t = self.find_type(principal, &draft.type_ref).await?;
        t.check_usable_on_groups()?;
        let fields = t.check_fields(&draft.fields)?;
        let type_id = t.id();
        cache.insert(type_id, t);
        Ok(CustomFields { type_id, fields })
    }

    /// Resolves the actions in order, following the type the group would have at each step
    /// (a `setCustomField` value is validated against it and normalized).
    async fn resolve(
        &self,
        principal: &Principal,
        current: &CustomerGroup,
        actions: &[GroupAction],
        cache: &mut TypeCache,
    ) -> DomainResult<Vec<ResolvedAction>> {
        let mut type_id = current.custom().map(|c| c.type_id);
        let mut resolved = Vec::with_capacity(actions.len());
        for action in actions {
            resolved.push(match action.clone() {
                GroupAction::ChangeName(n) => ResolvedAction::ChangeName(n),
                GroupAction::SetKey(k) => ResolvedAction::SetKey(k),
                GroupAction::SetMetadata(m) => ResolvedAction::SetMetadata(m),
                GroupAction::SetCustomType(None) => {
                    type_id = None;
                    ResolvedAction::SetCustomType(None)
                }
                GroupAction::SetCustomType(Some(draft)) => {
                    let custom = self.resolve_custom(principal, &draft, cache).await?;
                    type_id = Some(custom.type_id);
                    ResolvedAction::SetCustomType(Some(custom))
                }
                GroupAction::SetCustomField { name, value } => {
                    // Without a type, applying the action reports InvalidOperation.
                    let value = match (value, type_id) {
                        (Some(v), Some(id)) => {
                            Some(self.type_by_id(principal, id, cache).await?.check_value(&name, &v)?)
                        }
                        (value, _) => value,
                    };
                    ResolvedAction::SetCustomField { name, value }
                }
            });
        }
        Ok(resolved)
    }

    /// Creates a group (resolving and checking its custom fields); `Duplicate` or `LimitExceeded`
    /// otherwise. When the type is saved between its read and the write, the fields are checked
    /// again against the type as saved.
    pub async fn create(&self, principal: &Principal, draft: GroupDraft) -> DomainResult<CustomerGroup> {
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        let id = GroupId(self.ids.new_id());
        for _ in 0..TYPE_ATTEMPTS {
            let mut cache = TypeCache::new();
            let custom = match &draft.custom {
                Some(custom) => Some(self.resolve_custom(principal, custom, &mut cache).await?),
                None => None,
            };
            let checked = custom.as_ref().and_then(|c| checked_type(c, &cache));
            let group = CustomerGroup::from_parts(crate::customer_group::CustomerGroupParts {
                id,
                version: Version::INITIAL,
                key: draft.key.clone(),
                name: draft.name.clone(),
                custom,
                metadata: draft.metadata.clone(),
                created_at: ctx.now,
                created_by: Some(ctx.actor.clone()),
                last_modified_at: ctx.now,
                last_modified_by: Some(ctx.actor.clone()),
            });
            match self.repo.create(&ctx, &group, self.max_groups, checked).await {
                Err(e) if checked.is_some_and(|c| c.is_stale(&e)) => continue,
                other => return other,
            }
        }
        Err(DomainError::Conflict)
    }

    /// The group addressed by `target`; `NotFound` otherwise.
    pub async fn get(&self, principal: &Principal, target: &GroupTarget) -> DomainResult<CustomerGroup> {
        match target {
            GroupTarget::Id(id) => self.repo.get(principal.project_id, *id).await,
            GroupTarget::Key(key) => self.repo.get_by_key(principal.project_id, key.as_str()).await,
        }
    }

    /// Groups of the principal's project matching a `where` query, one page.
    pub async fn query(&self, principal: &Principal, query: &GroupQuery) -> DomainResult<QueryPage<CustomerGroup>> {
        self.repo.query(principal.project_id, query).await
    }

    /// Groups of the principal's project matching an admin-family filter, one page.
    pub async fn list(&self, principal: &Principal, filter: &GroupFilter) -> DomainResult<Listed<CustomerGroup>> {
        check_list_limit(filter.limit)?;
        filter.validate()?;
        self.repo.list(principal.project_id, filter).await
    }

    /// Applies `actions` in order at `version`, all or nothing. The version grows by the number
    /// of actions that changed something; a request that changes nothing writes nothing.
    ///
    /// A stale `version` is refused with [`DomainError::VersionConflict`] before anything is
    /// resolved or written (here against `mockall` mocks of the ports, feature `mocks`):
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::Utc;
    /// use xclade_domain::auth::{Actor, Principal, Scope};
    /// use xclade_domain::customer_group::{
    ///     CustomerGroup, CustomerGroupParts, ExpectedVersion, GroupAction, GroupName, Version,
    /// };
    /// use xclade_domain::metadata::Metadata;
    /// use xclade_domain::ports::{MockClock, MockCustomerGroupRepository, MockIdGenerator, MockTypeRepository};
    /// use xclade_domain::services::{GroupService, GroupTarget};
    /// use xclade_domain::{DomainError, GroupId, ProjectId};
    ///
    /// let id = GroupId(uuid::Uuid::now_v7());
    /// let stored = CustomerGroup::from_parts(CustomerGroupParts {
    ///     id, version: Version::new(3).unwrap(), key: None, name: GroupName::parse("name", "Gold").unwrap(),
    ///     custom: None, metadata: Metadata::default(), created_at: Utc::now(), created_by: None,
    ///     last_modified_at: Utc::now(), last_modified_by: None,
    /// });
    /// let mut repo = MockCustomerGroupRepository::new();
    /// repo.expect_get().returning(move |_, _| Ok(stored.clone()));
    /// repo.expect_save().never();
    /// let service = GroupService::new(
    ///     Arc::new(repo), Arc::new(MockTypeRepository::new()),
    ///     Arc::new(MockClock::new()), Arc::new(MockIdGenerator::new()), 1000,
    /// );
    /// let principal = Principal {
    ///     project_id: ProjectId(uuid::Uuid::nil()), project_key: "demo".into(),
    ///     actor: Actor::Client("loyalty".into()), scopes: vec![Scope::manage_project("demo")],
    /// };
    /// let rename = vec![GroupAction::ChangeName(GroupName::parse("name", "Platinum").unwrap())];
    /// let err = futures::executor::block_on(service.update(&principal, &GroupTarget::Id(id), ExpectedVersion::new(2), rename))
    ///     .unwrap_err();
    /// assert!(matches!(err, DomainError::VersionConflict { expected: 2, current: 3, .. }));
    /// ```
    pub async fn update(
        &self,
        principal: &Principal,
        target: &GroupTarget,
        version: ExpectedVersion,
        actions: Vec<GroupAction>,
    ) -> DomainResult<CustomerGroup> {
        versioned::check_action_count(actions.len())?;
        let current = self.get(principal, target).await?;
        versioned::check_version(&current, version)?;
        let touches_custom =
            actions.iter().any(|a| matches!(a, GroupAction::SetCustomType(_) | GroupAction::SetCustomField { .. }));
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        // Tried again (types read again) only when a type was saved after it was read.
        for _ in 0..TYPE_ATTEMPTS {
            let mut cache = TypeCache::new();
            let resolved = self.resolve(principal, &current, &actions, &mut cache).await?;
            let (next, effective) = current.apply_all(&resolved, ctx.now, &ctx.actor)?;
            if effective == 0 {
                return Ok(current);
            }
            let checked = match (touches_custom, next.custom()) {
                (true, Some(custom)) => {
                    // Every value was checked on the way; what is left is a required field removed.
                    self.type_by_id(principal, custom.type_id, &mut cache).await?.check_fields(&custom.fields)?;
                    checked_type(custom, &cache)
                }
                // The custom fields are as they were at `current`'s version, which the write
                // compares: they conform to the type, whose saves check the groups using it.
                _ => None,
            };
            match self.repo.save(&ctx, &next, current.version(), checked).await {
                Err(e) if checked.is_some_and(|c| c.is_stale(&e)) => continue,
                other => return other,
            }
        }
        Err(DomainError::Conflict)
    }

    /// Admin-family update (`name`, `metadata` merged shallowly), through the same engine as
    /// [`GroupService::update`]: the client sends no version, so the update is applied to the
    /// group as read and saved at its version; when another write came in between, the group is
    /// read again and the update applied again (concurrent updates all apply, none lost). After
    /// 32 lost tries, the `VersionConflict` of the last one.
    pub async fn admin_update(
        &self,
        principal: &Principal,
        id: GroupId,
        name: Option<GroupName>,
        metadata: Option<Metadata>,
    ) -> DomainResult<CustomerGroup> {
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current = self.repo.get(principal.project_id, id).await?;
            let actions = current.admin_actions(name.as_ref(), metadata.as_ref())?;
            let (next, effective) = current.apply_all(&actions, ctx.now, &ctx.actor)?;
            if effective == 0 {
                return Ok(current);
            }
            // Name and metadata only: the custom fields stay as they are, nothing to compare.
            match self.repo.save(&ctx, &next, current.version(), None).await {
                Err(DomainError::VersionConflict { .. }) if attempt < ADMIN_UPDATE_ATTEMPTS => continue,
                other => return other,
            }
        }
    }

    /// Deletes a group; the project family must give the current version.
    pub async fn delete(
        &self,
        principal: &Principal,
        target: &GroupTarget,
        version: Option<ExpectedVersion>,
    ) -> DomainResult<CustomerGroup> {
        let id = match target {
            GroupTarget::Id(id) => *id,
            GroupTarget::Key(_) => self.get(principal, target).await?.id(),
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

    /// The members of a group, at most `limit` of them.
    pub async fn customers_of(
        &self,
        principal: &Principal,
        id: GroupId,
        limit: u32,
    ) -> DomainResult<Vec<crate::customer::Customer>> {
        self.repo.customers_of(principal.project_id, id, limit).await
    }

    /// The members of each group of a page, at most `limit` per group, in one read:
    /// `result[i]` belongs to `ids[i]` (empty for a group deleted since the page was read).
    pub async fn customers_of_groups(
        &self,
        principal: &Principal,
        ids: &[GroupId],
        limit: u32,
    ) -> DomainResult<Vec<Vec<crate::customer::Customer>>> {
        self.repo.customers_of_groups(principal.project_id, ids, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{clock, ids, principal};
    use super::*;
    use crate::ports::{MockCustomerGroupRepository, MockTypeRepository};
    use chrono::Utc;
    use futures::executor::block_on;

    fn group(version: i64, name: &str) -> CustomerGroup {
        CustomerGroup::from_parts(crate::customer_group::CustomerGroupParts {
            id: GroupId(uuid::Uuid::from_u128(7)),
            version: Version::new(version).unwrap(),
            key: None,
            name: GroupName::parse("name", name).expect("valid"),
            custom: None,
            metadata: Metadata::default(),
            created_at: Utc::now(),
            created_by: None,
            last_modified_at: Utc::now(),
            last_modified_by: None,
        })
    }

    fn service(repo: MockCustomerGroupRepository) -> GroupService {
        service_with_types(repo, MockTypeRepository::new())
    }

    fn service_with_types(repo: MockCustomerGroupRepository, types: MockTypeRepository) -> GroupService {
        GroupService::new(Arc::new(repo), Arc::new(types), clock(), ids(), 1000)
    }

    const TYPE_ID: u128 = 0x77;

    /// What an error must look like.
    type Expected = fn(&DomainError) -> bool;

    /// A type `tk` for groups: `tier` (required Enum gold/silver), `points` (Number).
    fn a_type() -> crate::custom_type::Type {
        use crate::custom_type::*;
        let ls = |s: &str| LocalizedString::new("label", [("en".to_owned(), s.to_owned())].into_iter().collect());
        let def = |name: &str, t: FieldType, required: bool| {
            FieldDefinition::new(
                FieldName::parse(name).expect("valid"),
                ls(name).expect("valid"),
                required,
                t,
                InputHint::SingleLine,
            )
            .expect("valid")
        };
        let tier = FieldType::Enum {
            values: vec![
                EnumValue { key: "gold".into(), label: "Gold".into() },
                EnumValue { key: "silver".into(), label: "Silver".into() },
            ],
        };
        Type::from_parts(crate::custom_type::TypeParts {
            id: TypeId(uuid::Uuid::from_u128(TYPE_ID)),
            version: Version::new(1).unwrap(),
            key: TypeKey::parse("tk").expect("valid"),
            name: ls("T").expect("valid"),
            description: None,
            resource_type_ids: vec!["customer-group".into()],
            field_definitions: vec![def("tier", tier, true), def("points", FieldType::Number, false)],
            created_at: Utc::now(),
            created_by: None,
            last_modified_at: Utc::now(),
            last_modified_by: None,
        })
    }

    fn types_with(t: crate::custom_type::Type) -> MockTypeRepository {
        let mut types = MockTypeRepository::new();
        let by_key = t.clone();
        types.expect_get_by_key().returning(move |_, key| {
            if key == by_key.key().as_str() {
                Ok(by_key.clone())
            } else {
                Err(DomainError::not_found_key(Resource::Type, key))
            }
        });
        types.expect_get().returning(move |_, id| {
            if id == t.id() {
                Ok(t.clone())
            } else {
                Err(DomainError::not_found(Resource::Type, id))
            }
        });
        types
    }

    fn fields(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn draft(type_ref: TypeRef, f: serde_json::Value) -> GroupDraft {
        GroupDraft {
            name: GroupName::parse("name", "Gold").expect("valid"),
            key: None,
            custom: Some(CustomDraft { type_ref, fields: fields(f) }),
            metadata: Metadata::default(),
        }
    }

    #[test]
    fn custom_by_key_is_stored_by_id() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_create().returning(|_, g, _, _| Ok(g.clone()));
        let svc = service_with_types(repo, types_with(a_type()));
        let g =
            block_on(svc.create(&principal(), draft(TypeRef::Key("tk".into()), serde_json::json!({"tier": "gold"}))))
                .expect("ok");
        let custom = g.custom().expect("custom");
        assert_eq!(custom.type_id, TypeId(uuid::Uuid::from_u128(TYPE_ID)));
    }

    #[test]
    fn custom_drafts_are_checked() {
        let cases: Vec<(TypeRef, serde_json::Value, Expected)> = vec![
            (
                TypeRef::Key("nope".into()),
                serde_json::json!({}),
                |e| matches!(e, DomainError::ReferencedResourceNotFound { lookup: Lookup::Key(k), .. } if k == "nope"),
            ),
            (TypeRef::Id("not-a-uuid".into()), serde_json::json!({}), |e| {
                matches!(e, DomainError::ReferencedResourceNotFound { lookup: Lookup::Id(_), .. })
            }),
            (TypeRef::Id(uuid::Uuid::from_u128(1).to_string()), serde_json::json!({}), |e| {
                matches!(e, DomainError::ReferencedResourceNotFound { .. })
            }),
            (TypeRef::Key("tk".into()), serde_json::json!({}), |e| matches!(e, DomainError::RequiredField { .. })),
            (TypeRef::Key("tk".into()), serde_json::json!({"tier": "bronze"}), |e| {
                matches!(e, DomainError::InvalidField { .. })
            }),
        ];
        for (type_ref, f, expected) in cases {
            let mut repo = MockCustomerGroupRepository::new();
            repo.expect_create().never();
            let svc = service_with_types(repo, types_with(a_type()));
            let err = block_on(svc.create(&principal(), draft(type_ref.clone(), f))).expect_err("refused");
            assert!(expected(&err), "{type_ref:?}: {err:?}");
        }
        let mut parts = a_type().into_parts();
        parts.resource_type_ids = vec!["customer".into()];
        let other = Type::from_parts(parts);
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_create().never();
        let svc = service_with_types(repo, types_with(other));
        let err =
            block_on(svc.create(&principal(), draft(TypeRef::Key("tk".into()), serde_json::json!({"tier": "gold"}))))
                .expect_err("refused");
        assert!(matches!(err, DomainError::InvalidOperation(_)), "{err:?}");
    }

    fn typed_group() -> CustomerGroup {
        let mut g = group(1, "Gold").into_parts();
        g.custom = Some(CustomFields {
            type_id: TypeId(uuid::Uuid::from_u128(TYPE_ID)),
            fields: fields(serde_json::json!({"tier": "gold"})),
        });
        CustomerGroup::from_parts(g)
    }

    /// A repository holding `stored` that must not write.
    fn read_only(stored: CustomerGroup) -> MockCustomerGroupRepository {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(move |_, _| Ok(stored.clone()));
        repo.expect_save().never();
        repo
    }

    /// A repository holding `stored` that saves the group it is given at version `saved`.
    fn saving_at(stored: CustomerGroup, saved: i64) -> MockCustomerGroupRepository {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(move |_, _| Ok(stored.clone()));
        repo.expect_save()
            .withf(move |_, g, _, _| g.version() == Version::new(saved).unwrap())
            .returning(|_, g, _, _| Ok(g.clone()));
        repo
    }

    /// The versioned update of group 7 at `expected`.
    fn update(svc: &GroupService, expected: i64, actions: Vec<GroupAction>) -> DomainResult<CustomerGroup> {
        let target = GroupTarget::Id(GroupId(uuid::Uuid::from_u128(7)));
        block_on(svc.update(&principal(), &target, ExpectedVersion::new(expected), actions))
    }

    #[test]
    fn custom_fields_follow_the_group_type() {
        let set =
            |name: &str, v: Option<serde_json::Value>| GroupAction::SetCustomField { name: name.into(), value: v };
        // Refused: unknown field, wrong type, removing a required field, removing an unset one.
        let refused: Vec<(GroupAction, Expected)> = vec![
            (set("nope", Some(serde_json::json!(1))), |e| matches!(e, DomainError::InvalidField { .. })),
            (set("points", Some(serde_json::json!("1"))), |e| matches!(e, DomainError::InvalidField { .. })),
            (set("tier", None), |e| matches!(e, DomainError::RequiredField { .. })),
            (set("points", None), |e| matches!(e, DomainError::InvalidOperation(_))),
        ];
        for (action, expected) in refused {
            let svc = service_with_types(read_only(typed_group()), types_with(a_type()));
            let err = update(&svc, 1, vec![action.clone()]).expect_err("refused");
            assert!(expected(&err), "{action:?}: {err:?}");
        }
        // Accepted: two effective actions, one no-op.
        let svc = service_with_types(saving_at(typed_group(), 3), types_with(a_type()));
        let actions = vec![
            set("tier", Some(serde_json::json!("gold"))),
            set("tier", Some(serde_json::json!("silver"))),
            set("points", Some(serde_json::json!(5))),
        ];
        let g = update(&svc, 1, actions).expect("ok");
        assert_eq!(
            g.custom().map(|c| c.fields.clone()),
            Some(fields(serde_json::json!({"tier": "silver", "points": 5})))
        );
    }

    #[test]
    fn set_custom_type_then_fields_in_one_request() {
        let svc = service_with_types(saving_at(group(1, "Gold"), 3), types_with(a_type()));
        let actions = vec![
            GroupAction::SetCustomType(Some(CustomDraft {
                type_ref: TypeRef::Key("tk".into()),
                fields: fields(serde_json::json!({"tier": "gold"})),
            })),
            GroupAction::SetCustomField { name: "points".into(), value: Some(serde_json::json!(2)) },
        ];
        let g = update(&svc, 1, actions).expect("ok");
        assert_eq!(g.custom().map(|c| c.type_id), Some(TypeId(uuid::Uuid::from_u128(TYPE_ID))));
    }

    fn rename(s: &str) -> GroupAction {
        GroupAction::ChangeName(GroupName::parse("name", s).expect("valid"))
    }

    #[test]
    fn no_op_update_writes_nothing() {
        let g = update(&service(read_only(group(3, "Gold"))), 3, vec![rename("Gold")]).expect("ok");
        assert_eq!(g.version(), Version::new(3).unwrap());
    }

    #[test]
    fn stale_version_is_a_conflict_without_write() {
        let err = update(&service(read_only(group(2, "Gold"))), 1, vec![rename("X")]).expect_err("conflict");
        assert!(matches!(err, DomainError::VersionConflict { expected: 1, current: 2, .. }));
    }

    #[test]
    fn effective_actions_bump_version_and_save_at_expected() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(|_, _| Ok(group(1, "Gold")));
        repo.expect_save()
            .withf(|_, g, expected, checked| {
                g.version() == Version::new(3).unwrap() && *expected == Version::new(1).unwrap() && checked.is_none()
            })
            .returning(|_, g, _, _| Ok(g.clone()));
        let g = update(&service(repo), 1, vec![rename("a"), rename("a"), rename("b")]).expect("ok");
        assert_eq!(g.version(), Version::new(3).unwrap());
    }

    fn metadata(v: serde_json::Value) -> Metadata {
        Metadata::parse(fields(v)).expect("valid")
    }

    fn with_metadata(g: CustomerGroup, m: serde_json::Value) -> CustomerGroup {
        let mut parts = g.into_parts();
        parts.metadata = metadata(m);
        CustomerGroup::from_parts(parts)
    }

    fn admin_update(
        svc: &GroupService,
        name: Option<&str>,
        m: Option<serde_json::Value>,
    ) -> DomainResult<CustomerGroup> {
        let name = name.map(|n| GroupName::parse("name", n).expect("valid"));
        block_on(svc.admin_update(&principal(), GroupId(uuid::Uuid::from_u128(7)), name, m.map(metadata)))
    }

    fn conflict(expected: i64, current: i64) -> DomainError {
        DomainError::VersionConflict { id: GroupId(uuid::Uuid::from_u128(7)).to_string(), expected, current }
    }

    #[test]
    fn admin_update_retries_after_a_conflict_and_applies_on_the_fresh_state() {
        let mut seq = mockall::Sequence::new();
        let mut repo = MockCustomerGroupRepository::new();
        // Read at version 2; someone else then adds `b` (version 3) before our save.
        repo.expect_get()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(with_metadata(group(2, "Gold"), serde_json::json!({"a": 1}))));
        repo.expect_save()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|_, _, expected, checked| *expected == Version::new(2).unwrap() && checked.is_none())
            .returning(|_, _, _, _| Err(conflict(2, 3)));
        repo.expect_get()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(with_metadata(group(3, "Gold"), serde_json::json!({"a": 1, "b": 2}))));
        repo.expect_save()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|_, g, expected, checked| {
                *expected == Version::new(3).unwrap()
                    && checked.is_none()
                    && g.version() == Version::new(5).unwrap()
                    && g.name().as_str() == "Silver"
                    && *g.metadata() == metadata(serde_json::json!({"b": 2, "c": 3}))
            })
            .returning(|_, g, _, _| Ok(g.clone()));
        let g = admin_update(&service(repo), Some("Silver"), Some(serde_json::json!({"a": "", "c": 3})))
            .expect("applied on the fresh group");
        assert_eq!((g.name().as_str(), g.version()), ("Silver", Version::new(5).unwrap()));
    }

    #[test]
    fn admin_update_gives_up_after_bounded_conflicts() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().times(ADMIN_UPDATE_ATTEMPTS).returning(|_, _| Ok(group(2, "Gold")));
        repo.expect_save().times(ADMIN_UPDATE_ATTEMPTS).returning(|_, _, _, _| Err(conflict(2, 3)));
        let err = admin_update(&service(repo), Some("Silver"), None).expect_err("conflict");
        assert!(matches!(err, DomainError::VersionConflict { expected: 2, current: 3, .. }), "{err:?}");
    }

    #[test]
    fn admin_update_that_changes_nothing_writes_nothing() {
        let stored = with_metadata(group(2, "Gold"), serde_json::json!({"a": 1}));
        let svc = service(read_only(stored));
        // Same name, a metadata merge that leaves it as it is, a removal of an absent key.
        let g = admin_update(&svc, Some("Gold"), Some(serde_json::json!({"a": 1, "zz": ""}))).expect("ok");
        assert_eq!(g.version(), Version::new(2).unwrap());
    }

    #[test]
    fn admin_update_keeps_the_custom_fields_and_compares_no_type() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(|_, _| Ok(typed_group()));
        repo.expect_save()
            .times(1)
            .withf(|_, g, _, checked| checked.is_none() && g.custom() == typed_group().custom())
            .returning(|_, g, _, _| Ok(g.clone()));
        let mut types = MockTypeRepository::new();
        types.expect_get().never();
        let svc = service_with_types(repo, types);
        let g = admin_update(&svc, Some("Platinum"), None).expect("ok");
        assert_eq!(g.name().as_str(), "Platinum");
    }

    /// [`a_type`] at `version`, whose `tier` takes only `tiers`.
    fn a_type_at(version: i64, tiers: &[&str]) -> Type {
        let mut parts = a_type().into_parts();
        parts.version = Version::new(version).unwrap();
        for d in parts.field_definitions.iter_mut().filter(|d| d.name.as_str() == "tier") {
            let values =
                tiers.iter().map(|t| crate::custom_type::EnumValue { key: (*t).into(), label: (*t).into() }).collect();
            d.field_type = crate::custom_type::FieldType::Enum { values };
        }
        Type::from_parts(parts)
    }

    /// A type repository answering `first` to the first read of the type and `then` after.
    fn types_changing(first: Type, then: Type) -> MockTypeRepository {
        let mut types = MockTypeRepository::new();
        let reads = std::sync::atomic::AtomicUsize::new(0);
        types.expect_get().returning(move |_, _| {
            let n = reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(if n == 0 { first.clone() } else { then.clone() })
        });
        types
    }

    fn stale_type(expected: i64, current: i64) -> DomainError {
        DomainError::VersionConflict { id: TypeId(uuid::Uuid::from_u128(TYPE_ID)).to_string(), expected, current }
    }

    fn checked_at(version: i64) -> CheckedType {
        CheckedType { id: TypeId(uuid::Uuid::from_u128(TYPE_ID)), version: Version::new(version).unwrap() }
    }

    #[test]
    fn a_stale_type_is_read_again_and_the_fields_checked_again() {
        let set_silver =
            || vec![GroupAction::SetCustomField { name: "tier".into(), value: Some(serde_json::json!("silver")) }];
        // The type was saved (version 2, still with silver) between the read and the write.
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(|_, _| Ok(typed_group()));
        let mut seq = mockall::Sequence::new();
        repo.expect_save()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|_, _, _, checked| *checked == Some(checked_at(1)))
            .returning(|_, _, _, _| Err(stale_type(1, 2)));
        repo.expect_save()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|_, g, expected, checked| {
                *checked == Some(checked_at(2)) && *expected == Version::new(1).unwrap() && g.version().get() == 2
            })
            .returning(|_, g, _, _| Ok(g.clone()));
        let types = types_changing(a_type_at(1, &["gold", "silver"]), a_type_at(2, &["gold", "silver"]));
        let g = update(&service_with_types(repo, types), 1, set_silver()).expect("saved on the second try");
        assert_eq!(g.custom().map(|c| c.fields.clone()), Some(fields(serde_json::json!({"tier": "silver"}))));

        // The type was saved without silver: checked again, the value is refused, nothing written.
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(|_, _| Ok(typed_group()));
        repo.expect_save().times(1).returning(|_, _, _, _| Err(stale_type(1, 2)));
        let types = types_changing(a_type_at(1, &["gold", "silver"]), a_type_at(2, &["gold"]));
        let err = update(&service_with_types(repo, types), 1, set_silver()).expect_err("refused");
        assert!(matches!(err, DomainError::InvalidField { .. }), "{err:?}");
    }

    #[test]
    fn a_create_against_a_stale_type_is_checked_again() {
        let mut repo = MockCustomerGroupRepository::new();
        let mut seq = mockall::Sequence::new();
        repo.expect_create()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|_, _, _, checked| *checked == Some(checked_at(1)))
            .returning(|_, _, _, _| Err(stale_type(1, 2)));
        repo.expect_create()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|_, _, _, checked| *checked == Some(checked_at(2)))
            .returning(|_, g, _, _| Ok(g.clone()));
        let mut types = MockTypeRepository::new();
        let mut reads = mockall::Sequence::new();
        types.expect_get_by_key().times(1).in_sequence(&mut reads).returning(|_, _| Ok(a_type_at(1, &["gold"])));
        types.expect_get_by_key().times(1).in_sequence(&mut reads).returning(|_, _| Ok(a_type_at(2, &["gold"])));
        let svc = service_with_types(repo, types);
        let g =
            block_on(svc.create(&principal(), draft(TypeRef::Key("tk".into()), serde_json::json!({"tier": "gold"}))))
                .expect("created on the second try");
        assert_eq!(g.custom().map(|c| c.type_id), Some(TypeId(uuid::Uuid::from_u128(TYPE_ID))));
    }

    #[test]
    fn a_type_that_keeps_changing_is_a_conflict_after_bounded_tries() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_create().times(TYPE_ATTEMPTS).returning(|_, _, _, _| Err(stale_type(1, 2)));
        let svc = service_with_types(repo, types_with(a_type()));
        let err =
            block_on(svc.create(&principal(), draft(TypeRef::Key("tk".into()), serde_json::json!({"tier": "gold"}))))
                .expect_err("conflict");
        assert!(matches!(err, DomainError::Conflict), "{err:?}");
    }

    #[test]
    fn a_group_version_conflict_is_not_retried() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().returning(|_, _| Ok(typed_group()));
        repo.expect_save().times(1).returning(|_, _, _, _| Err(conflict(1, 2)));
        let svc = service_with_types(repo, types_with(a_type()));
        let set = GroupAction::SetCustomField { name: "points".into(), value: Some(serde_json::json!(3)) };
        let err = update(&svc, 1, vec![set]).expect_err("conflict");
        assert!(matches!(err, DomainError::VersionConflict { expected: 1, current: 2, .. }), "{err:?}");
    }

    #[test]
    fn too_many_actions_are_refused() {
        let mut repo = MockCustomerGroupRepository::new();
        repo.expect_get().never();
        let svc = service(repo);
        let actions = (0..501).map(|i| rename(&format!("n{i}"))).collect();
        assert!(block_on(svc.update(
            &principal(),
            &GroupTarget::Key(GroupKey::parse("kk").unwrap()),
            ExpectedVersion::new(1),
            actions
        ))
        .is_err());
    }
}
