//! What SQL the repositories send: relations that were not asked for are not queried (for one
//! customer, their part of its one statement is not executed), and a page loads each relation
//! with one statement (no N+1). Recorded with diesel's
//! instrumentation on every connection of a dedicated pool.

use std::sync::Arc;

use xclade_domain::customer::{AddressFields, CustomerFilter, Relations};
use xclade_domain::ports::{CreateOutcome, CustomerGroupRepository, CustomerRepository};
use xclade_domain::AddressId;
use xclade_postgres::PgCustomerRepository;

use crate::common::{customer, group, Fx};
use crate::recording::{recording_pool, Log};

/// How many recorded statements mention `table`, then forget them all.
fn take(log: &Log, table: &str) -> usize {
    let mut log = log.lock().expect("log");
    let n = log.iter().filter(|sql| sql.contains(table)).count();
    log.clear();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relations_cost_one_statement_each_and_only_when_asked_for() {
    let fx = Fx::new().await;
    let g = fx.groups().create(&fx.ctx(), &group("G", None), 1000, None).await.expect("group");
    let mut ids = Vec::new();
    for i in 0..5 {
        let CreateOutcome::Created(c) = fx
            .customers()
            .create(&fx.ctx(), &customer(&format!("c{i}@example.com")), None, None)
            .await
            .expect("create")
        else {
            panic!("created");
        };
        fx.customers().set_groups(&fx.ctx(), c.id(), &[g.id()], &[], Relations::NONE).await.expect("join");
        let fields = AddressFields { city: Some(Some("Paris".into())), ..AddressFields::default() };
        fx.customers()
            .upsert_address(&fx.ctx(), c.id(), AddressId(uuid::Uuid::now_v7()), true, &fields, Relations::NONE)
            .await
            .expect("address");
        ids.push(c.id());
    }

    let log: Log = Arc::default();
    let repo = PgCustomerRepository::new(recording_pool(fx.db.url(), &log), crate::common::events());
    let memberships = "customer_group_memberships";
    let addresses = "customer_addresses";

    // One customer: one statement whatever is asked for; each relation's subquery is behind a
    // one-time filter of its own flag, so a relation not asked for is never scanned (its plan
    // node says "never executed").
    let c = repo.get(fx.project, ids[0], Relations::NONE).await.expect("get");
    assert!(c.groups().is_empty() && c.addresses().is_empty());
    let recorded = std::mem::take(&mut *log.lock().expect("log"));
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    // The recording ends each statement with ` -- binds: [..]`.
    let text = |sql: &str| sql.split(" -- binds:").next().unwrap_or_default().to_owned();
    let read = text(&recorded[0]);
    assert!(read.contains(memberships) && read.contains(addresses), "{read}");
    let c = repo.get(fx.project, ids[0], Relations { groups: true, addresses: false }).await.expect("get");
    assert_eq!((c.groups().len(), c.addresses().len()), (1, 0));
    let recorded = std::mem::take(&mut *log.lock().expect("log"));
    assert_eq!(recorded.iter().map(|s| text(s)).collect::<Vec<_>>(), vec![read.clone()], "the same one statement");
    let params = |groups: bool, addresses: bool| format!("'{}', '{}', {groups}, {addresses}", fx.project.0, ids[0].0);
    // A table is read when a plan node on it ran (a generic plan keeps the node and never runs
    // it; a plan for the flags' values leaves it out).
    let reads = |plan: &str, table: &str| {
        plan.lines().any(|l| l.contains(&format!(" on {table} ")) && !l.contains("never executed"))
    };
    for generic in [false, true] {
        for (groups, addrs) in [(false, false), (true, false), (false, true), (true, true)] {
            let plan = fx.explain_analyze(&read, &params(groups, addrs), generic).await;
            assert!(reads(&plan, "customers"), "{plan}");
            assert_eq!(reads(&plan, memberships), groups, "groups {groups}, generic {generic}: {plan}");
            assert_eq!(reads(&plan, addresses), addrs, "addresses {addrs}, generic {generic}: {plan}");
        }
    }

    let page = repo.list(fx.project, &CustomerFilter::default(), Relations::ALL).await.expect("list");
    assert_eq!(page.items.len(), 5);
    assert!(page.items.iter().all(|c| c.groups().len() == 1 && c.addresses().len() == 1));
    let recorded = log.lock().expect("log").clone();
    assert_eq!(
        recorded.iter().filter(|s| s.contains(memberships)).count(),
        1,
        "one statement for the page: {recorded:?}"
    );
    assert_eq!(take(&log, addresses), 1);

    repo.list(fx.project, &CustomerFilter::default(), Relations::NONE).await.expect("list");
    let recorded = log.lock().expect("log").clone();
    assert_eq!(recorded.iter().filter(|s| s.contains(memberships) || s.contains(addresses)).count(), 0, "{recorded:?}");
}
