//! `custom` on groups: the draft, `setCustomType` (set, replace, remove), `setCustomField`
//! (set, remove, the InvalidOperation case), type references by key answered by id, types
//! that cannot be used, and one version per effective action.

use crate::support::{code, custom_by_key, enum_of, field, first_error, id, optional, type_draft, version, Ctx};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_replace_and_remove_the_type() {
    let ctx = Ctx::new().await;
    let a = ctx.create_type(type_draft("type-a", vec![optional("points", "Number")])).await;
    let b = ctx.create_type(type_draft("type-b", vec![field("tier", enum_of(&["gold"]), false)])).await;
    let (s, g) = ctx.create_group(json!({"groupName": "Gold"})).await;
    assert_eq!(s, 201);
    assert!(g.get("custom").is_none(), "{g}");
    let gid = id(&g);

    // By key; answered by id.
    let (s, g) = ctx
        .update_group(
            &gid,
            1,
            json!([{"action": "setCustomType", "type": {"typeId": "type", "key": "type-a"}, "fields": {"points": 3}}]),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["custom"], json!({"type": {"typeId": "type", "id": id(&a)}, "fields": {"points": 3}}));
    assert_eq!(version(&g), 2);

    // Replacing replaces type and fields; by id this time.
    let (s, g) = ctx
        .update_group(
            &gid,
            2,
            json!([{"action": "setCustomType", "type": {"typeId": "type", "id": id(&b)}, "fields": {"tier": "gold"}}]),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["custom"], json!({"type": {"typeId": "type", "id": id(&b)}, "fields": {"tier": "gold"}}));
    assert_eq!(version(&g), 3);

    // The same type and fields again is no change.
    let (s, g) = ctx
        .update_group(
            &gid,
            3,
            json!([{"action": "setCustomType", "type": {"key": "type-b"}, "fields": {"tier": "gold"}}]),
        )
        .await;
    assert_eq!((s, version(&g)), (200, 3), "{g}");

    // Without `type`, type and fields go.
    let (s, g) = ctx.update_group(&gid, 3, json!([{"action": "setCustomType", "fields": {"tier": "gold"}}])).await;
    assert_eq!(s, 200, "{g}");
    assert!(g.get("custom").is_none(), "{g}");
    assert_eq!(version(&g), 4);
    let (s, g) = ctx.update_group(&gid, 4, json!([{"action": "setCustomType"}])).await;
    assert_eq!((s, version(&g)), (200, 4), "removing again changes nothing: {g}");

    // What GET answers is what the update answered.
    let (_, read) = ctx.get(&format!("/customer-groups/{gid}")).await;
    assert_eq!(read, g);
    assert_eq!(ctx.events("customer-group.updated").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draft_custom_by_key_is_answered_by_id() {
    let ctx = Ctx::new().await;
    let t = ctx.create_type(type_draft("group-fields", vec![optional("points", "Number")])).await;
    let (s, g) = ctx
        .create_group(json!({"groupName": "Gold", "custom": custom_by_key("group-fields", json!({"points": 1}))}))
        .await;
    assert_eq!(s, 201, "{g}");
    assert_eq!(g["custom"], json!({"type": {"typeId": "type", "id": id(&t)}, "fields": {"points": 1}}));
    // Fields may be omitted; `null` fields count as absent.
    let (s, g) = ctx
        .create_group(json!({"groupName": "Silver", "custom": {"type": {"id": id(&t)}, "fields": {"points": null}}}))
        .await;
    assert_eq!(s, 201, "{g}");
    assert_eq!(g["custom"], json!({"type": {"typeId": "type", "id": id(&t)}, "fields": {}}));
    let stored =
        ctx.count(&format!("SELECT count(*) AS n FROM customer_groups WHERE custom_type_id = '{}'", id(&t))).await;
    assert_eq!(stored, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_remove_fields() {
    let ctx = Ctx::new().await;
    let defs = vec![optional("points", "Number"), field("tier", enum_of(&["gold", "silver"]), false)];
    ctx.create_type(type_draft("group-fields", defs)).await;

    // Without a type, no field can be set.
    let (_, plain) = ctx.create_group(json!({"groupName": "Plain"})).await;
    let (s, b) =
        ctx.update_group(&id(&plain), 1, json!([{"action": "setCustomField", "name": "points", "value": 1}])).await;
    assert_eq!((s, code(&b)), (400, "InvalidOperation"), "{b}");

    let (_, g) =
        ctx.create_group(json!({"groupName": "Gold", "custom": custom_by_key("group-fields", json!({}))})).await;
    let gid = id(&g);
    let set = |name: &str, value: serde_json::Value| json!({"action": "setCustomField", "name": name, "value": value});
    let remove = |name: &str| json!({"action": "setCustomField", "name": name});

    // Two effective actions and one no-op in one request: +2.
    let (s, g) = ctx
        .update_group(&gid, 1, json!([set("points", json!(5)), set("points", json!(5)), set("tier", json!("gold"))]))
        .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!((g["custom"]["fields"].clone(), version(&g)), (json!({"points": 5, "tier": "gold"}), 3));

    // Absent and null values remove.
    let (s, g) = ctx.update_group(&gid, 3, json!([remove("points")])).await;
    assert_eq!((s, g["custom"]["fields"].clone(), version(&g)), (200, json!({"tier": "gold"}), 4), "{g}");
    let (s, g) = ctx.update_group(&gid, 4, json!([set("tier", json!(null))])).await;
    assert_eq!((s, g["custom"]["fields"].clone(), version(&g)), (200, json!({}), 5), "{g}");

    // Removing a field that is not set is an InvalidOperation, and the whole request fails.
    let (s, b) = ctx.update_group(&gid, 5, json!([set("points", json!(1)), remove("tier")])).await;
    assert_eq!((s, code(&b)), (400, "InvalidOperation"), "{b}");
    let (_, now) = ctx.get(&format!("/customer-groups/{gid}")).await;
    assert_eq!((now["custom"]["fields"].clone(), version(&now)), (json!({}), 5));

    // A type set earlier in the same request governs the fields after it.
    let (s, g) = ctx
        .update_group(
            &id(&plain),
            1,
            json!([{"action": "setCustomType", "type": {"key": "group-fields"}}, set("tier", json!("silver"))]),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!((g["custom"]["fields"].clone(), version(&g)), (json!({"tier": "silver"}), 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn types_that_cannot_be_used() {
    let ctx = Ctx::new().await;
    // A type of another project is not found from this one.
    let other = ctx.app.project("other").await;
    let other_token = ctx.app.client_token(&other.client_id, &other.client_secret, None).await;
    let req =
        ctx.app.http.post(ctx.app.url("/other/types")).bearer_auth(&other_token).json(&type_draft("foreign", vec![]));
    let (s, foreign) = crate::support::json_of(req.send().await.expect("send")).await;
    assert_eq!(s, 201, "{foreign}");

    let (_, g) = ctx.create_group(json!({"groupName": "Gold"})).await;
    let cases = [
        (json!({"typeId": "type", "id": id(&foreign)}), "id", json!(id(&foreign))),
        (json!({"typeId": "type", "key": "foreign"}), "key", json!("foreign")),
        (json!({"key": "nope"}), "key", json!("nope")),
        (json!({"id": "not-a-uuid"}), "id", json!("not-a-uuid")),
    ];
    for (type_ref, by, value) in cases {
        let (s, b) = ctx.create_group(json!({"groupName": "X", "custom": {"type": type_ref.clone()}})).await;
        assert_eq!((s, code(&b)), (400, "ReferencedResourceNotFound"), "{type_ref}: {b}");
        assert_eq!(
            (first_error(&b)["typeId"].clone(), first_error(&b)[by].clone()),
            (json!("type"), value.clone()),
            "{b}"
        );
        let (s, b) = ctx.update_group(&id(&g), 1, json!([{"action": "setCustomType", "type": type_ref.clone()}])).await;
        assert_eq!((s, code(&b)), (400, "ReferencedResourceNotFound"), "{type_ref}: {b}");
    }

    // A type for other resources cannot be used on groups.
    let (s, t) = ctx
        .post("/types", &json!({"key": "for-customers", "name": {"en": "C"}, "resourceTypeIds": ["customer"]}))
        .await;
    assert_eq!(s, 201, "{t}");
    // A rule on the stored type (as a missing type is ReferencedResourceNotFound), not a shape
    // error: the request is valid by the document.
    let (s, b) = ctx.create_group(json!({"groupName": "X", "custom": custom_by_key("for-customers", json!({}))})).await;
    assert_eq!((s, code(&b)), (400, "InvalidOperation"), "{b}");
    let (s, b) =
        ctx.update_group(&id(&g), 1, json!([{"action": "setCustomType", "type": {"key": "for-customers"}}])).await;
    assert_eq!((s, code(&b)), (400, "InvalidOperation"), "{b}");
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups").await, 1);
    let (_, now) = ctx.get(&format!("/customer-groups/{}", id(&g))).await;
    assert_eq!(version(&now), 1);
}
