//! §2.1: every row of the admin error table, through real requests.

use crate::{assert_answer, coded_error, customer_body, error, json, Ctx, UNKNOWN_ID};
use serde_json::json;
use serde_json::Value;
use xclade_testkit::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_data_400() {
    let ctx = Ctx::new().await;

    let mut missing = customer_body("a@b.co");
    missing.as_object_mut().expect("object").remove("email");
    let mut wrong = customer_body("a@b.co");
    wrong["first_name"] = json!(42);
    let mut unknown = customer_body("a@b.co");
    unknown["foo"] = json!("bar");
    for (answer, message) in [
        (ctx.post("/admin/customers", missing).await, "Invalid request: Field 'email' is required"),
        (ctx.post("/admin/customers", customer_body("not-an-email")).await, "Invalid request: Invalid email"),
        (
            ctx.post("/admin/customers", wrong).await,
            "Invalid request: Expected type: 'string' for field 'first_name', got: 'number'",
        ),
        (ctx.post("/admin/customers", unknown).await, "Invalid request: Unrecognized fields: 'foo'"),
        (
            ctx.post_raw("/admin/customers", r#"{"email": "a@b.co","#).await,
            "Invalid request: Malformed JSON: EOF while parsing a value at line 1 column 19",
        ),
        (
            ctx.post_raw("/admin/customers", r#"["a@b.co"]"#).await,
            "Invalid request: Expected type: 'object' for the request body, got: 'array'",
        ),
        (ctx.get("/admin/customers?fields=foo,bar").await, "Requested fields [foo, bar] are not valid"),
    ] {
        assert_answer(&answer, 400, &error("invalid_data", message));
    }

    // Nothing of it was written.
    let mut db = ctx.db().await;
    assert_eq!(db.rows("customers").await, 0);
    assert_eq!(db.event_count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_allowed_400_when_the_group_limit_is_reached() {
    let app = TestApp::spawn_with(|s| s.max_customer_groups = 1).await;
    let ctx = Ctx::with_app(app).await;
    ctx.group("gold").await;
    let answer = ctx.post("/admin/customer-groups", json!({"name": "silver"})).await;
    let message = "You have exceeded the limit of 1 resources of type customer-group.";
    assert_answer(&answer, 400, &error("not_allowed", message));
    assert_eq!(ctx.db().await.rows("customer_groups").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_401_is_the_text_unauthorized() {
    let ctx = Ctx::new().await;
    let customer = ctx.customer_id("a@b.co").await;
    let paths = [
        ("GET", "/admin/customers".to_owned()),
        ("POST", "/admin/customers".to_owned()),
        ("GET", format!("/admin/customers/{customer}")),
        ("DELETE", format!("/admin/customers/{customer}")),
        ("POST", format!("/admin/customers/{customer}/customer-groups")),
        ("GET", format!("/admin/customers/{customer}/addresses")),
        ("GET", "/admin/customer-groups".to_owned()),
        ("POST", "/admin/customer-groups".to_owned()),
        ("POST", format!("/admin/customer-groups/{UNKNOWN_ID}/customers")),
    ];
    for (method, path) in paths {
        for token in [None, Some("garbage")] {
            let mut req = match method {
                "GET" => ctx.app.http.get(ctx.url(&path)),
                "DELETE" => ctx.app.http.delete(ctx.url(&path)),
                _ => ctx.app.http.post(ctx.url(&path)).header("content-type", "application/json").body("{not json"),
            };
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let resp = req.send().await.expect("send");
            assert_eq!(resp.status().as_u16(), 401, "{method} {path}");
            let content_type = resp.headers()["content-type"].to_str().unwrap_or_default().to_owned();
            assert!(content_type.starts_with("text/plain"), "{method} {path}: {content_type}");
            assert_eq!(resp.text().await.unwrap_or_default(), "Unauthorized", "{method} {path}");
        }
    }
    // The unauthenticated DELETE deleted nothing.
    assert_eq!(ctx.get(&format!("/admin/customers/{customer}")).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_403_without_the_scope() {
    let ctx = Ctx::new().await;
    let viewer = ctx.app.token_with_scopes("demo", &["view_customers:demo"]).await;
    let groups_only = ctx.app.token_with_scopes("demo", &["view_customer_groups:demo"]).await;
    let types_only = ctx.app.token_with_scopes("demo", &["view_types:demo"]).await;
    let missing = "Insufficient scope. One of the following scopes is missing:";
    for (answer, scopes) in [
        // The permission is checked before the body is read: even an invalid body is 403.
        (ctx.post_as(&viewer, "/admin/customers", json!({"foo": 1})).await, "manage_customers."),
        (ctx.get_as(&groups_only, "/admin/customers").await, "manage_customers, view_customers."),
        (
            ctx.post_as(&groups_only, "/admin/customer-groups", json!({"name": "gold"})).await,
            "manage_customer_groups, manage_customers.",
        ),
        (
            ctx.get_as(&types_only, "/admin/customer-groups").await,
            "manage_customer_groups, manage_customers, view_customer_groups, view_customers.",
        ),
    ] {
        assert_answer(&answer, 403, &error("forbidden", &format!("{missing} {scopes}")));
    }

    let mut db = ctx.db().await;
    assert_eq!(db.rows("customers").await, 0);
    assert_eq!(db.rows("customer_groups").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_404_names_the_resource() {
    let ctx = Ctx::new().await;
    for (answer, message) in [
        (
            ctx.get(&format!("/admin/customers/{UNKNOWN_ID}")).await,
            "Customer with id: 01900000-0000-7000-8000-000000000000 was not found",
        ),
        (
            ctx.get(&format!("/admin/customer-groups/{UNKNOWN_ID}")).await,
            "Customer group with id: 01900000-0000-7000-8000-000000000000 was not found",
        ),
        // An id that is not a UUID is as unknown as any other.
        (ctx.get("/admin/customers/cus_123").await, "Customer with id: cus_123 was not found"),
        (
            ctx.post("/admin/customer-groups/gold", json!({"name": "x"})).await,
            "Customer group with id: gold was not found",
        ),
    ] {
        assert_answer(&answer, 404, &error("not_found", message));
    }
    // A route that does not exist, or a method a route does not have, answers in the same
    // format.
    let (s, b) = ctx.get("/admin/nothing-here").await;
    assert_eq!((s, b["type"].as_str()), (404, Some("not_found")), "{b}");
    let resp = ctx.app.http.put(ctx.url("/admin/customers")).bearer_auth(&ctx.token).json(&json!({})).send().await;
    let (s, b) = json(resp.expect("send")).await;
    assert!(s == 404 || s == 405, "{s}");
    assert!(b["type"].is_string() && b["message"].is_string(), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_error_422() {
    let ctx = Ctx::new().await;
    ctx.customer("a@b.co").await;
    ctx.group("gold").await;
    for (answer, message) in [
        (ctx.post("/admin/customers", customer_body("a@b.co")).await, "Customer with email: a@b.co already exists."),
        (
            ctx.post("/admin/customer-groups", json!({"name": "gold"})).await,
            "Customer group with name: gold already exists.",
        ),
    ] {
        assert_answer(&answer, 422, &coded_error("duplicate_error", message, "invalid_request_error"));
    }

    // Renaming onto a taken name is the same error.
    let silver = ctx.group("silver").await;
    let (s, b) = ctx.post(&format!("/admin/customer-groups/{silver}"), json!({"name": "gold"})).await;
    assert_eq!(s, 422);
    assert_eq!(b["message"], "Customer group with name: gold already exists.");
    assert_eq!(ctx.version(&silver).await, 1);
}

/// The body of every database failure: it shows no internals.
fn database_error() -> Value {
    coded_error("database_error", "An error occurred while accessing the database.", "api_error")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_error_500_shows_no_internals() {
    let ctx = Ctx::new().await;
    let mut db = ctx.db().await;
    db.exec(
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'secret-internal-detail in customers'; END $$",
    )
    .await;
    db.exec("CREATE TRIGGER boom BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION boom()").await;

    let (s, b) = ctx.post("/admin/customers", customer_body("a@b.co")).await;
    assert_answer(&(s, b.clone()), 500, &database_error());
    assert!(!b.to_string().contains("secret") && !b.to_string().contains("INSERT"));
    assert_eq!(db.event_count().await, 0, "nothing is recorded for a rolled-back write");
    // The service is fine otherwise.
    assert_eq!(ctx.get("/admin/customers").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_unreachable_503_on_admin_routes() {
    let ctx = Ctx::new().await;
    let customer = ctx.customer_id("a@b.co").await;
    ctx.app.db.set_connections(false).await;

    let (s, b) = ctx.post("/admin/customers", customer_body("b@b.co")).await;
    assert_answer(&(s, b.clone()), 503, &database_error());
    let (s, b2) = ctx.get(&format!("/admin/customers/{customer}")).await;
    assert_eq!((s, &b2), (503, &b));
    let (s, b3) = ctx.get("/admin/customer-groups").await;
    assert_eq!((s, &b3), (503, &b));

    ctx.app.db.set_connections(true).await;
    let mut status = 0;
    for _ in 0..20 {
        status = ctx.get(&format!("/admin/customers/{customer}")).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "the service recovers by itself");
}

/// What §3.2 asks of a write without a version ("races resolve to the rule that decided them";
/// 409 only for "a write that genuinely cannot be decided"): concurrent metadata merges can
/// all be decided, one after the other, so every one of them applies (the update locks the row).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_admin_group_updates_all_apply() {
    let ctx = Ctx::new().await;
    let group = ctx.group("gold").await;
    let requests = (0..16).map(|i| {
        let req = ctx
            .post_request(&format!("/admin/customer-groups/{group}"))
            .json(&json!({"metadata": {format!("k{i}"): i}}));
        async move { json(req.send().await.expect("send")).await }
    });
    for (s, b) in futures::future::join_all(requests).await {
        assert_eq!(s, 200, "{b}");
    }
    let (_, after) = ctx.get(&format!("/admin/customer-groups/{group}")).await;
    assert_eq!(after["customer_group"]["metadata"].as_object().map(serde_json::Map::len), Some(16));
    assert_eq!(ctx.version(&group).await, 17);
}

/// PostgreSQL text and jsonb cannot hold U+0000: such input is a 400 that names the field,
/// never a 500, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_are_invalid_data_not_500() {
    let ctx = Ctx::new().await;
    let mut body = customer_body("nul@x.io");
    body["first_name"] = json!("a\u{0}b");
    let (s, b) = ctx.post("/admin/customers", body).await;
    assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")), "{b}");
    assert_eq!(b["message"], "Invalid request: Field 'first_name' must not contain the character U+0000");

    let mut body = customer_body("nul@x.io");
    body["metadata"] = json!({"k": {"deep": "x\u{0}"}});
    let (s, b) = ctx.post("/admin/customers", body).await;
    assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")), "{b}");

    let (s, b) = ctx.post("/admin/customer-groups", json!({"name": "g", "metadata": {"a\u{0}": 1}})).await;
    assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")), "{b}");

    let customer = ctx.customer_id("ok@x.io").await;
    let (s, b) = ctx.post(&format!("/admin/customers/{customer}/addresses"), json!({"city": "x\u{0}"})).await;
    assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")), "{b}");

    for path in ["/admin/customers?q=a%00b", "/admin/customers?email=a%00@x.io", "/admin/customer-groups?q=%00"] {
        let (s, b) = ctx.get(path).await;
        assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")), "{path}: {b}");
    }
    let (s, b) = ctx.get("/admin/customers").await;
    assert_eq!((s, b["count"].as_i64()), (200, Some(1)), "only the valid customer exists");
}
