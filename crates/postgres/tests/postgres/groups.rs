//! Customer groups: CRUD, versions, constraints, the admin list, sort and paging.

use serde_json::json;
use xclade_domain::customer_group::{ExpectedVersion, GroupKey, GroupName, Version};
use xclade_domain::error::Lookup;
use xclade_domain::paging::{GroupFilter, GroupQuery, Sort, SortField};
use xclade_domain::ports::CustomerGroupRepository;
use xclade_domain::{DomainError, GroupId, Resource, TypeId};

use crate::common::{group, with_custom, Fx};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn create_get_save_delete() {
    let fx = Fx::new().await;
    let repo = fx.groups();
    let type_id = fx.create_type().await;
    let draft = with_custom(group("Gold", Some("gold")), type_id, json!({"tier": "a"}));
    let created = repo.create(&fx.ctx(), &draft, 1000, None).await.expect("create");
    assert_eq!(created, draft, "timestamps are stored to the microsecond, as drafted");
    assert_eq!(repo.get(fx.project, created.id()).await.expect("get"), created);
    assert_eq!(repo.get_by_key(fx.project, "gold").await.expect("by key"), created);
    let err = repo.get_by_key(fx.project, "nope").await.expect_err("missing key");
    assert!(
        matches!(&err, DomainError::NotFound { resource: Resource::CustomerGroup, lookup: Lookup::Key(k) } if k == "nope"),
        "{err:?}"
    );
    assert!(matches!(repo.get(fx.project, GroupId(uuid::Uuid::now_v7())).await, Err(DomainError::NotFound { .. })));

    // Duplicates, on create and on save.
    let silver = repo.create(&fx.ctx(), &group("Silver", Some("silver")), 1000, None).await.expect("silver");
    let err = repo.create(&fx.ctx(), &group("Gold", None), 1000, None).await.expect_err("name taken");
    assert!(
        matches!(err, DomainError::Duplicate { resource: Resource::CustomerGroup, field: "name", ref value } if value == "Gold")
    );
    let err = repo.create(&fx.ctx(), &group("Other", Some("gold")), 1000, None).await.expect_err("key taken");
    assert!(matches!(err, DomainError::Duplicate { field: "key", ref value, .. } if value == "gold"));
    let mut renamed = silver.clone().into_parts();
    renamed.name = GroupName::parse("name", "Gold").expect("name");
    renamed.version = Version::new(2).unwrap();
    let renamed = xclade_domain::customer_group::CustomerGroup::from_parts(renamed);
    let err = repo.save(&fx.ctx(), &renamed, Version::new(1).unwrap(), None).await.expect_err("name taken on save");
    assert!(matches!(err, DomainError::Duplicate { field: "name", .. }), "{err:?}");
    assert_eq!(
        fx.count("SELECT customer_group_count::bigint AS n FROM projects").await,
        2,
        "failed creates are not counted"
    );

    // A type that does not exist.
    let err = repo
        .create(&fx.ctx(), &with_custom(group("Typed", None), TypeId(uuid::Uuid::now_v7()), json!({})), 1000, None)
        .await
        .expect_err("no type");
    assert!(matches!(err, DomainError::ReferencedResourceNotFound { resource: Resource::Type, .. }), "{err:?}");
    // A type in use cannot be deleted: the constraint names what the domain error is.
    let mut conn = fx.conn().await;
    let e = diesel_async::SimpleAsyncConnection::batch_execute(
        &mut conn,
        &format!("DELETE FROM types WHERE id = '{}'", type_id.0),
    )
    .await
    .expect_err("type in use");
    match e {
        diesel::result::Error::DatabaseError(_, info) => {
            let mapped = xclade_postgres::constraint_error(info.constraint_name().unwrap_or(""), "");
            assert!(matches!(
                mapped,
                Some(DomainError::ReferenceExists { resource: Resource::Type, referenced_by: Resource::CustomerGroup })
            ));
        }
        other => panic!("unexpected {other:?}"),
    }

    // Versioned save.
    let mut next = silver.clone().into_parts();
    next.key = Some(GroupKey::parse("argent").expect("key"));
    next.version = Version::new(3).unwrap();
    let next = xclade_domain::customer_group::CustomerGroup::from_parts(next);
    let saved = repo.save(&fx.ctx(), &next, Version::new(1).unwrap(), None).await.expect("save");
    assert_eq!((saved.version().get(), saved.key().map(GroupKey::as_str)), (3, Some("argent")));
    let err = repo.save(&fx.ctx(), &next, Version::new(1).unwrap(), None).await.expect_err("stale");
    assert!(
        matches!(&err, DomainError::VersionConflict { id, expected: 1, current: 3 } if *id == silver.id().to_string()),
        "{err:?}"
    );
    let mut ghost = next.clone().into_parts();
    ghost.id = GroupId(uuid::Uuid::now_v7());
    let ghost = xclade_domain::customer_group::CustomerGroup::from_parts(ghost);
    assert!(matches!(
        repo.save(&fx.ctx(), &ghost, Version::new(1).unwrap(), None).await,
        Err(DomainError::NotFound { .. })
    ));

    // Versioned delete.
    let err = repo.delete(&fx.ctx(), silver.id(), Some(ExpectedVersion::new(2))).await.expect_err("stale delete");
    assert!(matches!(err, DomainError::VersionConflict { expected: 2, current: 3, .. }));
    assert_eq!(
        fx.count("SELECT customer_group_count::bigint AS n FROM projects").await,
        2,
        "a refused delete keeps the count"
    );
    let deleted = repo.delete(&fx.ctx(), silver.id(), Some(ExpectedVersion::new(3))).await.expect("delete");
    assert_eq!(deleted.id(), silver.id());
    assert!(matches!(repo.delete(&fx.ctx(), silver.id(), None).await, Err(DomainError::NotFound { .. })));
    assert_eq!(fx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 1);

    // One event per successful write, none for the refused ones.
    let kinds = ["customer-group.created", "customer-group.updated", "customer-group.deleted"];
    assert_eq!(fx.events_of_each(&kinds).await, [2, 1, 1]);
    let payload_name = fx.count("SELECT count(*) AS n FROM events WHERE payload -> 'resource' ->> 'name' = 'Silver' AND kind = 'customer-group.deleted'").await;
    assert_eq!(payload_name, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admin_list() {
    let fx = Fx::new().await;
    let repo = fx.groups();
    let mut ids = Vec::new();
    for name in ["Gold", "Golden 50%", "silver", "Bronze"] {
        ids.push(repo.create(&fx.ctx(), &group(name, None), 1000, None).await.expect("create").id());
    }
    let names = |l: xclade_domain::customer::Listed<xclade_domain::customer_group::CustomerGroup>| {
        (l.count, l.items.into_iter().map(|g| g.name().as_str().to_owned()).collect::<Vec<_>>())
    };
    let all = names(repo.list(fx.project, &GroupFilter::default()).await.expect("list"));
    assert_eq!(all, (4, vec!["Gold".into(), "Golden 50%".into(), "silver".into(), "Bronze".into()]));
    let q = GroupFilter { q: Some("GOLD".into()), ..GroupFilter::default() };
    assert_eq!(names(repo.list(fx.project, &q).await.expect("q")).0, 2);
    let q = GroupFilter { q: Some("0%".into()), ..GroupFilter::default() };
    assert_eq!(names(repo.list(fx.project, &q).await.expect("q")).1, vec!["Golden 50%".to_owned()]);
    let f = GroupFilter {
        names: vec!["silver".into(), "Silver".into()],
        ids: vec![ids[2], ids[0]],
        ..GroupFilter::default()
    };
    assert_eq!(names(repo.list(fx.project, &f).await.expect("names")).1, vec!["silver".to_owned()]);
    let f = GroupFilter { order: SortField::Name, descending: true, limit: 2, offset: 1, ..GroupFilter::default() };
    let page = names(repo.list(fx.project, &f).await.expect("page"));
    assert_eq!(page.0, 4);
    assert_eq!(page.1.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sort_and_paging_are_stable_with_ties() {
    let fx = Fx::new().await;
    let repo = fx.groups();
    let mut ids = Vec::new();
    for i in 0..7 {
        // Keys are unique; the three groups without one tie.
        let key = if i % 3 == 0 { None } else { Some(format!("k{}", 9 - i)) };
        let g = repo.create(&fx.ctx(), &group(&format!("g{i}"), key.as_deref()), 1000, None).await.expect("create");
        ids.push(g.id());
    }
    let collect = |sort: Vec<Sort>, page: u32| {
        let repo = repo.clone();
        let project = fx.project;
        async move {
            let mut out = Vec::new();
            for offset in (0..10).map(|p| p * page) {
                let q = GroupQuery { predicate: None, sort: sort.clone(), limit: page, offset, with_total: true };
                let r = repo.query(project, &q).await.expect("query");
                assert_eq!(r.total, Some(7));
                if r.results.is_empty() {
                    break;
                }
                out.extend(r.results.into_iter().map(|g| g.id()));
            }
            out
        }
    };
    // Every version is 1: the order is the id's, in the direction of the sort.
    let asc = collect(vec![Sort { field: SortField::Version, descending: false }], 2).await;
    assert_eq!(asc, ids);
    let desc = collect(vec![Sort { field: SortField::Version, descending: true }], 3).await;
    assert_eq!(desc, ids.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!(collect(vec![], 2).await, ids, "no sort: by id");
    // Keys with ties and missing keys: every group exactly once whatever the page size.
    for page in [1, 2, 4] {
        let mut by_key = collect(
            vec![
                Sort { field: SortField::Key, descending: false },
                Sort { field: SortField::CreatedAt, descending: true },
            ],
            page,
        )
        .await;
        assert_eq!(by_key.len(), 7);
        by_key.sort();
        assert_eq!(by_key, ids);
    }

    let zero = repo.query(fx.project, &GroupQuery { limit: 0, ..GroupQuery::default() }).await.expect("limit 0");
    assert_eq!((zero.results.len(), zero.total), (0, Some(7)));
    let untotalled =
        repo.query(fx.project, &GroupQuery { with_total: false, ..GroupQuery::default() }).await.expect("no total");
    assert_eq!((untotalled.results.len(), untotalled.total), (7, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn set_customers_is_all_or_nothing() {
    use xclade_domain::customer::Relations;
    use xclade_domain::ports::{CreateOutcome, CustomerRepository};
    use xclade_domain::CustomerId;

    let fx = Fx::new().await;
    let repo = fx.groups();
    let g = repo.create(&fx.ctx(), &group("Members", None), 1000, None).await.expect("group");
    let CreateOutcome::Created(a) =
        fx.customers().create(&fx.ctx(), &crate::common::customer("a@example.com"), None, None).await.expect("a")
    else {
        panic!("created")
    };
    let missing = CustomerId(uuid::Uuid::now_v7());
    let err = repo.set_customers(&fx.ctx(), g.id(), &[a.id()], &[missing]).await.expect_err("unknown customer");
    assert!(
        matches!(&err, DomainError::NotFound { resource: Resource::Customer, lookup: Lookup::Id(i) } if *i == missing.to_string()),
        "{err:?}"
    );
    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_group_memberships").await, 0);
    let err =
        repo.set_customers(&fx.ctx(), GroupId(uuid::Uuid::now_v7()), &[a.id()], &[]).await.expect_err("unknown group");
    assert!(matches!(err, DomainError::NotFound { resource: Resource::CustomerGroup, .. }));

    let g2 = repo.set_customers(&fx.ctx(), g.id(), &[a.id()], &[]).await.expect("add");
    assert_eq!(g2.version().get(), 2);
    let same = repo.set_customers(&fx.ctx(), g.id(), &[a.id()], &[]).await.expect("no-op");
    assert_eq!(same.version().get(), 2, "nothing changed, nothing bumped");
    assert_eq!(fx.events_of("customer-group.updated").await, 1);
    let seen = fx.customers().get(fx.project, a.id(), Relations::ALL).await.expect("customer");
    assert_eq!(seen.groups().iter().map(|g| g.id()).collect::<Vec<_>>(), vec![g.id()]);

    // Deleting the group removes its memberships.
    repo.delete(&fx.ctx(), g.id(), Some(ExpectedVersion::new(2))).await.expect("delete");
    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_group_memberships").await, 0);
    assert!(fx.customers().get(fx.project, a.id(), Relations::ALL).await.expect("customer").groups().is_empty());
}

/// Rows are read back through the domain's parsers: a name or key changed behind the service's
/// back into one its rules refuse is an internal error, not an unchecked value nor a client error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stored_value_the_rules_refuse_is_an_internal_error() {
    let fx = Fx::new().await;
    let repo = fx.groups();
    let created = repo.create(&fx.ctx(), &group("Gold", Some("gold")), 1000, None).await.expect("create");
    fx.exec(&format!("UPDATE customer_groups SET key = 'not a key!' WHERE id = '{}'", created.id().0)).await;
    let err = repo.get(fx.project, created.id()).await.expect_err("refused");
    assert!(matches!(err, DomainError::Internal(_)), "{err:?}");
    assert!(format!("{err:?}").contains("stored key"), "{err:?}");
}

/// Metadata is read back through `Metadata::parse`, with the limits of input: a stored object
/// nested deeper than they allow is an internal error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stored_metadata_the_rules_refuse_is_an_internal_error() {
    let fx = Fx::new().await;
    let repo = fx.groups();
    let created = repo.create(&fx.ctx(), &group("Deep", None), 1000, None).await.expect("create");
    fx.exec(&format!(
        r#"UPDATE customer_groups SET metadata = '{{"a": {{"b": {{"c": {{"d": {{"e": {{}}}}}}}}}}}}' WHERE id = '{}'"#,
        created.id().0
    ))
    .await;
    let err = repo.get(fx.project, created.id()).await.expect_err("refused");
    assert!(matches!(err, DomainError::Internal(_)), "{err:?}");
    assert!(format!("{err:?}").contains("stored metadata"), "{err:?}");
}
