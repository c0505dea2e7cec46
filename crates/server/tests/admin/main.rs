//! End-to-end tests: the real server on a random port, a real database per test, real HTTP.
//!
//! The admin family (`/admin/*`, §2 of the contract): errors, customers, their groups and
//! addresses, the `fields` parameter, idempotency, lists, admin customer groups, tenancy and the
//! outbox events of every write.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the failure

mod addresses;
mod customer_groups;
mod customers;
mod errors;
mod fields;
mod idempotency;
mod lists;
mod memberships;
mod tenancy;

use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use xclade_testkit::{ProjectFixture, TestApp};

/// Status and JSON body of a response.
pub async fn json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A UUID (v7 layout) that no test ever creates.
pub const UNKNOWN_ID: &str = "01900000-0000-7000-8000-000000000000";

/// A valid create body (every key of seed 001).
pub fn customer_body(email: &str) -> Value {
    serde_json::json!({
        "email": email,
        "company_name": "Acme",
        "first_name": "Jane",
        "last_name": "Doe",
        "phone": "+1 555 0100",
        "metadata": {"tier": "gold"},
    })
}

/// A server with project `demo`, its admin user's token, and helpers for that project.
pub struct Ctx {
    pub app: TestApp,
    pub project: ProjectFixture,
    /// The admin user's token (`manage_project:demo`).
    pub token: String,
}

impl Ctx {
    pub async fn new() -> Ctx {
        Self::with_app(TestApp::spawn().await).await
    }

    pub async fn with_app(app: TestApp) -> Ctx {
        let project = app.project("demo").await;
        let token = app.admin_token(&project).await;
        Ctx { app, project, token }
    }

    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(&self.token, path).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> (u16, Value) {
        json(self.app.http.get(self.url(path)).bearer_auth(token).send().await.expect("send")).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_as(&self.token, path, body).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        json(self.app.http.post(self.url(path)).bearer_auth(token).json(&body).send().await.expect("send")).await
    }

    /// A POST of `path` with the admin user's token, to finish and send by hand.
    pub fn post_request(&self, path: &str) -> reqwest::RequestBuilder {
        self.app.http.post(self.url(path)).bearer_auth(&self.token)
    }

    /// POST with a raw body sent as `application/json`.
    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let req = self.post_request(path).header("content-type", "application/json").body(body.to_owned());
        json(req.send().await.expect("send")).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.delete_as(&self.token, path).await
    }

    pub async fn delete_as(&self, token: &str, path: &str) -> (u16, Value) {
        json(self.app.http.delete(self.url(path)).bearer_auth(token).send().await.expect("send")).await
    }

    /// Creates a customer; answers its JSON.
    pub async fn customer(&self, email: &str) -> Value {
        let (status, body) = self.post("/admin/customers", customer_body(email)).await;
        assert_eq!(status, 200, "create {email}: {body}");
        body["customer"].clone()
    }

    /// Creates a customer; answers its id.
    pub async fn customer_id(&self, email: &str) -> String {
        id_of(&self.customer(email).await)
    }

    /// Creates a customer of each email, in order; answers their ids.
    pub async fn customer_ids(&self, emails: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut ids = Vec::new();
        for email in emails {
            ids.push(self.customer_id(&email).await);
        }
        ids
    }

    /// Creates a group of each name, in order; answers their ids.
    pub async fn group_ids(&self, names: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut ids = Vec::new();
        for name in names {
            ids.push(self.group(&name).await);
        }
        ids
    }

    /// Creates a customer group through the admin family; answers its id.
    pub async fn group(&self, name: &str) -> String {
        let (status, body) = self.post("/admin/customer-groups", serde_json::json!({"name": name})).await;
        assert_eq!(status, 200, "create group {name}: {body}");
        id_of(&body["customer_group"])
    }

    /// The group's `version`, read through the project family.
    pub async fn version(&self, group: &str) -> i64 {
        let (status, body) = self.get(&format!("/demo/customer-groups/{group}")).await;
        assert_eq!(status, 200, "{body}");
        body["version"].as_i64().expect("version")
    }

    /// The ids of the customer's groups, as the admin family shows them.
    pub async fn groups_of(&self, customer: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("/admin/customers/{customer}?fields=groups.id")).await;
        assert_eq!(status, 200, "{body}");
        let mut ids: Vec<String> = body["customer"]["groups"].as_array().expect("groups").iter().map(id_of).collect();
        ids.sort();
        ids
    }

    /// GETs each `(case, path)`: each must be refused as [`invalid_data_message`] says; answers
    /// the table `[[case, message], …]` for a snapshot.
    pub async fn invalid_gets(&self, cases: impl IntoIterator<Item = (String, String)>) -> Value {
        let mut table = Vec::new();
        for (case, path) in cases {
            let message = invalid_data_message(&case, self.get(&path).await);
            table.push(serde_json::json!([case, message]));
        }
        Value::Array(table)
    }

    /// A customer (`a@b.co`), a group (`gold`) and the path of the customer's groups: the start
    /// of the membership tests.
    pub async fn member_and_group(&self) -> (String, String, String) {
        let customer = self.customer_id("a@b.co").await;
        let gold = self.group("gold").await;
        let path = format!("/admin/customers/{customer}/customer-groups");
        (customer, gold, path)
    }

    pub async fn db(&self) -> Db {
        Db::connect(&self.app).await
    }
}

