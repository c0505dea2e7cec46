//! Helpers of the project-family tests: a spawned server with project `demo` and a
//! `manage_project:demo` token, requests by path under `/demo`, and direct SQL.

use crate::json;
use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{json, Value};
use xclade_server::Settings;
use xclade_testkit::{ProjectFixture, TestApp};

/// The project of every test.
pub const PROJECT: &str = "demo";

/// A server, its project `demo` and a token holding `manage_project:demo`.
pub struct Ctx {
    pub app: TestApp,
    /// The project's admin-scoped API client (its id is the `createdBy.clientId` of writes).
    pub fixture: ProjectFixture,
    /// A token of that client (all of its scopes: `manage_project:demo`).
    pub token: String,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    s: String,
}

impl Ctx {
    pub async fn new() -> Ctx {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut Settings)) -> Ctx {
        let app = TestApp::spawn_with(adjust).await;
        let fixture = app.project(PROJECT).await;
        let token = app.client_token(&fixture.client_id, &fixture.client_secret, None).await;
        Ctx { app, fixture, token }
    }

    /// The URL of `path` under `/demo`.
    pub fn url(&self, path: &str) -> String {
        self.app.url(&format!("/{PROJECT}{path}"))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_q(path, &[]).await
    }

    /// GET with query pairs (percent-encoded by reqwest).
    pub async fn get_q(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let req = self.app.http.get(self.url(path)).query(query).bearer_auth(&self.token);
        json(req.send().await.expect("send")).await
    }

    /// HEAD with query pairs: the status and the body's text (which must be empty).
    pub async fn head_q(&self, path: &str, query: &[(&str, &str)]) -> (u16, String) {
        let req = self.app.http.head(self.url(path)).query(query).bearer_auth(&self.token);
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let req = self.app.http.post(self.url(path)).bearer_auth(&self.token).json(body);
        json(req.send().await.expect("send")).await
    }

    /// POST of a raw body with a JSON content type.
    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let req = self
            .app
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_owned());
        json(req.send().await.expect("send")).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let req = self.app.http.delete(self.url(path)).bearer_auth(&self.token);
        json(req.send().await.expect("send")).await
    }

    /// Creates a group through `POST /demo/customer-groups`; panics unless 201.
    pub async fn create(&self, name: &str, key: Option<&str>) -> Value {
        let mut draft = json!({"groupName": name});
        if let Some(key) = key {
            draft["key"] = json!(key);
        }
        let (s, b) = self.post("/customer-groups", &draft).await;
        assert_eq!(s, 201, "create {name}: {b}");
        b
    }

    /// Applies `actions` at `version` to the group `id`.
    pub async fn update(&self, id: &str, version: i64, actions: Value) -> (u16, Value) {
        self.post(&format!("/customer-groups/{id}"), &json!({"version": version, "actions": actions})).await
    }

    /// The names of the groups matching the query (all pages of up to 500), in answer order.
    pub async fn names(&self, query: &[(&str, &str)]) -> Vec<String> {
        let mut query = query.to_vec();
        query.push(("limit", "500"));
        xclade_testkit::app::result_names(&self.get_q("/customer-groups", &query).await, &format!("{query:?}"))
    }

    /// A direct connection to the test's database.
    pub async fn conn(&self) -> AsyncPgConnection {
        self.app.db.connect().await
    }

    /// `SELECT count(*) AS n …` (or any query answering one `bigint` column `n`).
    pub async fn count(&self, sql: &str) -> i64 {
        self.app.db.count(sql).await
    }

    /// A query answering one text column `s`, every row.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        let mut conn = self.conn().await;
        let rows = diesel::sql_query(sql).load::<Line>(&mut conn).await.expect(sql);
        rows.into_iter().map(|r| r.s).collect()
    }

    pub async fn exec(&self, sql: &str) {
        self.app.db.exec(sql).await;
    }

    /// The number of `events` rows of `kind`.
    pub async fn events(&self, kind: &str) -> i64 {
        self.count(&format!("SELECT count(*) AS n FROM events WHERE kind = '{kind}'")).await
    }
}

/// The `id` of a group body.
pub fn id(group: &Value) -> String {
    group["id"].as_str().expect("id").to_owned()
}

/// The `(code, message)` of the first error of a project-family body.
pub fn first_error(body: &Value) -> (String, String) {
    let e = &body["errors"][0];
    (e["code"].as_str().unwrap_or_default().to_owned(), e["message"].as_str().unwrap_or_default().to_owned())
}

