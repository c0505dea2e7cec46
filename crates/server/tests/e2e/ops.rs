//! §4: health, metrics, OpenAPI, correlation ids, body limit, framework errors, database outage.

use crate::json;
use serde_json::json;
use xclade_testkit::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_openapi_docs() {
    let app = TestApp::spawn().await;
    let (s, b) = json(app.http.get(app.url("/health/live")).send().await.expect("send")).await;
    assert_eq!((s, b), (200, json!({"status": "ok"})));
    let (s, _) = json(app.http.get(app.url("/health/ready")).send().await.expect("send")).await;
    assert_eq!(s, 200);

    let metrics = app.http.get(app.url("/metrics")).send().await.expect("send").text().await.expect("text");
    assert!(
        metrics.contains("http_requests_total{method=\"GET\",route=\"/health/live\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
    assert!(metrics.contains("db_pool_max_connections"));

    let (s, doc) = json(app.http.get(app.url("/openapi.json")).send().await.expect("send")).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    for path in [
        "/oauth/token",
        "/auth/user/emailpass",
        "/health/ready",
        "/admin/customers",
        "/admin/customers/{id}/customer-groups",
        "/{projectKey}/customer-groups",
        "/{projectKey}/customer-groups/key={key}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path} in the OpenAPI document");
    }

    let docs = app.http.get(app.url("/docs/")).send().await.expect("send");
    assert_eq!(docs.status().as_u16(), 200);
    assert!(docs.text().await.unwrap_or_default().contains("swagger"), "the API reference is served offline");
    // The reference loads the document from its own address, which serves the same document.
    let init = app.http.get(app.url("/docs/swagger-initializer.js")).send().await.expect("send");
    assert_eq!(init.status().as_u16(), 200);
    let init = init.text().await.unwrap_or_default();
    assert!(init.contains("\"/docs/openapi.json\""), "{init}");
    let (s, served) = json(app.http.get(app.url("/docs/openapi.json")).send().await.expect("send")).await;
    assert_eq!((s, &served), (200, &doc));
    // `docs` is no project: nothing else under /docs is routed (the project family included).
    let resp = app.http.get(app.url("/docs/customer-groups/x")).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlation_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let resp = app.http.get(app.url("/health/live")).header("X-Correlation-ID", "abc-123").send().await.expect("send");
    assert_eq!(resp.headers()["x-correlation-id"], "abc-123");
    let resp = app.http.get(app.url("/nope")).send().await.expect("send");
    assert!(resp.headers().get("x-correlation-id").is_some_and(|v| !v.is_empty()));
    let resp = app.http.get(app.url("/admin/customers")).send().await.expect("send");
    assert!(resp.headers().get("x-correlation-id").is_some(), "also on errors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_errors_are_json_in_the_family_format() {
    let app = TestApp::spawn().await;
    app.project("demo").await;
    let token = app.token_with_scopes("demo", &["manage_project:demo"]).await;
    let (s, b) =
        json(app.http.get(app.url("/demo/no-such-resource")).bearer_auth(&token).send().await.expect("send")).await;
    assert_eq!(s, 404);
    assert_eq!(b["statusCode"], 404);
    assert!(b["errors"].as_array().is_some_and(|e| !e.is_empty()));
    let (s, b) =
        json(app.http.put(app.url("/demo/customer-groups")).bearer_auth(&token).send().await.expect("send")).await;
    assert!(s == 404 || s == 405, "{s}");
    assert!(b["errors"].as_array().is_some_and(|e| !e.is_empty()), "{b}");
    let (s, b) =
        json(app.http.get(app.url("/admin/nothing-here")).bearer_auth(&token).send().await.expect("send")).await;
    assert_eq!((s, b["type"].as_str()), (404, Some("not_found")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413_after_authentication() {
    let app = TestApp::spawn().await;
    app.project("demo").await;
    let token = app.token_with_scopes("demo", &["manage_project:demo"]).await;
    let big = format!("{{\"email\":\"a@b.co\",\"metadata\":{{\"x\":\"{}\"}}}}", "x".repeat(300 * 1024));

    let resp = app
        .http
        .post(app.url("/admin/customers"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401, "unauthenticated first");

    let (s, b) = json(
        app.http
            .post(app.url("/admin/customers"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((s, b), (413, json!({"type": "invalid_data", "message": "Request body is larger than 262144 bytes"})));

    let (s, b) = json(
        app.http
            .post(app.url("/demo/customer-groups"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(s, 413);
    assert_eq!(b["statusCode"], 413);
    assert!(b["errors"][0]["code"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_is_503_and_recovers_by_itself() {
    let app = TestApp::spawn().await;
    app.project("demo").await;
    let token = app.token_with_scopes("demo", &["manage_project:demo"]).await;
    let ok = app.http.get(app.url("/admin/customers")).bearer_auth(&token).send().await.expect("send");
    assert_eq!(ok.status().as_u16(), 200);

    app.db.set_connections(false).await;
    let started = std::time::Instant::now();
    let (s, b) = json(app.http.get(app.url("/admin/customers")).bearer_auth(&token).send().await.expect("send")).await;
    assert_eq!(s, 503, "{b}");
    assert_eq!(b["type"], "database_error");
    assert_eq!(b["code"], "api_error");
    let (s, b) =
        json(app.http.get(app.url("/demo/customer-groups")).bearer_auth(&token).send().await.expect("send")).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (503, Some("General")));
    let (s, _) = json(app.http.get(app.url("/health/ready")).send().await.expect("send")).await;
    assert_eq!(s, 503);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "no hang");

    app.db.set_connections(true).await;
    let mut recovered = false;
    for _ in 0..20 {
        if app.http.get(app.url("/admin/customers")).bearer_auth(&token).send().await.expect("send").status().as_u16()
            == 200
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(recovered, "the service recovers without a restart");
}
