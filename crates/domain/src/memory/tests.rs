//! The services' rules against the in-memory adapter (the same rules the `mockall` tests of
//! `services/*` check against mocks, here end to end through a store).

use super::MemoryStore;
use crate::auth::Principal;
use crate::custom_type::{
    EnumValue, FieldDefinition, FieldName, FieldType, InputHint, LocalizedString, Type, TypeAction, TypeDraft, TypeKey,
};
use crate::customer::{AddressFields, CustomerDraft, CustomerFilter, CustomerPatch, Email, Relations};
use crate::customer_group::{
    CustomDraft, ExpectedVersion, GroupAction, GroupDraft, GroupKey, GroupName, TypeRef, Version,
};
use crate::event::EventKind;
use crate::metadata::Metadata;
use crate::paging::{GroupFilter, GroupQuery, Sort, SortField};
use crate::ports::{CreateOutcome, EventOutbox};
use crate::services::{GroupService, GroupTarget, RelayService, TypeService, TypeTarget};
use crate::{predicate, AddressId, CustomerId, DomainError, GroupId, Resource};
use futures::executor::block_on;
use serde_json::json;
use std::sync::Arc;

fn draft(email: &str) -> CustomerDraft {
    CustomerDraft::new(email, None, Some("Ada".into()), None, None, Default::default(), None).unwrap()
}

fn group(name: &str, key: Option<&str>) -> GroupDraft {
    GroupDraft {
        name: GroupName::parse("name", name).unwrap(),
        key: key.map(|k| GroupKey::parse(k).unwrap()),
        custom: None,
        metadata: Metadata::default(),
    }
}

fn created(o: CreateOutcome) -> crate::customer::Customer {
    match o {
        CreateOutcome::Created(c) => c,
        CreateOutcome::Replayed(c) => panic!("replayed {c:?}"),
    }
}

fn setup() -> (Arc<MemoryStore>, Principal) {
    let store = MemoryStore::new();
    let p = store.principal("demo");
    (store, p)
}

/// The group service of `store` (at most `max_groups` groups a project), after it created a
/// group without a key for each of `names` in `p`'s project.
fn groups_named(store: &Arc<MemoryStore>, p: &Principal, max_groups: u32, names: &[&str]) -> GroupService {
    let groups = store.group_service(max_groups);
    for name in names {
        block_on(groups.create(p, group(name, None))).unwrap();
    }
    groups
}

#[test]
fn duplicate_email_per_project_case_insensitive_and_free_again_after_delete() {
    let (store, p) = setup();
    let customers = store.customer_service();
    let ada = created(block_on(customers.create(&p, draft("ada@example.com"), None)).unwrap());
    let err = block_on(customers.create(&p, draft("ADA@example.com"), None)).unwrap_err();
    assert!(matches!(err, DomainError::Duplicate { resource: Resource::Customer, field: "email", .. }), "{err:?}");
    // Another project may use it.
    let other = store.principal("other");
    block_on(customers.create(&other, draft("ada@example.com"), None)).unwrap();
    // An update onto a taken email is refused and changes nothing.
    let bob = created(block_on(customers.create(&p, draft("bob@example.com"), None)).unwrap());
    let patch = CustomerPatch { email: Some(Email::parse("ada@example.com").unwrap()), ..Default::default() };
    let err = block_on(customers.update(&p, bob.id(), patch, Relations::NONE)).unwrap_err();
    assert!(matches!(err, DomainError::Duplicate { .. }));
    assert_eq!(block_on(customers.get(&p, bob.id(), Relations::NONE)).unwrap().email_str(), "bob@example.com");
    block_on(customers.delete(&p, ada.id())).unwrap();
    assert!(matches!(block_on(customers.get(&p, ada.id(), Relations::NONE)), Err(DomainError::NotFound { .. })));
    block_on(customers.create(&p, draft("ada@example.com"), None)).unwrap();
}

