//! [`CustomerRepository`] over the in-memory state.

use super::{contains_ci, page, Claim, MemoryStore, State};
use crate::customer::{
    Address, AddressFields, Customer, CustomerFilter, CustomerOrderField, Listed, Relations, TimeRange,
};
use crate::error::{DomainError, DomainResult};
use crate::event::{Event, WriteContext};
use crate::ids::{AddressId, CustomerId, GroupId, ProjectId};
use crate::ports::{CreateOutcome, CustomerChange, CustomerRepository, IdempotencyClaim};
use crate::Resource;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::cmp::Ordering;

fn duplicate_email(email: &str) -> DomainError {
    DomainError::Duplicate { resource: Resource::Customer, field: "email", value: email.to_owned() }
}

impl State {
    /// A customer that is not deleted, without relations; `NotFound` otherwise.
    pub(super) fn live_customer(&self, project: ProjectId, id: CustomerId) -> DomainResult<Customer> {
        match self.customers.get(&(project, id)) {
            Some(c) if c.deleted_at().is_none() => Ok(c.clone()),
            _ => Err(DomainError::not_found(Resource::Customer, id)),
        }
    }

    /// `Duplicate` when another live customer of the project has this email.
    fn check_email_free(&self, project: ProjectId, email: &str, except: Option<CustomerId>) -> DomainResult<()> {
        let lower = email.to_lowercase();
        let taken = self.customers.iter().any(|((p, id), c)| {
            *p == project && Some(*id) != except && c.deleted_at().is_none() && c.email_str().to_lowercase() == lower
        });
        if taken {
            return Err(duplicate_email(email));
        }
        Ok(())
    }

    /// The groups (by id) and addresses (in creation order) of a customer.
    fn with_relations(&self, project: ProjectId, mut c: Customer, relations: Relations) -> Customer {
        let groups = if relations.groups {
            self.memberships
                .iter()
                .filter(|(p, cid, _)| *p == project && *cid == c.id())
                .filter_map(|(p, _, g)| self.groups.get(&(*p, *g)).cloned())
                .collect()
        } else {
            Vec::new()
        };
        let addresses = if relations.addresses {
            self.addresses_of(project, c.id()).into_iter().map(|a| flag_defaults(a, &c)).collect()
        } else {
            Vec::new()
        };
        c.set_groups(groups);
        c.set_addresses(addresses);
        c
    }

    fn addresses_of(&self, project: ProjectId, customer: CustomerId) -> Vec<Address> {
        let mut list: Vec<Address> = self
            .addresses
            .iter()
            .filter(|((p, _), a)| *p == project && a.customer_id() == customer)
            .map(|(_, a)| a.clone())
            .collect();
        list.sort_by_key(|a| (a.created_at(), a.id()));
        list
    }

    /// Grows the version of each group of `ids` by one (memberships changed).
    pub(super) fn bump_groups(&mut self, ctx: &WriteContext, ids: &[GroupId]) {
        for id in ids {
            if let Some(g) = self.groups.get_mut(&(ctx.project_id, *id)) {
                g.record_membership_change(ctx.now, &ctx.actor);
            }
        }
    }

    /// Writes the customer's defaults and `updated_at` after an address change, records
    /// `customer.updated` and answers with `relations`.
    fn finish_address(
        &mut self,
        ctx: &WriteContext,
        mut owner: Customer,
        billing: Option<AddressId>,
        shipping: Option<AddressId>,
        relations: Relations,
    ) -> DomainResult<Customer> {
        owner.set_default_addresses(billing, shipping, ctx.now);
        self.customers.insert((ctx.project_id, owner.id()), owner.clone());
        let full = self.with_relations(ctx.project_id, owner, Relations::ALL);
        self.record(Event::customer_updated(ctx, &full));
        Ok(keep_only(full, relations))
    }
}

/// The customer with only the relations asked for.
fn keep_only(mut c: Customer, relations: Relations) -> Customer {
    c.keep_relations(relations);
    c
}

/// Marks the address's default flags from the customer's default ids.
fn flag_defaults(mut a: Address, owner: &Customer) -> Address {
    a.flag_defaults(owner);
    a
}

fn default_after(current: Option<AddressId>, address: AddressId, wanted: Option<bool>) -> Option<AddressId> {
    match wanted {
        Some(true) => Some(address),
        Some(false) if current == Some(address) => None,
        _ => current,
    }
}

fn in_range(t: DateTime<Utc>, r: &TimeRange) -> bool {
    r.gt.is_none_or(|x| t > x)
        && r.gte.is_none_or(|x| t >= x)
        && r.lt.is_none_or(|x| t < x)
        && r.lte.is_none_or(|x| t <= x)
}

