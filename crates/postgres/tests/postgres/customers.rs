//! Customers: rules, relations, list filters, addresses, memberships and their events.

use chrono::Duration;
use serde_json::json;
use xclade_domain::customer::{
    AddressFields, CustomerFilter, CustomerOrderField, CustomerPatch, Email, Relations, TimeRange,
};
use xclade_domain::customer_group::GroupKey;
use xclade_domain::error::Lookup;
use xclade_domain::metadata::Metadata;
use xclade_domain::ports::{CreateOutcome, CustomerGroupRepository, CustomerRepository, IdempotencyClaim};
use xclade_domain::{AddressId, CustomerId, DomainError, GroupId, Resource};

use crate::common::{created, customer, group, now, with_custom, Fx};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicate_email_is_case_insensitive_and_freed_by_delete() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let first = fx.new_customer("Ada@Example.com").await;
    assert_eq!(first.email_str(), "Ada@Example.com");

    let err = repo.create(&fx.ctx(), &customer("ada@example.COM"), None, None).await.expect_err("duplicate");
    match err {
        DomainError::Duplicate { resource: Resource::Customer, field: "email", value } => {
            assert_eq!(value, "ada@example.COM")
        }
        other => panic!("unexpected {other:?}"),
    }

    // An update to a taken email is a duplicate too.
    let other = created(repo.create(&fx.ctx(), &customer("other@example.com"), None, None).await.expect("create"));
    let patch =
        CustomerPatch { email: Some(Email::parse("ADA@example.com").expect("email")), ..CustomerPatch::default() };
    let err = repo
        .update(&fx.ctx(), other.id(), &patch.change_at(chrono::Utc::now()), Relations::NONE)
        .await
        .expect_err("duplicate on update");
    assert!(
        matches!(err, DomainError::Duplicate { field: "email", ref value, .. } if value == "ADA@example.com"),
        "{err:?}"
    );

    repo.delete(&fx.ctx(), first.id()).await.expect("delete");
    let again = repo.delete(&fx.ctx(), first.id()).await.expect_err("deleted twice");
    assert!(matches!(again, DomainError::NotFound { resource: Resource::Customer, .. }));
    let gone = repo.get(fx.project, first.id(), Relations::ALL).await.expect_err("deleted is not found");
    assert!(
        matches!(&gone, DomainError::NotFound { resource: Resource::Customer, lookup: Lookup::Id(i) } if *i == first.id().to_string()),
        "{gone:?}"
    );

    fx.new_customer("ada@example.com").await; // the email is free again
    assert_eq!(fx.count("SELECT count(*) AS n FROM customers").await, 3);
    assert_eq!(fx.events_of_each(&["customer.created", "customer.deleted", "customer.updated"]).await, [3, 1, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotent_create_replays_and_refuses_other_bodies() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let ctx = fx.ctx();
    let claim =
        IdempotencyClaim { key: "key-1".into(), request_hash: "h1".into(), not_before: ctx.now - Duration::hours(24) };
    let c = customer("idem@example.com");
    let first = created(repo.create(&ctx, &c, None, Some(&claim)).await.expect("first"));

    // A retry builds a new customer (new id, new time): the first one is answered.
    let retry = customer("idem@example.com");
    match repo.create(&fx.ctx(), &retry, None, Some(&claim)).await.expect("retry") {
        CreateOutcome::Replayed(replayed) => assert_eq!(replayed, first),
        other => panic!("unexpected {other:?}"),
    }
    let other_body = IdempotencyClaim { request_hash: "h2".into(), ..claim.clone() };
    let err =
        repo.create(&fx.ctx(), &customer("else@example.com"), None, Some(&other_body)).await.expect_err("mismatch");
    assert!(matches!(err, DomainError::IdempotencyMismatch), "{err:?}");
    assert_eq!(fx.count("SELECT count(*) AS n FROM customers").await, 1);
    assert_eq!(fx.events_of("customer.created").await, 1);

    // An expired key is taken over by the next create.
    let later =
        IdempotencyClaim { not_before: now() + Duration::seconds(1), request_hash: "h3".into(), ..claim.clone() };
    created(
        repo.create(&fx.ctx(), &customer("later@example.com"), None, Some(&later)).await.expect("expired key reused"),
    );
    assert_eq!(fx.count("SELECT count(*) AS n FROM customers").await, 2);

    // A create that fails (duplicate email) does not keep its key.
    let failing = IdempotencyClaim { key: "key-2".into(), ..claim.clone() };
    assert!(repo.create(&fx.ctx(), &customer("IDEM@example.com"), None, Some(&failing)).await.is_err());
    assert_eq!(fx.count("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'key-2'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relations_are_loaded_only_when_asked_for() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let c = fx.new_customer("rel@example.com").await;
    let g1 = fx.new_group("B group").await;
    let g2 = fx.new_group("A group").await;
    let with_groups = repo
        .set_groups(&fx.ctx(), c.id(), &[g2.id(), g1.id()], &[], Relations { groups: true, addresses: false })
        .await
        .expect("add");
    let ids: Vec<GroupId> = with_groups.groups().iter().map(|g| g.id()).collect();
    assert_eq!(ids, vec![g1.id(), g2.id()], "ordered by group id");
    assert_eq!(with_groups.groups()[0].version().get(), 2, "a membership change bumps the group");
    let fields = AddressFields { city: Some(Some("Paris".into())), ..AddressFields::default() };
    repo.upsert_address(&fx.ctx(), c.id(), AddressId(uuid::Uuid::now_v7()), true, &fields, Relations::NONE)
        .await
        .expect("address");

    // The customer HAS groups and an address, but asked for nothing, it gets none.
    let bare = repo.get(fx.project, c.id(), Relations::NONE).await.expect("get");
    assert!(bare.groups().is_empty() && bare.addresses().is_empty());
    let only_addresses = repo.get(fx.project, c.id(), Relations { groups: false, addresses: true }).await.expect("get");
    assert!(only_addresses.groups().is_empty());
    assert_eq!(only_addresses.addresses().len(), 1);
    let all = repo.get(fx.project, c.id(), Relations::ALL).await.expect("get");
    assert_eq!((all.groups().len(), all.addresses().len()), (2, 1));
    let listed = repo.list(fx.project, &CustomerFilter::default(), Relations::NONE).await.expect("list");
    assert!(listed.items[0].groups().is_empty() && listed.items[0].addresses().is_empty());
    let listed = repo.list(fx.project, &CustomerFilter::default(), Relations::ALL).await.expect("list");
    assert_eq!((listed.items[0].groups().len(), listed.items[0].addresses().len()), (2, 1));
    // set_groups answers without groups when they were not asked for, even though it changed them.
    let answer = repo.set_groups(&fx.ctx(), c.id(), &[], &[g1.id()], Relations::NONE).await.expect("remove");
    assert!(answer.groups().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn set_groups_is_all_or_nothing() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let c = fx.new_customer("g@example.com").await;
    let known = fx.new_group("Known").await;
    let unknown = GroupId(uuid::Uuid::now_v7());
    let unknown2 = GroupId(uuid::Uuid::now_v7());

    let err = repo
        .set_groups(&fx.ctx(), c.id(), &[known.id(), unknown, unknown2], &[], Relations::ALL)
        .await
        .expect_err("unknown group");
    match &err {
        DomainError::NotFound { resource: Resource::CustomerGroup, lookup: Lookup::Id(id) } => {
            assert_eq!(id, &unknown.to_string())
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        matches!(&err, DomainError::NotFound { resource: Resource::CustomerGroup, lookup: Lookup::Id(i) } if *i == unknown.to_string()),
        "{err:?}"
    );
    // A group of another project is unknown too.
    let err =
        repo.set_groups(&fx.ctx(), c.id(), &[], &[unknown2], Relations::ALL).await.expect_err("unknown in remove");
    assert!(matches!(err, DomainError::NotFound { resource: Resource::CustomerGroup, .. }));
    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_group_memberships").await, 0);
    assert_eq!(fx.groups().get(fx.project, known.id()).await.expect("group").version().get(), 1);
    assert_eq!(fx.events_of("customer.groups_changed").await, 0);

    let err = repo
        .set_groups(&fx.ctx(), CustomerId(uuid::Uuid::now_v7()), &[known.id()], &[], Relations::ALL)
        .await
        .expect_err("no customer");
    assert!(matches!(err, DomainError::NotFound { resource: Resource::Customer, .. }));

    // Adding twice and removing what is not there are no-ops: no version bump, no event.
    repo.set_groups(&fx.ctx(), c.id(), &[known.id()], &[], Relations::ALL).await.expect("add");
    let same = repo.set_groups(&fx.ctx(), c.id(), &[known.id()], &[], Relations::ALL).await.expect("add again");
    assert_eq!(same.groups().len(), 1);
    assert_eq!(same.groups()[0].version().get(), 2);
    assert_eq!(fx.events_of("customer.groups_changed").await, 1);
    let removed = repo.set_groups(&fx.ctx(), c.id(), &[], &[known.id()], Relations::ALL).await.expect("remove");
    assert!(removed.groups().is_empty());
    repo.set_groups(&fx.ctx(), c.id(), &[], &[known.id()], Relations::ALL).await.expect("remove again");
    assert_eq!(fx.groups().get(fx.project, known.id()).await.expect("group").version().get(), 3);
    assert_eq!(fx.events_of("customer.groups_changed").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_a_customer_leaves_its_groups() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let groups = fx.groups();
    let a = fx.new_customer("a@example.com").await;
    let b = fx.new_customer("b@example.com").await;
    let g = fx.new_group("G").await;
    let g = groups.set_customers(&fx.ctx(), g.id(), &[a.id(), b.id()], &[]).await.expect("members");
    assert_eq!(g.version().get(), 2);
    assert_eq!(groups.customers_of(fx.project, g.id(), 10).await.expect("members").len(), 2);

    repo.delete(&fx.ctx(), a.id()).await.expect("delete");
    let members = groups.customers_of(fx.project, g.id(), 10).await.expect("members");
    assert_eq!(members.iter().map(|c| c.id()).collect::<Vec<_>>(), vec![b.id()]);
    assert_eq!(groups.get(fx.project, g.id()).await.expect("g").version().get(), 3);

    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_group_memberships").await, 1);
    let deleted_at = fx.count("SELECT count(*) AS n FROM customers WHERE deleted_at IS NOT NULL").await;
    assert_eq!(deleted_at, 1, "soft delete keeps the row");

    // A deleted customer cannot join a group.
    let err = groups.set_customers(&fx.ctx(), g.id(), &[a.id()], &[]).await.expect_err("deleted");
    assert!(matches!(err, DomainError::NotFound { resource: Resource::Customer, .. }));

    // A page's members in one read, in the order of the ids asked for: an empty group, the
    // group, a group that does not exist; the limit holds per group.
    let empty = fx.new_group("Empty").await;
    let c = fx.new_customer("c@example.com").await;
    groups.set_customers(&fx.ctx(), g.id(), &[c.id()], &[]).await.expect("c joins");
    let gone = xclade_domain::GroupId(uuid::Uuid::now_v7());
    let ids = [empty.id(), g.id(), gone, g.id()];
    let page = groups.customers_of_groups(fx.project, &ids, 10).await.expect("page members");
    let page_ids: Vec<Vec<_>> = page.iter().map(|m| m.iter().map(|c| c.id()).collect()).collect();
    let mut both = vec![b.id(), c.id()];
    both.sort();
    assert_eq!(page_ids, vec![vec![], both.clone(), vec![], both.clone()]);
    let one = groups.customers_of_groups(fx.project, &ids[1..2], 1).await.expect("limit");
    assert_eq!(one.iter().map(Vec::len).collect::<Vec<_>>(), vec![1]);
    assert!(groups.customers_of_groups(fx.project, &[], 10).await.expect("none").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn update_applies_the_patch_and_writes_only_when_something_changed() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let c = created(repo.create(&fx.ctx(), &customer("u@example.com"), None, None).await.expect("create"));
    let mut meta = serde_json::Map::new();
    meta.insert("a".into(), json!(1));
    let patch = CustomerPatch {
        first_name: Some(Some("Grace".into())),
        phone: Some(Some("123".into())),
        metadata: Some(Metadata::parse(meta).expect("valid")),
        ..CustomerPatch::default()
    };
    let ctx = fx.ctx();
    let updated = repo.update(&ctx, c.id(), &patch.change_at(ctx.now), Relations::NONE).await.expect("update");
    assert_eq!(updated.first_name(), Some("Grace"));
    assert_eq!(updated.metadata().as_map()["a"], json!(1));
    assert!(updated.updated_at() > c.updated_at());
    assert_eq!(repo.get(fx.project, c.id(), Relations::NONE).await.expect("get"), updated);
    assert_eq!(fx.events_of("customer.updated").await, 1);

    let same =
        repo.update(&fx.ctx(), c.id(), &patch.change_at(chrono::Utc::now()), Relations::NONE).await.expect("no-op");
    assert_eq!(same.updated_at(), updated.updated_at());
    assert_eq!(fx.events_of("customer.updated").await, 1);
    let err = repo
        .update(&fx.ctx(), CustomerId(uuid::Uuid::now_v7()), &patch.change_at(chrono::Utc::now()), Relations::NONE)
        .await
        .expect_err("missing");
    assert!(matches!(err, DomainError::NotFound { resource: Resource::Customer, .. }));
}

/// The customer read is one statement that returns the groups and the addresses as arrays of
/// records, decoded field by field; the list reads them with a statement per relation. Both must
/// give the same customer, with every field of every relation (nulls, JSON, keys, custom
/// fields, timestamps to the microsecond) and in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_read_of_one_customer_carries_every_field_of_its_relations() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let type_id = fx.create_type().await;
    let typed = with_custom(group("Typed \u{2603}", Some("typed")), type_id, json!({"tier": "a", "n": 1.5}));
    let typed = fx.groups().create(&fx.ctx(), &typed, 1000, None).await.expect("typed group");
    let plain = fx.new_group("Plain").await;
    let c = fx.new_customer("records@example.com").await;
    repo.set_groups(&fx.ctx(), c.id(), &[plain.id(), typed.id()], &[], Relations::NONE).await.expect("join");
    let text = |s: &str| Some(Some(s.to_owned()));
    let full = AddressFields {
        address_name: text("home"),
        company: text("ACME \u{e9}t\u{e9}"),
        first_name: text("Ada"),
        last_name: text("Lovelace"),
        address_1: text("1 rue de la Paix"),
        address_2: text("b\u{e2}timent \"B\", 2\u{e8}me"),
        city: text("Paris"),
        country_code: text("FR"),
        province: text("\u{ce}le-de-France"),
        postal_code: text("75002"),
        phone: text("+33 1 23 45 67 89"),
        metadata: Some(
            Metadata::parse(serde_json::Map::from_iter([("floor".into(), json!([1, {"x": null}]))])).expect("metadata"),
        ),
        is_default_billing: Some(true),
        ..AddressFields::default()
    };
    let (a1, a2) = (AddressId(uuid::Uuid::now_v7()), AddressId(uuid::Uuid::now_v7()));
    repo.upsert_address(&fx.ctx(), c.id(), a1, true, &full, Relations::NONE).await.expect("full address");
    let sparse = AddressFields { city: text("Lyon"), is_default_shipping: Some(true), ..AddressFields::default() };
    let written = repo.upsert_address(&fx.ctx(), c.id(), a2, true, &sparse, Relations::ALL).await.expect("sparse");

    let read = repo.get(fx.project, c.id(), Relations::ALL).await.expect("get");
    let filter = CustomerFilter { ids: vec![c.id()], ..CustomerFilter::default() };
    let listed = repo.list(fx.project, &filter, Relations::ALL).await.expect("list");
    assert_eq!(read, listed.items[0], "the one statement reads what the statements per relation read");
    assert_eq!(read, written, "and what the write answered");
    let mut ids = vec![plain.id(), typed.id()];
    ids.sort_by_key(|g| g.0);
    assert_eq!(read.groups().iter().map(|g| g.id()).collect::<Vec<_>>(), ids, "groups by id");
    let g = read.groups().iter().find(|g| g.id() == typed.id()).expect("typed group");
    assert_eq!((g.key().map(GroupKey::as_str), g.name().as_str()), (Some("typed"), "Typed \u{2603}"));
    let custom = g.custom().expect("custom fields");
    assert_eq!((custom.type_id, custom.fields.get("n")), (type_id, Some(&json!(1.5))));
    assert_eq!(read.addresses().iter().map(|a| a.id()).collect::<Vec<_>>(), vec![a1, a2], "addresses by id");
    let a = &read.addresses()[0];
    assert_eq!(
        (a.address_2(), a.province(), a.phone()),
        (Some("b\u{e2}timent \"B\", 2\u{e8}me"), Some("\u{ce}le-de-France"), Some("+33 1 23 45 67 89"))
    );
    assert_eq!(a.metadata().as_map().get("floor"), Some(&json!([1, {"x": null}])));
    assert!(a.is_default_billing() && !a.is_default_shipping());
    let b = &read.addresses()[1];
    assert_eq!((b.city(), b.address_name(), b.company()), (Some("Lyon"), None, None));
    assert!(b.is_default_shipping() && !b.is_default_billing());

    // Each relation alone, and a customer without any.
    let groups_only = repo.get(fx.project, c.id(), Relations { groups: true, addresses: false }).await.expect("get");
    assert_eq!((groups_only.groups(), groups_only.addresses().len()), (read.groups(), 0));
    let lone = fx.new_customer("lone@example.com").await;
    let lone_read = repo.get(fx.project, lone.id(), Relations::ALL).await.expect("get");
    assert!(lone_read.groups().is_empty() && lone_read.addresses().is_empty());
    assert_eq!(lone_read, lone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn addresses_and_their_defaults() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let c = fx.new_customer("addr@example.com").await;
    let (a1, a2) = (AddressId(uuid::Uuid::now_v7()), AddressId(uuid::Uuid::now_v7()));
    let home = AddressFields {
        address_name: Some(Some("home".into())),
        city: Some(Some("Paris".into())),
        is_default_billing: Some(true),
        is_default_shipping: Some(true),
        ..AddressFields::default()
    };
    let after = repo.upsert_address(&fx.ctx(), c.id(), a1, true, &home, Relations::ALL).await.expect("a1");
    assert_eq!(after.default_billing_address_id(), Some(a1));
    assert_eq!(after.default_shipping_address_id(), Some(a1));
    assert!(after.addresses()[0].is_default_billing() && after.addresses()[0].is_default_shipping());

    let work = AddressFields {
        address_name: Some(Some("work".into())),
        is_default_billing: Some(true),
        ..AddressFields::default()
    };
    let after = repo.upsert_address(&fx.ctx(), c.id(), a2, true, &work, Relations::ALL).await.expect("a2");
    assert_eq!(after.default_billing_address_id(), Some(a2), "the new default replaces the old one");
    assert_eq!(after.default_shipping_address_id(), Some(a1));
    let flags: Vec<(bool, bool)> =
        after.addresses().iter().map(|a| (a.is_default_billing(), a.is_default_shipping())).collect();
    assert_eq!(flags, vec![(false, true), (true, false)]);

    let update =
        AddressFields { city: Some(Some("Lyon".into())), is_default_shipping: Some(false), ..AddressFields::default() };
    let after = repo.upsert_address(&fx.ctx(), c.id(), a1, false, &update, Relations::NONE).await.expect("update a1");
    assert_eq!(after.default_shipping_address_id(), None);
    assert!(after.addresses().is_empty(), "relations not asked for");
    let a1_now = repo.get_address(fx.project, c.id(), a1).await.expect("a1");
    assert_eq!((a1_now.city(), a1_now.address_name()), (Some("Lyon"), Some("home")));

    // Another customer's address is not found.
    let other = fx.new_customer("other@example.com").await;
    let err = repo.get_address(fx.project, other.id(), a1).await.expect_err("foreign address");
    assert!(matches!(err, DomainError::NotFound { resource: Resource::CustomerAddress, .. }));
    let err =
        repo.upsert_address(&fx.ctx(), other.id(), a1, false, &update, Relations::NONE).await.expect_err("foreign");
    assert!(matches!(err, DomainError::NotFound { resource: Resource::CustomerAddress, .. }));

    let listed = repo.list_addresses(fx.project, c.id(), 1, 1).await.expect("list");
    assert_eq!((listed.count, listed.items.len(), listed.items[0].id()), (2, 1, a2));

    let after = repo.delete_address(&fx.ctx(), c.id(), a2, Relations::ALL).await.expect("delete a2");
    assert_eq!(after.default_billing_address_id(), None);
    assert_eq!(after.addresses().len(), 1);
    assert!(repo.delete_address(&fx.ctx(), c.id(), a2, Relations::ALL).await.is_err());
    // created, 3 upserts, 1 delete (failed writes record nothing)
    assert_eq!(fx.events_of("customer.updated").await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_filters_order_and_pages() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let mut ids = Vec::new();
    for (email, first, company) in [
        ("anna@example.com", "Anna", "50%_off Ltd"),
        ("bob@example.com", "Bob", "Shop"),
        ("carl@example.org", "Carl", "Shop"),
        ("dora@example.org", "Dora", "Back\\slash"),
    ] {
        let mut c = customer(email).into_parts();
        c.first_name = Some(first.into());
        c.company_name = Some(company.into());
        let c = xclade_domain::customer::Customer::from_parts(c);
        ids.push(created(repo.create(&fx.ctx(), &c, None, None).await.expect("create")).id());
    }
    let g = fx.groups().create(&fx.ctx(), &group("VIP", None), 1000, None).await.expect("group");
    repo.set_groups(&fx.ctx(), ids[1], &[g.id()], &[], Relations::NONE).await.expect("join");
    repo.delete(&fx.ctx(), ids[3]).await.expect("delete dora");

    let run = |filter: CustomerFilter| {
        let repo = repo.clone();
        let project = fx.project;
        async move {
            let listed = repo.list(project, &filter, Relations::NONE).await.expect("list");
            (listed.count, listed.items.into_iter().map(|c| c.email_str().to_owned()).collect::<Vec<_>>())
        }
    };
    let all = run(CustomerFilter::default()).await;
    assert_eq!(all.0, 3, "deleted customers are not listed");
    assert_eq!(all.1, vec!["anna@example.com", "bob@example.com", "carl@example.org"]);

    let q = |s: &str| CustomerFilter { q: Some(s.into()), ..CustomerFilter::default() };
    assert_eq!(run(q("EXAMPLE.ORG")).await.0, 1);
    assert_eq!(run(q("shop")).await.0, 2);
    assert_eq!(run(q("50%_")).await.1, vec!["anna@example.com"]);
    assert_eq!(run(q("%")).await.0, 1, "% is literal");
    assert_eq!(run(q("_")).await.0, 1, "_ is literal");
    assert_eq!(run(q("\\")).await.0, 0, "backslash is literal (its customer is deleted)");
    assert_eq!(run(q("lovelace")).await.0, 3);

    let emails =
        CustomerFilter { emails: vec!["BOB@example.com".into(), "nobody@x.io".into()], ..CustomerFilter::default() };
    assert_eq!(run(emails).await.1, vec!["bob@example.com"]);
    let in_group = CustomerFilter { groups: vec![g.id(), GroupId(uuid::Uuid::now_v7())], ..CustomerFilter::default() };
    assert_eq!(run(in_group).await.1, vec!["bob@example.com"]);
    assert_eq!(run(CustomerFilter { has_account: Some(true), ..CustomerFilter::default() }).await.0, 0);
    assert_eq!(run(CustomerFilter { has_account: Some(false), ..CustomerFilter::default() }).await.0, 3);
    let future = CustomerFilter {
        created_at: TimeRange { gt: Some(now() + Duration::hours(1)), ..TimeRange::default() },
        ..CustomerFilter::default()
    };
    assert_eq!(run(future).await.0, 0);
    let past = CustomerFilter {
        created_at: TimeRange { gte: Some(now() - Duration::hours(1)), lte: Some(now()), ..TimeRange::default() },
        ..CustomerFilter::default()
    };
    assert_eq!(run(past).await.0, 3);
    let some_ids = CustomerFilter { ids: vec![ids[0], ids[3]], ..CustomerFilter::default() };
    assert_eq!(run(some_ids).await.1, vec!["anna@example.com"]);

    let by_name_desc = CustomerFilter {
        order: CustomerOrderField::FirstName,
        descending: true,
        limit: 2,
        offset: 0,
        ..CustomerFilter::default()
    };
    let page = run(by_name_desc.clone()).await;
    assert_eq!(page, (3, vec!["carl@example.org".to_owned(), "bob@example.com".to_owned()]));
    let page2 = run(CustomerFilter { offset: 2, ..by_name_desc }).await;
    assert_eq!(page2, (3, vec!["anna@example.com".to_owned()]));
    // Ties (same company) are broken by id.
    let by_company = run(CustomerFilter { order: CustomerOrderField::CompanyName, ..CustomerFilter::default() }).await;
    assert_eq!(by_company.1, vec!["anna@example.com", "bob@example.com", "carl@example.org"]);
}

/// Emails are read back through `Email::parse`: one changed behind the service's back into one
/// the rules refuse is an internal error, not an unchecked value nor a client error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stored_email_the_rules_refuse_is_an_internal_error() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let c = fx.new_customer("eve@example.com").await;
    fx.exec(&format!("UPDATE customers SET email = 'not an email' WHERE id = '{}'", c.id().0)).await;
    let err = repo.get(fx.project, c.id(), Relations::NONE).await.expect_err("refused");
    assert!(matches!(err, DomainError::Internal(_)), "{err:?}");
    assert!(format!("{err:?}").contains("stored email"), "{err:?}");
}
