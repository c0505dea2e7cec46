//! Short reads of requests running at the same time on one thread share one connection,
//! pipelined (`PgPool::shared`); writes do not, and the shared connection's plans are
//! refreshed like an exclusive one's.

use std::sync::Arc;

use futures::future::join_all;
use xclade_domain::customer::Relations;
use xclade_domain::ports::{CustomerGroupRepository, CustomerRepository};
use xclade_postgres::pool::PLAN_REFRESH_USES;
use xclade_postgres::PgCustomerGroupRepository;

use crate::common::Fx;
use crate::recording::{recording_pool_of, Log};

// One thread (`tokio::test` runs a current-thread runtime), as on an HTTP worker.
#[tokio::test]
async fn point_reads_at_the_same_time_share_one_connection() {
    let fx = Fx::new().await;
    let c = fx.new_customer("a@example.com").await;
    let g = fx.new_group("G").await;
    let (customers, groups) = (fx.customers(), fx.groups());
    assert_eq!(fx.pool.status().size, 1, "one connection so far, every operation one after the other");

    let (cid, gid, project) = (c.id(), g.id(), fx.project);
    let reads = (0..64).map(|i| {
        let (customers, groups) = (&customers, &groups);
        async move {
            if i % 2 == 0 {
                customers.get(project, cid, Relations::ALL).await.map(|got| got.id().to_string())
            } else {
                groups.get(project, gid).await.map(|got| got.id().to_string())
            }
        }
    });
    let got = join_all(reads).await;
    for (i, read) in got.iter().enumerate() {
        let expected = if i % 2 == 0 { c.id().to_string() } else { g.id().to_string() };
        assert_eq!(read.as_ref().expect("read"), &expected);
    }
    // Each read on a connection of its own would have opened up to the pool's 16.
    assert_eq!(fx.pool.status().size, 1, "the 64 reads shared the one connection");
}

#[tokio::test]
async fn writes_at_the_same_time_keep_a_connection_each() {
    // A commit waits for its WAL flush: writes queued on one connection would wait for each
    // other's flushes, where on connections of their own PostgreSQL flushes them together.
    // (Creates without an idempotency key that wait together go further: one statement, one
    // commit for all of them; batches.rs.)
    let fx = Fx::new().await;
    let groups = fx.groups();
    let contexts: Vec<_> = (0..8).map(|_| fx.ctx()).collect();
    let creates = contexts.iter().enumerate().map(|(i, ctx)| {
        let groups = &groups;
        async move { groups.create(ctx, &crate::common::group(&format!("G{i}"), None), 1000, None).await }
    });
    let results = join_all(creates).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fx.pool.status().size, 8, "each write had a connection of its own");
}

#[tokio::test]
async fn a_shared_connection_refreshes_its_plans_every_so_many_statements() {
    let fx = Fx::new().await;
    let log: Log = Arc::default();
    let pool = recording_pool_of(fx.db.url(), &log, 4);
    let groups = PgCustomerGroupRepository::new(pool.clone(), crate::common::events());
    let g = groups.create(&fx.ctx(), &crate::common::group("G", None), 1000, None).await.expect("group");
    groups.get(fx.project, g.id()).await.expect("warm");
    log.lock().expect("log").clear();

    // More reads than PLAN_REFRESH_USES at once: the connection never goes back to the pool
    // between them, so the pool's own refresh (on checkout) never runs.
    let n = PLAN_REFRESH_USES + 10;
    let reads = (0..n).map(|_| groups.get(fx.project, g.id()));
    assert!(join_all(reads).await.iter().all(Result::is_ok));
    assert_eq!(pool.status().size, 1, "one shared connection");
    let log = log.lock().expect("log");
    let refreshes =
        log.iter().filter(|s| s.split(" -- binds: ").next().map(str::trim) == Some("DISCARD PLANS")).count();
    assert_eq!(refreshes, 1, "one refresh in {n} statements");
    assert_eq!(log.len(), n + 1, "one statement per read, and the refresh");
}
