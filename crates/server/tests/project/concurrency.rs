//! §3.2: races resolve to the rule that decided them — optimistic locking, the group limit and
//! the uniqueness of names and keys — under real concurrent requests.

use crate::json;
use crate::support::{first_error, id, Ctx};
use futures::future::join_all;
use serde_json::{json, Value};

/// Sends every body to `POST /demo{path}` at once (one shared client), in a random
/// interleaving decided by the server; answers the statuses and bodies in request order.
async fn concurrently(ctx: &Ctx, path: &str, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let client = reqwest::Client::new();
    let url = ctx.url(path);
    let requests = bodies.into_iter().map(|body| {
        let req = client.post(&url).bearer_auth(&ctx.token).json(&body);
        async move { json(req.send().await.expect("send")).await }
    });
    join_all(requests).await
}

/// Asserts how many answers had each status and error code (`""` for a success).
fn assert_tally(answers: &[(u16, Value)], expected: &[(u16, &str, usize)]) {
    let mut counts = std::collections::BTreeMap::new();
    for (status, body) in answers {
        let code = if *status < 300 { String::new() } else { first_error(body).0 };
        *counts.entry((*status, code)).or_default() += 1;
    }
    let expected: std::collections::BTreeMap<(u16, String), usize> =
        expected.iter().map(|(status, code, n)| ((*status, (*code).to_owned()), *n)).collect();
    assert_eq!(counts, expected, "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_updates_at_one_version_one_wins() {
    let ctx = Ctx::new().await;
    let group = ctx.create("Gold", None).await;
    let gid = id(&group);
    let bodies =
        (0..100).map(|i| json!({"version": 1, "actions": [{"action": "changeName", "name": format!("Gold {i}")}]}));
    let answers = concurrently(&ctx, &format!("/customer-groups/{gid}"), bodies.collect()).await;

    assert_tally(&answers, &[(200, "", 1), (409, "ConcurrentModification", 99)]);
    for (status, body) in &answers {
        if *status == 409 {
            assert_eq!(body["errors"][0]["currentVersion"], json!(2), "{body}");
        } else {
            assert_eq!(body["version"], json!(2), "{body}");
        }
    }
    let winner = answers.iter().find(|(s, _)| *s == 200).map(|(_, b)| b["name"].clone()).expect("a winner");
    let (s, stored) = ctx.get(&format!("/customer-groups/{gid}")).await;
    assert_eq!((s, &stored["version"], &stored["name"]), (200, &json!(2), &winner));
    assert_eq!(ctx.count("SELECT version AS n FROM customer_groups").await, 2);
    assert_eq!(ctx.events("customer-group.updated").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_creates_at_990_groups_exactly_ten_win() {
    let ctx = Ctx::new().await;
    ctx.exec(
        "INSERT INTO customer_groups (project_id, id, name, created_at, last_modified_at) \
         SELECT p.project_id, gen_random_uuid(), 'seed-' || i, now(), now() \
         FROM projects p, generate_series(1, 990) AS i WHERE p.key = 'demo'; \
         UPDATE projects SET customer_group_count = 990 WHERE key = 'demo'",
    )
    .await;
    let (s, page) = ctx.get_q("/customer-groups", &[("limit", "0")]).await;
    assert_eq!((s, &page["total"]), (200, &json!(990)));

    let bodies = (0..50).map(|i| json!({"groupName": format!("new-{i}"), "key": format!("new-{i}")}));
    let answers = concurrently(&ctx, "/customer-groups", bodies.collect()).await;
    assert_tally(&answers, &[(201, "", 10), (400, "MaxResourceLimitExceeded", 40)]);
    for (status, body) in &answers {
        if *status == 400 {
            assert_eq!(body["errors"][0]["exceededResource"], "customer-group", "{body}");
            assert_eq!(
                body["message"], "You have exceeded the limit of 1000 resources of type customer-group.",
                "{body}"
            );
        }
    }
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups").await, 1000);
    assert_eq!(ctx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 1000);
    assert_eq!(ctx.events("customer-group.created").await, 10);
    let (s, page) = ctx.get_q("/customer-groups", &[("limit", "0")]).await;
    assert_eq!((s, &page["total"]), (200, &json!(1000)));
    // Full: one more is refused, even with a name that exists (the limit is checked first).
    let (s, b) = ctx.post("/customer-groups", &json!({"groupName": "one-more"})).await;
    assert_eq!((s, first_error(&b).0.as_str()), (400, "MaxResourceLimitExceeded"));
}

/// Twenty concurrent creates that all take `value` as their `field`: one wins, nineteen are
/// `DuplicateField` naming it.
async fn one_of_twenty_wins(ctx: &Ctx, bodies: Vec<Value>, field: &str, value: &str) {
    let answers = concurrently(ctx, "/customer-groups", bodies).await;
    assert_tally(&answers, &[(201, "", 1), (400, "DuplicateField", 19)]);
    for (status, body) in &answers {
        if *status == 400 {
            let e = &body["errors"][0];
            assert_eq!((&e["field"], &e["duplicateValue"]), (&json!(field), &json!(value)), "{body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_with_one_name_or_key() {
    let ctx = Ctx::new().await;
    let bodies = (0..20).map(|i| json!({"groupName": "Gold", "key": format!("k{i}")}));
    one_of_twenty_wins(&ctx, bodies.collect(), "name", "Gold").await;
    let bodies = (0..20).map(|i| json!({"groupName": format!("Silver {i}"), "key": "silver"}));
    one_of_twenty_wins(&ctx, bodies.collect(), "key", "silver").await;
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups").await, 2);
    // The losers' increments of the group counter were rolled back.
    assert_eq!(ctx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 2);
    assert_eq!(ctx.events("customer-group.created").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_renames_to_one_name() {
    let ctx = Ctx::new().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(id(&ctx.create(&format!("g{i}"), None).await));
    }
    let client = reqwest::Client::new();
    let requests = ids.iter().map(|gid| {
        let body = json!({"version": 1, "actions": [{"action": "changeName", "name": "Same"}]});
        let req = client.post(ctx.url(&format!("/customer-groups/{gid}"))).bearer_auth(&ctx.token).json(&body);
        async move { json(req.send().await.expect("send")).await }
    });
    let answers = join_all(requests).await;
    assert_tally(&answers, &[(200, "", 1), (400, "DuplicateField", 9)]);
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups WHERE name = 'Same'").await, 1);
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups WHERE version = 2").await, 1);
}
