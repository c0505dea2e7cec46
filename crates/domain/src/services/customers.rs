//! Customer use cases (admin family, §2).

use super::{check_list_limit, write_context};
use crate::auth::Principal;
use crate::customer::{
    check_membership_lists, Address, AddressFields, Customer, CustomerDraft, CustomerFilter, CustomerPatch, Listed,
    Relations,
};
use crate::error::DomainResult;
use crate::ids::{AddressId, CustomerId, GroupId};
use crate::ports::{Clock, CreateOutcome, CustomerRepository, IdGenerator, IdempotencyClaim};
use std::sync::Arc;

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;

#[derive(Clone)]
/// Customer use cases: create (idempotent), read, list, update, delete, memberships, addresses.
pub struct CustomerService {
    repo: Arc<dyn CustomerRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl CustomerService {
    /// A service over these ports.
    pub fn new(repo: Arc<dyn CustomerRepository>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        CustomerService { repo, clock, ids }
    }

    /// Creates a customer (or replays the first create of the same idempotency key).
    pub async fn create(
        &self,
        principal: &Principal,
        draft: CustomerDraft,
        idempotency_key: Option<(String, String)>,
    ) -> DomainResult<CreateOutcome> {
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        let customer =
            Customer::create(CustomerId(self.ids.new_id()), &draft, Some(principal.actor.id().to_owned()), ctx.now);
        let claim = idempotency_key.map(|(key, request_hash)| IdempotencyClaim {
            key,
            request_hash,
            not_before: ctx.now - chrono::Duration::hours(IDEMPOTENCY_WINDOW_HOURS),
        });
        self.repo.create(&ctx, &customer, draft.additional_data.as_ref(), claim.as_ref()).await
    }

    /// A customer with the requested relations; `NotFound` otherwise.
    pub async fn get(&self, principal: &Principal, id: CustomerId, relations: Relations) -> DomainResult<Customer> {
        self.repo.get(principal.project_id, id, relations).await
    }

    /// Customers of the principal's project matching `filter`, one page.
    pub async fn list(
        &self,
        principal: &Principal,
        filter: &CustomerFilter,
        relations: Relations,
    ) -> DomainResult<Listed<Customer>> {
        check_list_limit(filter.limit)?;
        filter.validate()?;
        self.repo.list(principal.project_id, filter, relations).await
    }

    /// Applies a validated patch: its fields as update actions, in order, to the customer as the
    /// repository has locked it (concurrent updates apply one after the other). The customer's
    /// event is written only when something changed.
    pub async fn update(
        &self,
        principal: &Principal,
        id: CustomerId,
        patch: CustomerPatch,
        relations: Relations,
    ) -> DomainResult<Customer> {
        patch.validate()?;
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        self.repo.update(&ctx, id, &patch.change_at(ctx.now), relations).await
    }

    /// Deletes the customer (and its memberships).
    pub async fn delete(&self, principal: &Principal, id: CustomerId) -> DomainResult<()> {
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        self.repo.delete(&ctx, id).await
    }

    /// Adds the customer to and removes it from groups, all or nothing (§2.4).
    pub async fn set_groups(
        &self,
        principal: &Principal,
        id: CustomerId,
        add: Vec<GroupId>,
        remove: Vec<GroupId>,
        relations: Relations,
    ) -> DomainResult<Customer> {
        check_membership_lists(&add, &remove)?;
        let add = dedup(add);
        let remove = dedup(remove);
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        self.repo.set_groups(&ctx, id, &add, &remove, relations).await
    }

    /// One address of a customer.
    pub async fn get_address(
        &self,
        principal: &Principal,
        customer: CustomerId,
        address: AddressId,
    ) -> DomainResult<Address> {
        self.repo.get_address(principal.project_id, customer, address).await
    }

    /// The addresses of a customer, one page.
    pub async fn list_addresses(
        &self,
        principal: &Principal,
        customer: CustomerId,
        limit: u32,
        offset: u64,
    ) -> DomainResult<Listed<Address>> {
        check_list_limit(limit)?;
        self.repo.list_addresses(principal.project_id, customer, limit, offset).await
    }

    /// Adds an address to a customer; returns the refreshed customer.
    pub async fn add_address(
        &self,
        principal: &Principal,
        customer: CustomerId,
        fields: AddressFields,
        relations: Relations,
    ) -> DomainResult<Customer> {
        self.upsert_address(principal, customer, None, fields, relations).await
    }

    /// Changes an address of a customer; returns the refreshed customer.
    pub async fn update_address(
        &self,
        principal: &Principal,
        customer: CustomerId,
        address: AddressId,
        fields: AddressFields,
        relations: Relations,
    ) -> DomainResult<Customer> {
        self.upsert_address(principal, customer, Some(address), fields, relations).await
    }

    /// Writes the validated `fields` to the address `existing`, or to a new one when `None`.
    async fn upsert_address(
        &self,
        principal: &Principal,
        customer: CustomerId,
        existing: Option<AddressId>,
        fields: AddressFields,
        relations: Relations,
    ) -> DomainResult<Customer> {
        let fields = fields.validated()?;
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        let address = existing.unwrap_or_else(|| AddressId(self.ids.new_id()));
        self.repo.upsert_address(&ctx, customer, address, existing.is_none(), &fields, relations).await
    }

    /// Deletes an address of a customer; returns the refreshed customer.
    pub async fn delete_address(
        &self,
        principal: &Principal,
        customer: CustomerId,
        address: AddressId,
        relations: Relations,
    ) -> DomainResult<Customer> {
        let ctx = write_context(principal, self.clock.as_ref(), self.ids.as_ref());
        self.repo.delete_address(&ctx, customer, address, relations).await
    }
}

fn dedup<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{clock, ids, principal_as};
    use super::*;
    use crate::auth::Actor;
    use crate::error::DomainError;
    use crate::ports::MockCustomerRepository;
    use crate::Resource;
    use futures::executor::block_on;
    use serde_json::Map;

