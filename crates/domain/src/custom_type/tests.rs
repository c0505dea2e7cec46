use super::*;
use crate::customer_group::Version;
use chrono::TimeZone;
use serde_json::json;

fn ls(en: &str) -> LocalizedString {
    LocalizedString::new("label", [("en".to_owned(), en.to_owned())].into_iter().collect()).expect("valid")
}

fn def(name: &str, t: FieldType, required: bool) -> FieldDefinition {
    FieldDefinition::new(FieldName::parse(name).expect("valid"), ls(name), required, t, InputHint::SingleLine)
        .expect("valid")
}

fn enum_type() -> FieldType {
    FieldType::Enum {
        values: vec![
            EnumValue { key: "gold".into(), label: "Gold".into() },
            EnumValue { key: "silver".into(), label: "Silver".into() },
        ],
    }
}

fn lenum_type() -> FieldType {
    FieldType::LocalizedEnum { values: vec![LocalizedEnumValue { key: "red".into(), label: ls("Red") }] }
}

fn set_of(t: FieldType) -> FieldType {
    FieldType::Set { element_type: Box::new(t) }
}

fn a_type(defs: Vec<FieldDefinition>) -> Type {
    let t = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    let key = TypeKey::parse("group-fields").expect("valid");
    TypeDraft::new(key, ls("Group fields"), None, vec!["customer-group".into()], defs).expect("valid").into_type(
        TypeId(uuid::Uuid::nil()),
        t,
        None,
    )
}

/// Every field type: values it accepts and (at least two) values it refuses.
#[test]
fn every_field_type_accepts_and_refuses() {
    let cases: Vec<(FieldType, Vec<Value>, Vec<Value>)> = vec![
        (FieldType::Boolean, vec![json!(true), json!(false)], vec![json!("true"), json!(1), json!(null), json!([])]),
        (
            FieldType::String,
            vec![json!("x"), json!("")],
            vec![json!(1), json!(true), json!({"en": "x"}), json!("a\0b")],
        ),
        (
            FieldType::LocalizedString,
            vec![json!({"en": "x"}), json!({"en": "x", "de": "y"}), json!({})],
            vec![json!("x"), json!({"en": 1}), json!({"": "x"}), json!(["x"]), json!({"en": "a\0"})],
        ),
        (FieldType::Number, vec![json!(1), json!(-2.5), json!(1e20)], vec![json!("1"), json!(true), json!([1])]),
        (
            FieldType::Date,
            vec![json!("2024-05-01"), json!("2024-02-29")],
            vec![
                json!("2024-13-01"),
                json!("2023-02-29"),
                json!("2024-5-1"),
                json!("2024-05-01T00:00:00Z"),
                json!("01.05.2024"),
                json!(20240501),
            ],
        ),
        (
            FieldType::DateTime,
            vec![json!("2024-05-01T10:00:00.000Z"), json!("2024-05-01T10:00:00Z"), json!("2024-05-01T12:00:00+02:00")],
            vec![
                json!("2024-05-01"),
                json!("2024-05-01 10:00:00Z"),
                json!("2024-05-01T10:00Z"),
                json!("2024-05-01T10:00:00"),
                json!("2024-05-01T25:00:00Z"),
                json!("2024-05-01T10:00:00.Z"),
                json!("yesterday"),
                json!(1714557600),
            ],
        ),
        (enum_type(), vec![json!("gold"), json!("silver")], vec![json!("bronze"), json!("Gold"), json!(1)]),
        (lenum_type(), vec![json!("red")], vec![json!("blue"), json!({"key": "red"}), json!(null)]),
        (set_of(FieldType::Number), vec![json!([]), json!([1, 2.5])], vec![json!(1), json!([1, "2"]), json!({"0": 1})]),
        (set_of(enum_type()), vec![json!(["gold", "silver"])], vec![json!(["gold", "x"]), json!("gold")]),
        (set_of(FieldType::Date), vec![json!(["2024-05-01"])], vec![json!(["2024-05-32"]), json!(["x"])]),
    ];
    for (t, good, bad) in cases {
        let ty = a_type(vec![def("f1", t.clone(), false)]);
        assert!(bad.len() >= 2, "{t:?} needs two bad values");
        for v in good {
            assert!(ty.check_value("f1", &v).is_ok(), "{} should accept {v}", t.name());
        }
        for v in bad {
            match ty.check_value("f1", &v) {
                Err(DomainError::InvalidField { field, invalid_value, .. }) => {
                    assert_eq!((field.as_str(), &invalid_value), ("f1", &v), "{} refusing {v}", t.name());
                }
                other => panic!("{} should refuse {v}, got {other:?}", t.name()),
            }
        }
    }
}

