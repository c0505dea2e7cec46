//! §2.3: `Idempotency-Key` on `POST /admin/customers`.

use crate::{assert_answer, customer_body, error, Ctx};
use serde_json::{json, Value};

async fn create_raw(ctx: &Ctx, token: &str, key: &str, path: &str, body: &Value) -> (u16, String) {
    let req = ctx.app.http.post(ctx.url(path)).bearer_auth(token).header("Idempotency-Key", key).json(body);
    text_answer(req).await
}

/// Sends `req`: its status and its body's text.
async fn text_answer(req: reqwest::RequestBuilder) -> (u16, String) {
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("text"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_answers_the_first_response_byte_for_byte() {
    let ctx = Ctx::new().await;
    let body = customer_body("a@b.co");
    let (s, first) = create_raw(&ctx, &ctx.token, "key-1", "/admin/customers", &body).await;
    assert_eq!(s, 200, "{first}");
    // Later writes to the customer do not change what a retry answers.
    let id = serde_json::from_str::<Value>(&first).expect("json")["customer"]["id"].as_str().expect("id").to_owned();
    assert_eq!(ctx.post(&format!("/admin/customers/{id}"), json!({"first_name": "Changed"})).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let (s, again) = create_raw(&ctx, &ctx.token, "key-1", "/admin/customers", &body).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again, first, "byte for byte");
    let mut db = ctx.db().await;
    assert_eq!(db.rows("customers").await, 1);
    assert_eq!(db.count("SELECT count(*) AS n FROM events WHERE kind = 'customer.created'").await, 1);

    // The same body re-serialized with other whitespace is the same request.
    let spaced = serde_json::to_string_pretty(&body).expect("json");
    let req = ctx.post_request("/admin/customers").header("Idempotency-Key", "key-1");
    let answer = text_answer(req.header("content-type", "application/json").body(spaced)).await;
    assert_eq!(answer, (200, first));

    // Without a key, the same body is a new create (and a duplicate email).
    assert_eq!(ctx.post("/admin/customers", body).await.0, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_with_another_request_is_422() {
    let ctx = Ctx::new().await;
    let (s, _) = create_raw(&ctx, &ctx.token, "key-1", "/admin/customers", &customer_body("a@b.co")).await;
    assert_eq!(s, 200);
    let (s, text) = create_raw(&ctx, &ctx.token, "key-1", "/admin/customers", &customer_body("other@b.co")).await;
    assert_eq!(s, 422);
    let b: Value = serde_json::from_str(&text).expect("json");
    let message = "Idempotency-Key was already used with a different request body";
    assert_answer(&(s, b), 422, &error("invalid_data", message));
    // Another `fields` is another request too.
    let (s, _) = create_raw(&ctx, &ctx.token, "key-1", "/admin/customers?fields=email", &customer_body("a@b.co")).await;
    assert_eq!(s, 422);
    let mut db = ctx.db().await;
    assert_eq!(db.rows("customers").await, 1);

    // A malformed key is 400.
    let (s, text) = create_raw(&ctx, &ctx.token, &"k".repeat(256), "/admin/customers", &customer_body("x@b.co")).await;
    assert_eq!(s, 400, "{text}");
    assert_eq!(db.rows("customers").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_per_project() {
    let ctx = Ctx::new().await;
    let other = ctx.app.project("other").await;
    let other_token = ctx.app.admin_token(&other).await;
    let body = customer_body("a@b.co");
    let (s, first) = create_raw(&ctx, &ctx.token, "shared-key", "/admin/customers", &body).await;
    assert_eq!(s, 200);
    let (s, second) = create_raw(&ctx, &other_token, "shared-key", "/admin/customers", &body).await;
    assert_eq!(s, 200);
    assert_ne!(first, second, "a new customer in the other project");
    let mut db = ctx.db().await;
    assert_eq!(db.count("SELECT count(DISTINCT project_id) AS n FROM customers").await, 2);
    let (_, list) = ctx.get_as(&other_token, "/admin/customers").await;
    assert_eq!(list["count"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_retries_create_one_customer() {
    let ctx = Ctx::new().await;
    let body = customer_body("a@b.co");
    let requests = (0..10).map(|_| create_raw(&ctx, &ctx.token, "race-key", "/admin/customers", &body));
    let answers = futures::future::join_all(requests).await;
    let first = &answers[0].1;
    for (s, text) in &answers {
        assert_eq!(*s, 200, "{text}");
        assert_eq!(text, first, "every retry answers the one customer");
    }
    let mut db = ctx.db().await;
    assert_eq!(db.rows("customers").await, 1);
    assert_eq!(db.event_count().await, 1);
    let parsed: Value = serde_json::from_str(first).expect("json");
    assert_eq!(parsed["customer"]["email"], "a@b.co");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_remembered_for_24_hours() {
    let ctx = Ctx::new().await;
    let (s, _) = create_raw(&ctx, &ctx.token, "old-key", "/admin/customers", &customer_body("a@b.co")).await;
    assert_eq!(s, 200);
    let mut db = ctx.db().await;
    // 23 h later the key still holds; after 24 h it may be claimed again.
    db.exec("UPDATE idempotency_keys SET created_at = created_at - interval '23 hours'").await;
    let (s, _) = create_raw(&ctx, &ctx.token, "old-key", "/admin/customers", &customer_body("b@b.co")).await;
    assert_eq!(s, 422);
    db.exec("UPDATE idempotency_keys SET created_at = created_at - interval '90 minutes'").await;
    let (s, text) = create_raw(&ctx, &ctx.token, "old-key", "/admin/customers", &customer_body("b@b.co")).await;
    assert_eq!(s, 200, "{text}");
    assert_eq!(db.rows("customers").await, 2);
    let (s, again) = create_raw(&ctx, &ctx.token, "old-key", "/admin/customers", &customer_body("b@b.co")).await;
    assert_eq!((s, again), (200, text), "the new claim is replayed");
}