#[test]
fn idempotent_create_replays_or_refuses() {
    let (store, p) = setup();
    let customers = store.customer_service();
    let key = || Some(("k1".to_owned(), "hash-a".to_owned()));
    let first = created(block_on(customers.create(&p, draft("a@example.com"), key())).unwrap());
    match block_on(customers.create(&p, draft("a@example.com"), key())).unwrap() {
        CreateOutcome::Replayed(c) => assert_eq!(c.id(), first.id()),
        other => panic!("{other:?}"),
    }
    let err = block_on(customers.create(&p, draft("b@example.com"), Some(("k1".into(), "hash-b".into())))).unwrap_err();
    assert!(matches!(err, DomainError::IdempotencyMismatch));
    // One customer, one event.
    assert_eq!(store.events().len(), 1);
    // After the window the key may be taken over.
    store.clock().advance(chrono::Duration::hours(25));
    let again = block_on(customers.create(&p, draft("b@example.com"), Some(("k1".into(), "hash-b".into())))).unwrap();
    assert!(matches!(again, CreateOutcome::Created(_)));
}

#[test]
fn versioned_group_update_and_conflict() {
    let (store, p) = setup();
    let groups = store.group_service(1000);
    let gold = block_on(groups.create(&p, group("Gold", Some("gold")))).unwrap();
    assert_eq!(gold.version(), Version::new(1).unwrap());
    let rename = |n: &str| vec![GroupAction::ChangeName(GroupName::parse("name", n).unwrap())];
    let target = GroupTarget::Key(GroupKey::parse("gold").unwrap());
    let v2 = block_on(groups.update(&p, &target, ExpectedVersion::new(1), rename("Gold members"))).unwrap();
    assert_eq!(v2.version(), Version::new(2).unwrap());
    let err = block_on(groups.update(&p, &target, ExpectedVersion::new(1), rename("Platinum"))).unwrap_err();
    assert!(matches!(err, DomainError::VersionConflict { expected: 1, current: 2, .. }), "{err:?}");
    // A version no resource can have (0, negative) is a claim like any other: a conflict.
    for claim in [0, -1] {
        let err = block_on(groups.update(&p, &target, ExpectedVersion::new(claim), rename("Platinum"))).unwrap_err();
        assert!(
            matches!(err, DomainError::VersionConflict { expected, current: 2, .. } if expected == claim),
            "{err:?}"
        );
        let err = block_on(groups.delete(&p, &target, Some(ExpectedVersion::new(claim)))).unwrap_err();
        assert!(
            matches!(err, DomainError::VersionConflict { expected, current: 2, .. } if expected == claim),
            "{err:?}"
        );
    }
    // Nothing-changing update writes nothing.
    let same = block_on(groups.update(&p, &target, ExpectedVersion::new(2), rename("Gold members"))).unwrap();
    assert_eq!(same.version(), Version::new(2).unwrap());
    let kinds: Vec<EventKind> = store.events().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::GroupCreated, EventKind::GroupUpdated]);
    // The stored version is checked by the store too (a save from a stale read).
    let err = block_on(groups.delete(&p, &GroupTarget::Id(gold.id()), Some(ExpectedVersion::new(1)))).unwrap_err();
    assert!(matches!(err, DomainError::VersionConflict { .. }));
    block_on(groups.delete(&p, &GroupTarget::Id(gold.id()), Some(ExpectedVersion::new(2)))).unwrap();
}

#[test]
fn duplicate_group_name_and_key() {
    let (store, p) = setup();
    let groups = store.group_service(1000);
    block_on(groups.create(&p, group("Gold", Some("gold")))).unwrap();
    let err = block_on(groups.create(&p, group("Gold", None))).unwrap_err();
    assert!(matches!(err, DomainError::Duplicate { field: "name", .. }), "{err:?}");
    let err = block_on(groups.create(&p, group("Silver", Some("gold")))).unwrap_err();
    assert!(matches!(err, DomainError::Duplicate { field: "key", .. }), "{err:?}");
    let silver = block_on(groups.create(&p, group("Silver", None))).unwrap();
    let err = block_on(groups.admin_update(&p, silver.id(), Some(GroupName::parse("name", "Gold").unwrap()), None))
        .unwrap_err();
    assert!(matches!(err, DomainError::Duplicate { field: "name", .. }));
}

