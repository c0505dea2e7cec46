//! The admin page at `/app` (issue 17): served from the binary with its headers, and taking only
//! its own exact paths, so a project whose key is `app` keeps its whole project family.

use crate::json;
use serde_json::json;
use xclade_testkit::TestApp;

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_from_the_binary_with_its_headers() {
    let app = TestApp::spawn().await;
    let resp = app.http.get(app.url("/app")).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(header(&resp, "content-type"), "text/html; charset=utf-8");
    let csp = header(&resp, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "style-src 'self';",
        "connect-src 'self';",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    assert_eq!(header(&resp, "cache-control"), "no-cache");
    assert!(!header(&resp, "x-correlation-id").is_empty(), "observed like every route");
    let etag = header(&resp, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let html = resp.text().await.expect("text");
    assert!(html.contains(r#"<script type="module" src="/app/app.js"></script>"#), "{html}");
    assert!(html.contains(r#"<link rel="stylesheet" href="/app/app.css">"#));

    let again = app.http.get(app.url("/app")).header("If-None-Match", &etag).send().await.expect("send");
    assert_eq!(again.status().as_u16(), 304, "revalidation answers 304");
    assert_eq!(header(&again, "content-security-policy"), csp);

    for (path, content_type, needle) in [
        ("/app/app.js", "text/javascript; charset=utf-8", "/auth/user/emailpass"),
        ("/app/app.css", "text/css; charset=utf-8", "@media"),
        ("/app/favicon.svg", "image/svg+xml", "<svg"),
    ] {
        let resp = app.http.get(app.url(path)).send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        assert_eq!(header(&resp, "content-type"), content_type, "{path}");
        assert!(resp.text().await.expect("text").contains(needle), "{path}");
    }
    let head = app.http.head(app.url("/app")).send().await.expect("send");
    assert_eq!(head.status().as_u16(), 200);

    let slash = app.http.get(app.url("/app/")).send().await.expect("send");
    assert_eq!((slash.status().as_u16(), header(&slash, "location")), (308, "/app".to_owned()));
    let post = app.http.post(app.url("/app")).send().await.expect("send");
    assert_eq!(post.status().as_u16(), 405);
    assert!(header(&post, "allow").contains("GET"), "{:?}", post.headers());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_keyed_app_keeps_its_project_family() {
    let app = TestApp::spawn().await;
    let fixture = app.project("app").await;
    // The admin user's token, as the page uses it, and an API client's token.
    for token in
        [app.admin_token(&fixture).await, app.client_token(&fixture.client_id, &fixture.client_secret, None).await]
    {
        let name = format!("Gold {}", &token[token.len() - 6..]);
        let (s, created) = json(
            app.http
                .post(app.url("/app/customer-groups"))
                .bearer_auth(&token)
                .json(&json!({"groupName": name}))
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(s, 201, "{created}");
        let id = created["id"].as_str().expect("id").to_owned();

        let (s, page) = json(
            app.http
                .get(app.url("/app/customer-groups"))
                .query(&[("where", format!("id = \"{id}\""))])
                .bearer_auth(&token)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!((s, page["count"].clone()), (200, json!(1)), "{page}");

        let rename = |version: i64, name: String| {
            app.http
                .post(app.url(&format!("/app/customer-groups/{id}")))
                .bearer_auth(&token)
                .json(&json!({"version": version, "actions": [{"action": "changeName", "name": name}]}))
                .send()
        };
        let (s, renamed) = json(rename(1, format!("{name}!")).await.expect("send")).await;
        assert_eq!((s, renamed["version"].clone()), (200, json!(2)), "{renamed}");
        // A stale version is the conflict the page shows.
        let (s, stale) = json(rename(1, "other".to_owned()).await.expect("send")).await;
        assert_eq!((s, stale["errors"][0]["code"].clone()), (409, json!("ConcurrentModification")), "{stale}");

        let (s, types) =
            json(app.http.get(app.url("/app/types")).bearer_auth(&token).send().await.expect("send")).await;
        assert_eq!(s, 200, "{types}");
        let (s, deleted) = json(
            app.http
                .delete(app.url(&format!("/app/customer-groups/{id}?version=2")))
                .bearer_auth(&token)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(s, 200, "{deleted}");
    }

    // Unknown paths under /app are the project family's 404, in its envelope, not the page.
    let (s, body) = json(app.http.get(app.url("/app/index.html")).send().await.expect("send")).await;
    assert_eq!((s, body["errors"][0]["code"].clone()), (404, json!("ResourceNotFound")), "{body}");
    // Without a token the project family still answers for itself.
    let (s, body) = json(app.http.get(app.url("/app/customer-groups")).send().await.expect("send")).await;
    assert_eq!((s, body["errors"][0]["code"].clone()), (401, json!("invalid_token")), "{body}");
    // And the page is still the page.
    let resp = app.http.get(app.url("/app")).send().await.expect("send");
    assert_eq!(header(&resp, "content-type"), "text/html; charset=utf-8");
}
