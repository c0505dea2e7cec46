use super::*;
use proptest::prelude::*;
use serde_json::json;

fn ok(raw: &str) -> CustomerFields {
    match parse_fields(Some(raw)) {
        Ok(f) => f,
        Err(e) => panic!("{raw:?} should parse: {e}"),
    }
}

fn err(raw: &str) -> Vec<String> {
    match parse_fields(Some(raw)) {
        Ok(f) => panic!("{raw:?} should fail, got {f:?}"),
        Err(InvalidFields(items)) => items,
    }
}

fn only(fields: &[&'static str]) -> Option<RelationFields> {
    Some(RelationFields::Only(fields.to_vec()))
}

fn all_but(skip: &str) -> Vec<&'static str> {
    CUSTOMER_SCALARS.iter().copied().filter(|s| *s != skip).collect()
}

#[test]
fn specs_are_consistent() {
    for spec in [&CUSTOMER_SPEC, &CUSTOMER_GROUP_SPEC] {
        assert!(spec.scalars.contains(&ID));
        for (name, fields) in spec.relations {
            assert!(!spec.scalars.contains(name));
            assert!(fields.contains(&ID));
        }
        for d in spec.default_relations {
            assert!(spec.relations.iter().any(|(n, _)| n == d));
        }
    }
}

#[test]
fn none_and_empty_give_defaults() {
    let d = CustomerFields::default();
    assert_eq!(d.scalars(), CUSTOMER_SCALARS);
    assert_eq!(d.groups(), Some(&RelationFields::All));
    assert_eq!(d.addresses(), Some(&RelationFields::All));
    assert!(d.wants_groups() && d.wants_addresses());
    for raw in [None, Some(""), Some(",,, ,"), Some("%2C"), Some("  ")] {
        assert_eq!(parse_fields(raw), Ok(d.clone()), "{raw:?}");
    }
}

#[test]
fn plain_items_replace_defaults() {
    let f = ok("email,first_name");
    assert_eq!(f.scalars(), ["id", "email", "first_name"]);
    assert!(!f.wants_groups() && !f.wants_addresses());
    assert!(f.includes("id") && !f.includes("phone"));
    // order of the output follows the spec, not the request
    assert_eq!(ok("first_name,email,").scalars(), ["id", "email", "first_name"]);
}

#[test]
fn plus_relation_field_on_whole_default_relation_is_noop() {
    // Adding cannot narrow: `groups` is already whole by default.
    assert_eq!(ok("+groups.id"), CustomerFields::default());
    assert_eq!(ok("%2Bgroups.name"), CustomerFields::default());
    // After dropping the relation, `+groups.id` brings back just `id`.
    let f = ok("-groups,+groups.name");
    assert_eq!(f.groups().cloned(), only(&["id", "name"]));
    assert_eq!(f.scalars(), CUSTOMER_SCALARS);
}

#[test]
fn minus_removes_scalar() {
    let f = ok("-phone");
    assert_eq!(f.scalars(), all_but("phone"));
    assert_eq!(f.groups(), Some(&RelationFields::All));
    assert_eq!(f.addresses(), Some(&RelationFields::All));
    assert_eq!(ok("-phone,+phone"), CustomerFields::default());
}

#[test]
fn leading_space_adds() {
    assert_eq!(ok(" phone"), CustomerFields::default());
    assert_eq!(ok("-phone, phone"), CustomerFields::default());
    assert_eq!(ok("-phone,%20phone"), CustomerFields::default());
    // `email, phone`: email is plain (replace), phone is added.
    assert_eq!(ok("email, phone").scalars(), ["id", "email", "phone"]);
    // An explicit sign after the space wins.
    assert_eq!(ok("email, -email").scalars(), ["id"]);
}

#[test]
fn encoded_list_is_decoded_before_splitting() {
    let want = ok("-phone");
    assert_eq!(ok("-phone%2C%2Bgroups.id"), want);
    // raw form-encoded value: `+` not yet turned into a space
    assert_eq!(ok("-phone%2C+groups.id"), want);
    // form-decoded value: `+` already turned into a space
    assert_eq!(ok("-phone, groups.id"), want);
    assert_eq!(ok("%2Dphone%2c%20groups.id"), want);
}

