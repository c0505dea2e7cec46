//! One domain, two families (§2.6, §3), and projects that never see each other (§1, §1.3).

use crate::json;
use crate::support::{assert_group_view, first_error, id, Ctx};
use serde_json::{json, Value};
use xclade_testkit::TestApp;

async fn admin(ctx: &Ctx, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = ctx.app.http.request(method, ctx.app.url(path)).bearer_auth(&ctx.token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    json(req.send().await.expect("send")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_is_shared_by_both_families() {
    let ctx = Ctx::new().await;
    let (s, b) = admin(&ctx, reqwest::Method::POST, "/admin/customer-groups", Some(json!({"name": "VIP"}))).await;
    assert_eq!(s, 200, "{b}");
    let vip = b["customer_group"]["id"].as_str().expect("id").to_owned();

    let (s, b) = ctx.get(&format!("/customer-groups/{vip}")).await;
    assert_eq!(s, 200);
    assert_group_view(&b, 1, None, r#"VIP"#);
    assert_eq!(b["createdBy"], json!({"clientId": ctx.fixture.client_id}));

    let (s, b) =
        admin(&ctx, reqwest::Method::POST, &format!("/admin/customer-groups/{vip}"), Some(json!({"name": "VIP 2"})))
            .await;
    assert_eq!((s, &b["customer_group"]["name"]), (200, &json!("VIP 2")), "{b}");
    let (s, b) = ctx.get(&format!("/customer-groups/{vip}")).await;
    assert_eq!((s, &b["version"], &b["name"]), (200, &json!(2), &json!("VIP 2")));
    // Metadata is the admin family's own: a change of it is a change of the group.
    let body = json!({"metadata": {"tier": 1}});
    let (s, _) = admin(&ctx, reqwest::Method::POST, &format!("/admin/customer-groups/{vip}"), Some(body)).await;
    assert_eq!(s, 200);
    let (s, b) = ctx.get(&format!("/customer-groups/{vip}")).await;
    assert_eq!((s, &b["version"]), (200, &json!(3)));
    assert!(b.get("metadata").is_none(), "{b}");
    // The project family's changes show in the admin family.
    let (s, _) = ctx
        .update(&vip, 3, json!([{"action": "changeName", "name": "VIP 3"}, {"action": "setKey", "key": "vip"}]))
        .await;
    assert_eq!(s, 200);
    let (s, b) = admin(&ctx, reqwest::Method::GET, &format!("/admin/customer-groups/{vip}"), None).await;
    assert_eq!(
        (s, &b["customer_group"]["name"], &b["customer_group"]["metadata"]),
        (200, &json!("VIP 3"), &json!({"tier": 1}))
    );

    // A group of the project family is listed by the admin family.
    let gold = ctx.create("Gold", Some("gold")).await;
    let (s, b) = admin(&ctx, reqwest::Method::GET, "/admin/customer-groups", None).await;
    assert_eq!(s, 200, "{b}");
    let mut names: Vec<&str> =
        b["customer_groups"].as_array().expect("list").iter().map(|g| g["name"].as_str().expect("name")).collect();
    names.sort_unstable();
    assert_eq!((names, &b["count"]), (vec!["Gold", "VIP 3"], &json!(2)));
    // The admin family's uniqueness is the same rule.
    let (s, b) = admin(&ctx, reqwest::Method::POST, "/admin/customer-groups", Some(json!({"name": "Gold"}))).await;
    assert_eq!((s, &b["type"]), (422, &json!("duplicate_error")), "{b}");
    // A delete in the admin family is seen by the project family.
    let (s, _) = admin(&ctx, reqwest::Method::DELETE, &format!("/admin/customer-groups/{}", id(&gold)), None).await;
    assert_eq!(s, 200);
    let (s, _) = ctx.get("/customer-groups/key=gold").await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_one_project_cannot_touch_another() {
    let app = TestApp::spawn().await;
    app.project("proj-a").await;
    app.project("proj-b").await;
    let token_a = app.token_with_scopes("proj-a", &["manage_project:proj-a"]).await;
    let token_b = app.token_with_scopes("proj-b", &["manage_project:proj-b"]).await;
    let resp = app
        .http
        .post(app.url("/proj-b/customer-groups"))
        .bearer_auth(&token_b)
        .json(&json!({"groupName": "B", "key": "bk"}));
    let (s, group_b) = json(resp.send().await.expect("send")).await;
    assert_eq!(s, 201, "{group_b}");
    let gid = id(&group_b);

    let forbidden = |s: u16, b: &Value| {
        assert_eq!(s, 403, "{b}");
        assert_eq!(b["error"], "insufficient_scope", "{b}");
        assert_eq!(first_error(b).0, "insufficient_scope", "{b}");
        assert!(b["error_description"].as_str().is_some_and(|d| d.starts_with("Insufficient scope.")), "{b}");
    };
    let http = &app.http;
    let body = json!({"version": 1, "actions": [{"action": "changeName", "name": "hijacked"}]});
    let b_group = app.url(&format!("/proj-b/customer-groups/{gid}"));
    let refused = [
        http.get(app.url("/proj-b/customer-groups")),
        http.get(b_group.as_str()),
        http.get(app.url("/proj-b/customer-groups/key=bk")),
        http.post(app.url("/proj-b/customer-groups")).json(&json!({"groupName": "from a"})),
        http.post(b_group.as_str()).json(&body),
        http.delete(app.url(&format!("/proj-b/customer-groups/{gid}?version=1"))),
        // An unknown project is indistinguishable from another's.
        http.get(app.url("/nope/customer-groups")),
    ];
    for req in refused {
        let (s, b) = json(req.bearer_auth(&token_a).send().await.expect("send")).await;
        forbidden(s, &b);
    }
    // Through its own project, a cannot reach b's group either.
    let (s, b) = json(
        http.get(app.url(&format!("/proj-a/customer-groups/{gid}"))).bearer_auth(&token_a).send().await.expect("send"),
    )
    .await;
    assert_eq!((s, first_error(&b).0.as_str()), (404, "ResourceNotFound"));
    let (s, b) =
        json(http.get(app.url("/proj-a/customer-groups/key=bk")).bearer_auth(&token_a).send().await.expect("send"))
            .await;
    assert_eq!((s, first_error(&b).0.as_str()), (404, "ResourceNotFound"));
    let resp = http.post(app.url(&format!("/proj-a/customer-groups/{gid}"))).bearer_auth(&token_a).json(&body);
    let (s, _) = json(resp.send().await.expect("send")).await;
    assert_eq!(s, 404);
    let resp = http.delete(app.url(&format!("/proj-a/customer-groups/{gid}?version=1"))).bearer_auth(&token_a);
    let (s, _) = json(resp.send().await.expect("send")).await;
    assert_eq!(s, 404);
    // Names and keys are unique per project only.
    let resp = http
        .post(app.url("/proj-a/customer-groups"))
        .bearer_auth(&token_a)
        .json(&json!({"groupName": "B", "key": "bk"}));
    let (s, b) = json(resp.send().await.expect("send")).await;
    assert_eq!(s, 201, "{b}");
    let resp = http.get(app.url("/proj-a/customer-groups")).bearer_auth(&token_a).send().await.expect("send");
    let (s, b) = json(resp).await;
    assert_eq!((s, &b["total"]), (200, &json!(1)));

    // Nothing changed in b.
    let resp =
        http.get(app.url(&format!("/proj-b/customer-groups/{gid}"))).bearer_auth(&token_b).send().await.expect("send");
    let (s, now) = json(resp).await;
    assert_eq!((s, &now), (200, &group_b));
    let resp = http.get(app.url("/proj-b/customer-groups")).bearer_auth(&token_b).send().await.expect("send");
    let (s, b) = json(resp).await;
    assert_eq!((s, &b["total"]), (200, &json!(1)));
}
