//! [`CustomerGroupRepository`] over the in-memory state.

use super::query::{by_key, query_page, sort_by};
use super::{contains_ci, page, MemoryStore, State};
use crate::customer::{Customer, Listed};
use crate::customer_group::{CheckedType, CustomerGroup, ExpectedVersion, Version};
use crate::error::{DomainError, DomainResult, Lookup};
use crate::event::{Event, EventKind, WriteContext};
use crate::ids::{CustomerId, GroupId, ProjectId, TypeId};
use crate::paging::{GroupFilter, GroupQuery, QueryPage};
use crate::ports::CustomerGroupRepository;
use crate::versioned::check_version;
use crate::Resource;
use async_trait::async_trait;

/// `VersionConflict` unless `current` is `expected`.
impl State {
    fn group(&self, project: ProjectId, id: GroupId) -> DomainResult<CustomerGroup> {
        self.groups.get(&(project, id)).cloned().ok_or_else(|| DomainError::not_found(Resource::CustomerGroup, id))
    }

    /// What the unique constraints, the type's foreign key and the type comparison of a group
    /// write refuse.
    fn check_group(&self, project: ProjectId, g: &CustomerGroup, checked: Option<CheckedType>) -> DomainResult<()> {
        self.check_unique(project, g)?;
        let type_of = |id: TypeId| {
            self.types.get(&(project, id)).ok_or_else(|| DomainError::ReferencedResourceNotFound {
                resource: Resource::Type,
                lookup: Lookup::Id(id.to_string()),
            })
        };
        if let Some(custom) = g.custom() {
            type_of(custom.type_id)?;
        }
        // The service validated the fields against the type it read, at `checked.version`; under
        // the store's lock, that is the type as it is now unless a type save came in between.
        if let Some(checked) = checked {
            check_version(type_of(checked.id)?, checked.version.into())?;
        }
        Ok(())
    }