#[test]
fn star_relation_adds_whole_relation() {
    assert_eq!(ok("*groups"), CustomerFields::default());
    assert_eq!(ok("+*groups"), CustomerFields::default());
    let f = ok("email,*groups");
    assert_eq!(f.scalars(), ["id", "email"]);
    assert_eq!(f.groups(), Some(&RelationFields::All));
    assert!(!f.wants_addresses());
    assert!(!ok("-*addresses").wants_addresses());
}

#[test]
fn plain_relation_forms_replace() {
    for raw in ["groups.*", "groups"] {
        let f = ok(raw);
        assert_eq!(f.scalars(), ["id"]);
        assert_eq!(f.groups(), Some(&RelationFields::All));
        assert!(!f.wants_addresses());
    }
    let f = ok("groups.id");
    assert_eq!(f.scalars(), ["id"]);
    assert_eq!(f.groups().cloned(), only(&["id"]));
    assert!(!f.wants_addresses());
    let f = ok("groups.name,addresses.city,addresses.phone");
    assert_eq!(f.groups().cloned(), only(&["id", "name"]));
    assert_eq!(f.addresses().cloned(), only(&["id", "city", "phone"]));
    assert!(f.relation_includes("addresses", "city"));
    assert!(!f.relation_includes("addresses", "company"));
    assert!(!f.relation_includes("nope", "id"));
    // whole relation wins over a later single field, and vice versa
    assert_eq!(ok("groups.name,groups.*").groups(), Some(&RelationFields::All));
    assert_eq!(ok("groups.*,groups.name").groups(), Some(&RelationFields::All));
}

#[test]
fn removing_relation_fields() {
    let f = ok("-groups.name");
    let rest: Vec<_> = CUSTOMER_GROUP_RELATION_FIELDS.iter().copied().filter(|f| *f != "name").collect();
    assert_eq!(f.groups().cloned(), Some(RelationFields::Only(rest)));
    assert_eq!(f.scalars(), CUSTOMER_SCALARS);
    assert!(!ok("-groups").wants_groups());
    assert!(!ok("-groups.*").wants_groups());
    // `id` of a relation can't be removed: no-op
    assert_eq!(ok("-groups.id"), CustomerFields::default());
    assert_eq!(ok("groups.name,-groups.id").groups().cloned(), only(&["id", "name"]));
    // removing from an unselected relation: no-op
    assert_eq!(ok("email,-groups.name").groups(), None);
}

#[test]
fn id_is_always_kept() {
    assert_eq!(ok("-id"), CustomerFields::default());
    assert_eq!(ok("-id,email").scalars(), ["id", "email"]);
    assert_eq!(ok("email,-email").scalars(), ["id"]);
}

#[test]
fn invalid_items_are_listed() {
    assert_eq!(err("foo,bar"), ["foo", "bar"]);
    assert_eq!(parse_fields(Some("foo,bar")).unwrap_err().to_string(), "Requested fields [foo, bar] are not valid");
    assert_eq!(err("email,foo,groups.id,-bar,+foo, bar"), ["foo", "bar"]);
    assert_eq!(err("groups.foo"), ["groups.foo"]);
    assert_eq!(err("*email"), ["*email"]);
    assert_eq!(err("-*email"), ["*email"]);
    assert_eq!(err("groups.id.x"), ["groups.id.x"]);
    assert_eq!(err("customers.id,*customers"), ["customers.id", "*customers"]);
    assert_eq!(err("**groups,*groups.id,groups.,.id"), ["**groups", "*groups.id", "groups.", ".id"]);
    assert_eq!(err("+,-,*"), ["+", "-", "*"]);
    assert_eq!(err("++email,+-email"), ["+email", "-email"]);
    assert_eq!(err("Email,email "), ["Email"]);
}

#[test]
fn percent_edge_cases() {
    assert_eq!(err("email,%"), ["%"]);
    assert_eq!(err("%zz,email%"), ["%zz", "email%"]);
    // decoded once only: a double-encoded comma stays literal
    assert_eq!(err("email%252Cphone"), ["email%2Cphone"]);
    // invalid UTF-8 is replaced, not a panic
    assert_eq!(err("%FF"), ["\u{FFFD}"]);
}

