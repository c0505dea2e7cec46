//! Every statement the adapter sends to a tenant table filters by `project_id` (docs/scaling.md:
//! on a database distributed by `project_id`, each is then routed to one shard). The statements
//! are recorded with diesel's instrumentation while every repository operation runs; the only
//! exceptions are the relay's cross-project statements (`outbox::CROSS_PROJECT_STATEMENTS`).

use std::sync::Arc;

use xclade_domain::customer::{AddressFields, CustomerFilter, CustomerPatch, Relations};
use xclade_domain::customer_group::{CheckedType, GroupName, Version};
use xclade_domain::paging::{GroupFilter, GroupQuery};
use xclade_domain::ports::{CreateOutcome, CustomerGroupRepository, CustomerRepository, EventOutbox, IdempotencyClaim};
use xclade_domain::AddressId;
use xclade_postgres::outbox::CROSS_PROJECT_STATEMENTS;
use xclade_postgres::{PgCustomerGroupRepository, PgCustomerRepository, PgEventOutbox};

use crate::common::{customer, group, Fx};
use crate::recording::{recording_pool, Log};

const TENANT_TABLES: [&str; 9] = [
    "customers",
    "customer_addresses",
    "customer_groups",
    "customer_group_memberships",
    "events",
    "published_events",
    "idempotency_keys",
    "types",
    "api_clients",
];

/// The tenant tables a statement names (quoted by diesel, bare in hand-written SQL).
fn tenant_tables(sql: &str) -> Vec<&'static str> {
    let words: Vec<String> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    TENANT_TABLES.iter().copied().filter(|t| words.iter().any(|w| w == t)).collect()
}

/// Whether the statement restricts itself to one project: an insert carries `project_id`, any
/// other statement compares it (`project_id = $n`, `= ANY`, `IN`).
fn filters_by_project(sql: &str) -> bool {
    let flat = sql.replace('"', "").replace('\n', " ");
    let upper = flat.trim_start().to_ascii_uppercase();
    // Inserts (also several in one statement, as CTEs) carry the project in their values.
    let writes_only_inserts = upper.contains("INSERT INTO")
        && !upper.contains(" WHERE ")
        && !upper.contains("UPDATE ")
        && !upper.contains("DELETE ");
    if upper.starts_with("INSERT") || (upper.starts_with("WITH") && writes_only_inserts) {
        return flat.contains("project_id");
    }
    let Some(at) = upper.find(" WHERE ") else { return false };
    let filter = &flat[at..];
    filter.contains("project_id =") || filter.contains("project_id IN") || filter.contains("project_id = ANY")
}

