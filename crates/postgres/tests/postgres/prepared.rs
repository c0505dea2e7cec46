//! The statements of the hot paths are kept prepared by their connection: parsed and planned
//! once, then only bound and executed. diesel-async prepares every statement, and one it does
//! not cache (diesel declines `sql_query`, `UPDATE`s, multi-row inserts, inserts with `DEFAULT`)
//! is prepared again for every execution: one more round trip and one more parse and plan
//! (docs/benchmarks.md). Only the `q` search is meant to be planned each time.

use std::collections::HashSet;
use std::sync::Arc;

use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use xclade_domain::customer::{CustomerFilter, CustomerPatch, Relations};
use xclade_domain::customer_group::{CustomerGroup, GroupName};
use xclade_domain::paging::GroupQuery;
use xclade_domain::ports::{CreateOutcome, CustomerGroupRepository, CustomerRepository};
use xclade_domain::predicate;
use xclade_postgres::{PgCustomerGroupRepository, PgCustomerRepository, PgPool};

use crate::common::{customer, group, Fx};
use crate::recording::{recording_pool_of, Log};

#[derive(QueryableByName)]
struct Prepared {
    #[diesel(sql_type = Text)]
    statement: String,
}

/// The statements recorded since the last call (their SQL text, without the binds), then forgets them.
fn sent(log: &Log) -> Vec<String> {
    let mut log = log.lock().expect("log");
    let texts = log.iter().map(|s| s.split(" -- binds: ").next().unwrap_or(s).trim().to_owned()).collect();
    log.clear();
    texts
}

/// The statements the pool's one connection keeps prepared.
async fn prepared(pool: &PgPool) -> HashSet<String> {
    let mut conn = pool.get().await.expect("connection");
    let rows: Vec<Prepared> =
        diesel::sql_query("SELECT statement FROM pg_prepared_statements").load(&mut *conn).await.expect("read");
    rows.into_iter().map(|r| r.statement.trim().to_owned()).collect()
}

fn is_transaction_control(sql: &str) -> bool {
    matches!(sql, "BEGIN" | "COMMIT" | "ROLLBACK" | "SELECT 1" | "DISCARD PLANS")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_statements_stay_prepared_on_their_connection() {
    let fx = Fx::new().await;
    let log: Log = Arc::default();
    let pool = recording_pool_of(fx.db.url(), &log, 1);
    let customers = PgCustomerRepository::new(pool.clone(), crate::common::events());
    let groups = PgCustomerGroupRepository::new(pool.clone(), crate::common::events());
    let gx = groups.create(&fx.ctx(), &group("X", Some("group-x")), 1000, None).await.expect("group x");
    let gy = groups.create(&fx.ctx(), &group("Y", Some("group-y")), 1000, None).await.expect("group y");
    let fields = ["id", "key", "name", "version", "createdAt", "lastModifiedAt"];
    let predicate = predicate::parse("version > 0", &fields, true).expect("predicate");
    let query = GroupQuery { predicate: Some(predicate), ..GroupQuery::default() };

    // Every operation twice on the one connection: each statement is prepared by the first
    // round and must still be there after the second.
    let mut statements = Vec::new();
    for round in 0..2 {
        let CreateOutcome::Created(c) =
            customers.create(&fx.ctx(), &customer(&format!("p{round}@example.com")), None, None).await.expect("create")
        else {
            panic!("created");
        };
        customers.get(fx.project, c.id(), Relations::ALL).await.expect("get");
        customers.set_groups(&fx.ctx(), c.id(), &[gx.id()], &[], Relations::ALL).await.expect("join x");
        customers.set_groups(&fx.ctx(), c.id(), &[gy.id()], &[gx.id()], Relations::ALL).await.expect("x to y");
        let patch = CustomerPatch { first_name: Some(Some(format!("Ada {round}"))), ..CustomerPatch::default() };
        customers
            .update(&fx.ctx(), c.id(), &patch.change_at(chrono::Utc::now()), Relations::ALL)
            .await
            .expect("update");
        customers.list(fx.project, &CustomerFilter::default(), Relations::ALL).await.expect("list");
        groups.query(fx.project, &query).await.expect("query");
        let current = groups.get(fx.project, gx.id()).await.expect("read group");
        let mut renamed = current.clone().into_parts();
        renamed.name = GroupName::parse("name", &format!("X {round}")).expect("name");
        renamed.version = current.version().next();
        let renamed = CustomerGroup::from_parts(renamed);
        groups.save(&fx.ctx(), &renamed, current.version(), None).await.expect("rename");
        customers.delete(&fx.ctx(), c.id()).await.expect("delete");
        statements.extend(sent(&log));
    }
    let kept = prepared(&pool).await;
    let again: Vec<&String> =
        statements.iter().filter(|s| !is_transaction_control(s) && !kept.contains(*s)).collect::<Vec<_>>();
    assert!(again.is_empty(), "statements prepared for every execution: {again:#?}");
    assert!(statements.len() > 20, "the operations were recorded: {statements:#?}");

    // The `q` search is planned for its pattern every time (a generic plan of `ILIKE $n`
    // cannot use the trigram index): never kept.
    sent(&log);
    let search = CustomerFilter { q: Some("p1".into()), ..CustomerFilter::default() };
    customers.list(fx.project, &search, Relations::NONE).await.expect("search");
    let searched: Vec<String> = sent(&log).into_iter().filter(|s| s.contains("ILIKE")).collect();
    assert!(!searched.is_empty());
    let kept = prepared(&pool).await;
    assert!(searched.iter().all(|s| !kept.contains(s)), "the search was kept prepared: {searched:#?}");
}
