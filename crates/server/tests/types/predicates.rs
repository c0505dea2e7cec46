//! `where` over custom fields, compared by their type: numbers numerically, dates and
//! date-times as such, enums by key (with `in`), sets by containment.

use crate::support::{code, custom_by_key, enum_of, field, optional, type_draft, Ctx};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_fields_compare_by_their_type() {
    let ctx = Ctx::new().await;
    let defs = vec![
        optional("points", "Number"),
        optional("born", "Date"),
        optional("seen", "DateTime"),
        field("tier", enum_of(&["gold", "silver", "bronze"]), false),
        field("tags", json!({"name": "Set", "elementType": enum_of(&["vip", "new"])}), false),
        optional("active", "Boolean"),
        optional("title", "LocalizedString"),
    ];
    ctx.create_type(type_draft("group-fields", defs)).await;
    // Another type gives `points` another type: its values never compare as numbers.
    ctx.create_type(type_draft("texts", vec![optional("points", "String")])).await;
    let groups = [
        (
            "A",
            json!({"points": 9, "born": "1999-12-31", "seen": "2024-05-01T10:00:00.000Z", "tier": "gold", "tags": ["vip"], "active": true, "title": {"en": "Alpha"}}),
        ),
        (
            "B",
            json!({"points": 10, "born": "2000-01-01", "seen": "2024-05-01T12:30:00+02:00", "tier": "silver", "tags": ["vip", "new"], "active": false}),
        ),
        (
            "C",
            json!({"points": 100.5, "born": "2024-02-29", "seen": "2023-01-01T00:00:00Z", "tier": "bronze", "tags": []}),
        ),
        ("D", json!({})),
    ];
    for (name, fields) in groups {
        let (s, b) =
            ctx.create_group(json!({"groupName": name, "custom": custom_by_key("group-fields", fields)})).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) =
        ctx.create_group(json!({"groupName": "T", "custom": custom_by_key("texts", json!({"points": "9"}))})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = ctx.create_group(json!({"groupName": "Plain"})).await;
    assert_eq!(s, 201, "{b}");

    let cases: &[(&str, &[&str])] = &[
        // Numbers numerically (as text "9" > "10" and "100.5" < "9").
        ("custom(fields(points)) > 9", &["B", "C"]),
        ("custom(fields(points)) >= 9.5", &["B", "C"]),
        ("custom(fields(points)) = 10.0", &["B"]),
        ("custom(fields(points)) < 10", &["A"]),
        ("custom(fields(points)) in (9, 100.5)", &["A", "C"]),
        // The platform's form, with the comparison inside `custom( … )`.
        ("custom(fields(points) >= 10)", &["B", "C"]),
        // A string compares with the String-typed `points` only.
        (r#"custom(fields(points)) = "9""#, &["T"]),
        // Dates as dates, date-times as instants (B is 10:30Z).
        (r#"custom(fields(born)) < "2000-01-01""#, &["A"]),
        (r#"custom(fields(born)) >= "2000-01-01""#, &["B", "C"]),
        (r#"custom(fields(born)) = "2024-02-29""#, &["C"]),
        (r#"custom(fields(seen)) > "2024-05-01T10:00:00Z""#, &["B"]),
        (r#"custom(fields(seen)) >= "2024-05-01T12:00:00+02:00""#, &["A", "B"]),
        (r#"custom(fields(seen)) = "2024-05-01T10:30:00.000Z""#, &["B"]),
        (r#"custom(fields(seen)) < "2024-01-01""#, &["C"]),
        // Enums by key, with `in` and `not in`.
        (r#"custom(fields(tier)) = "gold""#, &["A"]),
        (r#"custom(fields(tier)) in ("gold", "bronze")"#, &["A", "C"]),
        (r#"custom(fields(tier)) not in ("gold", "bronze")"#, &["B", "D", "Plain", "T"]),
        // Sets contain.
        (r#"custom(fields(tags)) = "vip""#, &["A", "B"]),
        (r#"custom(fields(tags)) = "new""#, &["B"]),
        (r#"custom(fields(tags)) is defined"#, &["A", "B", "C"]),
        // Booleans, localized strings (any locale), defined-ness, nesting.
        ("custom(fields(active)) = true", &["A"]),
        ("custom(fields(active)) = false", &["B"]),
        (r#"custom(fields(title)) = "Alpha""#, &["A"]),
        ("custom(fields(points)) is not defined", &["D", "Plain"]),
        (r#"custom(fields(tier = "gold" or points > 50))"#, &["A", "C"]),
        // Literals of the wrong type for a field match nothing.
        (r#"custom(fields(born)) = "yesterday""#, &[]),
        ("custom(fields(tier)) = 1", &[]),
        ("custom(fields(nope)) = 1", &[]),
    ];
    for (predicate, expected) in cases {
        let names = ctx.names_where(predicate).await;
        assert_eq!(names, expected.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{predicate}");
    }
    // Variables work as for plain fields (they are strings).
    let (s, b) = ctx
        .get_q("/customer-groups", &[("where", "custom(fields(tier)) in :t"), ("var.t", "gold"), ("var.t", "silver")])
        .await;
    assert_eq!((s, b["total"].clone()), (200, json!(2)), "{b}");
    // Syntax errors stay errors.
    let (s, b) = ctx.get_q("/customer-groups", &[("where", "custom(fields(points)) >")]).await;
    assert_eq!((s, code(&b)), (400, "InvalidInput"), "{b}");
}