#[test]
fn the_group_limit_is_exact() {
    let (store, p) = setup();
    let groups = groups_named(&store, &p, 2, &["A", "B"]);
    let err = block_on(groups.create(&p, group("C", None))).unwrap_err();
    assert!(matches!(err, DomainError::LimitExceeded { limit: 2, .. }), "{err:?}");
    // Other projects have their own count.
    let other = store.principal("other");
    block_on(groups.create(&other, group("C", None))).unwrap();
}

#[test]
fn memberships_all_or_nothing_with_group_versions_and_events() {
    let (store, p) = setup();
    let customers = store.customer_service();
    let groups = store.group_service(1000);
    let ada = created(block_on(customers.create(&p, draft("ada@example.com"), None)).unwrap());
    let gold = block_on(groups.create(&p, group("Gold", None))).unwrap();
    let silver = block_on(groups.create(&p, group("Silver", None))).unwrap();
    let unknown = GroupId(uuid::Uuid::from_u128(99));

    let err =
        block_on(customers.set_groups(&p, ada.id(), vec![gold.id(), unknown], vec![], Relations::ALL)).unwrap_err();
    assert!(matches!(err, DomainError::NotFound { resource: Resource::CustomerGroup, .. }));
    assert_eq!(
        block_on(groups.get(&p, &GroupTarget::Id(gold.id()))).unwrap().version(),
        Version::new(1).unwrap(),
        "nothing changed"
    );

    let c = block_on(customers.set_groups(&p, ada.id(), vec![gold.id(), silver.id()], vec![], Relations::ALL)).unwrap();
    assert_eq!(c.groups().len(), 2);
    assert_eq!(block_on(groups.get(&p, &GroupTarget::Id(gold.id()))).unwrap().version(), Version::new(2).unwrap());
    // Adding again changes nothing: no version, no event.
    let before = store.events().len();
    block_on(customers.set_groups(&p, ada.id(), vec![gold.id()], vec![], Relations::NONE)).unwrap();
    assert_eq!(store.events().len(), before);

    let g = block_on(groups.set_customers(&p, silver.id(), vec![], vec![ada.id()])).unwrap();
    assert_eq!(g.version(), Version::new(3).unwrap());
    let members = block_on(groups.customers_of(&p, gold.id(), 10)).unwrap();
    assert_eq!(members.iter().map(|c| c.id()).collect::<Vec<_>>(), [ada.id()]);
    let gone = crate::ids::GroupId(uuid::Uuid::now_v7());
    let page = block_on(groups.customers_of_groups(&p, &[silver.id(), gold.id(), gone], 10)).unwrap();
    assert_eq!(page.iter().map(Vec::len).collect::<Vec<_>>(), [0, 1, 0]);
    let filter = CustomerFilter { groups: vec![gold.id()], ..Default::default() };
    assert_eq!(block_on(customers.list(&p, &filter, Relations::NONE)).unwrap().count, 1);

    // Deleting the customer leaves its groups (and bumps them).
    block_on(customers.delete(&p, ada.id())).unwrap();
    assert!(block_on(groups.customers_of(&p, gold.id(), 10)).unwrap().is_empty());
    assert_eq!(block_on(groups.get(&p, &GroupTarget::Id(gold.id()))).unwrap().version(), Version::new(3).unwrap());
    let err = block_on(groups.set_customers(&p, gold.id(), vec![ada.id()], vec![])).unwrap_err();
    assert!(matches!(err, DomainError::NotFound { resource: Resource::Customer, .. }));
    let kinds: Vec<EventKind> = store.events().iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == EventKind::CustomerGroupsChanged).count(), 1);
    assert_eq!(kinds.last(), Some(&EventKind::CustomerDeleted));
}

