//! §3.2/§3.3: the representation, update actions, version arithmetic, atomicity, and the
//! outbox events of every write.

use crate::support::{assert_envelope, assert_group_view, first_error, id, Ctx};
use serde_json::{json, Value};

/// One `changeName` action to each of `names`, in order.
fn renames(names: &[&str]) -> Vec<Value> {
    names.iter().map(|name| json!({"action": "changeName", "name": name})).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_answers_the_representation() {
    let ctx = Ctx::new().await;
    let (s, b) = ctx.post("/customer-groups", &json!({"groupName": "Gold", "key": "gold", "unknown": 1})).await;
    assert_eq!(s, 201);
    assert_group_view(&b, 1, Some(r#"gold"#), r#"Gold"#);
    assert_eq!(b["createdBy"], json!({"clientId": ctx.fixture.client_id}));
    assert_eq!(b["lastModifiedBy"], b["createdBy"]);
    assert_eq!(b["createdAt"], b["lastModifiedAt"]);
    let ts = b["createdAt"].as_str().expect("createdAt");
    assert!(ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[19] == b'.', "RFC 3339 with milliseconds: {ts}");
    uuid::Uuid::parse_str(&id(&b)).expect("a UUID");

    // Optional fields are omitted, not null; `null` counts as absent in a draft.
    let (s, b) = ctx.post("/customer-groups", &json!({"groupName": "Silver", "key": null, "custom": null})).await;
    assert_eq!(s, 201);
    assert_group_view(&b, 1, None, r#"Silver"#);

    // An admin user acts as `externalUserId`.
    let user_token = ctx.app.admin_token(&ctx.fixture).await;
    let resp = ctx.app.http.post(ctx.url("/customer-groups")).bearer_auth(&user_token).json(&json!({"groupName": "B"}));
    let (s, b) = crate::json(resp.send().await.expect("send")).await;
    assert_eq!(s, 201, "{b}");
    assert!(b["createdBy"]["externalUserId"].as_str().is_some_and(|u| !u.is_empty()), "{b}");
    assert!(b["createdBy"].get("clientId").is_none(), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_grows_by_effective_actions() {
    let ctx = Ctx::new().await;
    let group = ctx.create("Gold", Some("gold")).await;
    let gid = id(&group);

    // Nothing changes: same version, same lastModifiedAt, nothing written.
    let (s, b) = ctx.update(&gid, 1, json!([{"action": "changeName", "name": "Gold"}])).await;
    assert_eq!((s, &b), (200, &group));
    let (s, b) = ctx.update(&gid, 1, json!([{"action": "setKey", "key": "gold"}])).await;
    assert_eq!((s, &b), (200, &group));
    let (s, b) = ctx.update(&gid, 1, json!([])).await;
    assert_eq!((s, &b), (200, &group));
    assert_eq!(ctx.events("customer-group.updated").await, 0);

    // Three effective actions: +3, one event.
    let mut actions = renames(&["a", "b"]);
    actions.push(json!({"action": "setKey", "key": "k1"}));
    let (s, b) = ctx.update(&gid, 1, Value::Array(actions)).await;
    assert_eq!(s, 200);
    assert_group_view(&b, 4, Some(r#"k1"#), r#"b"#);
    assert_eq!(b["createdAt"], group["createdAt"]);
    assert!(b["lastModifiedAt"].as_str() >= group["lastModifiedAt"].as_str());
    assert_eq!(ctx.events("customer-group.updated").await, 1);

    // Only the actions that changed something count: `changeName b` (same), `changeName c`,
    // `changeName c` (same again) → +1.
    let (s, b) = ctx.update(&gid, 4, Value::Array(renames(&["b", "c", "c"]))).await;
    assert_eq!((s, &b["version"], &b["name"]), (200, &json!(5), &json!("c")));

    // A change and its undo are two changes.
    let (s, b) = ctx.update(&gid, 5, Value::Array(renames(&["d", "c"]))).await;
    assert_eq!((s, &b["version"], &b["name"]), (200, &json!(7), &json!("c")));

    // `setKey` without a key (absent or null) removes it; the key is then omitted.
    let (s, b) = ctx.update(&gid, 7, json!([{"action": "setKey"}])).await;
    assert_eq!((s, &b["version"]), (200, &json!(8)));
    assert!(b.get("key").is_none(), "{b}");
    let (s, b) = ctx.update(&gid, 8, json!([{"action": "setKey", "key": null}])).await;
    assert_eq!((s, &b["version"]), (200, &json!(8)), "removing an absent key changes nothing");
    // Removing an absent custom type changes nothing either.
    let (s, b) = ctx.update(&gid, 8, json!([{"action": "setCustomType"}])).await;
    assert_eq!((s, &b["version"]), (200, &json!(8)));
    let (s, b) = ctx.get("/customer-groups/key=k1").await;
    assert_eq!(s, 404, "{b}");
    assert_eq!(ctx.count("SELECT version AS n FROM customer_groups").await, 8);
    // One event per request that changed something.
    assert_eq!(ctx.events("customer-group.updated").await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_action_applies_nothing() {
    let ctx = Ctx::new().await;
    ctx.create("Other", Some("taken")).await;
    let group = ctx.create("Gold", Some("gold")).await;
    let gid = id(&group);

    let failing = [
        // A rule of the database (unique key) in the middle.
        (
            json!([{"action": "changeName", "name": "x"}, {"action": "setKey", "key": "taken"}, {"action": "changeName", "name": "y"}]),
            "DuplicateField",
        ),
        // A name that exists, after a key change.
        (json!([{"action": "setKey", "key": "new-key"}, {"action": "changeName", "name": "Other"}]), "DuplicateField"),
        // An unknown action after valid ones.
        (json!([{"action": "changeName", "name": "x"}, {"action": "foo"}]), "InvalidInput"),
        // An invalid value (empty name) after valid ones.
        (json!([{"action": "changeName", "name": "x"}, {"action": "changeName", "name": ""}]), "InvalidInput"),
        // A field of the wrong type.
        (json!([{"action": "changeName", "name": "x"}, {"action": "setKey", "key": 5}]), "InvalidJsonInput"),
        // An operation that is not allowed in this state.
        (
            json!([{"action": "changeName", "name": "x"}, {"action": "setCustomField", "name": "f", "value": 1}]),
            "InvalidOperation",
        ),
        // A custom type that does not exist.
        (
            json!([{"action": "changeName", "name": "x"}, {"action": "setCustomType", "type": {"key": "nope"}}]),
            "ReferencedResourceNotFound",
        ),
    ];
    for (actions, code) in failing {
        let (s, b) = ctx.update(&gid, 1, actions.clone()).await;
        assert_eq!((s, first_error(&b).0.as_str()), (400, code), "{actions}: {b}");
        let (s, now) = ctx.get(&format!("/customer-groups/{gid}")).await;
        assert_eq!((s, &now), (200, &group), "{actions} must change nothing");
    }
    assert_eq!(ctx.events("customer-group.updated").await, 0);

    // More than 500 actions are refused; 500 are fine.
    let many: Vec<_> = (0..501).map(|_| json!({"action": "setKey", "key": "gold"})).collect();
    let (s, b) = ctx.update(&gid, 1, json!(many)).await;
    assert_eq!(s, 400);
    assert_envelope(&b, 400, "InvalidInput", r#"At most 500 update actions are allowed per request."#);
    let names: Vec<_> = (0..500).map(|i| json!({"action": "changeName", "name": format!("n{i}")})).collect();
    let (s, b) = ctx.update(&gid, 1, json!(names)).await;
    assert_eq!((s, &b["version"], &b["name"]), (200, &json!(501), &json!("n499")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_deletes_by_key() {
    let ctx = Ctx::new().await;
    let group = ctx.create("Gold", Some("gold")).await;
    let (s, b) = ctx
        .post("/customer-groups/key=gold", &json!({"version": 1, "actions": [{"action": "changeName", "name": "G"}]}))
        .await;
    assert_eq!((s, &b["version"], &b["name"], &b["id"]), (200, &json!(2), &json!("G"), &group["id"]));
    let (s, b) = ctx
        .post("/customer-groups/key=gold", &json!({"version": 2, "actions": [{"action": "setKey", "key": "gold2"}]}))
        .await;
    assert_eq!((s, &b["key"]), (200, &json!("gold2")));
    let (s, _) = ctx.get("/customer-groups/key=gold").await;
    assert_eq!(s, 404);
    let (s, b) = ctx.delete("/customer-groups/key=gold2?version=3").await;
    assert_eq!((s, &b["id"], &b["version"]), (200, &group["id"], &json!(3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_records_one_event() {
    let ctx = Ctx::new().await;
    let group = ctx.create("Gold", None).await;
    let gid = id(&group);
    let kinds = "SELECT kind || ' ' || resource_id::text || ' ' || (payload #>> '{resource,version}') AS s FROM events ORDER BY seq";
    assert_eq!(ctx.strings(kinds).await, vec![format!("customer-group.created {gid} 1")]);

    let (s, _) = ctx.update(&gid, 1, json!([{"action": "changeName", "name": "Gold"}])).await;
    assert_eq!(s, 200);
    assert_eq!(ctx.count("SELECT count(*) AS n FROM events").await, 1, "a no-op update records nothing");

    let (s, _) =
        ctx.update(&gid, 1, json!([{"action": "changeName", "name": "a"}, {"action": "setKey", "key": "kk"}])).await;
    assert_eq!(s, 200);
    // A failed update and a stale one record nothing.
    let (s, _) = ctx.update(&gid, 1, json!([{"action": "changeName", "name": "b"}])).await;
    assert_eq!(s, 409);
    let (s, _) = ctx.update(&gid, 3, json!([{"action": "changeName", "name": "b"}, {"action": "foo"}])).await;
    assert_eq!(s, 400);
    let (s, _) = ctx.delete(&format!("/customer-groups/{gid}?version=2")).await;
    assert_eq!(s, 409);
    let (s, _) = ctx.delete(&format!("/customer-groups/{gid}?version=3")).await;
    assert_eq!(s, 200);
    assert_eq!(
        ctx.strings(kinds).await,
        vec![
            format!("customer-group.created {gid} 1"),
            format!("customer-group.updated {gid} 3"),
            format!("customer-group.deleted {gid} 3"),
        ]
    );
    let actors = "SELECT DISTINCT actor::text AS s FROM events";
    let actors = ctx.strings(actors).await;
    assert_eq!(actors.len(), 1, "{actors:?}");
    assert!(actors[0].contains(&ctx.fixture.client_id), "{actors:?}");
    assert_eq!(
        ctx.count("SELECT count(*) AS n FROM events WHERE project_key = 'demo' AND published_at IS NULL").await,
        3
    );
}