#[test]
fn date_times_are_normalized_to_utc_millis() {
    let ty = a_type(vec![def("at", FieldType::DateTime, false), def("ats", set_of(FieldType::DateTime), false)]);
    assert_eq!(ty.check_value("at", &json!("2024-05-01T12:00:00+02:00")).ok(), Some(json!("2024-05-01T10:00:00.000Z")));
    assert_eq!(
        ty.check_value("at", &json!("2024-05-01T10:00:00.123456Z")).ok(),
        Some(json!("2024-05-01T10:00:00.123Z"))
    );
    assert_eq!(ty.check_value("ats", &json!(["2024-05-01T10:00:00Z"])).ok(), Some(json!(["2024-05-01T10:00:00.000Z"])));
}

#[test]
fn fields_objects() {
    let ty = a_type(vec![def("tier", enum_type(), true), def("points", FieldType::Number, false)]);
    let ok = ty.check_fields(&json!({"tier": "gold", "points": 3}).as_object().cloned().unwrap_or_default());
    assert_eq!(ok.ok().map(Value::Object), Some(json!({"tier": "gold", "points": 3})));

    let missing = ty.check_fields(&json!({"points": 3}).as_object().cloned().unwrap_or_default());
    assert!(matches!(missing, Err(DomainError::RequiredField { field }) if field == "tier"));

    let null_is_absent =
        ty.check_fields(&json!({"tier": "gold", "points": null}).as_object().cloned().unwrap_or_default());
    assert_eq!(null_is_absent.ok().map(Value::Object), Some(json!({"tier": "gold"})));

    let undefined = ty.check_fields(&json!({"tier": "gold", "nope": 1}).as_object().cloned().unwrap_or_default());
    assert!(
        matches!(undefined, Err(DomainError::InvalidField { field, invalid_value, .. }) if field == "nope" && invalid_value == json!(1))
    );

    let wrong = ty.check_fields(&json!({"tier": "gold", "points": "3"}).as_object().cloned().unwrap_or_default());
    assert!(matches!(wrong, Err(DomainError::InvalidField { field, .. }) if field == "points"));
}

#[test]
fn names_keys_and_field_types() {
    let x37 = "x".repeat(37);
    for (name, valid) in [("ab", true), ("a", false), ("a b", false), (x37.as_str(), false)] {
        assert_eq!(FieldName::parse(name).is_ok(), valid, "{name}");
    }
    assert!(TypeKey::parse("k").is_err());
    assert!(set_of(set_of(FieldType::String)).validate().is_err());
    let dup = FieldType::Enum {
        values: vec![
            EnumValue { key: "a".into(), label: "A".into() },
            EnumValue { key: "a".into(), label: "B".into() },
        ],
    };
    match dup.validate() {
        Err(DomainError::InvalidOperation(r)) => {
            assert_eq!(r, crate::error::Refusal::DuplicateEnumKeys { keys: vec!["a".into()] })
        }
        other => panic!("expected InvalidOperation, got {other:?}"),
    }
    assert!(FieldType::Enum { values: vec![EnumValue { key: String::new(), label: "A".into() }] }.validate().is_err());
    assert!(FieldType::Enum { values: vec![EnumValue { key: "a\0".into(), label: "A".into() }] }.validate().is_err());
    assert!(FieldType::Enum { values: vec![EnumValue { key: "a".into(), label: "A\0".into() }] }.validate().is_err());
    assert!(LocalizedString::new("name", [("en".to_owned(), "x\0".to_owned())].into_iter().collect()).is_err());
}

