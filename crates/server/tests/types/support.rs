//! Helpers: a spawned server with project `demo` and a `manage_project:demo` token, requests by
//! path under `/demo`, fixtures for types and groups, and direct SQL.

use diesel_async::AsyncPgConnection;
use serde_json::{json, Value};
use xclade_testkit::TestApp;

/// The project of every test.
pub const PROJECT: &str = "demo";

/// A server, its project `demo` and a token holding `manage_project:demo`.
pub struct Ctx {
    pub app: TestApp,
    pub token: String,
}

/// Status and JSON body of a response.
pub async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

impl Ctx {
    pub async fn new() -> Ctx {
        let app = TestApp::spawn().await;
        app.project(PROJECT).await;
        let token = app.token_with_scopes(PROJECT, &["manage_project:demo"]).await;
        Ctx { app, token }
    }

    /// The URL of `path` under `/demo`.
    pub fn url(&self, path: &str) -> String {
        self.app.url(&format!("/{PROJECT}{path}"))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_q(path, &[]).await
    }

    pub async fn get_q(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        self.get_as(&self.token, path, query).await
    }

    pub async fn get_as(&self, token: &str, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let req = self.app.http.get(self.url(path)).query(query).bearer_auth(token);
        json_of(req.send().await.expect("send")).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_as(&self.token, path, body).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let req = self.app.http.post(self.url(path)).bearer_auth(token).json(body);
        json_of(req.send().await.expect("send")).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let req = self.app.http.delete(self.url(path)).bearer_auth(&self.token);
        json_of(req.send().await.expect("send")).await
    }

    /// Creates a type; panics unless 201.
    pub async fn create_type(&self, draft: Value) -> Value {
        let (s, b) = self.post("/types", &draft).await;
        assert_eq!(s, 201, "create type: {b}");
        b
    }

    /// Creates a group from `draft`; answers status and body.
    pub async fn create_group(&self, draft: Value) -> (u16, Value) {
        self.post("/customer-groups", &draft).await
    }

    /// Applies `actions` at `version` to the group `id`.
    pub async fn update_group(&self, id: &str, version: i64, actions: Value) -> (u16, Value) {
        self.post(&format!("/customer-groups/{id}"), &json!({"version": version, "actions": actions})).await
    }

    /// Applies `actions` at `version` to the type `id`.
    pub async fn update_type(&self, id: &str, version: i64, actions: Value) -> (u16, Value) {
        self.post(&format!("/types/{id}"), &json!({"version": version, "actions": actions})).await
    }

    /// The names of the groups matching `where` (up to 500), in name order.
    pub async fn names_where(&self, predicate: &str) -> Vec<String> {
        let query = [("where", predicate), ("sort", "name asc"), ("limit", "500")];
        xclade_testkit::app::result_names(&self.get_q("/customer-groups", &query).await, predicate)
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        self.app.db.connect().await
    }

    /// `SELECT count(*) AS n …`.
    pub async fn count(&self, sql: &str) -> i64 {
        self.app.db.count(sql).await
    }

    /// The number of `events` rows of `kind`.
    pub async fn events(&self, kind: &str) -> i64 {
        self.count(&format!("SELECT count(*) AS n FROM events WHERE kind = '{kind}'")).await
    }
}

/// The `id` of a body.
pub fn id(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

pub fn version(body: &Value) -> i64 {
    body["version"].as_i64().expect("version")
}

/// The first error of a project-family body.
pub fn first_error(body: &Value) -> &Value {
    &body["errors"][0]
}

/// The code of the first error.
pub fn code(body: &Value) -> &str {
    first_error(body)["code"].as_str().unwrap_or_default()
}

/// A field definition.
pub fn field(name: &str, t: Value, required: bool) -> Value {
    json!({"name": name, "label": {"en": name}, "required": required, "type": t})
}

/// An optional field definition of the simple type `type_name` (`Number`, `String`, …).
pub fn optional(name: &str, type_name: &str) -> Value {
    field(name, json!({"name": type_name}), false)
}

/// A type draft for customer groups.
pub fn type_draft(key: &str, fields: Vec<Value>) -> Value {
    json!({"key": key, "name": {"en": key}, "resourceTypeIds": ["customer-group"], "fieldDefinitions": fields})
}

/// An `Enum` type with the given keys.
pub fn enum_of(keys: &[&str]) -> Value {
    json!({"name": "Enum", "values": keys.iter().map(|k| json!({"key": k, "label": k.to_uppercase()})).collect::<Vec<_>>()})
}

/// The `custom` of a draft referring to a type by key.
pub fn custom_by_key(key: &str, fields: Value) -> Value {
    json!({"type": {"typeId": "type", "key": key}, "fields": fields})
}