    fn principal() -> Principal {
        principal_as(Actor::User("u1".into()))
    }

    fn service(repo: MockCustomerRepository) -> CustomerService {
        CustomerService::new(Arc::new(repo), clock(), ids())
    }

    fn gid(n: u128) -> GroupId {
        GroupId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn same_group_in_both_lists_calls_no_write() {
        let mut repo = MockCustomerRepository::new();
        repo.expect_set_groups().never();
        let svc = service(repo);
        let r = block_on(svc.set_groups(
            &principal(),
            CustomerId(uuid::Uuid::nil()),
            vec![gid(1)],
            vec![gid(1)],
            Relations::ALL,
        ));
        assert!(matches!(r, Err(DomainError::Validation { .. })));
    }

    #[test]
    fn unknown_group_from_the_port_is_passed_through() {
        let mut repo = MockCustomerRepository::new();
        repo.expect_set_groups()
            .times(1)
            .returning(|_, _, add, _, _| Err(DomainError::not_found(Resource::CustomerGroup, add[0])));
        let svc = service(repo);
        let r = block_on(svc.set_groups(
            &principal(),
            CustomerId(uuid::Uuid::nil()),
            vec![gid(2), gid(2)],
            vec![],
            Relations::ALL,
        ));
        match r {
            Err(DomainError::NotFound { resource: Resource::CustomerGroup, lookup }) => {
                assert_eq!(lookup, crate::error::Lookup::Id(gid(2).to_string()))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn duplicate_email_becomes_duplicate_error() {
        let mut repo = MockCustomerRepository::new();
        repo.expect_create().returning(|_, c, _, _| {
            Err(DomainError::Duplicate {
                resource: Resource::Customer,
                field: "email",
                value: c.email_str().to_owned(),
            })
        });
        let svc = service(repo);
        let draft = CustomerDraft::new("A@x.io", None, None, None, None, Map::new(), None).expect("valid");
        let err = block_on(svc.create(&principal(), draft, None)).expect_err("duplicate");
        assert!(
            matches!(&err, DomainError::Duplicate { resource: Resource::Customer, field: "email", value } if value == "A@x.io"),
            "{err:?}"
        );
    }

    #[test]
    fn create_records_the_actor_and_passes_additional_data() {
        let mut repo = MockCustomerRepository::new();
        repo.expect_create()
            .withf(|ctx, c, data, idem| {
                c.created_by() == Some("u1")
                    && ctx.project_key == "demo"
                    && data.is_some_and(|d| d.contains_key("k"))
                    && idem.is_some_and(|i| i.key == "idem")
            })
            .returning(|_, c, _, _| Ok(CreateOutcome::Created(c.clone())));
        let svc = service(repo);
        let mut extra = Map::new();
        extra.insert("k".into(), serde_json::json!(1));
        let draft = CustomerDraft::new("a@x.io", None, None, None, None, Map::new(), Some(extra)).expect("valid");
        let out = block_on(svc.create(&principal(), draft, Some(("idem".into(), "h".into())))).expect("created");
        assert!(matches!(out, CreateOutcome::Created(c) if !c.has_account() && c.email_str() == "a@x.io"));
    }

    /// A repository holding `stored` whose `update` runs the change as an adapter does (and
    /// answers whether it changed something, in `changed`).
    fn updating(stored: Customer, changed: std::sync::Arc<std::sync::Mutex<Option<bool>>>) -> MockCustomerRepository {
        let mut repo = MockCustomerRepository::new();
        repo.expect_update().times(1).returning(move |_, _, change, _| {
            let mut c = stored.clone();
            let did = change(&mut c)?;
            *changed.lock().unwrap() = Some(did);
            Ok(c)
        });
        repo
    }

    fn stored() -> Customer {
        let mut metadata = Map::new();
        metadata.insert("a".into(), serde_json::json!(1));
        let draft =
            CustomerDraft::new("ada@x.io", None, Some("Ada".into()), None, None, metadata, None).expect("valid");
        let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        Customer::create(CustomerId(uuid::Uuid::nil()), &draft, None, at)
    }

    #[test]
    fn update_applies_the_patch_in_the_repository_lock() {
        let changed = std::sync::Arc::default();
        let svc = service(updating(stored(), std::sync::Arc::clone(&changed)));
        let mut m = Map::new();
        m.insert("a".into(), serde_json::json!(""));
        m.insert("b".into(), serde_json::json!(2));
        let patch = CustomerPatch {
            last_name: Some(Some("Lovelace".into())),
            first_name: Some(None),
            metadata: Some(crate::metadata::Metadata::parse(m).expect("valid")),
            ..CustomerPatch::default()
        };
        let c = block_on(svc.update(&principal(), CustomerId(uuid::Uuid::nil()), patch, Relations::NONE)).expect("ok");
        assert_eq!(*changed.lock().unwrap(), Some(true));
        assert_eq!((c.first_name(), c.last_name()), (None, Some("Lovelace")));
        assert_eq!(serde_json::Value::Object(c.metadata().clone().into_map()), serde_json::json!({"b": 2}));
        assert!(c.updated_at() > chrono::DateTime::<chrono::Utc>::UNIX_EPOCH, "the change is recorded");
    }

    #[test]
    fn an_update_that_changes_nothing_reports_no_change() {
        let changed = std::sync::Arc::default();
        let svc = service(updating(stored(), std::sync::Arc::clone(&changed)));
        let mut m = Map::new();
        m.insert("a".into(), serde_json::json!(1));
        let patch = CustomerPatch {
            first_name: Some(Some("Ada".into())),
            metadata: Some(crate::metadata::Metadata::parse(m).expect("valid")),
            ..CustomerPatch::default()
        };
        let c = block_on(svc.update(&principal(), CustomerId(uuid::Uuid::nil()), patch, Relations::NONE)).expect("ok");
        assert_eq!(*changed.lock().unwrap(), Some(false), "so the repository writes nothing");
        assert_eq!(c, stored());
    }

    #[test]
    fn a_failing_change_changes_nothing() {
        use crate::customer::{CustomerAction, CustomerField};
        use crate::metadata::{Metadata, MAX_METADATA_KEYS};
        let full: Map<String, serde_json::Value> =
            (0..MAX_METADATA_KEYS).map(|i| (format!("k{i}"), serde_json::json!(i))).collect();
        let mut parts = stored().into_parts();
        parts.metadata = Metadata::parse(full).expect("valid");
        let before = Customer::from_parts(parts);
        let one_more = Metadata::parse(Map::from_iter([("extra".to_owned(), serde_json::json!(1))])).expect("valid");
        let actions =
            [CustomerAction::Set(CustomerField::Phone, Some("1".into())), CustomerAction::MergeMetadata(one_more)];
        let mut c = before.clone();
        let err = c.apply_all(&actions, chrono::Utc::now()).expect_err("too many keys");
        assert!(matches!(err, DomainError::Validation { .. }), "{err:?}");
        assert_eq!(c, before, "all or nothing");
    }

    #[test]
    fn list_limit_is_bounded() {
        let mut repo = MockCustomerRepository::new();
        repo.expect_list().never();
        let svc = service(repo);
        let filter = CustomerFilter { limit: 1001, ..CustomerFilter::default() };
        assert!(block_on(svc.list(&principal(), &filter, Relations::NONE)).is_err());
    }
}
