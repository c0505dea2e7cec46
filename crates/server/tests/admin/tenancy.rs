//! §1 and §1.3: admin routes act on the token's project; nothing is visible across projects.

use crate::{id_of, Ctx};
use serde_json::{json, Value};

/// The answers to a GET, a POST of `update` and a DELETE of `path` with `token`, in that order.
async fn read_update_delete(ctx: &Ctx, token: &str, path: &str, update: Value) -> Vec<(u16, Value)> {
    vec![ctx.get_as(token, path).await, ctx.post_as(token, path, update).await, ctx.delete_as(token, path).await]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_another_project_sees_and_changes_nothing() {
    // Project `demo` holds the data; project `alpha` tries to reach it.
    let ctx = Ctx::new().await;
    let customer = ctx.customer_id("shared@b.co").await;
    let group = ctx.group("gold").await;
    let path = format!("/admin/customers/{customer}");
    assert_eq!(ctx.post(&format!("{path}/customer-groups"), json!({"add": [group]})).await.0, 200);
    let (_, b) = ctx.post(&format!("{path}/addresses"), json!({"city": "Paris"})).await;
    let address = id_of(&b["customer"]["addresses"][0]);
    let (_, before) = ctx.get(&path).await;
    let version = ctx.version(&group).await;
    let mut db = ctx.db().await;
    let events = db.event_count().await;

    let alpha = ctx.app.project("alpha").await;
    let user = ctx.app.admin_token(&alpha).await;
    let client = ctx.app.token_with_scopes("alpha", &["manage_project:alpha"]).await;
    let own_customer = {
        let (s, b) = ctx.post_as(&user, "/admin/customers", crate::customer_body("mine@b.co")).await;
        assert_eq!(s, 200);
        id_of(&b["customer"])
    };
    let own_group = {
        let (s, b) = ctx.post_as(&user, "/admin/customer-groups", json!({"name": "gold"})).await;
        assert_eq!(s, 200, "the same name in another project is fine: {b}");
        id_of(&b["customer_group"])
    };
    let alpha_events = db.event_count().await;

    let customer_404 = json!({"type": "not_found", "message": format!("Customer with id: {customer} was not found")});
    let group_404 = json!({"type": "not_found", "message": format!("Customer group with id: {group} was not found")});
    for token in [&user, &client] {
        let address_path = format!("{path}/addresses/{address}");
        let mut customer_cases = read_update_delete(&ctx, token, &path, json!({"first_name": "Mallory"})).await;
        customer_cases.extend([
            ctx.post_as(token, &format!("{path}/customer-groups"), json!({"remove": [group]})).await,
            ctx.get_as(token, &format!("{path}/addresses")).await,
            ctx.post_as(token, &format!("{path}/addresses"), json!({"city": "x"})).await,
        ]);
        customer_cases.extend(read_update_delete(&ctx, token, &address_path, json!({"city": "x"})).await);
        let own_group_members = format!("/admin/customer-groups/{own_group}/customers");
        customer_cases.push(ctx.post_as(token, &own_group_members, json!({"add": [customer]})).await);
        for (i, answer) in customer_cases.into_iter().enumerate() {
            assert_eq!(answer, (404, customer_404.clone()), "customer case {i}");
        }
        let group_path = format!("/admin/customer-groups/{group}");
        let mut group_cases = read_update_delete(&ctx, token, &group_path, json!({"name": "stolen"})).await;
        group_cases.extend([
            ctx.post_as(token, &format!("{group_path}/customers"), json!({"add": [own_customer]})).await,
            ctx.post_as(token, &format!("/admin/customers/{own_customer}/customer-groups"), json!({"add": [group]}))
                .await,
        ]);
        for (i, answer) in group_cases.into_iter().enumerate() {
            assert_eq!(answer, (404, group_404.clone()), "group case {i}");
        }
        // Lists show only the token's project.
        let (_, list) = ctx.get_as(token, "/admin/customers").await;
        assert_eq!(list["count"], 1);
        assert_eq!(list["customers"][0]["id"], json!(own_customer));
        let (_, list) = ctx.get_as(token, "/admin/customers?email=shared@b.co").await;
        assert_eq!(list["count"], 0);
        let (_, list) = ctx.get_as(token, &format!("/admin/customers?groups={group}")).await;
        assert_eq!(list["count"], 0);
        let (_, list) = ctx.get_as(token, "/admin/customer-groups").await;
        assert_eq!(list["count"], 1);
        assert_eq!(list["customer_groups"][0]["id"], json!(own_group));
    }

    // Nothing changed in `demo`, and `alpha` recorded nothing either.
    let (_, after) = ctx.get(&path).await;
    assert_eq!(after, before);
    assert_eq!(ctx.version(&group).await, version);
    assert_eq!(db.event_count().await, alpha_events);
    assert_eq!(alpha_events, events + 2);
    assert_eq!(db.memberships(&own_customer).await, 0);
    // The project family of `demo` is closed to `alpha` tokens (403, not 404).
    let (s, _) = ctx.get_as(&user, &format!("/demo/customer-groups/{group}")).await;
    assert_eq!(s, 403);
    // And the same email may exist once per project.
    let (s, _) = ctx.post_as(&user, "/admin/customers", crate::customer_body("SHARED@b.co")).await;
    assert_eq!(s, 200);
}