#[test]
fn where_queries_sort_and_page() {
    let (store, p) = setup();
    let groups = store.group_service(1000);
    for (name, key) in [("Gold", Some("gold")), ("Silver", Some("silver")), ("Bronze", None)] {
        block_on(groups.create(&p, group(name, key))).unwrap();
    }
    let fields = ["id", "key", "name", "version", "createdAt", "lastModifiedAt"];
    let query = |w: &str| GroupQuery {
        predicate: Some(predicate::parse(w, &fields, true).unwrap()),
        sort: vec![Sort { field: SortField::Name, descending: false }],
        ..Default::default()
    };
    let names = |w: &str| -> Vec<String> {
        block_on(groups.query(&p, &query(w))).unwrap().results.iter().map(|g| g.name().as_str().to_owned()).collect()
    };
    assert_eq!(names(r#"key = "gold" or name = "Bronze""#), ["Bronze", "Gold"]);
    assert_eq!(names(r#"key != "gold""#), ["Bronze", "Silver"], "two-valued: no key matches !=");
    assert_eq!(names("key is not defined"), ["Bronze"]);
    assert_eq!(names(r#"name in ("Gold", "Silver") and version >= 1"#), ["Gold", "Silver"]);
    assert_eq!(names(r#"not (name < "H")"#), ["Silver"]);
    assert_eq!(names(r#"createdAt >= "2026-01-01""#).len(), 3);
    assert_eq!(names(r#"id = "not-a-uuid""#).len(), 0);
    let page = block_on(groups.query(&p, &GroupQuery { limit: 1, offset: 1, ..query("version = 1") })).unwrap();
    assert_eq!((page.results.len(), page.total), (1, Some(3)));
    let listed = block_on(groups.list(&p, &GroupFilter { q: Some("ILV".into()), ..Default::default() })).unwrap();
    assert_eq!(listed.count, 1);
}

fn tier_type() -> TypeDraft {
    let ls = |s: &str| LocalizedString::new("name", [("en".to_owned(), s.to_owned())].into_iter().collect()).unwrap();
    let tier = FieldType::Enum {
        values: vec![
            EnumValue { key: "gold".into(), label: "Gold".into() },
            EnumValue { key: "silver".into(), label: "Silver".into() },
        ],
    };
    let def = FieldDefinition::new(FieldName::parse("tier").unwrap(), ls("Tier"), false, tier, InputHint::SingleLine)
        .unwrap();
    TypeDraft::new(TypeKey::parse("loyalty").unwrap(), ls("Loyalty"), None, vec!["customer-group".into()], vec![def])
        .unwrap()
}

/// A store whose project `demo` has the type `loyalty` ([`tier_type`]): its principal, its
/// type and group services, and the type.
fn with_loyalty_type() -> (Principal, TypeService, GroupService, Type) {
    let (store, p) = setup();
    let types = store.type_service();
    let t = block_on(types.create(&p, tier_type())).unwrap();
    (p, types, store.group_service(1000), t)
}

/// The draft of a group `name` without a key, of the type `loyalty` with `fields`.
fn loyalty_group(name: &str, fields: serde_json::Map<String, serde_json::Value>) -> GroupDraft {
    GroupDraft { custom: Some(CustomDraft { type_ref: TypeRef::Key("loyalty".into()), fields }), ..group(name, None) }
}

#[test]
fn custom_fields_and_type_integrity() {
    let (p, types, groups, t) = with_loyalty_type();
    let err = block_on(types.create(&p, tier_type())).unwrap_err();
    assert!(matches!(err, DomainError::Duplicate { resource: Resource::Type, .. }));

    let gold_tier = [("tier".to_owned(), json!("gold"))].into_iter().collect();
    let gold = block_on(groups.create(&p, loyalty_group("Gold", gold_tier))).unwrap();
    let fields = ["id", "key", "name", "version", "createdAt", "lastModifiedAt"];
    let q = GroupQuery {
        predicate: Some(predicate::parse(r#"custom(fields(tier = "gold"))"#, &fields, true).unwrap()),
        ..Default::default()
    };
    assert_eq!(block_on(groups.query(&p, &q)).unwrap().results.len(), 1);

    // A type in use cannot be deleted, nor lose a field a group uses.
    let err = block_on(types.delete(&p, &TypeTarget::Id(t.id()), ExpectedVersion::new(1))).unwrap_err();
    assert!(matches!(err, DomainError::ReferenceExists { .. }), "{err:?}");
    let remove = vec![TypeAction::RemoveFieldDefinition("tier".into())];
    let err = block_on(types.update(&p, &TypeTarget::Id(t.id()), ExpectedVersion::new(1), remove)).unwrap_err();
    assert!(matches!(err, DomainError::ReferenceExists { .. }), "{err:?}");
    assert_eq!(block_on(types.get(&p, &TypeTarget::Id(t.id()))).unwrap().version(), Version::new(1).unwrap());

    block_on(groups.delete(&p, &GroupTarget::Id(gold.id()), None)).unwrap();
    block_on(types.delete(&p, &TypeTarget::Id(t.id()), ExpectedVersion::new(1))).unwrap();
}

/// The store answers with the same structured errors as the Postgres adapter: the rule, as data.
#[test]
fn type_and_field_rules_are_data() {
    use crate::error::{FieldProblem, Refusal, Violation};
    let (p, types, groups, t) = with_loyalty_type();
    block_on(groups.create(&p, loyalty_group("Gold", Default::default()))).unwrap();

    // A required field cannot come while a group using the type lacks it.
    let ls = LocalizedString::new("label", [("en".to_owned(), "Points".to_owned())].into_iter().collect()).unwrap();
    let points = FieldName::parse("points").unwrap();
    let required = FieldDefinition::new(points, ls, true, FieldType::Number, InputHint::SingleLine).unwrap();
    let add = vec![TypeAction::AddFieldDefinition(required)];
    let err = block_on(types.update(&p, &TypeTarget::Id(t.id()), ExpectedVersion::new(1), add)).unwrap_err();
    assert!(matches!(err, DomainError::InvalidOperation(Refusal::RequiredFieldLacking)), "{err:?}");

    // A definition the type does not have, an enum key it already has.
    let remove = vec![TypeAction::RemoveFieldDefinition("nope".into())];
    let err = block_on(types.update(&p, &TypeTarget::Id(t.id()), ExpectedVersion::new(1), remove)).unwrap_err();
    assert!(
        matches!(&err, DomainError::InvalidOperation(Refusal::NoSuchFieldDefinition { name }) if name == "nope"),
        "{err:?}"
    );
    let gold = EnumValue { key: "gold".into(), label: "Gold".into() };
    let add = vec![TypeAction::AddEnumValue { field_name: "tier".into(), value: gold }];
    let err = block_on(types.update(&p, &TypeTarget::Id(t.id()), ExpectedVersion::new(1), add)).unwrap_err();
    assert!(
        matches!(&err, DomainError::InvalidOperation(Refusal::EnumKeyExists { field, key }) if field == "tier" && key == "gold"),
        "{err:?}"
    );

    // A value the type refuses names the field, the value and why.
    let mut d = group("Silver", None);
    d.custom = Some(CustomDraft {
        type_ref: TypeRef::Key("loyalty".into()),
        fields: [("tier".to_owned(), json!("bronze"))].into_iter().collect(),
    });
    let err = block_on(groups.create(&p, d)).unwrap_err();
    match err {
        DomainError::InvalidField { field, invalid_value, problem: FieldProblem::WrongType { expected } } => {
            assert_eq!((field.as_str(), invalid_value), ("tier", json!("bronze")));
            assert_eq!(expected.name(), "Enum");
        }
        other => panic!("expected a wrong type, got {other:?}"),
    }

    // Paging limits are data too.
    let filter = GroupFilter { limit: 10_000, ..Default::default() };
    let err = block_on(groups.list(&p, &filter)).unwrap_err();
    assert!(
        matches!(&err, DomainError::Validation { field: Some(f), violation: Violation::TooHigh { max } } if f == "limit" && *max == 1000),
        "{err:?}"
    );
}

#[test]
fn addresses_and_defaults() {
    let (store, p) = setup();
    let customers = store.customer_service();
    let ada = created(block_on(customers.create(&p, draft("ada@example.com"), None)).unwrap());
    let fields =
        AddressFields { city: Some(Some("Paris".into())), is_default_billing: Some(true), ..Default::default() };
    let c = block_on(customers.add_address(&p, ada.id(), fields.validated().unwrap(), Relations::ALL)).unwrap();
    let a = &c.addresses()[0];
    assert!(a.is_default_billing() && !a.is_default_shipping());
    assert_eq!(c.default_billing_address_id(), Some(a.id()));
    let c = block_on(customers.delete_address(&p, ada.id(), a.id(), Relations::ALL)).unwrap();
    assert_eq!((c.addresses().len(), c.default_billing_address_id()), (0, None));
    let missing = AddressId(uuid::Uuid::from_u128(5));
    assert!(block_on(customers.get_address(&p, ada.id(), missing)).is_err());
    assert!(block_on(customers.get(&p, CustomerId(uuid::Uuid::from_u128(5)), Relations::NONE)).is_err());
}

/// Writes a group event's data as `{"group": name}`.
struct GroupNames;

impl crate::event::EventEncoder for GroupNames {
    fn encode(&self, _: &crate::auth::Actor, data: &crate::event::EventData) -> crate::event::EventPayload {
        let name = match &data.resource {
            crate::event::EventResource::Group(g) => g.name().as_str().to_owned(),
            _ => String::new(),
        };
        crate::event::EventPayload::of(&serde_json::json!({ "group": name }))
    }
}

#[test]
fn the_relay_publishes_every_event_once() {
    let (store, p) = setup();
    groups_named(&store, &p, 1000, &["Gold", "Silver"]);
    let publisher = Arc::new(super::MemoryPublisher::default());
    let relay = RelayService::new(store.clone_arc(), publisher.clone(), Arc::new(GroupNames));
    block_on(relay.run_batch(10)).unwrap();
    block_on(relay.run_batch(10)).unwrap();
    let messages = publisher.messages();
    assert_eq!(messages.len(), 2);
    // The store keeps events as the writes recorded them; the relay's encoder wrote their data.
    let data: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| serde_json::from_slice::<serde_json::Value>(&m.body).unwrap()["data"].clone())
        .collect();
    assert_eq!(data, [serde_json::json!({"group": "Gold"}), serde_json::json!({"group": "Silver"})]);
    assert_eq!(block_on(EventOutbox::stats(store.as_ref())).unwrap().pending, 0);
}

#[test]
fn groups_and_types_by_key() {
    let (store, p) = setup();
    let groups = groups_named(&store, &p, 1000, &["Plain"]);
    let gold = block_on(groups.create(&p, group("Gold", Some("gold")))).unwrap();
    assert_eq!(block_on(groups.get(&p, &GroupTarget::Key(GroupKey::parse("gold").unwrap()))).unwrap(), gold);
    let err = block_on(groups.get(&p, &GroupTarget::Key(GroupKey::parse("nope").unwrap()))).unwrap_err();
    assert!(matches!(err, DomainError::NotFound { resource: Resource::CustomerGroup, .. }), "{err:?}");
    let types = store.type_service();
    let t = block_on(types.create(&p, tier_type())).unwrap();
    assert_eq!(block_on(types.get(&p, &TypeTarget::Key(TypeKey::parse("loyalty").unwrap()))).unwrap(), t);
    let err = block_on(types.get(&p, &TypeTarget::Key(TypeKey::parse("nope").unwrap()))).unwrap_err();
    assert!(matches!(err, DomainError::NotFound { resource: Resource::Type, .. }), "{err:?}");
}

#[test]
fn an_admin_update_keeps_the_custom_fields() {
    let (p, _, groups, _) = with_loyalty_type();
    let gold_tier = [("tier".to_owned(), json!("gold"))].into_iter().collect();
    let gold = block_on(groups.create(&p, loyalty_group("Gold", gold_tier))).unwrap();
    let renamed =
        block_on(groups.admin_update(&p, gold.id(), Some(GroupName::parse("name", "Platinum").unwrap()), None))
            .unwrap();
    assert_eq!((renamed.name().as_str(), renamed.version()), ("Platinum", Version::new(2).unwrap()));
    assert_eq!(renamed.custom(), gold.custom());
}

/// A type repository over a store that lets another client save the type with `actions` right
/// after it is first read: a type save between a group write's read of the type and the write.
struct SavedAfterFirstRead {
    store: Arc<MemoryStore>,
    principal: Principal,
    actions: std::sync::Mutex<Option<Vec<TypeAction>>>,
}

impl SavedAfterFirstRead {
    async fn saved_after(&self, t: crate::custom_type::Type) -> crate::error::DomainResult<crate::custom_type::Type> {
        let actions = self.actions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(actions) = actions {
            let types = self.store.type_service();
            types.update(&self.principal, &TypeTarget::Id(t.id()), t.version().into(), actions).await?;
        }
        Ok(t)
    }
}

#[async_trait::async_trait]
impl crate::ports::TypeRepository for SavedAfterFirstRead {
    async fn create(
        &self,
        ctx: &crate::event::WriteContext,
        t: &crate::custom_type::Type,
    ) -> crate::error::DomainResult<crate::custom_type::Type> {
        crate::ports::TypeRepository::create(self.store.as_ref(), ctx, t).await
    }
    async fn get(
        &self,
        project: crate::ProjectId,
        id: crate::TypeId,
    ) -> crate::error::DomainResult<crate::custom_type::Type> {
        self.saved_after(crate::ports::TypeRepository::get(self.store.as_ref(), project, id).await?).await
    }
    async fn get_by_key(
        &self,
        project: crate::ProjectId,
        key: &str,
    ) -> crate::error::DomainResult<crate::custom_type::Type> {
        self.saved_after(crate::ports::TypeRepository::get_by_key(self.store.as_ref(), project, key).await?).await
    }
    async fn query(
        &self,
        project: crate::ProjectId,
        query: &crate::custom_type::TypeQuery,
    ) -> crate::error::DomainResult<crate::paging::QueryPage<crate::custom_type::Type>> {
        crate::ports::TypeRepository::query(self.store.as_ref(), project, query).await
    }
    async fn save(
        &self,
        ctx: &crate::event::WriteContext,
        t: &crate::custom_type::Type,
        expected: Version,
    ) -> crate::error::DomainResult<crate::custom_type::Type> {
        crate::ports::TypeRepository::save(self.store.as_ref(), ctx, t, expected).await
    }
    async fn delete(
        &self,
        ctx: &crate::event::WriteContext,
        id: crate::TypeId,
        expected: ExpectedVersion,
    ) -> crate::error::DomainResult<crate::custom_type::Type> {
        crate::ports::TypeRepository::delete(self.store.as_ref(), ctx, id, expected).await
    }
}

/// Group services whose type reads are followed by a save of the type with `actions`.
fn racing_type_save(
    store: &Arc<MemoryStore>,
    p: &Principal,
    actions: Vec<TypeAction>,
) -> crate::services::GroupService {
    let types = SavedAfterFirstRead {
        store: store.clone_arc(),
        principal: p.clone(),
        actions: std::sync::Mutex::new(Some(actions)),
    };
    crate::services::GroupService::new(store.clone_arc(), Arc::new(types), store.clock(), store.ids(), 1000)
}

fn loyalty_gold(name: &str) -> GroupDraft {
    let mut d = group(name, None);
    d.custom = Some(CustomDraft {
        type_ref: TypeRef::Key("loyalty".into()),
        fields: [("tier".to_owned(), json!("gold"))].into_iter().collect(),
    });
    d
}

#[test]
fn a_type_saved_between_the_read_and_the_write_is_read_and_checked_again() {
    let (store, p) = setup();
    let t = block_on(store.type_service().create(&p, tier_type())).unwrap();
    let ls = |s: &str| LocalizedString::new("name", [("en".to_owned(), s.to_owned())].into_iter().collect()).unwrap();

    // A save that keeps the fields valid: the create is written against the saved type.
    let groups = racing_type_save(&store, &p, vec![TypeAction::ChangeName(ls("Loyalty 2"))]);
    let gold = block_on(groups.create(&p, loyalty_gold("Gold"))).unwrap();
    assert_eq!(gold.custom().map(|c| c.type_id), Some(t.id()));
    let saved = block_on(store.type_service().get(&p, &TypeTarget::Id(t.id()))).unwrap();
    assert_eq!(saved.version(), Version::new(2).unwrap());

    // A save that makes a field required which the draft lacks (in a project where no group
    // uses the type yet, so the save is allowed): checked again, refused.
    let (store, p) = setup();
    block_on(store.type_service().create(&p, tier_type())).unwrap();
    let since = FieldDefinition::new(
        FieldName::parse("since").unwrap(),
        ls("Since"),
        true,
        FieldType::Number,
        InputHint::SingleLine,
    )
    .unwrap();
    let groups = racing_type_save(&store, &p, vec![TypeAction::AddFieldDefinition(since)]);
    let err = block_on(groups.create(&p, loyalty_gold("Silver"))).unwrap_err();
    assert!(matches!(err, DomainError::RequiredField { ref field } if field == "since"), "{err:?}");
    let all = block_on(store.group_service(1000).list(&p, &GroupFilter::default())).unwrap();
    assert_eq!(all.count, 0, "nothing written");
}

#[test]
fn the_store_compares_the_type_version_of_a_group_write() {
    use crate::customer_group::CheckedType;
    use crate::ports::CustomerGroupRepository;
    let (store, p) = setup();
    let t = block_on(store.type_service().create(&p, tier_type())).unwrap();
    let gold = block_on(store.group_service(1000).create(&p, loyalty_gold("Gold"))).unwrap();
    let ctx = crate::event::WriteContext {
        project_id: p.project_id,
        project_key: p.project_key.clone(),
        actor: p.actor.clone(),
        now: chrono::Utc::now(),
        event_id: uuid::Uuid::now_v7(),
    };
    let stale = Some(CheckedType { id: t.id(), version: Version::new(2).unwrap() });
    let err = block_on(store.save(&ctx, &gold, gold.version(), stale)).unwrap_err();
    assert!(
        matches!(err, DomainError::VersionConflict { ref id, expected: 2, current: 1 } if *id == t.id().to_string()),
        "{err:?}"
    );
    let gone = Some(CheckedType { id: crate::TypeId(uuid::Uuid::from_u128(9)), version: Version::INITIAL });
    let err = block_on(store.save(&ctx, &gold, gold.version(), gone)).unwrap_err();
    assert!(matches!(err, DomainError::ReferencedResourceNotFound { resource: Resource::Type, .. }), "{err:?}");
    let current = Some(CheckedType { id: t.id(), version: t.version() });
    assert_eq!(block_on(store.save(&ctx, &gold, gold.version(), current)).unwrap(), gold);
    // Fields of a type that does not exist: the foreign key refuses them, compared or not.
    let mut orphan = gold.clone().into_parts();
    if let Some(custom) = orphan.custom.as_mut() {
        custom.type_id = crate::TypeId(uuid::Uuid::from_u128(9));
    }
    let orphan = crate::customer_group::CustomerGroup::from_parts(orphan);
    let err = block_on(store.save(&ctx, &orphan, gold.version(), None)).unwrap_err();
    assert!(matches!(err, DomainError::ReferencedResourceNotFound { resource: Resource::Type, .. }), "{err:?}");
}