#[test]
fn very_long_input() {
    let valid = "email,-phone,+groups.id,".repeat(100 * 1024 / 24);
    assert!(valid.len() >= 100 * 1024 - 24);
    assert_eq!(ok(&valid).scalars(), ["id", "email"]);

    let same = "foo,".repeat(25_600);
    assert_eq!(err(&same), ["foo"]);

    let distinct: String = (0..20_000).map(|i| format!("f{i},")).collect();
    assert!(distinct.len() > 100 * 1024);
    let items = err(&distinct);
    assert_eq!(items.len(), 20_000);
    assert_eq!(items[19_999], "f19999");
}

#[test]
fn customer_group_spec() {
    let d = parse_fields_for(&CUSTOMER_GROUP_SPEC, None).unwrap();
    assert_eq!(d.scalars(), CUSTOMER_GROUP_SCALARS);
    assert_eq!(d.relation("customers"), None);
    assert_eq!(d, SelectedFields::defaults_for(&CUSTOMER_GROUP_SPEC));

    let f = parse_fields_for(&CUSTOMER_GROUP_SPEC, Some("+customers.email")).unwrap();
    assert_eq!(f.scalars(), CUSTOMER_GROUP_SCALARS);
    assert_eq!(f.relation("customers").cloned(), only(&["id", "email"]));
    let f = parse_fields_for(&CUSTOMER_GROUP_SPEC, Some("*customers")).unwrap();
    assert_eq!(f.relation("customers"), Some(&RelationFields::All));
    let f = parse_fields_for(&CUSTOMER_GROUP_SPEC, Some("name")).unwrap();
    assert_eq!(f.scalars(), ["id", "name"]);
    let e = parse_fields_for(&CUSTOMER_GROUP_SPEC, Some("groups,email")).unwrap_err();
    assert_eq!(e.0, ["groups", "email"]);
}

fn sample_customer() -> Value {
    json!({
        "id": "cus_1",
        "email": "a@b.c",
        "company_name": null,
        "first_name": "Ada",
        "last_name": "L",
        "phone": "123",
        "metadata": {"k": 1},
        "has_account": true,
        "default_billing_address_id": null,
        "default_shipping_address_id": null,
        "created_by": null,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "deleted_at": null,
        "groups": [
            {"id": "cusgroup_1", "name": "VIP", "metadata": null,
             "created_at": "t", "updated_at": "t"}
        ],
        "addresses": [
            {"id": "cuaddr_1", "city": "Paris", "phone": "1", "company": "X"},
            {"id": "cuaddr_2", "city": "Rome", "phone": "2", "company": "Y"}
        ],
        "internal_only": 42
    })
}

#[test]
fn shape_customer_keeps_selected_keys_in_order() {
    let full = sample_customer();
    let mut expected = full.clone();
    if let Some(m) = expected.as_object_mut() {
        m.remove("internal_only");
    }
    assert_eq!(CustomerFields::default().shape_customer(full.clone()), expected);

    let shaped = ok("last_name,email,groups.name,addresses.city").shape_customer(full.clone());
    assert_eq!(
        shaped,
        json!({
            "id": "cus_1",
            "email": "a@b.c",
            "last_name": "L",
            "groups": [{"id": "cusgroup_1", "name": "VIP"}],
            "addresses": [
                {"id": "cuaddr_1", "city": "Paris"},
                {"id": "cuaddr_2", "city": "Rome"}
            ]
        })
    );
    let keys: Vec<_> = shaped.as_object().map(|m| m.keys().cloned().collect()).unwrap();
    assert_eq!(keys, ["id", "email", "last_name", "groups", "addresses"]);

    let shaped = ok("-groups,-addresses.company,-phone").shape_customer(full);
    let m = shaped.as_object().unwrap();
    assert!(!m.contains_key("groups") && !m.contains_key("phone"));
    assert_eq!(m["addresses"][1], json!({"id": "cuaddr_2", "city": "Rome", "phone": "2"}));

    // null relation and non-object input are passed through
    let f = ok("groups.name");
    assert_eq!(f.shape_customer(json!({"id": "c", "groups": null})), json!({"id": "c", "groups": null}));
    assert_eq!(f.shape_customer(json!([1, 2])), json!([1, 2]));
}

