//! §2.4 (seed 000): `POST /admin/customers/{id}/customer-groups`, all or nothing, no duplicate
//! membership rows ever, and the group versions it bumps (visible in the project family).

use crate::{assert_answer, error, id_of, json, redact_ids, Ctx, UNKNOWN_ID};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_remove_answer_the_customer_and_bump_versions() {
    let ctx = Ctx::new().await;
    let (customer, gold, path) = ctx.member_and_group().await;
    let silver = ctx.group("silver").await;

    let (s, b) = ctx.post(&path, json!({"add": [gold, silver]})).await;
    assert_eq!(s, 200, "{b}");
    let mut expected = vec![gold.clone(), silver.clone()];
    expected.sort();
    // The answer is the whole customer, as a read shows it (see `customers.rs` for its keys).
    let read = ctx.get(&format!("/admin/customers/{customer}")).await;
    assert_answer(&read, 200, &b);
    insta::assert_json_snapshot!(b["customer"]["groups"], {
        "[].id" => "[group id]",
        "[].created_at" => "[ts]",
        "[].updated_at" => "[ts]",
    }, @r#"
        [
          {
            "id": "[group id]",
            "name": "gold",
            "metadata": {},
            "created_at": "[ts]",
            "updated_at": "[ts]"
          },
          {
            "id": "[group id]",
            "name": "silver",
            "metadata": {},
            "created_at": "[ts]",
            "updated_at": "[ts]"
          }
        ]
        "#);
    let ids: Vec<String> = b["customer"]["groups"].as_array().expect("groups").iter().map(id_of).collect();
    assert_eq!(ids, expected, "groups in id order");
    assert_eq!((ctx.version(&gold).await, ctx.version(&silver).await), (2, 2));

    // Already in gold: a no-op for gold; silver leaves.
    let (s, b) = ctx.post(&path, json!({"add": [gold], "remove": [silver]})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["customer"]["groups"].as_array().map(Vec::len), Some(1));
    assert_eq!(b["customer"]["groups"][0]["name"], "gold");
    assert_eq!((ctx.version(&gold).await, ctx.version(&silver).await), (2, 3));

    // Removing a group it is not in, and an empty body: no-ops.
    let (s, _) = ctx.post(&path, json!({"remove": [silver]})).await;
    assert_eq!(s, 200);
    let (s, b) = ctx.post(&path, json!({})).await;
    assert_eq!((s, b["customer"]["groups"].as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!((ctx.version(&gold).await, ctx.version(&silver).await), (2, 3));

    // Duplicates inside one list are one membership.
    let (s, _) = ctx.post(&path, json!({"add": [silver, silver]})).await;
    assert_eq!(s, 200);
    let mut db = ctx.db().await;
    assert_eq!(db.memberships(&customer).await, 2);
    assert_eq!(ctx.version(&silver).await, 4);

    // `fields` shapes the answer.
    let (s, b) = ctx.post(&format!("{path}?fields=groups.name"), json!({"remove": [gold]})).await;
    assert_eq!(s, 200);
    assert_eq!(b, json!({"customer": {"id": customer, "groups": [{"id": silver, "name": "silver"}]}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_groups_are_404_and_change_nothing() {
    let ctx = Ctx::new().await;
    let (customer, gold, path) = ctx.member_and_group().await;
    let silver = ctx.group("silver").await;
    assert_eq!(ctx.post(&path, json!({"add": [silver]})).await.0, 200);

    let other = {
        let fixture = ctx.app.project("other").await;
        let token = ctx.app.admin_token(&fixture).await;
        let (s, b) = ctx.post_as(&token, "/admin/customer-groups", json!({"name": "theirs"})).await;
        assert_eq!(s, 200);
        id_of(&b["customer_group"])
    };
    let mut db = ctx.db().await;
    let events = db.event_count().await;

    for (body, missing) in [
        (json!({"add": [gold, UNKNOWN_ID], "remove": [silver]}), UNKNOWN_ID.to_owned()),
        (json!({"add": [gold], "remove": [silver, other]}), other.clone()),
        (json!({"add": [other]}), other.clone()),
        (json!({"add": ["gold"]}), "gold".to_owned()),
    ] {
        let (s, b) = ctx.post(&path, body.clone()).await;
        assert_eq!(s, 404, "{body}");
        assert_eq!(
            b,
            json!({"type": "not_found", "message": format!("Customer group with id: {missing} was not found")}),
            "{body}"
        );
        assert_eq!(ctx.groups_of(&customer).await, vec![silver.clone()], "nothing changed after {body}");
    }
    let answer = ctx.post(&path, json!({"add": [UNKNOWN_ID]})).await;
    assert_answer(
        &answer,
        404,
        &error("not_found", "Customer group with id: 01900000-0000-7000-8000-000000000000 was not found"),
    );
    assert_eq!((ctx.version(&gold).await, ctx.version(&silver).await), (1, 2));
    assert_eq!(db.event_count().await, events);
    assert_eq!(
        db.count(&format!("SELECT count(*) AS n FROM customer_group_memberships WHERE group_id = '{other}'")).await,
        0
    );

    // An unknown customer.
    let answer = ctx.post(&format!("/admin/customers/{UNKNOWN_ID}/customer-groups"), json!({"add": [gold]})).await;
    assert_answer(
        &answer,
        404,
        &error("not_found", "Customer with id: 01900000-0000-7000-8000-000000000000 was not found"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_bodies_are_400() {
    let ctx = Ctx::new().await;
    let (customer, gold, path) = ctx.member_and_group().await;

    let (s, b) = ctx.post(&path, json!({"add": [gold], "remove": [gold]})).await;
    let message = "Invalid request: The id [gold] cannot be both added and removed";
    assert_answer(&(s, redact_ids(&b, &[(&gold, "[gold]")])), 400, &error("invalid_data", message));
    let many: Vec<String> = (0..1001).map(|_| gold.clone()).collect();
    for (body, message) in [
        (json!({"add": gold}), "Invalid request: Expected type: 'array' for field 'add', got: 'string'"),
        (json!({"add": [1]}), "Invalid request: Expected type: 'string' for field 'add.0', got: 'number'"),
        (json!({"groups": [gold]}), "Invalid request: Unrecognized fields: 'groups'"),
        (json!({"add": many}), "Invalid request: Each of 'add' and 'remove' may hold at most 1000 ids"),
    ] {
        assert_answer(&ctx.post(&path, body).await, 400, &error("invalid_data", message));
    }
    let mut db = ctx.db().await;
    assert_eq!(db.memberships(&customer).await, 0);
    assert_eq!(ctx.version(&gold).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_adds_of_one_group_make_one_membership() {
    let ctx = Ctx::new().await;
    let (customer, gold, path) = ctx.member_and_group().await;
    let requests = (0..20).map(|_| {
        let req = ctx.post_request(&path).json(&json!({"add": [gold]}));
        async move { json(req.send().await.expect("send")).await }
    });
    for (s, b) in futures::future::join_all(requests).await {
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["customer"]["groups"][0]["id"], json!(gold));
    }
    let mut db = ctx.db().await;
    assert_eq!(db.memberships(&customer).await, 1);
    assert_eq!(ctx.version(&gold).await, 2, "bumped exactly once");
    let changed = db.count("SELECT count(*) AS n FROM events WHERE kind = 'customer.groups_changed'").await;
    assert_eq!(changed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_add_and_remove_of_disjoint_groups_both_apply() {
    let ctx = Ctx::new().await;
    let customer = ctx.customer_id("a@b.co").await;
    let path = format!("/admin/customers/{customer}/customer-groups");
    let groups = ctx.group_ids((0..6).map(|i| format!("g{i}"))).await;
    // In g0..g2 already; concurrently: add g3, add g4, remove g0, remove g1 + add g5.
    assert_eq!(ctx.post(&path, json!({"add": [groups[0], groups[1], groups[2]]})).await.0, 200);
    let bodies = [
        json!({"add": [groups[3]]}),
        json!({"add": [groups[4]]}),
        json!({"remove": [groups[0]]}),
        json!({"remove": [groups[1]], "add": [groups[5]]}),
    ];
    for _ in 0..3 {
        let requests = bodies.iter().map(|body| {
            let req = ctx.post_request(&path).json(body);
            async move { json(req.send().await.expect("send")).await }
        });
        for (s, b) in futures::future::join_all(requests).await {
            assert_eq!(s, 200, "{b}");
        }
    }
    let mut expected = vec![groups[2].clone(), groups[3].clone(), groups[4].clone(), groups[5].clone()];
    expected.sort();
    assert_eq!(ctx.groups_of(&customer).await, expected);
    let mut db = ctx.db().await;
    assert_eq!(db.memberships(&customer).await, 4);
    // Each group changed once by the concurrent round (the repeats were no-ops).
    for g in &groups[3..] {
        assert_eq!(ctx.version(g).await, 2, "{g}");
    }
    for g in &groups[..2] {
        assert_eq!(ctx.version(g).await, 3, "{g}");
    }
    assert_eq!(ctx.version(&groups[2]).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_group_leaves_its_members() {
    let ctx = Ctx::new().await;
    let (customer, gold, path) = ctx.member_and_group().await;
    assert_eq!(ctx.post(&path, json!({"add": [gold]})).await.0, 200);
    assert_eq!(ctx.delete(&format!("/admin/customer-groups/{gold}")).await.0, 200);
    assert!(ctx.groups_of(&customer).await.is_empty());
    let (s, b) = ctx.post(&path, json!({"add": [gold]})).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (404, Some(format!("Customer group with id: {gold} was not found").as_str()))
    );
}

/// Memberships written from both sides at once, while customers and a group are deleted:
/// every answer is a success or a 404 (never a 409 or a 5xx), and no deleted customer is left
/// in a group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_concurrent_membership_writes_and_deletes() {
    let ctx = Ctx::new().await;
    let customers = ctx.customer_ids((0..6).map(|i| format!("c{i}@b.co"))).await;
    let groups = ctx.group_ids((0..4).map(|i| format!("g{i}"))).await;
    let (c, g) = (&customers, &groups);
    let mut requests = Vec::new();
    for i in 0..48 {
        let (method, path, body) = match i % 8 {
            0 => (
                "POST",
                format!("/admin/customers/{}/customer-groups", c[i % 6]),
                json!({"add": [g[i % 4], g[(i + 1) % 4]]}),
            ),
            1 => ("POST", format!("/admin/customers/{}/customer-groups", c[i % 6]), json!({"remove": [g[i % 4]]})),
            2 => (
                "POST",
                format!("/admin/customer-groups/{}/customers", g[i % 4]),
                json!({"add": [c[i % 6], c[(i + 2) % 6]]}),
            ),
            3 => {
                ("POST", format!("/admin/customer-groups/{}/customers", g[i % 4]), json!({"remove": [c[(i + 1) % 6]]}))
            }
            4 => (
                "POST",
                format!("/admin/customers/{}/customer-groups", c[(i + 3) % 6]),
                json!({"add": [g[(i + 2) % 4]], "remove": [g[(i + 3) % 4]]}),
            ),
            5 => (
                "POST",
                format!("/admin/customer-groups/{}/customers", g[(i + 1) % 4]),
                json!({"add": [c[(i + 5) % 6]], "remove": [c[i % 6]]}),
            ),
            _ => ("GET", format!("/admin/customers?groups={}", g[i % 4]), json!(null)),
        };
        requests.push((method, path, body));
    }
    requests.insert(20, ("DELETE", format!("/admin/customers/{}", c[4]), json!(null)));
    requests.insert(30, ("DELETE", format!("/admin/customers/{}", c[5]), json!(null)));
    requests.insert(40, ("DELETE", format!("/admin/customer-groups/{}", g[3]), json!(null)));

    let sent = requests.iter().map(|(method, path, body)| {
        let url = ctx.url(path);
        let req = match *method {
            "GET" => ctx.app.http.get(url),
            "DELETE" => ctx.app.http.delete(url),
            _ => ctx.app.http.post(url).json(body),
        }
        .bearer_auth(&ctx.token);
        async move { json(req.send().await.expect("send")).await }
    });
    let answers = futures::future::join_all(sent).await;
    for ((method, path, body), (s, b)) in requests.iter().zip(&answers) {
        assert!(*s == 200 || *s == 404, "{method} {path} {body}: {s} {b}");
        if *s == 404 {
            assert_eq!(b["type"], "not_found", "{b}");
        }
    }
    let deletes: Vec<u16> =
        requests.iter().zip(&answers).filter(|((m, _, _), _)| *m == "DELETE").map(|(_, (s, _))| *s).collect();
    assert_eq!(deletes, [200, 200, 200]);

    let mut db = ctx.db().await;
    let stray = db
        .count(
            "SELECT count(*) AS n FROM customer_group_memberships m JOIN customers c \
             ON c.project_id = m.project_id AND c.id = m.customer_id WHERE c.deleted_at IS NOT NULL",
        )
        .await;
    assert_eq!(stray, 0, "deleted customers left every group");
    let to_g3 =
        db.count(&format!("SELECT count(*) AS n FROM customer_group_memberships WHERE group_id = '{}'", g[3])).await;
    assert_eq!(to_g3, 0);
    // What the admin family shows agrees with the rows.
    for customer in &c[..4] {
        let rows = db.memberships(customer).await;
        assert_eq!(i64::try_from(ctx.groups_of(customer).await.len()).expect("small"), rows);
    }
}
