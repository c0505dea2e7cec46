//! §3.4: `where` predicates against a real database, each checked against the exact set of
//! groups it must return; malformed predicates and injection attempts.
//!
//! Comparisons are two-valued (`docs/querying.md`): a group without a key satisfies no
//! comparison on `key`, so `!=`, `not in` and `not (…)` match it.

use crate::support::{first_error, id, Ctx};
use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// The groups of the table: (name, key at creation).
const GROUPS: [(&str, Option<&str>); 8] = [
    ("Gold", Some("gold")),
    ("Silver", Some("silver")),
    ("Bronze", None),
    ("Say \"hi\"", Some("quote")),
    ("Ünïcödé 🎉", Some("uni")),
    ("gold", None),
    ("Back\\slash", Some("back-slash")),
    ("Platinum", Some("plat")),
];

const ALL: [&str; 8] = ["Gold", "Silver", "Bronze", "Say \"hi\"", "Ünïcödé 🎉", "gold", "Back\\slash", "Platinum"];

/// The groups created in order, 15 ms apart; then `Bronze` gets version 3 and `Platinum`
/// version 2 (key `platinum`), after a pause. Answers the created bodies.
async fn seed(ctx: &Ctx) -> Vec<Value> {
    let mut created = Vec::new();
    for (name, key) in GROUPS {
        created.push(ctx.create(name, key).await);
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let bronze = id(&created[2]);
    let actions = json!([{"action": "changeName", "name": "Bronze x"}, {"action": "changeName", "name": "Bronze"}]);
    assert_eq!(ctx.update(&bronze, 1, actions).await.0, 200);
    let platinum = id(&created[7]);
    assert_eq!(ctx.update(&platinum, 1, json!([{"action": "setKey", "key": "platinum"}])).await.0, 200);
    created
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn all_but(excluded: &[&str]) -> Vec<&'static str> {
    ALL.iter().copied().filter(|n| !excluded.contains(n)).collect()
}

/// `createdAt` of a group as answered (milliseconds, truncated).
fn created_at(group: &Value) -> String {
    group["createdAt"].as_str().expect("createdAt").to_owned()
}

/// A literal just below the next millisecond of `ts` (`….123Z` → `….123999Z`): not before the
/// stored microsecond value of a group whose answered time is `ts`.
fn end_of_ms(ts: &str) -> String {
    format!("{}999Z", ts.strip_suffix('Z').expect("UTC"))
}

/// The same instant written with a +02:00 offset.
fn plus_two(ts: &str) -> String {
    let t: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(ts).expect("RFC 3339");
    let offset = FixedOffset::east_opt(2 * 3600).expect("offset");
    t.with_timezone(&offset).to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

struct Case {
    query: Vec<(String, String)>,
    expected: BTreeSet<String>,
}

fn case(predicate: &str, expected: &[&str]) -> Case {
    Case { query: vec![("where".into(), predicate.into())], expected: set(expected) }
}

fn case_with(query: &[(&str, &str)], expected: &[&str]) -> Case {
    Case { query: query.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(), expected: set(expected) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_predicate_table() {
    let ctx = Ctx::new().await;
    let g = seed(&ctx).await;
    let ids: Vec<String> = g.iter().map(id).collect();
    let t: Vec<String> = g.iter().map(created_at).collect();
    let u: Vec<String> = t.iter().map(|t| end_of_ms(t)).collect();
    let v1 = ["Gold", "Silver", "Say \"hi\"", "Ünïcödé 🎉", "gold", "Back\\slash"];
    let keyed = ["Gold", "Silver", "Say \"hi\"", "Ünïcödé 🎉", "Back\\slash", "Platinum"];

    let mut cases = vec![
        // = != <>
        case(r#"name = "Gold""#, &["Gold"]),
        case(r#"name = "gold""#, &["gold"]),
        case(r#"name = "GOLD""#, &[]),
        case(r#"name != "Gold""#, &all_but(&["Gold"])),
        case(r#"name <> "Gold""#, &all_but(&["Gold"])),
        case(r#"name = "Say \"hi\"""#, &["Say \"hi\""]),
        case(r#"name = "Say \"hi\" ""#, &[]),
        case(r#"name = "Back\\slash""#, &["Back\\slash"]),
        case(r#"name = "Ünïcödé 🎉""#, &["Ünïcödé 🎉"]),
        case(r#"name = "\u00dcn\u00efc\u00f6d\u00e9 \ud83c\udf89""#, &["Ünïcödé 🎉"]),
        case(r#"key = "gold""#, &["Gold"]),
        case(r#"key != "gold""#, &all_but(&["Gold"])),
        case(r#"key = "plat""#, &[]),
        case(r#"key = "platinum""#, &["Platinum"]),
        case(r#"key <> "gold" and key is defined"#, &["Silver", "Say \"hi\"", "Ünïcödé 🎉", "Back\\slash", "Platinum"]),
        // < <= > >= (keys start with distinct lower-case letters: the same in every collation)
        case(r#"key < "p""#, &["Back\\slash", "Gold"]),
        case(r#"key <= "platinum""#, &["Back\\slash", "Gold", "Platinum"]),
        case(r#"key > "r""#, &["Silver", "Ünïcödé 🎉"]),
        case(r#"key >= "quote""#, &["Say \"hi\"", "Silver", "Ünïcödé 🎉"]),
        case(r#"key > "zzz""#, &[]),
        case(r#"not (key < "p")"#, &all_but(&["Back\\slash", "Gold"])),
        // in / not in
        case(r#"name in ("Gold", "Silver")"#, &["Gold", "Silver"]),
        case(r#"name in ("Gold")"#, &["Gold"]),
        case(r#"name not in ("Gold", "Silver")"#, &all_but(&["Gold", "Silver"])),
        case(r#"key in ("gold", "nope")"#, &["Gold"]),
        case(r#"key not in ("gold")"#, &all_but(&["Gold"])),
        case(r#"name in ("Say \"hi\"", "Ünïcödé 🎉", "x")"#, &["Say \"hi\"", "Ünïcödé 🎉"]),
        // is (not) defined
        case("key is defined", &keyed),
        case("key is not defined", &["Bronze", "gold"]),
        case("name is defined", &ALL),
        case("id is not defined", &[]),
        // case-insensitive keywords
        case("key IS NOT DEFINED", &["Bronze", "gold"]),
        case("key Is Defined aNd version > 1", &["Platinum"]),
        case(r#"name IN ("Gold", "Bronze")"#, &["Gold", "Bronze"]),
        case(r#"name NOT IN ("Gold")"#, &all_but(&["Gold"])),
        case(r#"NOT (name = "Gold")"#, &all_but(&["Gold"])),
        case(r#"name = "Gold" OR name = "Silver""#, &["Gold", "Silver"]),
        case(r#"name = "Gold" And key = "gold""#, &["Gold"]),
        // precedence: not > and > or; parentheses
        case(r#"name = "Gold" or name = "Silver" and key = "nope""#, &["Gold"]),
        case(r#"name = "Gold" and key = "nope" or name = "Silver""#, &["Silver"]),
        case(r#"(name = "Gold" or name = "Silver") and key = "silver""#, &["Silver"]),
        case(r#"name = "Gold" and (key = "nope" or name = "Silver")"#, &[]),
        case(
            r#"not (name = "Gold" or name = "Silver") and key is defined"#,
            &["Say \"hi\"", "Ünïcödé 🎉", "Back\\slash", "Platinum"],
        ),
        case(r#"not (not (name = "Gold"))"#, &["Gold"]),
        case(r#"((name = "Gold"))"#, &["Gold"]),
        case("not (key is defined) or version = 3", &["Bronze", "gold"]),
        case("key is not defined and not (version = 3)", &["gold"]),
        case("name = \"Gold\"\n\tor\r\n name = \"gold\"", &["Gold", "gold"]),
        // version
        case("version = 1", &v1),
        case("version > 1", &["Bronze", "Platinum"]),
        case("version >= 2", &["Bronze", "Platinum"]),
        case("version < 2", &v1),
        case("version <= 2", &all_but(&["Bronze"])),
        case("version != 1", &["Bronze", "Platinum"]),
        case("version <> 3", &all_but(&["Bronze"])),
        case("version in (2, 3)", &["Bronze", "Platinum"]),
        case("version not in (1, 2)", &["Bronze"]),
        case("version > 1.5", &["Bronze", "Platinum"]),
        case("version = -1", &[]),
        // id
        case(&format!(r#"id = "{}""#, ids[0]), &["Gold"]),
        case(&format!(r#"id = "{}""#, ids[0].to_uppercase()), &["Gold"]),
        case(&format!(r#"id != "{}""#, ids[0]), &all_but(&["Gold"])),
        case(&format!(r#"id in ("{}", "{}")"#, ids[0], ids[1]), &["Gold", "Silver"]),
        case(r#"id = "not-a-uuid""#, &[]),
        case(r#"id != "not-a-uuid""#, &ALL),
        case(r#"id in ("not-a-uuid")"#, &[]),
        // createdAt / lastModifiedAt (groups were created 15 ms apart)
        case(&format!(r#"createdAt >= "{}""#, t[3]), &["Say \"hi\"", "Ünïcödé 🎉", "gold", "Back\\slash", "Platinum"]),
        case(&format!(r#"createdAt > "{}""#, u[3]), &["Ünïcödé 🎉", "gold", "Back\\slash", "Platinum"]),
        case(&format!(r#"createdAt < "{}""#, t[3]), &["Gold", "Silver", "Bronze"]),
        case(&format!(r#"createdAt <= "{}""#, u[3]), &["Gold", "Silver", "Bronze", "Say \"hi\""]),
        case(&format!(r#"createdAt >= "{}" and createdAt <= "{}""#, t[1], u[2]), &["Silver", "Bronze"]),
        case(
            &format!(r#"createdAt >= "{}""#, plus_two(&t[3])),
            &["Say \"hi\"", "Ünïcödé 🎉", "gold", "Back\\slash", "Platinum"],
        ),
        case(r#"createdAt != "2000-01-01T00:00:00Z""#, &ALL),
        case(r#"createdAt > "2000-01-01""#, &ALL),
        case(r#"createdAt < "2000-01-01T00:00:00Z""#, &[]),
        case(&format!(r#"lastModifiedAt > "{}""#, u[7]), &["Bronze", "Platinum"]),
        case(&format!(r#"lastModifiedAt <= "{}" and version = 1"#, u[7]), &v1),
        // custom fields: no group has any
        case(r#"custom(fields(tier)) = "gold""#, &[]),
        case("custom(fields(tier)) is not defined", &ALL),
    ];
    // Variables, repeated for `in`.
    let (bronze, say) = (ids[2].as_str(), ids[3].as_str());
    cases.extend([
        case_with(&[("where", "name in :names"), ("var.names", "Gold"), ("var.names", "Bronze")], &["Gold", "Bronze"]),
        case_with(
            &[("where", "name not in :names"), ("var.names", "Gold"), ("var.names", "Bronze")],
            &all_but(&["Gold", "Bronze"]),
        ),
        case_with(&[("where", "name in :names"), ("var.names", "Say \"hi\"")], &["Say \"hi\""]),
        case_with(&[("where", r#"name in ("Platinum", :names)"#), ("var.names", "Gold")], &["Platinum", "Gold"]),
        case_with(&[("where", "name = :n"), ("var.n", "Ünïcödé 🎉")], &["Ünïcödé 🎉"]),
        case_with(
            &[
                ("where", "key in :k and name in :n"),
                ("var.k", "gold"),
                ("var.k", "silver"),
                ("var.n", "Silver"),
                ("var.n", "Bronze"),
            ],
            &["Silver"],
        ),
        case_with(&[("where", "version = :v"), ("var.v", "3")], &["Bronze"]),
        case_with(&[("where", "version in :v"), ("var.v", "2"), ("var.v", "3")], &["Bronze", "Platinum"]),
        case_with(&[("where", "id in :ids"), ("var.ids", bronze), ("var.ids", say)], &["Bronze", "Say \"hi\""]),
        case_with(
            &[("where", "id not in :ids"), ("var.ids", bronze), ("var.ids", say)],
            &all_but(&["Bronze", "Say \"hi\""]),
        ),
        // Several `where` parameters are AND-ed (each one as a whole).
        case_with(&[("where", "key is defined"), ("where", "version > 1")], &["Platinum"]),
        case_with(&[("where", r#"name = "Gold" or name = "Silver""#), ("where", r#"key = "silver""#)], &["Silver"]),
        case_with(&[("where", r#"name = "Gold""#), ("where", r#"name = "Silver""#)], &[]),
        case_with(&[("where", "version = 1"), ("where", "key is not defined"), ("where", r#"name != "x""#)], &["gold"]),
    ]);
    assert!(cases.len() >= 60, "{} cases", cases.len());

    let mut failures = Vec::new();
    for case in &cases {
        let query: Vec<(&str, &str)> = case.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (s, b) = ctx.get_q("/customer-groups", &query).await;
        if s != 200 {
            failures.push(format!("{query:?}: {s} {b}"));
            continue;
        }
        let names: Vec<String> = b["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|g| g["name"].as_str().expect("name").to_owned())
            .collect();
        let got: BTreeSet<String> = names.iter().cloned().collect();
        if got != case.expected || names.len() != got.len() || b["total"] != json!(got.len()) {
            failures.push(format!("{query:?}: expected {:?}, got {names:?} (total {})", case.expected, b["total"]));
        }
        // HEAD agrees with GET.
        let (hs, body) = ctx.head_q("/customer-groups", &query).await;
        let want = if case.expected.is_empty() { 404 } else { 200 };
        if (hs, body.as_str()) != (want, "") {
            failures.push(format!("HEAD {query:?}: {hs} {body:?}, expected {want}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_predicates_are_invalid_input() {
    let ctx = Ctx::new().await;
    seed(&ctx).await;
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("where", "name = ")],
        vec![("where", "name == \"a\"")],
        vec![("where", "name = 'Gold'")],
        vec![("where", "name = \"unterminated")],
        vec![("where", "(name = \"a\"")],
        vec![("where", "name = \"a\")")],
        vec![("where", "not name = \"a\"")],
        vec![("where", "name in ()")],
        vec![("where", "name in \"a\"")],
        vec![("where", "key is")],
        vec![("where", "KEY is defined")],
        vec![("where", "Name = \"Gold\"")],
        vec![("where", "groupName = \"Gold\"")],
        vec![("where", "version = \"1\"")],
        vec![("where", "name = 1")],
        vec![("where", "name = true")],
        vec![("where", "createdAt > \"yesterday\"")],
        vec![("where", "createdAt > 5")],
        vec![("where", "name = :missing")],
        vec![("where", "name = :n"), ("var.n", "a"), ("var.n", "b")],
        vec![("where", "version = :v"), ("var.v", "x")],
        vec![("where", "")],
        vec![("where", "name = \"a\""), ("where", "and")],
        vec![("where", "name = \"\\q\"")],
        vec![("where", "name = \"\\ud83d\"")],
    ];
    let mut failures = Vec::new();
    for query in &cases {
        let (s, b) = ctx.get_q("/customer-groups", query).await;
        let (code, message) = first_error(&b);
        if s != 400 || code != "InvalidInput" || !message.starts_with("Malformed parameter: where: ") {
            failures.push(format!("{query:?}: {s} {b}"));
        }
        let (hs, body) = ctx.head_q("/customer-groups", query).await;
        if (hs, body.as_str()) != (400, "") {
            failures.push(format!("HEAD {query:?}: {hs} {body:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Deep nesting and long inputs are refused, not crashed on.
    let deep = format!("{}name = \"a\"{}", "(".repeat(200), ")".repeat(200));
    let (s, b) = ctx.get_q("/customer-groups", &[("where", &deep)]).await;
    assert_eq!((s, first_error(&b).0.as_str()), (400, "InvalidInput"), "{b}");
    let long = format!("name = \"{}\"", "x".repeat(20_000));
    let (s, b) = ctx.get_q("/customer-groups", &[("where", &long)]).await;
    assert_eq!((s, first_error(&b).0.as_str()), (400, "InvalidInput"), "{b}");
    assert_eq!(ctx.names(&[]).await.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injection_attempts_change_nothing() {
    let ctx = Ctx::new().await;
    seed(&ctx).await;
    let sneaky = ctx.create("x\" or 1=1 --", None).await;
    let quote = ctx.create("a' OR '1'='1", None).await;

    let matching_nothing = [
        r#"name = "x\" or 1=1 -- ""#,
        r#"name = "' or ''='""#,
        r#"name = "Gold'; DROP TABLE customer_groups; --""#,
        r#"key = "gold\"; drop table customer_groups; --""#,
        r#"custom(fields(tier)) = "a'); drop table customer_groups; --""#,
        r#"name in ("a\") or (1=1", "b")"#,
        r#"id = "00000000-0000-0000-0000-000000000000' or '1'='1""#,
    ];
    for predicate in matching_nothing {
        let (s, b) = ctx.get_q("/customer-groups", &[("where", predicate)]).await;
        assert_eq!((s, &b["results"], &b["total"]), (200, &json!([]), &json!(0)), "{predicate}: {b}");
    }
    let refused = [
        r#"name = "a"; drop table customer_groups"#,
        r#"name = "a" /* */ or 1=1"#,
        r#"name = "Gold" -- comment"#,
        r#"name = "a" or 1=1"#,
        r#"1=1"#,
        r#"name = "a" union select * from api_clients"#,
        r#"name = ("a")"#,
        r#"custom(fields(a'b)) = "x""#,
        r#"custom(fields(tier) or 1=1) = "x""#,
    ];
    for predicate in refused {
        let (s, b) = ctx.get_q("/customer-groups", &[("where", predicate)]).await;
        assert_eq!((s, first_error(&b).0.as_str()), (400, "InvalidInput"), "{predicate}: {b}");
    }
    // Through variables as well.
    let (s, b) = ctx.get_q("/customer-groups", &[("where", "name = :n"), ("var.n", "' or 1=1 --")]).await;
    assert_eq!((s, &b["total"]), (200, &json!(0)), "{b}");
    let (s, b) =
        ctx.get_q("/customer-groups", &[("where", "name in :n"), ("var.n", "x\" or 1=1 --"), ("var.n", "a")]).await;
    assert_eq!((s, &b["results"][0]["id"], &b["total"]), (200, &sneaky["id"], &json!(1)), "{b}");
    // The strange names are ordinary values.
    let (s, b) = ctx.get_q("/customer-groups", &[("where", r#"name = "x\" or 1=1 --""#)]).await;
    assert_eq!((s, &b["results"][0]["id"], &b["total"]), (200, &sneaky["id"], &json!(1)), "{b}");
    let (s, b) = ctx.get_q("/customer-groups", &[("where", r#"name = "a' OR '1'='1""#)]).await;
    assert_eq!((s, &b["results"][0]["id"], &b["total"]), (200, &quote["id"], &json!(1)), "{b}");
    // Sorting cannot be used either.
    for sort in ["name; drop table customer_groups", "name asc, (select 1)", "id desc --"] {
        let (s, b) = ctx.get_q("/customer-groups", &[("sort", sort)]).await;
        assert_eq!((s, first_error(&b).0.as_str()), (400, "InvalidInput"), "{sort}: {b}");
    }

    // The table is intact and still works.
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups").await, 10);
    assert_eq!(ctx.names(&[]).await.len(), 10);
    assert_eq!(ctx.names(&[("where", r#"name = "Gold""#)]).await, vec!["Gold".to_owned()]);
    ctx.create("after", None).await;
}
