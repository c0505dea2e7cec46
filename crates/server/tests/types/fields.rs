//! Custom field values against their type: every field type accepted with valid values and
//! refused with invalid ones, on create and on `setCustomField`; required fields.

use crate::support::{code, custom_by_key, enum_of, field, first_error, id, optional, type_draft, version, Ctx};
use serde_json::{json, Value};

/// A field's name and type, values it accepts (with what is stored), values it refuses.
type Case = (&'static str, Value, Vec<(Value, Value)>, Vec<Value>);

/// Every field type, with at least two refused values each.
fn cases() -> Vec<Case> {
    let same = |v: Value| (v.clone(), v);
    vec![
        (
            "flag",
            json!({"name": "Boolean"}),
            vec![same(json!(true)), same(json!(false))],
            vec![json!("true"), json!(1), json!([true])],
        ),
        (
            "note",
            json!({"name": "String"}),
            vec![same(json!("hello")), same(json!(""))],
            vec![json!(1), json!(false), json!({"en": "x"})],
        ),
        (
            "title",
            json!({"name": "LocalizedString"}),
            vec![same(json!({"en": "Gold", "de": "Gold"}))],
            vec![json!("Gold"), json!({"en": 1}), json!(["Gold"])],
        ),
        (
            "points",
            json!({"name": "Number"}),
            vec![same(json!(10)), same(json!(-2.5))],
            vec![json!("10"), json!(true), json!([10])],
        ),
        (
            "born",
            json!({"name": "Date"}),
            vec![same(json!("2024-05-01")), same(json!("2024-02-29"))],
            vec![
                json!("2024-13-01"),
                json!("2023-02-29"),
                json!("2024-05-01T00:00:00Z"),
                json!("1.5.2024"),
                json!(20240501),
            ],
        ),
        (
            "seen",
            json!({"name": "DateTime"}),
            vec![
                same(json!("2024-05-01T10:00:00.000Z")),
                (json!("2024-05-01T12:00:00+02:00"), json!("2024-05-01T10:00:00.000Z")),
            ],
            vec![
                json!("2024-05-01"),
                json!("2024-05-01 10:00:00Z"),
                json!("2024-05-01T10:00:00"),
                json!("2024-05-01T24:00:00Z"),
                json!(0),
            ],
        ),
        (
            "tier",
            enum_of(&["gold", "silver"]),
            vec![same(json!("gold"))],
            vec![json!("bronze"), json!("GOLD"), json!({"key": "gold"})],
        ),
        (
            "color",
            json!({"name": "LocalizedEnum", "values": [{"key": "red", "label": {"en": "Red"}}]}),
            vec![same(json!("red"))],
            vec![json!("blue"), json!({"en": "Red"}), json!(1)],
        ),
        (
            "tags",
            json!({"name": "Set", "elementType": enum_of(&["a", "b"])}),
            vec![same(json!(["a", "b"])), same(json!([]))],
            vec![json!("a"), json!(["a", "c"]), json!([["a"]])],
        ),
        (
            "scores",
            json!({"name": "Set", "elementType": {"name": "Number"}}),
            vec![same(json!([1, 2.5]))],
            vec![json!(1), json!([1, "2"])],
        ),
        (
            "days",
            json!({"name": "Set", "elementType": {"name": "DateTime"}}),
            vec![(json!(["2024-05-01T10:00:00Z"]), json!(["2024-05-01T10:00:00.000Z"]))],
            vec![json!(["2024-05-01"]), json!("2024-05-01T10:00:00Z")],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_type_is_checked_on_create_and_on_set() {
    let ctx = Ctx::new().await;
    let cases = cases();
    let defs: Vec<Value> = cases.iter().map(|(name, t, _, _)| field(name, t.clone(), false)).collect();
    ctx.create_type(type_draft("all-types", defs)).await;
    // One group to run `setCustomField` on.
    let (s, target) =
        ctx.create_group(json!({"groupName": "Target", "custom": custom_by_key("all-types", json!({}))})).await;
    assert_eq!(s, 201, "{target}");
    let target_id = id(&target);
    let mut v = version(&target);

    for (n, (name, _, good, bad)) in cases.iter().enumerate() {
        for (i, (value, stored)) in good.iter().enumerate() {
            let draft = json!({"groupName": format!("{name}-{n}-{i}"), "custom": custom_by_key("all-types", json!({*name: value}))});
            let (s, b) = ctx.create_group(draft).await;
            assert_eq!(s, 201, "{name} = {value}: {b}");
            assert_eq!(b["custom"]["fields"][*name], *stored, "{name} = {value}");

            let (s, b) = ctx
                .update_group(&target_id, v, json!([{"action": "setCustomField", "name": name, "value": value}]))
                .await;
            assert_eq!(s, 200, "set {name} = {value}: {b}");
            assert_eq!(b["custom"]["fields"][*name], *stored);
            v = version(&b);
        }
        for value in bad {
            let draft = json!({"groupName": format!("bad-{name}"), "custom": custom_by_key("all-types", json!({*name: value}))});
            let (s, b) = ctx.create_group(draft).await;
            assert_eq!((s, code(&b)), (400, "InvalidField"), "{name} = {value}: {b}");
            assert_eq!(first_error(&b)["field"], json!(name), "{b}");
            assert_eq!(first_error(&b)["invalidValue"], *value, "{b}");

            let (s, b) = ctx
                .update_group(&target_id, v, json!([{"action": "setCustomField", "name": name, "value": value}]))
                .await;
            assert_eq!((s, code(&b)), (400, "InvalidField"), "set {name} = {value}: {b}");
            assert_eq!(
                (first_error(&b)["field"].clone(), first_error(&b)["invalidValue"].clone()),
                (json!(name), value.clone())
            );
        }
    }
    // Refused writes changed nothing.
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups WHERE name LIKE 'bad-%'").await, 0);
    let (_, now) = ctx.get(&format!("/customer-groups/{target_id}")).await;
    assert_eq!(version(&now), v);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undefined_fields_are_invalid() {
    let ctx = Ctx::new().await;
    ctx.create_type(type_draft("small", vec![optional("points", "Number")])).await;
    let (s, b) =
        ctx.create_group(json!({"groupName": "G", "custom": custom_by_key("small", json!({"nope": 1}))})).await;
    assert_eq!((s, code(&b)), (400, "InvalidField"), "{b}");
    assert_eq!((first_error(&b)["field"].clone(), first_error(&b)["invalidValue"].clone()), (json!("nope"), json!(1)));
    let (s, g) =
        ctx.create_group(json!({"groupName": "G", "custom": custom_by_key("small", json!({"points": 1}))})).await;
    assert_eq!(s, 201, "{g}");
    let (s, b) =
        ctx.update_group(&id(&g), 1, json!([{"action": "setCustomField", "name": "nope", "value": "x"}])).await;
    assert_eq!((s, code(&b)), (400, "InvalidField"), "{b}");
    assert_eq!(first_error(&b)["field"], json!("nope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_fields() {
    let ctx = Ctx::new().await;
    let defs = vec![field("tier", enum_of(&["gold", "silver"]), true), optional("points", "Number")];
    ctx.create_type(type_draft("with-required", defs)).await;

    for fields in [json!({}), json!({"points": 3}), json!({"tier": null})] {
        let (s, b) =
            ctx.create_group(json!({"groupName": "G", "custom": custom_by_key("with-required", fields.clone())})).await;
        assert_eq!((s, code(&b)), (400, "RequiredField"), "{fields}: {b}");
        assert_eq!(first_error(&b)["field"], json!("tier"), "{b}");
        assert!(b["message"].as_str().is_some_and(|m| m.contains("tier")), "{b}");
    }
    let (s, g) = ctx
        .create_group(json!({"groupName": "G", "custom": custom_by_key("with-required", json!({"tier": "gold"}))}))
        .await;
    assert_eq!(s, 201, "{g}");

    // setCustomType without the required field, and removing it, are refused too.
    let set_type = json!([{"action": "setCustomType", "type": {"key": "with-required"}, "fields": {"points": 1}}]);
    let (s, b) = ctx.update_group(&id(&g), 1, set_type).await;
    assert_eq!((s, code(&b)), (400, "RequiredField"), "{b}");
    let (s, b) = ctx.update_group(&id(&g), 1, json!([{"action": "setCustomField", "name": "tier"}])).await;
    assert_eq!((s, code(&b)), (400, "RequiredField"), "{b}");
    // Replacing it in the same request is fine.
    let (s, b) = ctx
        .update_group(
            &id(&g),
            1,
            json!([{"action": "setCustomField", "name": "tier"}, {"action": "setCustomField", "name": "tier", "value": "silver"}]),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["custom"]["fields"]["tier"].clone(), version(&b)), (json!("silver"), 3));
}

/// U+0000 cannot be stored by PostgreSQL: it is refused as input, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_are_refused_as_input() {
    let ctx = Ctx::new().await;
    let defs = vec![optional("note", "String"), optional("title", "LocalizedString")];
    ctx.create_type(type_draft("texts", defs)).await;
    for fields in [json!({"note": "a\0b"}), json!({"title": {"en": "a\0"}})] {
        let (s, b) =
            ctx.create_group(json!({"groupName": "G", "custom": custom_by_key("texts", fields.clone())})).await;
        assert_eq!((s, code(&b)), (400, "InvalidField"), "{fields}: {b}");
    }
    let (s, b) = ctx.create_group(json!({"groupName": "G", "custom": custom_by_key("te\0xts", json!({}))})).await;
    assert_eq!((s, code(&b)), (400, "ReferencedResourceNotFound"), "{b}");
    let mut draft = type_draft("other", vec![]);
    draft["name"] = json!({"en": "a\0"});
    let (s, b) = ctx.post("/types", &draft).await;
    assert_eq!((s, code(&b)), (400, "InvalidInput"), "{b}");
    let draft = type_draft("other", vec![field("tier", enum_of(&["a\0"]), false)]);
    let (s, b) = ctx.post("/types", &draft).await;
    assert_eq!((s, code(&b)), (400, "InvalidInput"), "{b}");
    let (s, b) = ctx.get("/types/key=te%00xts").await;
    assert_eq!((s, code(&b)), (404, "ResourceNotFound"), "{b}");
}
