//! §1: token issuance, login, token verification and the scope table.

use crate::json;
use serde_json::json;
use xclade_testkit::TestApp;

/// A token request of the client `id` (HTTP Basic, with `secret`) whose form is `form`.
fn token_request(app: &TestApp, id: &str, secret: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
    app.http.post(app.url("/oauth/token")).basic_auth(id, Some(secret)).form(form)
}

/// Sends `req`: the status and JSON body of the answer.
async fn send(req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    json(req.send().await.expect("send")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_in_every_accepted_form() {
    let app = TestApp::spawn().await;
    let p = app.project("demo").await;
    let url = app.url("/oauth/token");

    // Basic auth, form body, scope subset: the token's scope is exactly the request.
    let scope = "manage_customer_groups:demo view_customers:demo";
    let form = [("grant_type", "client_credentials"), ("scope", scope)];
    let (status, body) = send(token_request(&app, &p.client_id, &p.client_secret, &form)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 172_800);
    assert_eq!(body["scope"], scope);
    assert!(body["access_token"].as_str().is_some_and(|t| t.split('.').count() == 3));

    // No scope → all of the client's scopes.
    let all = send(token_request(&app, &p.client_id, &p.client_secret, &[("grant_type", "client_credentials")])).await;
    assert_eq!(all.1["scope"], "manage_project:demo");

    // Credentials as form fields; a raw, unencoded space and colon in the scope.
    let raw = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=view_customers:demo view_types:demo",
        p.client_id, p.client_secret
    );
    let (status, body) =
        send(app.http.post(&url).header("content-type", "application/x-www-form-urlencoded").body(raw)).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("view_customers:demo view_types:demo")), "{body}");

    // Parameters in the query string.
    let in_query = format!("{url}?grant_type=client_credentials&scope=view_customer_groups%3Ademo");
    let (status, body) = send(app.http.post(in_query).basic_auth(&p.client_id, Some(&p.client_secret))).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("view_customer_groups:demo")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_errors_use_the_auth_envelope() {
    let app = TestApp::spawn().await;
    let p = app.project("demo").await;
    let (id, secret) = (p.client_id.as_str(), p.client_secret.as_str());
    let grant = ("grant_type", "client_credentials");
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (token_request(&app, id, "wrong", &[grant]), 401, "invalid_client"),
        (token_request(&app, "nobody", "x", &[grant]), 401, "invalid_client"),
        (app.http.post(app.url("/oauth/token")).form(&[grant]), 401, "invalid_client"),
        (token_request(&app, id, secret, &[("scope", "view_customers:demo")]), 400, "invalid_request"),
        (token_request(&app, id, secret, &[("grant_type", "password")]), 400, "unsupported_grant_type"),
        (token_request(&app, id, secret, &[grant, ("scope", "view_customers:other")]), 400, "invalid_scope"),
        (token_request(&app, id, secret, &[grant, ("scope", "nonsense")]), 400, "invalid_scope"),
    ];
    for (req, expected_status, code) in cases {
        let (status, body) = send(req).await;
        assert_eq!(status, expected_status, "{body}");
        assert_eq!(body["statusCode"], expected_status);
        assert_eq!(body["error"], code, "{body}");
        assert_eq!(body["errors"][0]["code"], code);
        assert!(body["error_description"].is_string());
    }

    // A client holding manage_customers may ask for view_customers but not for types.
    let narrow = app.services.admin.create_client("demo", &["manage_customers:demo".to_owned()]).await.expect("client");
    let (id, secret) = (narrow.client_id.as_str(), narrow.client_secret.as_str());
    let (status, _) = send(token_request(&app, id, secret, &[grant, ("scope", "view_customers:demo")])).await;
    assert_eq!(status, 200);
    let (_, refused) = send(token_request(&app, id, secret, &[grant, ("scope", "manage_types:demo")])).await;
    assert_eq!(refused["error"], "invalid_scope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_login() {
    let app = TestApp::spawn().await;
    let p = app.project("demo").await;
    let url = app.url("/auth/user/emailpass");
    let (status, body) =
        send(app.http.post(&url).json(&json!({"email": p.admin_email, "password": p.admin_password}))).await;
    assert_eq!(status, 200);
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, vec!["token"], "exactly {{\"token\"}}");

    let expected = json!({"type": "unauthorized", "message": "Invalid email or password"});
    for body in [
        json!({"email": p.admin_email, "password": "wrong password"}),
        json!({"email": "nobody@demo.test", "password": "whatever1"}),
    ] {
        let (status, got) = send(app.http.post(&url).json(&body)).await;
        assert_eq!((status, &got), (401, &expected));
    }
    let (status, got) = send(app.http.post(&url).json(&json!({"email": "a@b.co"}))).await;
    assert_eq!(
        (status, got["type"].as_str(), got["message"].as_str()),
        (400, Some("invalid_data"), Some("Invalid request: Field 'password' is required"))
    );

    // The login token carries manage_project and works on both families.
    let token = app.admin_token(&p).await;
    for path in ["/admin/customers", "/demo/customer-groups"] {
        let resp = app.http.get(app.url(path)).bearer_auth(&token).send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
    }
}

