//! Integrity between types and groups: a used type cannot be deleted (a foreign key holds it),
//! a used field definition cannot be removed, a required field cannot be added while groups
//! lack it — also when the writes race.

use crate::support::{code, custom_by_key, enum_of, field, first_error, id, optional, type_draft, version, Ctx};
use diesel_async::SimpleAsyncConnection;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_type_cannot_be_deleted() {
    let ctx = Ctx::new().await;
    let t = ctx.create_type(type_draft("group-fields", vec![optional("points", "Number")])).await;
    let tid = id(&t);
    let (_, g) = ctx
        .create_group(json!({"groupName": "Gold", "custom": custom_by_key("group-fields", json!({"points": 1}))}))
        .await;

    for path in [format!("/types/{tid}?version=1"), "/types/key=group-fields?version=1".to_owned()] {
        let (s, b) = ctx.delete(&path).await;
        assert_eq!((s, code(&b)), (400, "ReferenceExists"), "{path}: {b}");
        assert_eq!(first_error(&b)["referencedBy"], json!("customer-group"), "{b}");
    }
    // Nothing changed.
    let (s, now) = ctx.get(&format!("/types/{tid}")).await;
    assert_eq!((s, now), (200, t.clone()));
    assert_eq!(ctx.events("type.deleted").await, 0);
    let (_, group_now) = ctx.get(&format!("/customer-groups/{}", id(&g))).await;
    assert_eq!(group_now, g);

    // The guarantee is the foreign key, not only the service's check.
    let mut conn = ctx.conn().await;
    let err = conn.batch_execute(&format!("DELETE FROM types WHERE id = '{tid}'")).await.expect_err("restricted");
    assert!(err.to_string().contains("customer_groups_custom_type_fkey"), "{err}");

    // Once no group uses it, it can go (at its version).
    let (s, b) = ctx.update_group(&id(&g), 1, json!([{"action": "setCustomType"}])).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = ctx.delete(&format!("/types/{tid}")).await;
    assert_eq!((s, code(&b)), (400, "InvalidOperation"), "missing version: {b}");
    let (s, b) = ctx.delete(&format!("/types/{tid}?version=2")).await;
    assert_eq!((s, code(&b)), (409, "ConcurrentModification"), "{b}");
    assert_eq!(first_error(&b)["currentVersion"], json!(1));
    let (s, b) = ctx.delete(&format!("/types/{tid}?version=1")).await;
    assert_eq!((s, b), (200, t));
    assert_eq!(ctx.events("type.deleted").await, 1);
    let (s, b) = ctx.get(&format!("/types/{tid}")).await;
    assert_eq!((s, code(&b)), (404, "ResourceNotFound"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_field_definitions_cannot_be_removed_nor_required_ones_added() {
    let ctx = Ctx::new().await;
    let defs = vec![optional("points", "Number"), optional("note", "String")];
    let t = ctx.create_type(type_draft("group-fields", defs)).await;
    let tid = id(&t);
    ctx.create_group(json!({"groupName": "Gold", "custom": custom_by_key("group-fields", json!({"points": 1}))})).await;

    let (s, b) = ctx.update_type(&tid, 1, json!([{"action": "removeFieldDefinition", "fieldName": "points"}])).await;
    assert_eq!((s, code(&b)), (400, "ReferenceExists"), "{b}");
    assert_eq!(first_error(&b)["referencedBy"], json!("customer-group"));
    let required =
        json!([{"action": "addFieldDefinition", "fieldDefinition": field("tier", enum_of(&["gold"]), true)}]);
    let (s, b) = ctx.update_type(&tid, 1, required).await;
    assert_eq!((s, code(&b)), (400, "InvalidOperation"), "{b}");
    let (_, now) = ctx.get(&format!("/types/{tid}")).await;
    assert_eq!(now, t, "nothing changed");
    assert_eq!(ctx.events("type.updated").await, 0);

    // An unused definition can be removed; an optional one added.
    let actions = json!([
        {"action": "removeFieldDefinition", "fieldName": "note"},
        {"action": "addFieldDefinition", "fieldDefinition": field("tier", enum_of(&["gold"]), false)},
    ]);
    let (s, b) = ctx.update_type(&tid, 1, actions).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(version(&b), 3);
    let names: Vec<&str> =
        b["fieldDefinitions"].as_array().expect("defs").iter().filter_map(|d| d["name"].as_str()).collect();
    assert_eq!(names, ["points", "tier"]);
}

/// Removing a field definition races with setting that field on a group: whichever wins, no
/// group is ever left with a field its type does not define.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn removing_a_definition_races_with_setting_the_field() {
    let ctx = Ctx::new().await;
    for round in 0..8 {
        let key = format!("race-{round}");
        let defs = vec![optional("keep", "Number"), optional("gone", "Number")];
        let t = ctx.create_type(type_draft(&key, defs)).await;
        let (s, g) =
            ctx.create_group(json!({"groupName": key, "custom": custom_by_key(&key, json!({"keep": 1}))})).await;
        assert_eq!(s, 201, "{g}");
        let (tid, gid) = (id(&t), id(&g));
        let remove = ctx.update_type(&tid, 1, json!([{"action": "removeFieldDefinition", "fieldName": "gone"}]));
        let set = ctx.update_group(&gid, 1, json!([{"action": "setCustomField", "name": "gone", "value": 7}]));
        let ((rs, rb), (ss, sb)) = tokio::join!(remove, set);
        let outcome = (rs, ss);
        assert!(
            outcome == (200, 400) || outcome == (400, 200),
            "exactly one of the two must win: type {rs} {rb}, group {ss} {sb}"
        );
        if rs == 400 {
            assert_eq!(code(&rb), "ReferenceExists", "{rb}");
        } else {
            assert_eq!(code(&sb), "InvalidField", "{sb}");
        }
    }
    // The invariant, straight from the database.
    let orphans = ctx
        .count(
            "SELECT count(*) AS n FROM customer_groups g JOIN types t ON t.project_id = g.project_id AND t.id = g.custom_type_id \
             WHERE EXISTS (SELECT 1 FROM jsonb_object_keys(g.custom_fields) k WHERE NOT EXISTS \
             (SELECT 1 FROM jsonb_array_elements(t.field_definitions) d WHERE d ->> 'name' = k))",
        )
        .await;
    assert_eq!(orphans, 0);
}
