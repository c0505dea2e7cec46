//! §2.6: customer groups, admin flavour, sharing the one versioned group with §3.

use crate::{assert_answer, coded_error, created, error, id_of, Ctx, UNKNOWN_ID};
use serde_json::{json, Value};

/// The answer to a group name that is taken.
fn taken(name: &str) -> Value {
    coded_error(
        "duplicate_error",
        &format!("Customer group with name: {name} already exists."),
        "invalid_request_error",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_list_update_delete() {
    let ctx = Ctx::new().await;
    let (s, b) = ctx.post("/admin/customer-groups", json!({"name": "gold", "metadata": {"tier": 1}})).await;
    assert_eq!(s, 200, "{b}");
    insta::assert_json_snapshot!(created(&b, "customer_group"), @r#"
        {
          "customer_group": {
            "id": "[id]",
            "name": "gold",
            "metadata": {
              "tier": 1
            },
            "created_by": "[admin user id]",
            "created_at": "[ts]",
            "updated_at": "[ts]",
            "deleted_at": null
          }
        }
        "#);
    let gold = id_of(&b["customer_group"]);
    let created = b["customer_group"].clone();
    let mut db = ctx.db().await;
    assert_eq!(created["created_by"], json!(db.text("SELECT id::text AS a FROM admin_users").await));

    let (s, b) = ctx.get(&format!("/admin/customer-groups/{gold}")).await;
    assert_eq!((s, &b["customer_group"]), (200, &created));

    // The project family sees the same group at version 1.
    let (s, p) = ctx.get(&format!("/demo/customer-groups/{gold}")).await;
    assert_eq!((s, p["name"].as_str(), p["version"].as_i64()), (200, Some("gold"), Some(1)));

    let silver = ctx.group("silver").await;
    let (s, list) = ctx.get("/admin/customer-groups").await;
    assert_eq!(s, 200);
    assert_eq!((list["count"].clone(), list["offset"].clone(), list["limit"].clone()), (json!(2), json!(0), json!(50)));
    let ids: Vec<String> = list["customer_groups"].as_array().expect("groups").iter().map(id_of).collect();
    assert_eq!(ids, [gold.clone(), silver.clone()]);
    let (_, list) = ctx.get("/admin/customer-groups?q=SIL").await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["customer_groups"][0]["name"], "silver");
    let (_, list) = ctx.get("/admin/customer-groups?order=-name&limit=1").await;
    assert_eq!((list["count"].clone(), list["customer_groups"][0]["name"].clone()), (json!(2), json!("silver")));

    // Rename → version 2 in the project family; metadata merges shallowly (+1 more).
    let (s, b) = ctx.post(&format!("/admin/customer-groups/{gold}"), json!({"name": "platinum"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["customer_group"]["name"], "platinum");
    assert_eq!(b["customer_group"]["created_at"], created["created_at"]);
    assert_eq!(ctx.version(&gold).await, 2);
    let (s, b) =
        ctx.post(&format!("/admin/customer-groups/{gold}"), json!({"metadata": {"tier": "", "x": true}})).await;
    assert_eq!((s, b["customer_group"]["metadata"].clone()), (200, json!({"x": true})));
    assert_eq!(ctx.version(&gold).await, 3);
    // An update that changes nothing keeps the version.
    let (s, _) = ctx.post(&format!("/admin/customer-groups/{gold}"), json!({"name": "platinum"})).await;
    assert_eq!(s, 200);
    assert_eq!(ctx.version(&gold).await, 3);
    // A change through the project family is visible here.
    let (s, _) = ctx
        .post(
            &format!("/demo/customer-groups/{gold}"),
            json!({"version": 3, "actions": [{"action": "changeName", "name": "Diamond"}]}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, b) = ctx.get(&format!("/admin/customer-groups/{gold}")).await;
    assert_eq!(b["customer_group"]["name"], "Diamond");

    let answer = ctx.delete(&format!("/admin/customer-groups/{gold}")).await;
    assert_answer(&answer, 200, &json!({"id": gold, "object": "customer_group", "deleted": true}));
    assert_eq!(ctx.get(&format!("/admin/customer-groups/{gold}")).await.0, 404);
    assert_eq!(ctx.get(&format!("/demo/customer-groups/{gold}")).await.0, 404);
    let (s, b) = ctx.delete(&format!("/admin/customer-groups/{gold}")).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (404, Some(format!("Customer group with id: {gold} was not found").as_str()))
    );
    // The name is free again.
    ctx.group("Diamond").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_and_duplicates() {
    let ctx = Ctx::new().await;
    let mut table = Vec::new();
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": 1}),
        json!({"name": "a", "key": "k"}),
        json!({"name": "a", "metadata": []}),
    ] {
        let (s, b) = ctx.post("/admin/customer-groups", body.clone()).await;
        assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")), "{body}: {b}");
        table.push(json!([body, b["message"]]));
    }
    insta::assert_json_snapshot!(Value::Array(table), @r#"
        [
          [
            {},
            "Invalid request: Field 'name' is required"
          ],
          [
            {
              "name": ""
            },
            "Invalid request: Field 'name' must not be empty"
          ],
          [
            {
              "name": 1
            },
            "Invalid request: Expected type: 'string' for field 'name', got: 'number'"
          ],
          [
            {
              "name": "a",
              "key": "k"
            },
            "Invalid request: Unrecognized fields: 'key'"
          ],
          [
            {
              "name": "a",
              "metadata": []
            },
            "Invalid request: Expected type: 'object' for field 'metadata', got: 'array'"
          ]
        ]
        "#);

    ctx.group("gold").await;
    assert_answer(&ctx.post("/admin/customer-groups", json!({"name": "gold"})).await, 422, &taken("gold"));
    // Names are case-sensitive.
    ctx.group("Gold").await;
    assert_eq!(ctx.db().await.rows("customer_groups").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_remove_customers_of_a_group() {
    let ctx = Ctx::new().await;
    let gold = ctx.group("gold").await;
    let [a, b_]: [String; 2] = ctx.customer_ids(["a@b.co", "b@b.co"].map(String::from)).await.try_into().expect("two");
    let path = format!("/admin/customer-groups/{gold}/customers");

    let (s, b) = ctx.post(&path, json!({"add": [a, b_]})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["customer_group"]["id"], json!(gold));
    assert!(b["customer_group"].get("customers").is_none(), "members only when asked for");
    assert_eq!(ctx.groups_of(&a).await, vec![gold.clone()]);
    assert_eq!(ctx.groups_of(&b_).await, vec![gold.clone()]);
    assert_eq!(ctx.version(&gold).await, 2);

    // Again: a no-op. Then remove one, with the members in the answer.
    assert_eq!(ctx.post(&path, json!({"add": [a]})).await.0, 200);
    assert_eq!(ctx.version(&gold).await, 2);
    let (s, b) = ctx.post(&format!("{path}?fields=name,customers.id,customers.email"), json!({"remove": [a]})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"customer_group": {"id": gold, "name": "gold", "customers": [{"id": b_, "email": "b@b.co"}]}})
    );
    assert_eq!(ctx.version(&gold).await, 3);
    assert!(ctx.groups_of(&a).await.is_empty());
    let (s, b) = ctx.get(&format!("/admin/customer-groups/{gold}?fields=*customers")).await;
    assert_eq!(s, 200);
    assert_eq!(b["customer_group"]["customers"].as_array().map(Vec::len), Some(1));
    assert_eq!(b["customer_group"]["customers"][0]["email"], "b@b.co");

    // All or nothing: an unknown customer is 404 naming it.
    let answer = ctx.post(&path, json!({"add": [a, UNKNOWN_ID]})).await;
    assert_answer(
        &answer,
        404,
        &error("not_found", "Customer with id: 01900000-0000-7000-8000-000000000000 was not found"),
    );
    assert!(ctx.groups_of(&a).await.is_empty());
    let (s, b) = ctx.post(&path, json!({"add": [a], "remove": [a]})).await;
    assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")));
    let (s, b) = ctx.post(&format!("/admin/customer-groups/{UNKNOWN_ID}/customers"), json!({"add": [a]})).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (404, Some(format!("Customer group with id: {UNKNOWN_ID} was not found").as_str()))
    );
    assert_eq!(ctx.version(&gold).await, 3);
    // Filtering customers by the group agrees.
    let (_, list) = ctx.get(&format!("/admin/customers?groups={gold}")).await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["customers"][0]["id"], json!(b_));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_name_lose_with_422() {
    let ctx = Ctx::new().await;
    let requests = (0..20).map(|_| {
        let req = ctx.post_request("/admin/customer-groups").json(&json!({"name": "gold"}));
        async move { crate::json(req.send().await.expect("send")).await }
    });
    let answers = futures::future::join_all(requests).await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "{answers:?}");
    for answer in answers.iter().filter(|(s, _)| *s != 200) {
        assert_answer(answer, 422, &taken("gold"));
    }
    let mut db = ctx.db().await;
    assert_eq!(db.rows("customer_groups").await, 1);
    assert_eq!(db.count("SELECT customer_group_count::bigint AS n FROM projects").await, 1, "the counter is exact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_at_the_group_limit_are_not_allowed() {
    let app = xclade_testkit::TestApp::spawn_with(|s| s.max_customer_groups = 5).await;
    let ctx = Ctx::with_app(app).await;
    let requests = (0..12).map(|i| {
        let req = ctx.post_request("/admin/customer-groups").json(&json!({"name": format!("g{i}")}));
        async move { crate::json(req.send().await.expect("send")).await }
    });
    let answers = futures::future::join_all(requests).await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == 200).count(), 5, "{answers:?}");
    for (s, b) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*s, b["type"].as_str()), (400, Some("not_allowed")), "{b}");
    }
    let (_, list) = ctx.get("/admin/customer-groups").await;
    assert_eq!(list["count"], 5);
    // A delete frees a slot.
    let first = id_of(&list["customer_groups"][0]);
    assert_eq!(ctx.delete(&format!("/admin/customer-groups/{first}")).await.0, 200);
    ctx.group("again").await;
}
