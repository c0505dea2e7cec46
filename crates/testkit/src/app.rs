//! A real server on a random port, against this test's own database, plus fixtures.

use crate::db::TestDb;
use serde_json::Value;
use xclade_server::startup::Services;
use xclade_server::{Application, Settings};

/// The JWT secret of test servers.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// A spawned server. The database is the last field, so it is dropped after the server.
pub struct TestApp {
    pub base_url: String,
    pub port: u16,
    pub http: reqwest::Client,
    pub services: Services,
    handle: actix_web::dev::ServerHandle,
    pub db: TestDb,
}

/// A project with an admin-scoped API client and an admin user.
#[derive(Debug, Clone)]
pub struct ProjectFixture {
    pub key: String,
    pub client_id: String,
    pub client_secret: String,
    pub admin_email: String,
    pub admin_password: String,
}

/// The settings of a test server on `db`.
pub fn test_settings(db: &TestDb) -> Settings {
    Settings {
        database_url: db.url().to_owned(),
        bind: "127.0.0.1:0".into(),
        jwt_secret: TEST_JWT_SECRET.into(),
        max_customer_groups: 1000,
        pool_size: 8,
        workers: 2,
        token_ttl_secs: 172_800,
        body_limit: 256 * 1024,
        migrate: false,
        events: None,
    }
}

impl TestApp {
    /// Spawns a server with the default test settings.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns a server after letting the test adjust the settings.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_on(TestDb::new().await, adjust).await
    }

    /// Spawns a server on `db` (e.g. [`TestDb::on_private`]) after letting the test adjust the
    /// settings.
    pub async fn spawn_on(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        crate::init_test_logging();
        let mut settings = test_settings(&db);
        adjust(&mut settings);
        let app = Application::build(settings).await.unwrap_or_else(|e| panic!("cannot build the app: {e}"));
        let port = app.port();
        let services = app.services().clone();
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default(),
            services,
            handle,
            db,
        }
    }

    /// Another server on this test's database (a replica), with the test's settings adjusted.
    /// It stops with the test's runtime.
    pub async fn replica(&self, adjust: impl FnOnce(&mut Settings)) -> (String, actix_web::dev::ServerHandle) {
        let mut settings = test_settings(&self.db);
        adjust(&mut settings);
        let app = Application::build(settings).await.unwrap_or_else(|e| panic!("cannot build the replica: {e}"));
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        (base, handle)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Creates a project with an API client (`manage_project`) and an admin user.
    pub async fn project(&self, key: &str) -> ProjectFixture {
        let admin = &self.services.admin;
        admin.create_project(key, None).await.unwrap_or_else(|e| panic!("project {key}: {e}"));
        let client = admin.create_client(key, &[]).await.unwrap_or_else(|e| panic!("client: {e}"));
        let admin_email = format!("admin@{key}.test");
        let admin_password = "correct horse battery".to_owned();
        admin.create_user(key, &admin_email, &admin_password).await.unwrap_or_else(|e| panic!("user: {e}"));
        ProjectFixture {
            key: key.to_owned(),
            client_id: client.client_id,
            client_secret: client.client_secret,
            admin_email,
            admin_password,
        }
    }

    /// Creates an API client with exactly these scopes and returns a token for it (through HTTP).
    pub async fn token_with_scopes(&self, project: &str, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let client =
            self.services.admin.create_client(project, &scopes).await.unwrap_or_else(|e| panic!("client: {e}"));
        self.client_token(&client.client_id, &client.client_secret, None).await
    }

    /// A token by client credentials through `POST /oauth/token`.
    pub async fn client_token(&self, client_id: &str, secret: &str, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials".to_owned())];
        if let Some(scope) = scope {
            form.push(("scope", scope.to_owned()));
        }
        let resp = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("token request: {e}"));
        let body: Value = resp.json().await.unwrap_or_default();
        body["access_token"].as_str().unwrap_or_else(|| panic!("no token in {body}")).to_owned()
    }

    /// The admin user's token through `POST /auth/user/emailpass`.
    pub async fn admin_token(&self, fixture: &ProjectFixture) -> String {
        let resp = self
            .http
            .post(self.url("/auth/user/emailpass"))
            .json(&serde_json::json!({"email": fixture.admin_email, "password": fixture.admin_password}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("login: {e}"));
        let body: Value = resp.json().await.unwrap_or_default();
        body["token"].as_str().unwrap_or_else(|| panic!("no token in {body}")).to_owned()
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// The `name` of every result of a page of groups (`answer`: status and body), in answer order;
/// the answer must be a 200 (`query` names it in a failure).
pub fn result_names(answer: &(u16, Value), query: &str) -> Vec<String> {
    let (status, body) = answer;
    assert_eq!(*status, 200, "{query}: {body}");
    body["results"].as_array().expect("results").iter().map(|g| g["name"].as_str().expect("name").to_owned()).collect()
}