/// `value` with every occurrence of each id replaced by its label (for snapshots of messages
/// that name generated ids).
pub fn redact_ids(value: &Value, ids: &[(&str, &str)]) -> Value {
    let mut text = value.to_string();
    for (id, label) in ids {
        assert!(text.contains(id), "{id} is not in {text}");
        text = text.replace(id, label);
    }
    serde_json::from_str(&text).expect("still JSON")
}

/// The admin family's error body: `type` and `message`, in that order.
pub fn error(kind: &str, message: &str) -> Value {
    serde_json::json!({"type": kind, "message": message})
}

/// The admin family's error body with a `code` after `type` and `message` (422 and 5xx).
pub fn coded_error(kind: &str, message: &str, code: &str) -> Value {
    serde_json::json!({"type": kind, "message": message, "code": code})
}

/// Asserts that an answer has `status` and exactly the body `expected`, keys in its order
/// (the texts are compared, so the key order counts as it does on the wire).
#[track_caller]
pub fn assert_answer(answer: &(u16, Value), status: u16, expected: &Value) {
    let text = |v: &Value| serde_json::to_string_pretty(v).expect("json");
    assert_eq!((answer.0, text(&answer.1)), (status, text(expected)));
}

/// The message of an answer that must be a 400 `invalid_data` whose body has exactly the keys
/// `type` and `message`, in that order (`case` names it in a failure).
#[track_caller]
pub fn invalid_data_message(case: &str, (status, body): (u16, Value)) -> Value {
    let keys: Vec<&str> = body.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(
        (status, keys, &body["type"]),
        (400, vec!["type", "message"], &Value::from("invalid_data")),
        "{case}: {body}"
    );
    body["message"].clone()
}

/// `body` with the `id`, `created_by`, `created_at` and `updated_at` of its `resource` redacted
/// as `[id]`, `[admin user id]` and `[ts]`, for snapshots of what a create answers.
pub fn created(body: &Value, resource: &str) -> Value {
    let mut body = body.clone();
    for (key, with) in
        [("id", "[id]"), ("created_by", "[admin user id]"), ("created_at", "[ts]"), ("updated_at", "[ts]")]
    {
        body[resource][key] = Value::from(with);
    }
    body
}

/// The `id` of a JSON object.
pub fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

#[derive(QueryableByName)]
struct OneText {
    #[diesel(sql_type = Text)]
    a: String,
}

#[derive(QueryableByName)]
struct Texts {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
    #[diesel(sql_type = Text)]
    c: String,
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub kind: String,
    pub resource_id: String,
    pub payload: Value,
}

/// A direct connection to the test's database, for checks the API cannot make.
pub struct Db {
    conn: AsyncPgConnection,
}

impl Db {
    pub async fn connect(app: &TestApp) -> Db {
        Db { conn: app.db.connect().await }
    }

    /// `sql` must select one `bigint` column named `n`.
    pub async fn count(&mut self, sql: &str) -> i64 {
        xclade_testkit::db::count(&mut self.conn, sql).await
    }

    /// The number of rows of `table`.
    pub async fn rows(&mut self, table: &str) -> i64 {
        self.count(&format!("SELECT count(*) AS n FROM {table}")).await
    }

    pub async fn exec(&mut self, sql: &str) {
        diesel::sql_query(sql).execute(&mut self.conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Every outbox row, oldest first.
    pub async fn events(&mut self) -> Vec<EventRow> {
        let rows: Vec<Texts> =
            diesel::sql_query("SELECT kind AS a, resource_id::text AS b, payload::text AS c FROM events ORDER BY seq")
                .load(&mut self.conn)
                .await
                .expect("events");
        rows.into_iter()
            .map(|r| EventRow {
                kind: r.a,
                resource_id: r.b,
                payload: serde_json::from_str(&r.c).expect("payload is JSON"),
            })
            .collect()
    }

    /// The outbox rows written after the first `before` ones.
    pub async fn events_after(&mut self, before: usize) -> Vec<EventRow> {
        self.events().await.split_off(before)
    }

    pub async fn event_count(&mut self) -> usize {
        usize::try_from(self.rows("events").await).expect("count")
    }

    /// The membership rows of a customer.
    pub async fn memberships(&mut self, customer: &str) -> i64 {
        self.count(&format!("SELECT count(*) AS n FROM customer_group_memberships WHERE customer_id = '{customer}'"))
            .await
    }

    /// A text column of one row: `sql` selects it as `a`.
    pub async fn text(&mut self, sql: &str) -> String {
        let rows: Vec<OneText> =
            diesel::sql_query(sql).load(&mut self.conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().next().map_or_else(|| panic!("{sql}: no row"), |r| r.a)
    }
}