fn order(a: &Customer, b: &Customer, field: CustomerOrderField) -> Ordering {
    use super::cmp_nulls_last as n;
    let by = match field {
        CustomerOrderField::Id => Ordering::Equal,
        CustomerOrderField::Email => a.email_str().cmp(b.email_str()),
        CustomerOrderField::FirstName => n(&a.first_name(), &b.first_name()),
        CustomerOrderField::LastName => n(&a.last_name(), &b.last_name()),
        CustomerOrderField::CompanyName => n(&a.company_name(), &b.company_name()),
        CustomerOrderField::HasAccount => a.has_account().cmp(&b.has_account()),
        CustomerOrderField::CreatedAt => a.created_at().cmp(&b.created_at()),
        CustomerOrderField::UpdatedAt => a.updated_at().cmp(&b.updated_at()),
    };
    by.then(a.id().cmp(&b.id()))
}

#[async_trait]
impl CustomerRepository for MemoryStore {
    async fn create<'a>(
        &self,
        ctx: &WriteContext,
        customer: &Customer,
        additional_data: Option<&'a Map<String, Value>>,
        idempotency: Option<&'a IdempotencyClaim>,
    ) -> DomainResult<CreateOutcome> {
        self.write(|s| {
            let project = ctx.project_id;
            if let Some(claim) = idempotency {
                if let Some(old) = s.idempotency.get(&(project, claim.key.clone())) {
                    if old.created_at >= claim.not_before {
                        if old.request_hash != claim.request_hash {
                            return Err(DomainError::IdempotencyMismatch);
                        }
                        return Ok(CreateOutcome::Replayed(old.customer.clone()));
                    }
                }
            }
            s.check_email_free(project, customer.email_str(), None)?;
            let mut stored = customer.clone();
            stored.keep_relations(Relations::NONE);
            s.customers.insert((project, customer.id()), stored);
            if let Some(claim) = idempotency {
                let saved =
                    Claim { request_hash: claim.request_hash.clone(), customer: customer.clone(), created_at: ctx.now };
                s.idempotency.insert((project, claim.key.clone()), saved);
            }
            s.record(Event::customer_created(ctx, customer, additional_data));
            Ok(CreateOutcome::Created(customer.clone()))
        })
    }

    async fn get(&self, project: ProjectId, id: CustomerId, relations: Relations) -> DomainResult<Customer> {
        self.read(|s| Ok(s.with_relations(project, s.live_customer(project, id)?, relations)))
    }

    async fn list(
        &self,
        project: ProjectId,
        filter: &CustomerFilter,
        relations: Relations,
    ) -> DomainResult<Listed<Customer>> {
        self.read(|s| {
            let q = filter.q.as_deref().filter(|q| !q.is_empty());
            let mut found: Vec<Customer> = s
                .customers
                .iter()
                .filter(|((p, _), c)| *p == project && c.deleted_at().is_none())
                .map(|(_, c)| c)
                .filter(|c| {
                    q.is_none_or(|q| {
                        [
                            Some(&c.email_str()),
                            c.first_name().as_ref(),
                            c.last_name().as_ref(),
                            c.company_name().as_ref(),
                        ]
                        .into_iter()
                        .flatten()
                        .any(|v| contains_ci(v, q))
                    })
                })
                .filter(|c| filter.ids.is_empty() || filter.ids.contains(&c.id()))
                .filter(|c| {
                    filter.emails.is_empty() || filter.emails.iter().any(|e| e.eq_ignore_ascii_case(c.email_str()))
                })
                .filter(|c| {
                    filter.groups.is_empty()
                        || filter.groups.iter().any(|g| s.memberships.contains(&(project, c.id(), *g)))
                })
                .filter(|c| filter.has_account.is_none_or(|h| c.has_account() == h))
                .filter(|c| {
                    in_range(c.created_at(), &filter.created_at) && in_range(c.updated_at(), &filter.updated_at)
                })
                .cloned()
                .collect();
            found.sort_by(|a, b| order(a, b, filter.order));
            if filter.descending {
                found.reverse();
            }
            let count = i64::try_from(found.len()).unwrap_or(i64::MAX);
            let items =
                page(found, filter.offset, filter.limit).into_iter().map(|c| s.with_relations(project, c, relations));
            Ok(Listed { items: items.collect(), count })
        })
    }

    async fn update<'a>(
        &self,
        ctx: &WriteContext,
        id: CustomerId,
        change: &'a CustomerChange,
        relations: Relations,
    ) -> DomainResult<Customer> {
        self.write(|s| {
            let mut c = s.live_customer(ctx.project_id, id)?;
            if change(&mut c)? {
                s.check_email_free(ctx.project_id, c.email_str(), Some(id))?;
                s.customers.insert((ctx.project_id, id), c.clone());
                let full = s.with_relations(ctx.project_id, c.clone(), Relations::ALL);
                s.record(Event::customer_updated(ctx, &full));
            }
            Ok(s.with_relations(ctx.project_id, c, relations))
        })
    }

    async fn delete(&self, ctx: &WriteContext, id: CustomerId) -> DomainResult<()> {
        self.write(|s| {
            let project = ctx.project_id;
            let mut c = s.live_customer(project, id)?;
            c.mark_deleted(ctx.now);
            s.customers.insert((project, id), c.clone());
            let last = s.with_relations(project, c, Relations::ALL);
            let left: Vec<GroupId> =
                s.memberships.iter().filter(|(p, cid, _)| *p == project && *cid == id).map(|(_, _, g)| *g).collect();
            s.memberships.retain(|(p, cid, _)| !(*p == project && *cid == id));
            s.bump_groups(ctx, &left);
            s.record(Event::customer_deleted(ctx, &last));
            Ok(())
        })
    }

    async fn set_groups(
        &self,
        ctx: &WriteContext,
        id: CustomerId,
        add: &[GroupId],
        remove: &[GroupId],
        relations: Relations,
    ) -> DomainResult<Customer> {
        self.write(|s| {
            let project = ctx.project_id;
            let c = s.live_customer(project, id)?;
            if let Some(missing) = add.iter().chain(remove).find(|g| !s.groups.contains_key(&(project, **g))) {
                return Err(DomainError::not_found(Resource::CustomerGroup, missing));
            }
            let added: Vec<GroupId> = add.iter().copied().filter(|g| s.memberships.insert((project, id, *g))).collect();
            let removed: Vec<GroupId> =
                remove.iter().copied().filter(|g| s.memberships.remove(&(project, id, *g))).collect();
            let changed: Vec<GroupId> = added.iter().chain(&removed).copied().collect();
            s.bump_groups(ctx, &changed);
            let full = s.with_relations(project, c, Relations::ALL);
            if !changed.is_empty() {
                s.record(Event::customer_groups_changed(ctx, &full, &added, &removed));
            }
            Ok(keep_only(full, relations))
        })
    }

    async fn get_address(&self, project: ProjectId, customer: CustomerId, address: AddressId) -> DomainResult<Address> {
        self.read(|s| {
            let owner = s.live_customer(project, customer)?;
            match s.addresses.get(&(project, address)) {
                Some(a) if a.customer_id() == customer => Ok(flag_defaults(a.clone(), &owner)),
                _ => Err(DomainError::not_found(Resource::CustomerAddress, address)),
            }
        })
    }

    async fn list_addresses(
        &self,
        project: ProjectId,
        customer: CustomerId,
        limit: u32,
        offset: u64,
    ) -> DomainResult<Listed<Address>> {
        self.read(|s| {
            let owner = s.live_customer(project, customer)?;
            let all = s.addresses_of(project, customer);
            let count = i64::try_from(all.len()).unwrap_or(i64::MAX);
            let items = page(all, offset, limit).into_iter().map(|a| flag_defaults(a, &owner)).collect();
            Ok(Listed { items, count })
        })
    }

    async fn upsert_address(
        &self,
        ctx: &WriteContext,
        customer: CustomerId,
        address: AddressId,
        create: bool,
        fields: &AddressFields,
        relations: Relations,
    ) -> DomainResult<Customer> {
        self.write(|s| {
            let project = ctx.project_id;
            let owner = s.live_customer(project, customer)?;
            let mut current = if create {
                Address::new(address, customer, ctx.now)
            } else {
                match s.addresses.get(&(project, address)) {
                    Some(a) if a.customer_id() == customer => a.clone(),
                    _ => return Err(DomainError::not_found(Resource::CustomerAddress, address)),
                }
            };
            fields.apply(&mut current);
            if !create {
                current.touch(ctx.now);
            }
            let billing = default_after(owner.default_billing_address_id(), address, fields.is_default_billing);
            let shipping = default_after(owner.default_shipping_address_id(), address, fields.is_default_shipping);
            s.addresses.insert((project, address), current);
            s.finish_address(ctx, owner, billing, shipping, relations)
        })
    }

    async fn delete_address(
        &self,
        ctx: &WriteContext,
        customer: CustomerId,
        address: AddressId,
        relations: Relations,
    ) -> DomainResult<Customer> {
        self.write(|s| {
            let project = ctx.project_id;
            let owner = s.live_customer(project, customer)?;
            match s.addresses.get(&(project, address)) {
                Some(a) if a.customer_id() == customer => {}
                _ => return Err(DomainError::not_found(Resource::CustomerAddress, address)),
            }
            let billing = owner.default_billing_address_id().filter(|d| *d != address);
            let shipping = owner.default_shipping_address_id().filter(|d| *d != address);
            s.addresses.remove(&(project, address));
            s.finish_address(ctx, owner, billing, shipping, relations)
        })
    }
}
