//! The fixture of every repository test: a fresh migrated database, a pool, one project.

use chrono::{DateTime, SubsecRound, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::{Map, Value};
use std::sync::Arc;
use uuid::Uuid;
use xclade_domain::auth::Actor;
use xclade_domain::customer::{Customer, CustomerDraft};
use xclade_domain::customer_group::{CustomFields, CustomerGroup, GroupKey, GroupName, Version};
use xclade_domain::event::{Event, EventBody, EventData, EventEncoder, EventPayload, EventResource, WriteContext};
use xclade_domain::metadata::Metadata;
use xclade_domain::ports::{CreateOutcome, CustomerGroupRepository, CustomerRepository, ProjectRepository};
use xclade_domain::project::{Project, ProjectKey};
use xclade_domain::{CustomerId, GroupId, ProjectId, TypeId};
use xclade_postgres::{build_pool, PgCustomerGroupRepository, PgCustomerRepository, PgPool, PgProjectRepository};
use xclade_testkit::TestDb;

/// The events' `data` in these tests: the resource's id (and a customer's email and metadata,
/// a group's name) and the request's `additional_data`. The service's own encoder lives in
/// `crates/http`; what this adapter must get right is storing and reading back what an encoder
/// wrote.
pub struct TestEvents;

impl EventEncoder for TestEvents {
    fn encode(&self, _: &Actor, data: &EventData) -> EventPayload {
        let resource = match &data.resource {
            EventResource::Customer(c) => {
                serde_json::json!({"id": c.id().0, "email": c.email_str(), "metadata": c.metadata().as_map()})
            }
            EventResource::Group(g) => serde_json::json!({"id": g.id().0, "name": g.name().as_str()}),
            EventResource::Type(t) => serde_json::json!({"id": t.id().0}),
        };
        let mut out = serde_json::json!({ "resource": resource });
        if let Some(extra) = &data.additional_data {
            out["additional_data"] = Value::Object(extra.clone());
        }
        EventPayload::of(&out)
    }
}

/// The `data` of an event read back from the outbox, which hands events over as encoded.
pub fn stored(e: &Event) -> &EventPayload {
    match &e.body {
        EventBody::Encoded(payload) => payload,
        EventBody::Data(_) => panic!("the outbox handed over an unencoded event"),
    }
}

/// The encoder the repositories of these tests record events with.
pub fn events() -> Arc<dyn EventEncoder> {
    Arc::new(TestEvents)
}

pub struct Fx {
    pub pool: PgPool,
    pub project: ProjectId,
    pub key: String,
    /// Last, so the pool closes before the database is dropped.
    pub db: TestDb,
}

impl Fx {
    pub async fn new() -> Fx {
        let db = TestDb::new().await;
        let pool = build_pool(db.url(), 16, 1).expect("pool");
        let project = ProjectId(Uuid::now_v7());
        let key = "demo".to_owned();
        PgProjectRepository::new(pool.clone())
            .create_project(&Project { id: project, key: ProjectKey::parse(&key).expect("key"), name: "Demo".into() })
            .await
            .expect("project");
        Fx { pool, project, key, db }
    }

    pub fn ctx(&self) -> WriteContext {
        WriteContext {
            project_id: self.project,
            project_key: self.key.clone(),
            actor: Actor::Client("tester".into()),
            // Truncated, as the service's clock truncates it (to milliseconds): PostgreSQL keeps
            // microseconds, so a write's answer then equals what a read gives back.
            now: now(),
            event_id: Uuid::now_v7(),
        }
    }

    pub fn customers(&self) -> PgCustomerRepository {
        PgCustomerRepository::new(self.pool.clone(), events())
    }

    pub fn groups(&self) -> PgCustomerGroupRepository {
        PgCustomerGroupRepository::new(self.pool.clone(), events())
    }

    /// Creates [`group`]`(name, None)` under a limit of 1000 groups.
    pub async fn new_group(&self, name: &str) -> CustomerGroup {
        self.groups().create(&self.ctx(), &group(name, None), 1000, None).await.expect(name)
    }

    /// Creates [`customer`]`(email)` (no idempotency key); panics unless it is created.
    pub async fn new_customer(&self, email: &str) -> Customer {
        created(self.customers().create(&self.ctx(), &customer(email), None, None).await.expect(email))
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        self.db.connect().await
    }

    /// The text of `EXPLAIN (ANALYZE)` of the prepared statement `sql` executed with `params`
    /// (SQL literals, comma-separated), in a transaction that is rolled back; planned for the
    /// parameters, or with the generic plan a pooled connection may settle on.
    pub async fn explain_analyze(&self, sql: &str, params: &str, generic: bool) -> String {
        use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
        #[derive(diesel::QueryableByName)]
        struct Line {
            #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
            line: String,
        }
        let mut conn = self.conn().await;
        let sql = sql.trim_end_matches(|c: char| c == ';' || c.is_whitespace());
        let mode = if generic { "force_generic_plan" } else { "force_custom_plan" };
        conn.batch_execute(&format!("BEGIN; SET LOCAL plan_cache_mode = {mode}; PREPARE explained AS {sql}"))
            .await
            .expect("prepare");
        let lines: Vec<Line> = diesel::sql_query(format!(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE explained({params})"
        ))
        .load(&mut conn)
        .await
        .expect("explain");
        conn.batch_execute("ROLLBACK").await.expect("rollback");
        lines.into_iter().map(|l| l.line).collect::<Vec<_>>().join("\n")
    }

    /// Runs `SELECT count(*) AS n …`-style SQL (must alias the number as `n`).
    pub async fn count(&self, sql: &str) -> i64 {
        self.db.count(sql).await
    }

    pub async fn exec(&self, sql: &str) {
        self.db.exec(sql).await;
    }

    pub async fn events_of(&self, kind: &str) -> i64 {
        self.count(&format!("SELECT count(*) AS n FROM events WHERE kind = '{kind}'")).await
    }

    /// [`Fx::events_of`] each kind, in order.
    pub async fn events_of_each(&self, kinds: &[&str]) -> Vec<i64> {
        let mut counts = Vec::new();
        for kind in kinds {
            counts.push(self.events_of(kind).await);
        }
        counts
    }

    /// A custom type the groups can use, inserted directly, with the fields the tests use:
    /// `tier` and `code` (String), `points` (Number), `vip` (Boolean).
    pub async fn create_type(&self) -> TypeId {
        let id = Uuid::now_v7();
        let field = |name: &str, t: &str| {
            format!(
                r#"{{"name": "{name}", "label": {{"en": "{name}"}}, "required": false, "type": {{"name": "{t}"}}}}"#
            )
        };
        let defs =
            [field("tier", "String"), field("code", "String"), field("points", "Number"), field("vip", "Boolean")];
        self.exec(&format!(
            "INSERT INTO types (project_id, id, key, name, resource_type_ids, field_definitions, created_at, last_modified_at) \
             VALUES ('{}', '{id}', 'group-type', '{{\"en\": \"Group type\"}}', ARRAY['customer-group'], '[{}]', now(), now())",
            self.project.0,
            defs.join(", ")
        ))
        .await;
        TypeId(id)
    }
}

/// The customer of a create that must have created it (not replayed an earlier one).
pub fn created(outcome: CreateOutcome) -> Customer {
    match outcome {
        CreateOutcome::Created(c) => c,
        CreateOutcome::Replayed(c) => panic!("expected a create, got a replay of {}", c.id()),
    }
}

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A new customer (Ada Lovelace of ACME, created by `tester` now), as the service makes one.
pub fn customer(email: &str) -> Customer {
    let draft = CustomerDraft::new(
        email,
        Some("ACME".into()),
        Some("Ada".into()),
        Some("Lovelace".into()),
        None,
        Map::new(),
        None,
    )
    .expect("valid draft");
    Customer::create(CustomerId(Uuid::now_v7()), &draft, Some("tester".into()), now())
}

pub fn group(name: &str, key: Option<&str>) -> CustomerGroup {
    let t = now();
    CustomerGroup::from_parts(xclade_domain::customer_group::CustomerGroupParts {
        id: GroupId(Uuid::now_v7()),
        version: Version::new(1).unwrap(),
        key: key.map(|k| GroupKey::parse(k).expect("key")),
        name: GroupName::parse("name", name).expect("name"),
        custom: None,
        metadata: Metadata::default(),
        created_at: t,
        created_by: Some(Actor::Client("tester".into())),
        last_modified_at: t,
        last_modified_by: Some(Actor::Client("tester".into())),
    })
}

pub fn with_custom(g: CustomerGroup, type_id: TypeId, fields: Value) -> CustomerGroup {
    let mut g = g.into_parts();
    let fields: Map<String, Value> = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    g.custom = Some(CustomFields { type_id, fields });
    CustomerGroup::from_parts(g)
}
