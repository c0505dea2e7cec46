use super::*;
use xclade_domain::custom_type::{EnumValue, FieldDefinition, FieldName, FieldType, InputHint, LocalizedString};

fn plain(name: &str) -> Field {
    Field::Plain(name.into())
}

fn cmp(field: Field, op: CmpOp, value: Value) -> Expr {
    Expr::Cmp { field, op, value }
}

fn def(name: &str, t: FieldType) -> FieldDefinition {
    FieldDefinition::new(
        FieldName::parse(name).expect("valid"),
        LocalizedString::default(),
        false,
        t,
        InputHint::default(),
    )
    .expect("valid")
}

fn compile_groups(expr: &Expr, typing: &CustomTyping) -> Result<Sql, DomainError> {
    let mut sql = Sql::new("");
    Compiler { table: &GROUPS, typing }.compile(expr, &mut sql)?;
    Ok(sql)
}

#[test]
fn values_never_reach_the_sql_text() {
    let injection = "x\" or 1=1 --";
    let t1 = Uuid::from_u128(1);
    let defs = [def("a-b", FieldType::Number)];
    let typing = CustomTyping::new([(t1, &defs[..])]);
    let expr = Expr::Or(vec![
        cmp(plain("name"), CmpOp::Eq, Value::Str(injection.into())),
        cmp(Field::Custom("a-b".into()), CmpOp::Gt, Value::Number("3".into())),
    ]);
    let sql = compile_groups(&expr, &typing).expect("compiles");
    assert!(!sql.text().contains("1=1"), "{}", sql.text());
    assert!(!sql.text().contains("a-b"), "{}", sql.text());
    assert_eq!(
        sql.text(),
        "(COALESCE(g.name = $1, FALSE) OR COALESCE(CASE WHEN g.custom_type_id = ANY($3) THEN \
         ((g.custom_fields -> $2) #>> '{}')::numeric > CAST($4 AS numeric) ELSE FALSE END, FALSE))"
    );
}

#[test]
fn custom_fields_compare_by_their_type() {
    let (t1, t2) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let enum_type = FieldType::Enum { values: vec![EnumValue { key: "gold".into(), label: "Gold".into() }] };
    let defs1 = [
        def("born", FieldType::Date),
        def("at", FieldType::DateTime),
        def("tier", enum_type.clone()),
        def("tags", FieldType::Set { element_type: Box::new(enum_type) }),
        def("code", FieldType::Number),
    ];
    let defs2 = [def("code", FieldType::String)];
    let typing = CustomTyping::new([(t1, &defs1[..]), (t2, &defs2[..])]);
    let custom = |name: &str, op, v: Value| cmp(Field::Custom(name.into()), op, v);

    let sql = compile_groups(&custom("born", CmpOp::Lt, Value::Str("2024-05-01".into())), &typing).expect("date");
    assert!(sql.text().contains("::date < CAST($3 AS date)"), "{}", sql.text());
    let sql = compile_groups(&custom("at", CmpOp::Ge, Value::Str("2024-05-01T10:00:00+02:00".into())), &typing)
        .expect("date-time");
    assert!(sql.text().contains("::timestamptz >= $3"), "{}", sql.text());
    let sql = compile_groups(&custom("tags", CmpOp::Eq, Value::Str("gold".into())), &typing).expect("set");
    assert!(sql.text().contains("EXISTS (SELECT 1 FROM jsonb_array_elements("), "{}", sql.text());
    // A name with two kinds: a number literal compares with the Number one, a string with the
    // String one, each only for the types that give the field that kind.
    let sql = compile_groups(&custom("code", CmpOp::Eq, Value::Number("7".into())), &typing).expect("number");
    assert_eq!(sql.text().matches(" WHEN ").count(), 1, "{}", sql.text());
    assert!(sql.text().contains("::numeric"), "{}", sql.text());
    let sql = compile_groups(&custom("code", CmpOp::Eq, Value::Str("7".into())), &typing).expect("string");
    assert!(sql.text().contains("#>> '{}') = $"), "{}", sql.text());
    // Unknown fields, and literals that fit no kind of the field, match nothing.
    for (name, v) in [
        ("nope", Value::Str("x".into())),
        ("born", Value::Str("yesterday".into())),
        ("tier", Value::Number("1".into())),
    ] {
        let sql = compile_groups(&custom(name, CmpOp::Eq, v), &typing).expect("compiles");
        assert_eq!(sql.text(), "FALSE");
    }
}

#[test]
fn types_table_has_no_custom_fields_or_name() {
    let typing = CustomTyping::default();
    let compiler = Compiler { table: &TYPES, typing: &typing };
    let mut sql = Sql::new("");
    compiler.compile(&cmp(plain("key"), CmpOp::Eq, Value::Str("k".into())), &mut sql).expect("key");
    assert_eq!(sql.text(), "COALESCE(t.key = $1, FALSE)");
    assert!(compiler.compile(&cmp(plain("name"), CmpOp::Eq, Value::Str("k".into())), &mut sql).is_err());
    let custom = cmp(Field::Custom("x".into()), CmpOp::Eq, Value::Str("k".into()));
    assert!(compiler.compile(&custom, &mut sql).is_err());
}

#[test]
fn unknown_fields_and_variables_are_refused() {
    let typing = CustomTyping::default();
    let malformed = |err: DomainError| match err {
        DomainError::Validation { field: Some(field), violation: Violation::MalformedWhere(problem) }
            if field == "where" =>
        {
            problem
        }
        other => panic!("expected a malformed where, got {other:?}"),
    };
    let err = compile_groups(&cmp(plain("foo"), CmpOp::Eq, Value::Str("x".into())), &typing).expect_err("unknown");
    assert_eq!(malformed(err), WhereViolation::UnknownField { field: "foo".into() });
    let err = compile_groups(&cmp(plain("name"), CmpOp::Eq, Value::Var("v".into())), &typing).expect_err("unbound");
    assert_eq!(malformed(err), WhereViolation::UnboundVariable { name: "v".into() });
    assert!(compile_groups(&cmp(plain("version"), CmpOp::Eq, Value::Number("1; drop".into())), &typing).is_err());
    assert!(compile_groups(&cmp(plain("createdAt"), CmpOp::Eq, Value::Str("yesterday".into())), &typing).is_err());
}

#[test]
fn dates() {
    assert_eq!(parse_datetime("2024-05-01").map(|t| t.to_rfc3339()), Some("2024-05-01T00:00:00+00:00".into()));
    assert_eq!(
        parse_datetime("2024-05-01T12:00:00+02:00").map(|t| t.to_rfc3339()),
        Some("2024-05-01T10:00:00+00:00".into())
    );
    assert!(parse_datetime("2024-13-01").is_none());
}

#[test]
fn ids_that_are_not_uuids() {
    let typing = CustomTyping::default();
    let sql = compile_groups(&cmp(plain("id"), CmpOp::Eq, Value::Str("nope".into())), &typing).expect("compiles");
    assert_eq!(sql.text(), "COALESCE(FALSE, FALSE)");
    let sql = compile_groups(&cmp(plain("id"), CmpOp::Ne, Value::Str("nope".into())), &typing).expect("compiles");
    assert_eq!(sql.text(), "(NOT COALESCE(FALSE, FALSE))");
}

#[test]
fn order_breaks_ties_by_id() {
    let sort = [Sort { field: SortField::Name, descending: true }];
    assert_eq!(query_order(&GROUPS, &sort), vec![("g.name", true), ("g.id", true)]);
    assert_eq!(query_order(&TYPES, &[]), vec![("t.id", false)]);
}