fn valid_names() -> Vec<String> {
    let mut v: Vec<String> = CUSTOMER_SCALARS.iter().map(|s| s.to_string()).collect();
    for (rel, fields) in CUSTOMER_SPEC.relations {
        v.push(rel.to_string());
        v.push(format!("*{rel}"));
        v.push(format!("{rel}.*"));
        v.extend(fields.iter().map(|f| format!("{rel}.{f}")));
    }
    v
}

fn is_valid_name(name: &str) -> bool {
    valid_names().iter().any(|v| v == name)
}

fn invalid_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,10}",
        "(groups|addresses|customers)\\.[a-z_*]{1,8}",
        "\\*[a-z_]{1,8}",
        "[a-z]{1,5}\\.[a-z]{1,5}\\.[a-z]{1,5}",
    ]
    .prop_filter("must be invalid", |s| !is_valid_name(s))
}

/// (is_valid, name)
fn item() -> impl Strategy<Value = (bool, String)> {
    let names = valid_names();
    prop_oneof![
        3 => proptest::sample::select(names).prop_map(|n| (true, n)),
        1 => invalid_name().prop_map(|n| (false, n)),
    ]
}

fn prefix() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["", "", "+", "-", " ", "%2B", "%2D", "%20", "%2b"])
}

fn separator() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec![",", "%2C", ", ", " ,", ",,", "%2c"])
}

proptest! {
    #[test]
    fn random_strings_never_panic(raw in any::<String>()) {
        if let Ok(f) = parse_fields(Some(&raw)) {
            prop_assert!(f.includes(ID));
        }
    }

    #[test]
    fn random_ascii_never_panics(raw in "[a-z_.*+%, 0-9A-F-]{0,80}") {
        match parse_fields(Some(&raw)) {
            Ok(f) => {
                prop_assert!(f.includes(ID));
                for rel in ["groups", "addresses"] {
                    if f.relation(rel).is_some() {
                        prop_assert!(f.relation_includes(rel, ID));
                    }
                }
            }
            Err(e) => prop_assert!(!e.0.is_empty()),
        }
    }

    #[test]
    fn combinations_report_exactly_the_invalid_items(
        items in proptest::collection::vec((prefix(), item(), separator()), 0..20)
    ) {
        let mut raw = String::new();
        let mut expected: Vec<String> = Vec::new();
        for (p, (valid, name), sep) in &items {
            raw.push_str(p);
            raw.push_str(name);
            raw.push_str(sep);
            if !valid && !expected.contains(name) {
                expected.push(name.clone());
            }
        }
        match parse_fields(Some(&raw)) {
            Ok(f) => {
                prop_assert!(expected.is_empty(), "{raw:?} accepted");
                prop_assert!(f.includes(ID));
                for rel in ["groups", "addresses"] {
                    if let Some(RelationFields::Only(list)) = f.relation(rel) {
                        prop_assert!(list.contains(&ID));
                    }
                }
                // Only `+`-style items: the defaults are kept.
                if items.iter().all(|(p, _, _)| ["+", "%2B", "%2b"].contains(p)) {
                    prop_assert_eq!(f.scalars(), CUSTOMER_SCALARS);
                }
            }
            Err(e) => {
                prop_assert_eq!(e.0, expected, "raw: {:?}", raw);
            }
        }
    }

    #[test]
    fn shaping_never_adds_keys(items in proptest::collection::vec((prefix(), item()), 0..10)) {
        let raw: Vec<String> = items
            .iter()
            .filter(|(_, (valid, _))| *valid)
            .map(|(p, (_, n))| format!("{p}{n}"))
            .collect();
        let f = parse_fields(Some(&raw.join(","))).unwrap();
        let shaped = f.shape_customer(sample_customer());
        let m = shaped.as_object().unwrap();
        prop_assert_eq!(m.get("id"), Some(&json!("cus_1")));
        for key in m.keys() {
            prop_assert!(f.includes(key) || f.relation(key).is_some());
        }
    }
}