fn forge(secret: &[u8], project: &str, pid: uuid::Uuid, exp_offset: i64) -> String {
    use jsonwebtoken::{encode, EncodingKey, Header};
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": "c", "kind": "client", "project": project, "pid": pid, "scope": format!("manage_project:{project}"), "iat": now, "exp": now + exp_offset});
    encode(&Header::default(), &claims, &EncodingKey::from_secret(secret)).expect("encode")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_rejected_per_family() {
    let app = TestApp::spawn().await;
    app.project("demo").await;
    let pid = uuid::Uuid::nil();
    let forged = forge(b"another-secret-another-secret-another", "demo", pid, 600);
    let expired = forge(xclade_testkit::app::TEST_JWT_SECRET.as_bytes(), "demo", pid, -10);
    for token in [None, Some("garbage".to_owned()), Some(forged), Some(expired)] {
        let mut req = app.http.get(app.url("/admin/customers"));
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 401);
        assert!(resp.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/plain"));
        assert_eq!(resp.text().await.unwrap_or_default(), "Unauthorized");

        let mut req = app.http.get(app.url("/demo/customer-groups"));
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        let (status, body) = json(req.send().await.expect("send")).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"statusCode": 401, "message": "invalid_token", "errors": [{"code": "invalid_token", "message": "invalid_token"}], "error": "invalid_token", "error_description": "invalid_token"})
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_table_over_both_families() {
    let app = TestApp::spawn().await;
    app.project("demo").await;
    app.project("other").await;
    // (scopes, admin customers read, admin customers write, groups read, groups write)
    let table: &[(&[&str], bool, bool, bool, bool)] = &[
        (&["manage_project:demo"], true, true, true, true),
        (&["view_customers:demo"], true, false, true, false),
        (&["manage_customers:demo"], true, true, true, true),
        (&["view_customer_groups:demo"], false, false, true, false),
        (&["manage_customer_groups:demo"], false, false, true, true),
        (&["view_types:demo"], false, false, false, false),
        (&["manage_project:other"], false, false, false, false),
    ];
    for (scopes, read_c, write_c, read_g, write_g) in table {
        let project = scopes[0].split(':').nth(1).unwrap_or("demo");
        let token = app.token_with_scopes(project, scopes).await;
        let own = project == "demo";
        let status = |r: reqwest::Response| r.status().as_u16();
        let get_c = status(app.http.get(app.url("/admin/customers")).bearer_auth(&token).send().await.expect("send"));
        let post_c = status(
            app.http.post(app.url("/admin/customers")).bearer_auth(&token).json(&json!({})).send().await.expect("send"),
        );
        let get_g =
            status(app.http.get(app.url("/demo/customer-groups")).bearer_auth(&token).send().await.expect("send"));
        let post_g = status(
            app.http
                .post(app.url("/demo/customer-groups"))
                .bearer_auth(&token)
                .json(&json!({}))
                .send()
                .await
                .expect("send"),
        );
        // Admin routes act on the token's own project; the project family checks the path.
        if own {
            assert_eq!(get_c == 200, *read_c, "{scopes:?} GET customers {get_c}");
            assert_eq!(post_c == 400, *write_c, "{scopes:?} POST customers {post_c}");
            assert!(get_c == 200 || get_c == 403);
            assert!(post_c == 400 || post_c == 403);
        } else {
            assert_eq!(get_c, 200, "a token of another project reads its own project");
        }
        assert_eq!(get_g == 200, *read_g, "{scopes:?} GET groups {get_g}");
        assert_eq!(post_g == 400, *write_g, "{scopes:?} POST groups {post_g}");
        assert!(get_g == 200 || get_g == 403);
        assert!(post_g == 400 || post_g == 403);
    }
    // Unknown project key with a valid token → 403 too, so keys cannot be probed.
    let token = app.token_with_scopes("demo", &["manage_project:demo"]).await;
    let (status, body) =
        json(app.http.get(app.url("/nosuchproject/customer-groups")).bearer_auth(&token).send().await.expect("send"))
            .await;
    assert_eq!(status, 403);
    assert_eq!(body["errors"][0]["code"], "insufficient_scope");
    assert_eq!(body["error"], "insufficient_scope");
}