    /// What the unique constraints on a group's name and key refuse.
    fn check_unique(&self, project: ProjectId, g: &CustomerGroup) -> DomainResult<()> {
        for ((p, id), other) in &self.groups {
            if *p != project || *id == g.id() {
                continue;
            }
            if other.name() == g.name() {
                return Err(DomainError::Duplicate {
                    resource: Resource::CustomerGroup,
                    field: "name",
                    value: g.name().as_str().to_owned(),
                });
            }
            if let (Some(a), Some(b)) = (&other.key(), &g.key()) {
                if a == b {
                    return Err(DomainError::Duplicate {
                        resource: Resource::CustomerGroup,
                        field: "key",
                        value: a.as_str().to_owned(),
                    });
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl CustomerGroupRepository for MemoryStore {
    async fn create(
        &self,
        ctx: &WriteContext,
        group: &CustomerGroup,
        max_groups: u32,
        checked: Option<CheckedType>,
    ) -> DomainResult<CustomerGroup> {
        self.write(|s| {
            let project = ctx.project_id;
            let count = s.groups.keys().filter(|(p, _)| *p == project).count();
            if count >= max_groups as usize {
                return Err(DomainError::LimitExceeded { resource: Resource::CustomerGroup, limit: max_groups });
            }
            s.check_group(project, group, checked)?;
            s.groups.insert((project, group.id()), group.clone());
            s.record(Event::group(ctx, EventKind::GroupCreated, group));
            Ok(group.clone())
        })
    }

    async fn get(&self, project: ProjectId, id: GroupId) -> DomainResult<CustomerGroup> {
        self.read(|s| s.group(project, id))
    }

    async fn get_by_key(&self, project: ProjectId, key: &str) -> DomainResult<CustomerGroup> {
        self.read(|s| by_key(&s.groups, project, key, |g| g.key().map(|k| k.as_str()), Resource::CustomerGroup))
    }

    async fn query(&self, project: ProjectId, query: &GroupQuery) -> DomainResult<QueryPage<CustomerGroup>> {
        self.read(|s| query_page(&s.groups, project, query))
    }

    async fn list(&self, project: ProjectId, filter: &GroupFilter) -> DomainResult<Listed<CustomerGroup>> {
        self.read(|s| {
            let q = filter.q.as_deref().filter(|q| !q.is_empty());
            let mut found: Vec<CustomerGroup> = s
                .groups
                .iter()
                .filter(|((p, _), g)| {
                    *p == project
                        && q.is_none_or(|q| contains_ci(g.name().as_str(), q))
                        && (filter.ids.is_empty() || filter.ids.contains(&g.id()))
                        && (filter.names.is_empty() || filter.names.iter().any(|n| n == g.name().as_str()))
                })
                .map(|(_, g)| g.clone())
                .collect();
            sort_by(&mut found, &[crate::paging::Sort { field: filter.order, descending: filter.descending }]);
            let count = i64::try_from(found.len()).unwrap_or(i64::MAX);
            Ok(Listed { items: page(found, filter.offset, filter.limit), count })
        })
    }

    async fn save(
        &self,
        ctx: &WriteContext,
        group: &CustomerGroup,
        expected: Version,
        checked: Option<CheckedType>,
    ) -> DomainResult<CustomerGroup> {
        self.write(|s| {
            let current = s.group(ctx.project_id, group.id())?;
            check_version(&current, expected.into())?;
            s.check_group(ctx.project_id, group, checked)?;
            s.groups.insert((ctx.project_id, group.id()), group.clone());
            s.record(Event::group(ctx, EventKind::GroupUpdated, group));
            Ok(group.clone())
        })
    }

    async fn delete(
        &self,
        ctx: &WriteContext,
        id: GroupId,
        expected: Option<ExpectedVersion>,
    ) -> DomainResult<CustomerGroup> {
        self.write(|s| {
            let project = ctx.project_id;
            let current = s.group(project, id)?;
            if let Some(expected) = expected {
                check_version(&current, expected)?;
            }
            s.groups.remove(&(project, id));
            s.memberships.retain(|(p, _, g)| !(*p == project && *g == id));
            s.record(Event::group(ctx, EventKind::GroupDeleted, &current));
            Ok(current)
        })
    }

    async fn set_customers(
        &self,
        ctx: &WriteContext,
        id: GroupId,
        add: &[CustomerId],
        remove: &[CustomerId],
    ) -> DomainResult<CustomerGroup> {
        self.write(|s| {
            let project = ctx.project_id;
            let current = s.group(project, id)?;
            if let Some(missing) = add.iter().chain(remove).find(|c| s.live_customer(project, **c).is_err()) {
                return Err(DomainError::not_found(Resource::Customer, missing));
            }
            let mut changed = false;
            for c in add {
                changed |= s.memberships.insert((project, *c, id));
            }
            for c in remove {
                changed |= s.memberships.remove(&(project, *c, id));
            }
            if !changed {
                return Ok(current);
            }
            s.bump_groups(ctx, &[id]);
            let next = s.group(project, id)?;
            s.record(Event::group(ctx, EventKind::GroupUpdated, &next));
            Ok(next)
        })
    }

    async fn customers_of(&self, project: ProjectId, id: GroupId, limit: u32) -> DomainResult<Vec<Customer>> {
        self.read(|s| {
            s.group(project, id)?;
            Ok(s.memberships
                .iter()
                .filter(|(p, _, g)| *p == project && *g == id)
                .filter_map(|(_, c, _)| s.live_customer(project, *c).ok())
                .take(limit as usize)
                .collect())
        })
    }

    async fn customers_of_groups(
        &self,
        project: ProjectId,
        ids: &[GroupId],
        limit: u32,
    ) -> DomainResult<Vec<Vec<Customer>>> {
        let mut all = Vec::with_capacity(ids.len());
        for id in ids {
            all.push(match self.customers_of(project, *id, limit).await {
                Err(DomainError::NotFound { .. }) => Vec::new(),
                other => other?,
            });
        }
        Ok(all)
    }
}