#[test]
fn drafts() {
    let key = TypeKey::parse("tk").expect("valid");
    let draft = TypeDraft::new(
        key.clone(),
        ls("T"),
        None,
        vec!["customer-group".into(), "customer-group".into()],
        vec![def("a1", FieldType::String, false)],
    )
    .expect("valid");
    assert_eq!(draft.resource_type_ids, vec!["customer-group".to_owned()]);
    assert!(TypeDraft::new(key.clone(), ls("T"), None, vec![], vec![]).is_err());
    assert!(TypeDraft::new(key.clone(), ls("T"), None, vec!["Customer Group".into()], vec![]).is_err());
    let twice = vec![def("a1", FieldType::String, false), def("a1", FieldType::Number, false)];
    assert!(TypeDraft::new(key, ls("T"), None, vec!["customer-group".into()], twice).is_err());
}

#[test]
fn actions_and_versions() {
    let ty = a_type(vec![def("tier", enum_type(), false), def("tags", set_of(enum_type()), false)]);
    let by = Actor::Client("c".into());
    let actions = vec![
        TypeAction::ChangeName(ls("Group fields")), // same: no-op
        TypeAction::ChangeName(ls("Other")),
        TypeAction::SetDescription(Some(ls("d"))),
        TypeAction::AddFieldDefinition(def("points", FieldType::Number, false)),
        TypeAction::ChangeLabel { field_name: "points".into(), label: ls("Points") },
        TypeAction::ChangeLabel { field_name: "points".into(), label: ls("Points") }, // no-op
        TypeAction::AddEnumValue {
            field_name: "tier".into(),
            value: EnumValue { key: "bronze".into(), label: "B".into() },
        },
        TypeAction::AddEnumValue {
            field_name: "tags".into(),
            value: EnumValue { key: "vip".into(), label: "V".into() },
        },
        TypeAction::RemoveFieldDefinition("points".into()),
    ];
    let (next, n) = ty.apply_all(&actions, Utc::now(), &by).expect("ok");
    assert_eq!((n, next.0.version), (7, Version::new(8).unwrap()));
    assert!(next.check_value("tier", &json!("bronze")).is_ok());
    assert!(next.check_value("tags", &json!(["vip", "gold"])).is_ok());
    assert!(next.field("points").is_none());

    let refused = [
        TypeAction::AddFieldDefinition(def("tier", FieldType::String, false)),
        TypeAction::RemoveFieldDefinition("nope".into()),
        TypeAction::ChangeLabel { field_name: "nope".into(), label: ls("x") },
        TypeAction::AddEnumValue {
            field_name: "tier".into(),
            value: EnumValue { key: "gold".into(), label: "G".into() },
        },
        TypeAction::AddLocalizedEnumValue {
            field_name: "tier".into(),
            value: LocalizedEnumValue { key: "x".into(), label: ls("x") },
        },
    ];
    for action in refused {
        assert!(
            matches!(
                ty.apply_all(std::slice::from_ref(&action), Utc::now(), &by),
                Err(DomainError::InvalidOperation(_))
            ),
            "{action:?}"
        );
    }
    let (same, n) = ty.apply_all(&[TypeAction::SetDescription(None)], Utc::now(), &by).expect("ok");
    assert_eq!((n, same.0.version), (0, Version::new(1).unwrap()));
}

#[test]
fn usable_on_groups() {
    let mut ty = a_type(vec![]);
    assert!(ty.check_usable_on_groups().is_ok());
    ty.0.resource_type_ids = vec!["customer".into()];
    assert!(matches!(ty.check_usable_on_groups(), Err(DomainError::InvalidOperation(_))));
}

#[test]
fn scalar_types_read_back_from_their_names() {
    for name in ["Boolean", "String", "LocalizedString", "Number", "Date", "DateTime"] {
        assert_eq!(FieldType::scalar(name).as_ref().map(FieldType::name), Some(name));
    }
    for t in [enum_type(), lenum_type(), set_of(FieldType::Number)] {
        assert_eq!(FieldType::scalar(t.name()), None);
    }
    assert_eq!(FieldType::scalar("Money"), None);
}