#[test]
fn the_checker_tells_filtered_from_unfiltered() {
    assert!(filters_by_project(r#"SELECT "customers"."id" FROM "customers" WHERE ("customers"."project_id" = $1)"#));
    assert!(!filters_by_project(r#"SELECT "customers"."id" FROM "customers" WHERE ("customers"."id" = $1)"#));
    assert!(!filters_by_project("DELETE FROM events"));
    assert!(filters_by_project("INSERT INTO events (project_id, id) VALUES ($1, $2)"));
    assert_eq!(tenant_tables("SELECT 1 FROM customer_groups g"), vec!["customer_groups"]);
    assert!(tenant_tables("SELECT 1").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_statement_on_a_tenant_table_filters_by_project_id() {
    let fx = Fx::new().await;
    let ty = fx.create_type().await;
    let log: Log = Arc::default();
    let pool = recording_pool(fx.db.url(), &log);
    let customers = PgCustomerRepository::new(pool.clone(), crate::common::events());
    let groups = PgCustomerGroupRepository::new(pool.clone(), crate::common::events());
    let outbox = PgEventOutbox::new(pool.clone());
    let p = fx.project;

    // Every operation of the customer and group repositories, errors included.
    let checked = Some(CheckedType { id: ty, version: Version::INITIAL });
    let g = groups.create(&fx.ctx(), &group("G", Some("g-key")), 1000, None).await.expect("group");
    let g2 = groups
        .create(
            &fx.ctx(),
            &crate::common::with_custom(group("H", None), ty, serde_json::json!({"tier": "a"})),
            1000,
            checked,
        )
        .await
        .expect("group");
    let CreateOutcome::Created(c) =
        customers.create(&fx.ctx(), &customer("a@example.com"), None, None).await.expect("c")
    else {
        panic!()
    };
    let claim = IdempotencyClaim {
        key: "k".into(),
        request_hash: "h".into(),
        not_before: chrono::Utc::now() - chrono::Duration::hours(24),
    };
    let _ = customers.create(&fx.ctx(), &customer("b@example.com"), None, Some(&claim)).await.expect("idem");
    let _ = customers.create(&fx.ctx(), &customer("b@example.com"), None, Some(&claim)).await.expect("replay");
    let _ = customers.create(&fx.ctx(), &customer("a@example.com"), None, None).await; // duplicate
    let _ = customers.get(p, c.id(), Relations::ALL).await.expect("get");
    let _ = customers.list(p, &CustomerFilter::default(), Relations::ALL).await.expect("list");
    let _ = customers
        .list(p, &CustomerFilter { q: Some("exa".into()), ..CustomerFilter::default() }, Relations::ALL)
        .await
        .expect("q");
    let patch = CustomerPatch { first_name: Some(Some("J".into())), ..CustomerPatch::default() };
    let _ = customers
        .update(&fx.ctx(), c.id(), &patch.change_at(chrono::Utc::now()), Relations::ALL)
        .await
        .expect("update");
    let _ = customers.set_groups(&fx.ctx(), c.id(), &[g.id(), g2.id()], &[], Relations::ALL).await.expect("join");
    let _ = customers.set_groups(&fx.ctx(), c.id(), &[], &[g2.id()], Relations::ALL).await.expect("leave");
    let a = AddressId(uuid::Uuid::now_v7());
    let fields =
        AddressFields { city: Some(Some("Paris".into())), is_default_billing: Some(true), ..AddressFields::default() };
    let _ = customers.upsert_address(&fx.ctx(), c.id(), a, true, &fields, Relations::ALL).await.expect("address");
    let _ =
        customers.upsert_address(&fx.ctx(), c.id(), a, false, &fields, Relations::ALL).await.expect("address update");
    let _ = customers.get_address(p, c.id(), a).await.expect("get address");
    let _ = customers.list_addresses(p, c.id(), 10, 0).await.expect("addresses");
    let _ = customers.delete_address(&fx.ctx(), c.id(), a, Relations::ALL).await.expect("delete address");
    let _ = groups.get(p, g.id()).await.expect("get");
    let _ = groups.get_by_key(p, "g-key").await.expect("by key");
    let _ = groups.query(p, &GroupQuery::default()).await.expect("query");
    let _ = groups.list(p, &GroupFilter { q: Some("g".into()), ..GroupFilter::default() }).await.expect("list");
    let mut renamed = g.clone().into_parts();
    renamed.name = GroupName::parse("name", "G2").expect("name");
    let renamed = xclade_domain::customer_group::CustomerGroup::from_parts(renamed);
    let current = groups.get(p, g.id()).await.expect("current");
    let saved = groups.save(&fx.ctx(), &renamed, current.version(), None).await.expect("save");
    let _ = groups.save(&fx.ctx(), &renamed, Version::new(1).unwrap(), None).await; // conflict
    let typed = groups.get(p, g2.id()).await.expect("typed");
    let mut renamed = typed.clone().into_parts();
    renamed.name = GroupName::parse("name", "H2").expect("name");
    renamed.version = typed.version().next();
    let renamed = xclade_domain::customer_group::CustomerGroup::from_parts(renamed);
    let _ = groups.save(&fx.ctx(), &renamed, typed.version(), checked).await.expect("typed save");
    let _ = groups.set_customers(&fx.ctx(), g2.id(), &[c.id()], &[]).await.expect("members");
    let _ = groups.customers_of(p, g2.id(), 10).await.expect("members of");
    let _ = groups.customers_of_groups(p, &[g2.id()], 10).await.expect("members of a page");
    let _ = groups.delete(&fx.ctx(), g2.id(), None).await.expect("delete group");
    let _ = saved;
    let _ = groups.create(&fx.ctx(), &group("Over", None), 1, None).await; // the limit
    customers.delete(&fx.ctx(), c.id()).await.expect("delete customer");
    let pending = outbox.pending(100).await.expect("pending");
    let ids: Vec<_> = pending.iter().map(|e| (e.project_id, e.id)).collect();
    outbox.mark_published(&ids).await.expect("mark");
    let _ = outbox.stats().await.expect("stats");
    let _ = outbox.delete_published_before(chrono::Utc::now() - chrono::Duration::days(7), 100).await.expect("purge");

    let recorded = log.lock().expect("log").clone();
    assert!(recorded.len() > 40, "the operations ran: {}", recorded.len());
    // The relay's statements, and `EventOutbox::pending` (an audit read of the whole outbox).
    let audit = r#"FROM "events" WHERE ("events"."published_at" IS NULL) ORDER BY "events"."seq""#;
    let allowed = |sql: &str| CROSS_PROJECT_STATEMENTS.iter().any(|s| sql.starts_with(s)) || sql.contains(audit);
    let offenders: Vec<&String> = recorded
        .iter()
        .filter(|sql| !tenant_tables(sql).is_empty() && !allowed(sql) && !filters_by_project(sql))
        .filter(|sql| {
            !sql.trim_start().to_ascii_uppercase().starts_with("BEGIN")
                && !sql.trim_start().to_ascii_uppercase().starts_with("COMMIT")
        })
        .collect();
    assert!(offenders.is_empty(), "statements on tenant tables without a project_id filter:\n{offenders:#?}");
}
