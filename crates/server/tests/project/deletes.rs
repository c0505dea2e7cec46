//! §3.3: deletes — version required and checked, the deleted group answered, members leave.

use crate::json;
use crate::support::{assert_group_view, first_error, id, Ctx};
use serde_json::{json, Value};

async fn create_customer(ctx: &Ctx, email: &str) -> String {
    let body = json!({
        "email": email, "company_name": "Acme", "first_name": "Ada", "last_name": "Lovelace",
        "phone": "+1 555 0100", "metadata": {}
    });
    let resp = ctx.app.http.post(ctx.app.url("/admin/customers")).bearer_auth(&ctx.token).json(&body).send().await;
    let (s, b) = json(resp.expect("send")).await;
    assert_eq!(s, 200, "{b}");
    b["customer"]["id"].as_str().expect("customer id").to_owned()
}

async fn customer(ctx: &Ctx, customer: &str) -> Value {
    let resp = ctx.app.http.get(ctx.app.url(&format!("/admin/customers/{customer}"))).bearer_auth(&ctx.token).send();
    let (s, b) = json(resp.await.expect("send")).await;
    assert_eq!(s, 200, "{b}");
    b["customer"].clone()
}

fn group_ids(customer: &Value) -> Vec<String> {
    customer["groups"].as_array().expect("groups").iter().map(|g| g["id"].as_str().expect("id").to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_by_id_needs_the_current_version_and_removes_memberships() {
    let ctx = Ctx::new().await;
    let gold = ctx.create("Gold", Some("gold")).await;
    let silver = ctx.create("Silver", None).await;
    let (gid, sid) = (id(&gold), id(&silver));
    let ada = create_customer(&ctx, "ada@example.com").await;
    let bob = create_customer(&ctx, "bob@example.com").await;
    for c in [&ada, &bob] {
        let resp = ctx
            .app
            .http
            .post(ctx.app.url(&format!("/admin/customers/{c}/customer-groups")))
            .bearer_auth(&ctx.token)
            .json(&json!({"add": [gid, sid]}))
            .send()
            .await
            .expect("send");
        let (s, b) = json(resp).await;
        assert_eq!(s, 200, "{b}");
    }
    let mut groups = group_ids(&customer(&ctx, &ada).await);
    groups.sort();
    let mut both = vec![gid.clone(), sid.clone()];
    both.sort();
    assert_eq!(groups, both);
    // Each membership change bumped the group's version (decisions.md): 1 → 3.
    let (s, now) = ctx.get(&format!("/customer-groups/{gid}")).await;
    assert_eq!((s, &now["version"]), (200, &json!(3)));

    let (s, b) = ctx.delete(&format!("/customer-groups/{gid}")).await;
    assert_eq!((s, first_error(&b)), (400, ("InvalidOperation".into(), "Missing version number".into())));
    let (s, b) = ctx.delete(&format!("/customer-groups/{gid}?version=1")).await;
    assert_eq!((s, &b["errors"][0]["currentVersion"]), (409, &json!(3)), "{b}");
    let (s, b) = ctx.delete(&format!("/customer-groups/{gid}?version=abc")).await;
    assert_eq!((s, first_error(&b).0.as_str()), (400, "InvalidInput"), "{b}");
    assert!(first_error(&b).1.starts_with("Malformed parameter: version: "), "{b}");
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups").await, 2);

    let (s, deleted) = ctx.delete(&format!("/customer-groups/{gid}?version=3")).await;
    assert_eq!(s, 200);
    assert_group_view(&deleted, 3, Some(r#"gold"#), r#"Gold"#);
    assert_eq!(deleted["id"], json!(gid));
    let (s, _) = ctx.get(&format!("/customer-groups/{gid}")).await;
    assert_eq!(s, 404);
    let (s, b) = ctx.delete(&format!("/customer-groups/{gid}?version=3")).await;
    assert_eq!((s, first_error(&b).0.as_str()), (404, "ResourceNotFound"));

    // The members left the group; the other group keeps them.
    assert_eq!(group_ids(&customer(&ctx, &ada).await), vec![sid.clone()]);
    assert_eq!(group_ids(&customer(&ctx, &bob).await), vec![sid.clone()]);
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_group_memberships").await, 2);
    assert_eq!(ctx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 1);
    assert_eq!(ctx.events("customer-group.deleted").await, 1);
    // The name and the key are free again.
    ctx.create("Gold", Some("gold")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_by_key() {
    let ctx = Ctx::new().await;
    let gold = ctx.create("Gold", Some("gold")).await;
    let ada = create_customer(&ctx, "ada@example.com").await;
    let resp = ctx
        .app
        .http
        .post(ctx.app.url(&format!("/admin/customers/{ada}/customer-groups")))
        .bearer_auth(&ctx.token)
        .json(&json!({"add": [id(&gold)]}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);

    let (s, b) = ctx.delete("/customer-groups/key=gold").await;
    assert_eq!((s, first_error(&b).0.as_str()), (400, "InvalidOperation"));
    let (s, b) = ctx.delete("/customer-groups/key=gold?version=1").await;
    assert_eq!((s, &b["errors"][0]["currentVersion"]), (409, &json!(2)), "{b}");
    // Both SDKs send a JSON content type on DELETE without a body.
    let resp = ctx
        .app
        .http
        .delete(ctx.url("/customer-groups/key=gold?version=2"))
        .bearer_auth(&ctx.token)
        .header("content-type", "application/json")
        .send()
        .await
        .expect("send");
    let (s, b) = json(resp).await;
    assert_eq!((s, &b["id"], &b["key"], &b["version"]), (200, &gold["id"], &json!("gold"), &json!(2)));
    let (s, _) = ctx.get("/customer-groups/key=gold").await;
    assert_eq!(s, 404);
    assert!(group_ids(&customer(&ctx, &ada).await).is_empty());
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_group_memberships").await, 0);
    assert_eq!(ctx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 0);
}
