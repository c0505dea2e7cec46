//! The `where` predicates of the project family, parsed by the domain's parser and run
//! against rows whose answers are known.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, SubsecRound, Utc};
use serde_json::json;
use xclade_domain::customer_group::{CustomerGroup, GroupKey, Version};
use xclade_domain::paging::GroupQuery;
use xclade_domain::ports::CustomerGroupRepository;
use xclade_domain::predicate::{self, Expr};
use xclade_domain::DomainError;

use crate::common::{group, with_custom, Fx};

/// A predicate, its `var.*` bindings and the names of the groups it must return.
type Case<'a> = (String, Vec<(&'a str, &'a [&'a str])>, Vec<&'a str>);

const FIELDS: &[&str] = &["id", "key", "name", "version", "createdAt", "lastModifiedAt"];

fn parse(input: &str, vars: &[(&str, &[&str])]) -> Expr {
    let expr = predicate::parse(input, FIELDS, true).unwrap_or_else(|e| panic!("{input}: {e}"));
    let vars: HashMap<String, Vec<String>> =
        vars.iter().map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect())).collect();
    predicate::bind_typed(expr, &vars, &["version"]).unwrap_or_else(|e| panic!("{input}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn predicates_return_exactly_the_rows_they_describe() {
    let fx = Fx::new().await;
    let repo = fx.groups();
    let t = fx.create_type().await;
    let before = Utc::now().trunc_subsecs(6) - Duration::seconds(1);
    let mut made: HashMap<&str, CustomerGroup> = HashMap::new();
    for (name, key, custom) in [
        ("Gold", Some("gold"), Some(json!({"tier": "a", "points": 10, "vip": true}))),
        ("Silver", Some("silver"), Some(json!({"tier": "b", "points": 5, "vip": false}))),
        ("Bronze", None, Some(json!({"points": 100, "code": "10"}))),
        ("Platinum", Some("platinum"), None),
        ("x", Some("x-key"), None),
    ] {
        let mut g = group(name, key);
        if let Some(fields) = custom {
            g = with_custom(g, t, fields);
        }
        made.insert(name, repo.create(&fx.ctx(), &g, 1000, None).await.expect("create"));
    }
    let between = Utc::now().trunc_subsecs(6);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // Platinum is saved twice more: version 3, modified after `between`.
    let mut p = made["Platinum"].clone().into_parts();
    p.version = Version::new(3).unwrap();
    p.key = Some(GroupKey::parse("platinum").expect("key"));
    p.last_modified_at = Utc::now().trunc_subsecs(6);
    let p = xclade_domain::customer_group::CustomerGroup::from_parts(p);
    made.insert("Platinum", repo.save(&fx.ctx(), &p, Version::new(1).unwrap(), None).await.expect("save"));
    let id = |name: &str| made[name].id().to_string();
    let every = ["Bronze", "Gold", "Platinum", "Silver", "x"];
    let all_but = |names: &[&str]| every.iter().filter(|n| !names.contains(n)).copied().collect::<Vec<_>>();

    let before_s = before.to_rfc3339();
    let between_s = between.to_rfc3339();
    let gold_id = id("Gold");
    let silver_id = id("Silver");
    let both_ids = [gold_id.as_str(), silver_id.as_str()];
    let cases: Vec<Case> = vec![
        (r#"name = "Gold""#.into(), vec![], vec!["Gold"]),
        (r#"name = "gold""#.into(), vec![], vec![]),
        (r#"name != "Gold""#.into(), vec![], all_but(&["Gold"])),
        (r#"name <> "Gold""#.into(), vec![], all_but(&["Gold"])),
        (r#"name < "C""#.into(), vec![], vec!["Bronze"]),
        (r#"name >= "S""#.into(), vec![], vec!["Silver", "x"]),
        (r#"name in ("Gold", "Silver", "Nope")"#.into(), vec![], vec!["Gold", "Silver"]),
        (r#"name not in ("Gold", "Silver")"#.into(), vec![], vec!["Bronze", "Platinum", "x"]),
        (r#"key = "gold""#.into(), vec![], vec!["Gold"]),
        (r#"key != "gold""#.into(), vec![], all_but(&["Gold"])),
        (r#"key is defined"#.into(), vec![], all_but(&["Bronze"])),
        (r#"key is not defined"#.into(), vec![], vec!["Bronze"]),
        (r#"key > "r""#.into(), vec![], vec!["Silver", "x"]),
        (r#"version = 3"#.into(), vec![], vec!["Platinum"]),
        (r#"version > 1"#.into(), vec![], vec!["Platinum"]),
        (r#"version <= 1"#.into(), vec![], all_but(&["Platinum"])),
        (r#"version >= 1.5"#.into(), vec![], vec!["Platinum"]),
        (r#"version in (1, 3)"#.into(), vec![], every.to_vec()),
        (r#"version not in (1)"#.into(), vec![], vec!["Platinum"]),
        (r#"version = :v"#.into(), vec![("v", &["3"])], vec!["Platinum"]),
        (format!(r#"id = "{gold_id}""#), vec![], vec!["Gold"]),
        (format!(r#"id = "{}""#, gold_id.to_uppercase()), vec![], vec!["Gold"]),
        (format!(r#"id in ("{gold_id}", "{silver_id}", "not-a-uuid")"#), vec![], vec!["Gold", "Silver"]),
        (format!(r#"id not in ("{gold_id}")"#), vec![], all_but(&["Gold"])),
        (r#"id = "not-a-uuid""#.into(), vec![], vec![]),
        (r#"id != "not-a-uuid""#.into(), vec![], every.to_vec()),
        (r#"id in :ids"#.into(), vec![("ids", &both_ids)], vec!["Gold", "Silver"]),
        (format!(r#"createdAt > "{before_s}""#), vec![], every.to_vec()),
        (format!(r#"createdAt < "{before_s}""#), vec![], vec![]),
        (r#"createdAt >= "2000-01-01""#.into(), vec![], every.to_vec()),
        (r#"createdAt < "2000-01-01T00:00""#.into(), vec![], vec![]),
        (format!(r#"lastModifiedAt > "{between_s}""#), vec![], vec!["Platinum"]),
        (format!(r#"lastModifiedAt <= "{between_s}""#), vec![], all_but(&["Platinum"])),
        (r#"name = "Gold" or name = "Silver" and key = "gold""#.into(), vec![], vec!["Gold"]),
        (r#"(name = "Gold" or name = "Silver") and key = "silver""#.into(), vec![], vec!["Silver"]),
        (r#"NOT (name = "Gold") AND not (key is not defined)"#.into(), vec![], vec!["Platinum", "Silver", "x"]),
        (r#"not (name = "Gold" or name = "Silver")"#.into(), vec![], vec!["Bronze", "Platinum", "x"]),
        (r#"custom(fields(points)) > 5"#.into(), vec![], vec!["Bronze", "Gold"]),
        (r#"custom(fields(points)) = 10"#.into(), vec![], vec!["Gold"]),
        (r#"custom(fields(points)) = 10.0"#.into(), vec![], vec!["Gold"]),
        (r#"custom(fields(points)) = "10""#.into(), vec![], vec![]),
        (r#"custom(fields(code)) = "10""#.into(), vec![], vec!["Bronze"]),
        (r#"custom(fields(code)) = 10"#.into(), vec![], vec![]),
        (r#"custom(fields(points)) in (5, 100)"#.into(), vec![], vec!["Bronze", "Silver"]),
        (r#"custom(fields(tier)) = "a""#.into(), vec![], vec!["Gold"]),
        (r#"custom(fields(tier)) != "a""#.into(), vec![], all_but(&["Gold"])),
        (r#"custom(fields(tier)) < "b""#.into(), vec![], vec!["Gold"]),
        (r#"custom(fields(tier)) is defined"#.into(), vec![], vec!["Gold", "Silver"]),
        (r#"custom(fields(tier)) is not defined"#.into(), vec![], vec!["Bronze", "Platinum", "x"]),
        (r#"custom(fields(vip)) = true"#.into(), vec![], vec!["Gold"]),
        (r#"custom(fields(vip)) = false"#.into(), vec![], vec!["Silver"]),
        (r#"custom(fields(tier = "a" or points > 50))"#.into(), vec![], vec!["Bronze", "Gold"]),
        (r#"name = "x\" or 1=1 --""#.into(), vec![], vec![]),
        (r#"name = "x' OR '1'='1""#.into(), vec![], vec![]),
        (r#"custom(fields(tier)) = "a'); DROP TABLE customer_groups; --""#.into(), vec![], vec![]),
        (r#"name = "x""#.into(), vec![], vec!["x"]),
    ];
    assert!(cases.len() >= 25);
    for (input, vars, expected) in &cases {
        let predicate = parse(input, vars);
        let q = GroupQuery { predicate: Some(predicate), limit: 500, ..GroupQuery::default() };
        let page = repo.query(fx.project, &q).await.unwrap_or_else(|e| panic!("{input}: {e:?}"));
        let got: BTreeSet<String> = page.results.iter().map(|g| g.name().as_str().to_owned()).collect();
        let want: BTreeSet<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(got, want, "{input}");
        assert_eq!(page.total, Some(expected.len() as i64), "{input}");
    }
    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_groups").await, 5, "still there");

    // Several `where` parameters are AND-ed; an unbound variable never reaches SQL.
    let both = predicate::parse_all(&[r#"key is defined"#.into(), r#"version = 1"#.into()], FIELDS, true)
        .expect("parse")
        .expect("some");
    let page =
        repo.query(fx.project, &GroupQuery { predicate: Some(both), ..GroupQuery::default() }).await.expect("query");
    assert_eq!(page.total, Some(3));
    let unbound = predicate::parse("name = :n", FIELDS, true).expect("parse");
    let err = repo
        .query(fx.project, &GroupQuery { predicate: Some(unbound), ..GroupQuery::default() })
        .await
        .expect_err("unbound");
    assert!(matches!(err, DomainError::Validation { .. }), "{err:?}");
}