/// Asserts that `body` is exactly the family's envelope of one error, keys in this order:
/// `{"statusCode": status, "message": message, "errors": [{"code": code, "message": message}]}`.
#[track_caller]
pub fn assert_envelope(body: &Value, status: u16, code: &str, message: &str) {
    assert_envelope_with(body, status, code, message, json!({}));
}

/// [`assert_envelope`] whose error also has the keys of `extra`, in their order, after
/// `code` and `message`.
#[track_caller]
pub fn assert_envelope_with(body: &Value, status: u16, code: &str, message: &str, extra: Value) {
    assert_same_text(body, &envelope(status, code, message, extra));
}

/// [`assert_envelope_with`] of a whole answer, whose status must be the envelope's.
#[track_caller]
pub fn assert_error_answer(answer: &(u16, Value), status: u16, code: &str, message: &str, extra: Value) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_envelope_with(&answer.1, status, code, message, extra);
}

/// Asserts that `body` is exactly the envelope of an authentication or authorization failure:
/// [`assert_envelope`]'s keys, then `error` (the code) and `error_description` (the message).
#[track_caller]
pub fn assert_auth_envelope(answer: &(u16, Value), status: u16, code: &str, message: &str) {
    let mut expected = envelope(status, code, message, json!({}));
    expected["error"] = json!(code);
    expected["error_description"] = json!(message);
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_same_text(&answer.1, &expected);
}

/// The family's envelope of one error whose keys after `code` and `message` are `extra`'s.
fn envelope(status: u16, code: &str, message: &str, extra: Value) -> Value {
    let mut error = json!({"code": code, "message": message});
    if let (Some(error), Value::Object(extra)) = (error.as_object_mut(), extra) {
        error.extend(extra);
    }
    json!({"statusCode": status, "message": message, "errors": [error]})
}

/// Asserts that two values are the same JSON text (so key order counts, as on the wire).
#[track_caller]
pub fn assert_same_text(actual: &Value, expected: &Value) {
    let text = |v: &Value| serde_json::to_string_pretty(v).expect("json");
    assert_eq!(text(actual), text(expected));
}

/// Asserts that `answer` is a 200 page, keys in this order: `limit`, `offset`, `count` (the
/// number of its results), `total` (only when given) and `results`; answers the results.
#[track_caller]
pub fn assert_page(answer: &(u16, Value), limit: u64, offset: u64, total: Option<u64>) -> Vec<Value> {
    let results = answer.1["results"].as_array().cloned().unwrap_or_default();
    let mut expected = json!({"limit": limit, "offset": offset, "count": results.len()});
    if let Some(total) = total {
        expected["total"] = json!(total);
    }
    expected["results"] = Value::Array(results.clone());
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_same_text(&answer.1, &expected);
    results
}

/// Asserts that `body` is exactly a group as the project family writes it, keys in this order,
/// once its id, timestamps and acting client are redacted (`[id]`, `[ts]`, `[client]`): `id`,
/// `version`, `key` (only when given), `name`, `createdAt`, `createdBy`, `lastModifiedAt`,
/// `lastModifiedBy`.
#[track_caller]
pub fn assert_group_view(body: &Value, version: i64, key: Option<&str>, name: &str) {
    let mut redacted = body.clone();
    for (path, with) in [
        ("/id", "[id]"),
        ("/createdAt", "[ts]"),
        ("/lastModifiedAt", "[ts]"),
        ("/createdBy/clientId", "[client]"),
        ("/lastModifiedBy/clientId", "[client]"),
    ] {
        if let Some(value) = redacted.pointer_mut(path) {
            *value = json!(with);
        }
    }
    let mut expected = serde_json::Map::new();
    expected.insert("id".into(), json!("[id]"));
    expected.insert("version".into(), json!(version));
    if let Some(key) = key {
        expected.insert("key".into(), json!(key));
    }
    expected.insert("name".into(), json!(name));
    expected.insert("createdAt".into(), json!("[ts]"));
    expected.insert("createdBy".into(), json!({"clientId": "[client]"}));
    expected.insert("lastModifiedAt".into(), json!("[ts]"));
    expected.insert("lastModifiedBy".into(), json!({"clientId": "[client]"}));
    assert_same_text(&redacted, &Value::Object(expected));
}
