//! Migrations, health, the pool's behaviour when the database is away, the outbox.

use std::time::{Duration, Instant};

use xclade_domain::event::EventKind;
use xclade_domain::ports::{CustomerRepository, EventOutbox, HealthCheck};
use xclade_domain::DomainError;
use xclade_postgres::{
    build_pool, check_connect, revert_all_migrations, revert_last_migration, run_migrations, PgEventOutbox, PgHealth,
};

use crate::common::{customer, Fx};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_up_down_up() {
    let fx = Fx::new().await;
    PgHealth::new(fx.pool.clone(), fx.db.url()).ready().await.expect("ready when migrated");
    let tables = "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'";
    assert_eq!(fx.count(tables).await, 11);

    let reverted = revert_all_migrations(fx.db.url()).await.expect("down");
    assert!(reverted >= 1);
    assert_eq!(fx.count(tables).await, 0);
    let not_ready = PgHealth::new(fx.pool.clone(), fx.db.url()).ready().await;
    assert!(matches!(not_ready, Err(DomainError::Unavailable(_))), "{not_ready:?}");

    let applied = run_migrations(fx.db.url()).await.expect("up");
    assert_eq!(applied, reverted);
    assert_eq!(fx.count(tables).await, 11);
    assert_eq!(run_migrations(fx.db.url()).await.expect("again"), 0);
    PgHealth::new(fx.pool.clone(), fx.db.url()).ready().await.expect("ready again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_database_fails_fast_as_unavailable() {
    // Nothing listens on port 1.
    let url = "postgres://postgres@127.0.0.1:1/nothing";
    let pool = build_pool(url, 4, 2).expect("a pool builds without connecting");
    let started = Instant::now();
    let r = xclade_postgres::PgCustomerRepository::new(pool.clone(), crate::common::events())
        .get(
            xclade_domain::ProjectId(uuid::Uuid::nil()),
            xclade_domain::CustomerId(uuid::Uuid::nil()),
            Default::default(),
        )
        .await;
    assert!(matches!(r, Err(DomainError::Unavailable(_))), "{r:?}");
    assert!(matches!(PgHealth::new(pool, url).ready().await, Err(DomainError::Unavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    assert!(check_connect(url).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pool_recovers_after_its_connections_were_killed() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    check_connect(fx.db.url()).await.expect("reachable");
    let c = customer("a@b.co");
    repo.create(&fx.ctx(), &c, None, None).await.expect("create");
    // Terminate every session of the test database except our own.
    fx.exec(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
        fx.db.name()
    ))
    .await;
    // The pooled connection died while idle but was used a moment ago (no idle check): the read
    // meets the closed connection, and is run again on a new one, so even the first request
    // after the outage succeeds.
    let got = repo.get(fx.project, c.id(), Default::default()).await.expect("served by a fresh connection");
    assert_eq!(got.email_str(), "a@b.co");
    for _ in 0..20 {
        repo.get(fx.project, c.id(), Default::default()).await.expect("still served");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_pending_and_mark_published() {
    let fx = Fx::new().await;
    let repo = fx.customers();
    let mut extra = serde_json::Map::new();
    extra.insert("source".into(), serde_json::json!("import"));
    let a = customer("a@b.co");
    let ctx = fx.ctx();
    repo.create(&ctx, &a, Some(&extra), None).await.expect("create a");
    repo.create(&fx.ctx(), &customer("b@b.co"), None, None).await.expect("create b");

    let outbox = PgEventOutbox::new(fx.pool.clone());
    let pending = outbox.pending(10).await.expect("pending");
    assert_eq!(pending.len(), 2);
    let first = &pending[0];
    assert_eq!(first.id, ctx.event_id);
    assert_eq!(first.kind, EventKind::CustomerCreated);
    assert_eq!(first.resource_id, a.id().0);
    assert_eq!(first.project_key, "demo");
    assert_eq!(first.actor, ctx.actor);
    let payload = crate::common::stored(first).to_value();
    assert_eq!(payload["resource"]["email"], "a@b.co");
    assert_eq!(payload["additional_data"]["source"], "import");
    assert!(crate::common::stored(&pending[1]).to_value().get("additional_data").is_none());
    // Read back as compact JSON text, without the white space PostgreSQL writes.
    let text = crate::common::stored(first).as_json();
    assert!(!text.contains("\": ") && !text.contains(", \""), "{text}");

    let marked = outbox.mark_published(&[(first.project_id, first.id)]).await.expect("mark");
    assert_eq!(marked, 1);
    assert_eq!(outbox.mark_published(&[(first.project_id, first.id)]).await.expect("again"), 0);
    let left = outbox.pending(10).await.expect("pending");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].resource_id, pending[1].resource_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_write_records_exactly_one_event_of_its_kind() {
    use xclade_domain::customer::{AddressFields, CustomerPatch, Relations};
    use xclade_domain::customer_group::GroupName;
    use xclade_domain::ports::{CreateOutcome, CustomerGroupRepository};
    use xclade_domain::AddressId;

    let fx = Fx::new().await;
    let customers = fx.customers();
    let groups = fx.groups();
    let mut seen = 0;
    let mut expect = |kind: &'static str| {
        seen += 1;
        (seen, kind)
    };
    async fn check(fx: &Fx, (total, kind): (i64, &str)) {
        assert_eq!(fx.count("SELECT count(*) AS n FROM events").await, total, "after {kind}");
        let last = fx.count(&format!(
            "SELECT count(*) AS n FROM (SELECT kind FROM events ORDER BY created_at DESC, id DESC LIMIT 1) e WHERE kind = '{kind}'"
        ))
        .await;
        assert_eq!(last, 1, "the last event is {kind}");
    }

    let CreateOutcome::Created(c) =
        customers.create(&fx.ctx(), &customer("e@example.com"), None, None).await.expect("create")
    else {
        panic!("created")
    };
    check(&fx, expect("customer.created")).await;
    let patch = CustomerPatch { last_name: Some(Some("Hopper".into())), ..CustomerPatch::default() };
    customers.update(&fx.ctx(), c.id(), &patch.change_at(chrono::Utc::now()), Relations::NONE).await.expect("update");
    check(&fx, expect("customer.updated")).await;
    let address = AddressId(uuid::Uuid::now_v7());
    customers
        .upsert_address(&fx.ctx(), c.id(), address, true, &AddressFields::default(), Relations::NONE)
        .await
        .expect("address");
    check(&fx, expect("customer.updated")).await;
    customers.delete_address(&fx.ctx(), c.id(), address, Relations::NONE).await.expect("delete address");
    check(&fx, expect("customer.updated")).await;
    let g = groups.create(&fx.ctx(), &crate::common::group("E", None), 1000, None).await.expect("group");
    check(&fx, expect("customer-group.created")).await;
    customers.set_groups(&fx.ctx(), c.id(), &[g.id()], &[], Relations::NONE).await.expect("join");
    check(&fx, expect("customer.groups_changed")).await;
    let g = groups.set_customers(&fx.ctx(), g.id(), &[], &[c.id()]).await.expect("leave");
    check(&fx, expect("customer-group.updated")).await;
    let mut renamed = g.clone().into_parts();
    renamed.name = GroupName::parse("name", "F").expect("name");
    renamed.version = g.version().next();
    let renamed = xclade_domain::customer_group::CustomerGroup::from_parts(renamed);
    let g = groups.save(&fx.ctx(), &renamed, g.version(), None).await.expect("save");
    check(&fx, expect("customer-group.updated")).await;
    groups.delete(&fx.ctx(), g.id(), Some(g.version().into())).await.expect("delete group");
    check(&fx, expect("customer-group.deleted")).await;
    customers.delete(&fx.ctx(), c.id()).await.expect("delete");
    check(&fx, expect("customer.deleted")).await;
    let actors = fx.count("SELECT count(*) AS n FROM events WHERE actor = '{\"clientId\": \"tester\"}'::jsonb AND project_key = 'demo'").await;
    assert_eq!(actors, 10);
}

/// An event's data is read back from `jsonb` as text with PostgreSQL's spaces removed: the bytes
/// the relay publishes are exactly what parsing the stored JSON and writing it again gives (how
/// they were made before the text was passed through), escapes and non-ASCII text included.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stored_event_data_reads_back_as_compact_json() {
    let fx = Fx::new().await;
    let metadata = serde_json::json!({
        "quote \" and \\ back": "a, b: c",
        "controls": "tab\tline\nbell\u{7}",
        "text": "Ünïcødé 漢字 / slash",
        "numbers": [0, -1, 1.5, 12345678901234_i64, 0.25],
        "nested": {"a b": {"c": [true, false, null, "  spaced  "]}, "empty": {}, "none": []},
    });
    let serde_json::Value::Object(metadata) = metadata else { panic!("an object") };
    let draft = xclade_domain::customer::CustomerDraft::new("odd@b.co", None, None, None, None, metadata, None)
        .expect("valid draft");
    let c = xclade_domain::customer::Customer::create(
        xclade_domain::CustomerId(uuid::Uuid::now_v7()),
        &draft,
        None,
        crate::common::now(),
    );
    fx.customers().create(&fx.ctx(), &c, None, None).await.expect("create");
    let pending = PgEventOutbox::new(fx.pool.clone()).pending(10).await.expect("pending");
    let text = crate::common::stored(&pending[0]).as_json();
    let rewritten = serde_json::to_string(&crate::common::stored(&pending[0]).to_value()).expect("serialize");
    assert_eq!(text, rewritten);
    assert_eq!(
        crate::common::stored(&pending[0]).to_value()["resource"]["metadata"]["controls"],
        "tab\tline\nbell\u{7}"
    );
    assert!(text.contains("\"a, b: c\"") && text.contains("\"  spaced  \""), "{text}");
}

/// The relay claims, marks and releases on its own connection: what it marked is no longer
/// pending, and the partitions it released can be claimed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_marks_what_it_claimed_on_its_own_connection() {
    let fx = Fx::new().await;
    for i in 0..40 {
        fx.new_customer(&format!("c{i}@b.co")).await;
    }
    let outbox = PgEventOutbox::for_relay(fx.pool.clone(), fx.db.url());
    let claimed = outbox.claim(256).await.expect("claim");
    assert!(!claimed.is_empty() && claimed.len() < 40, "a claim takes some partitions: {}", claimed.len());
    let ids: Vec<_> = claimed.iter().map(|e| (e.project_id, e.id)).collect();
    assert_eq!(outbox.mark_published(&ids).await.expect("mark"), ids.len() as u64);
    outbox.release().await.expect("release");
    let pending = fx.count("SELECT count(*) AS n FROM events WHERE published_at IS NULL").await;
    assert_eq!(pending, 40 - ids.len() as i64);
    let list = ids.iter().map(|(_, id)| format!("'{id}'")).collect::<Vec<_>>().join(",");
    let moved = fx.count(&format!("SELECT count(*) AS n FROM published_events WHERE id IN ({list})")).await;
    assert_eq!(moved, ids.len() as i64, "exactly the claimed events moved to published_events");
    assert_eq!(fx.count("SELECT count(*) AS n FROM published_events").await, ids.len() as i64);
    let left = fx.count(&format!("SELECT count(*) AS n FROM events WHERE id IN ({list})")).await;
    assert_eq!(left, 0, "and left the outbox");
    let mut rest = 0;
    loop {
        let batch = outbox.claim(256).await.expect("claim");
        if batch.is_empty() {
            break;
        }
        let ids: Vec<_> = batch.iter().map(|e| (e.project_id, e.id)).collect();
        rest += outbox.mark_published(&ids).await.expect("mark");
        outbox.release().await.expect("release");
    }
    assert_eq!(rest + claimed.len() as u64, 40, "the released partitions were claimed again");
}

/// The migration that moves published events out of `events` (2026-12-08) keeps every event
/// both ways: reverted, the published ones are back in `events` with their `published_at` and
/// `seq`; applied again, they move to `published_events` and the pending ones stay, and read back
/// as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn published_events_move_out_and_back_with_the_migration() {
    let fx = Fx::new().await;
    for i in 0..20 {
        fx.new_customer(&format!("m{i}@b.co")).await;
    }
    let outbox = PgEventOutbox::new(fx.pool.clone());
    let first = outbox.pending(8).await.expect("pending");
    let ids: Vec<_> = first.iter().map(|e| (e.project_id, e.id)).collect();
    assert_eq!(outbox.mark_published(&ids).await.expect("mark"), 8);
    // A fingerprint of every event's id and seq, wherever it is.
    let every = "SELECT count(*) * 1000000 + sum(abs(hashtext(id::text || ':' || seq::text) % 1000))::bigint AS n \
                 FROM (SELECT id, seq FROM events UNION ALL SELECT id, seq FROM published_events) AS e";
    let fingerprint = fx.count(every).await;
    assert_eq!(fingerprint / 1000000, 20);
    let pending_before = outbox.pending(100).await.expect("pending");
    let published = "SELECT count(*) AS n FROM published_events";
    assert_eq!(fx.count(published).await, 8);

    fx.pool.close();
    assert_eq!(revert_last_migration(fx.db.url()).await.expect("down"), 1);
    assert_eq!(fx.count("SELECT count(*) AS n FROM events").await, 20);
    assert_eq!(fx.count("SELECT count(*) AS n FROM events WHERE published_at IS NOT NULL").await, 8);
    let published_table = "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'published_events'";
    assert_eq!(fx.count(published_table).await, 0);

    assert_eq!(run_migrations(fx.db.url()).await.expect("up"), 1);
    assert_eq!(fx.count(published).await, 8);
    assert_eq!(fx.count("SELECT count(*) AS n FROM events").await, 12);
    assert_eq!(fx.count(every).await, fingerprint, "the same events, each with its seq");
    let pool = build_pool(fx.db.url(), 4, 1).expect("pool");
    let pending_after = PgEventOutbox::new(pool).pending(100).await.expect("pending");
    assert_eq!(pending_after, pending_before, "the pending events read back the same");
}
