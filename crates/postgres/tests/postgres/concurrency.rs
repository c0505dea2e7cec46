//! Races: each must resolve to the rule that decided it, exactly.

use chrono::Duration;
use futures::future::join_all;
use std::future::Future;
use xclade_domain::customer::Relations;
use xclade_domain::customer_group::{GroupName, Version};
use xclade_domain::ports::{CreateOutcome, CustomerGroupRepository, CustomerRepository, IdempotencyClaim};
use xclade_domain::{DomainError, Resource};

use crate::common::{customer, group, Fx};

/// Runs the `n` futures `task(0)`, …, `task(n - 1)` at once, each on its own task; answers
/// their outputs in that order.
async fn race<F>(n: usize, task: impl Fn(usize) -> F) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(task(i))).collect();
    join_all(tasks).await.into_iter().map(|r| r.expect("task")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_creates_of_one_email() {
    let fx = Fx::new().await;
    let results = race(50, |i| {
        let (repo, ctx) = (fx.customers(), fx.ctx());
        // Case varies: uniqueness ignores it.
        let email = if i % 2 == 0 { "race@example.com" } else { "RACE@example.com" };
        async move { repo.create(&ctx, &customer(email), None, None).await }
    })
    .await;
    let ok = results.iter().filter(|r| matches!(r, Ok(CreateOutcome::Created(_)))).count();
    let dup = results
        .iter()
        .filter(|r| matches!(r, Err(DomainError::Duplicate { resource: Resource::Customer, field: "email", .. })))
        .count();
    assert_eq!((ok, dup), (1, 49), "{results:?}");
    assert_eq!(fx.count("SELECT count(*) AS n FROM customers").await, 1);
    assert_eq!(fx.events_of("customer.created").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_retries_with_one_key_create_one_customer() {
    let fx = Fx::new().await;
    let claim = IdempotencyClaim {
        key: "same".into(),
        request_hash: "h".into(),
        not_before: chrono::Utc::now() - Duration::hours(24),
    };
    let results = race(10, |_| {
        let (repo, ctx, claim) = (fx.customers(), fx.ctx(), claim.clone());
        async move { repo.create(&ctx, &customer("idem@example.com"), None, Some(&claim)).await.expect("no error") }
    })
    .await;
    let created: Vec<_> = results
        .iter()
        .filter_map(|r| match r {
            CreateOutcome::Created(c) => Some(c.clone()),
            CreateOutcome::Replayed(_) => None,
        })
        .collect();
    assert_eq!(created.len(), 1);
    for r in &results {
        if let CreateOutcome::Replayed(c) = r {
            assert_eq!(c, &created[0]);
        }
    }
    assert_eq!(fx.count("SELECT count(*) AS n FROM customers").await, 1);
    assert_eq!(fx.events_of("customer.created").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_adds_of_one_group() {
    let fx = Fx::new().await;
    let c = fx.new_customer("m@example.com").await;
    let g = fx.new_group("Members").await;
    let answers = race(20, |_| {
        let (repo, ctx, cid, gid) = (fx.customers(), fx.ctx(), c.id(), g.id());
        async move { repo.set_groups(&ctx, cid, &[gid], &[], Relations::ALL).await }
    })
    .await;
    for r in answers {
        let customer = r.expect("set_groups");
        assert_eq!(customer.groups().len(), 1);
    }
    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_group_memberships").await, 1);
    assert_eq!(fx.groups().get(fx.project, g.id()).await.expect("group").version().get(), 2, "bumped exactly once");
    assert_eq!(fx.events_of("customer.groups_changed").await, 1);
}

/// The real clock and UUID v7 ids, for a service over the PostgreSQL repositories.
struct RealTime;

impl xclade_domain::ports::Clock for RealTime {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

impl xclade_domain::ports::IdGenerator for RealTime {
    fn new_id(&self) -> uuid::Uuid {
        uuid::Uuid::now_v7()
    }
    fn new_secret(&self, len: usize) -> String {
        "s".repeat(len)
    }
}

/// Admin-family updates carry no version: the service saves at the version it read and, having
/// lost to another write, reads again and applies again. Concurrent updates of different fields
/// all land; none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_admin_updates_of_one_group_all_apply() {
    use xclade_domain::auth::{Actor, Principal, Scope};
    use xclade_domain::metadata::Metadata;
    let fx = Fx::new().await;
    let g = fx.groups().create(&fx.ctx(), &group("Admin", None), 1000, None).await.expect("group");
    let clock = std::sync::Arc::new(RealTime);
    let service = xclade_domain::services::GroupService::new(
        std::sync::Arc::new(fx.groups()),
        std::sync::Arc::new(xclade_postgres::PgTypeRepository::new(fx.pool.clone(), crate::common::events())),
        clock.clone(),
        clock,
        1000,
    );
    let ctx = fx.ctx();
    let principal = Principal {
        project_id: fx.project,
        project_key: ctx.project_key.clone(),
        actor: Actor::Client("admin".into()),
        scopes: vec![Scope::manage_project(&ctx.project_key)],
    };
    let n = 12;
    let tasks = (0..n).map(|i| {
        let (service, principal, id) = (service.clone(), principal.clone(), g.id());
        // One rename among metadata updates of distinct keys.
        let name = (i == 0).then(|| GroupName::parse("name", "Renamed").expect("name"));
        let metadata =
            Metadata::parse(serde_json::Map::from_iter([(format!("k{i}"), serde_json::json!(i))])).expect("metadata");
        tokio::spawn(async move { service.admin_update(&principal, id, name, Some(metadata)).await })
    });
    for r in join_all(tasks).await {
        r.expect("task").expect("applied");
    }
    let stored = fx.groups().get(fx.project, g.id()).await.expect("group");
    assert_eq!(stored.name().as_str(), "Renamed");
    assert_eq!(stored.metadata().as_map().len(), n, "every key: {:?}", stored.metadata());
    assert_eq!(stored.version().get(), 1 + n as i64 + 1, "one version per effective action");
    assert_eq!(fx.events_of("customer-group.updated").await, n as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_saves_at_one_version() {
    let fx = Fx::new().await;
    let g = fx.new_group("Versioned").await;
    let results = race(100, |i| {
        let (repo, ctx) = (fx.groups(), fx.ctx());
        let mut next = g.clone().into_parts();
        next.name = GroupName::parse("name", &format!("Name {i}")).expect("name");
        next.version = Version::new(2).unwrap();
        next.last_modified_at = ctx.now;
        let next = xclade_domain::customer_group::CustomerGroup::from_parts(next);
        async move { repo.save(&ctx, &next, Version::new(1).unwrap(), None).await }
    })
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(DomainError::VersionConflict { expected: 1, current: 2, .. })))
        .count();
    assert_eq!((ok, conflicts), (1, 99), "{:?}", results.iter().filter(|r| r.is_err()).take(3).collect::<Vec<_>>());
    let stored = fx.groups().get(fx.project, g.id()).await.expect("group");
    assert_eq!(stored.version().get(), 2);
    assert_eq!(fx.events_of("customer-group.updated").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_group_limit_is_exact_under_fifty_concurrent_creates() {
    let fx = Fx::new().await;
    fx.exec(&format!(
        "INSERT INTO customer_groups (project_id, id, name, created_at, last_modified_at) \
         SELECT '{p}', gen_random_uuid(), 'seed ' || i, now(), now() FROM generate_series(1, 990) AS i; \
         UPDATE projects SET customer_group_count = 990 WHERE project_id = '{p}'",
        p = fx.project.0
    ))
    .await;
    let results = race(50, |i| {
        let (repo, ctx) = (fx.groups(), fx.ctx());
        async move { repo.create(&ctx, &group(&format!("new {i}"), None), 1000, None).await }
    })
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let limited = results
        .iter()
        .filter(|r| matches!(r, Err(DomainError::LimitExceeded { resource: Resource::CustomerGroup, limit: 1000 })))
        .count();
    assert_eq!((ok, limited), (10, 40));
    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_groups").await, 1000);
    assert_eq!(fx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 1000);
    assert_eq!(fx.events_of("customer-group.created").await, 10);
    let err = fx.groups().create(&fx.ctx(), &group("one more", None), 1000, None).await.expect_err("full");
    assert!(matches!(err, DomainError::LimitExceeded { resource: Resource::CustomerGroup, limit: 1000 }), "{err:?}");

    // A delete frees a slot.
    let first = results.iter().find_map(|r| r.as_ref().ok()).expect("one created");
    fx.groups().delete(&fx.ctx(), first.id(), Some(first.version().into())).await.expect("delete");
    assert_eq!(fx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 999);
    fx.groups().create(&fx.ctx(), &group("one more", None), 1000, None).await.expect("room again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_lose_as_duplicates() {
    let fx = Fx::new().await;
    let results = race(20, |i| {
        let (repo, ctx) = (fx.groups(), fx.ctx());
        // Half also race on the key.
        let key = if i % 2 == 0 { Some("same-key") } else { None };
        async move { repo.create(&ctx, &group("Gold", key), 1000, None).await }
    })
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let dup = results
        .iter()
        .filter(|r| {
            matches!(r, Err(DomainError::Duplicate { resource: Resource::CustomerGroup, field: "name" | "key", .. }))
        })
        .count();
    assert_eq!((ok, dup), (1, 19), "{results:?}");
    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_groups").await, 1);
    assert_eq!(fx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 1);
}
