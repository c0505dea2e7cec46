//! Table tests of binding, type checks, date-times and number literals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic

use std::collections::HashMap;

use super::tests::{and, c, cmp, defined, eq, is_in, n, not, not_in, or, p, parse_fields, s, DATETIME, NUMERIC};
use super::*;

fn vars(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
}

#[test]
fn bind_replaces_variables() {
    let vs = vars(&[("ids", &["a", "b"]), ("id", &["x"]), ("v", &["3"]), ("none", &[])]);
    let bound = |input: &str| bind(parse_fields(input).unwrap(), &vs);
    assert_eq!(bound("id in :ids"), Ok(is_in(p("id"), vec![s("a"), s("b")])));
    assert_eq!(bound("id not in (:ids)"), Ok(not_in(p("id"), vec![s("a"), s("b")])));
    assert_eq!(bound(r#"id in (:id, "y", :ids)"#), Ok(is_in(p("id"), vec![s("x"), s("y"), s("a"), s("b")])));
    assert_eq!(bound("id = :id"), Ok(eq(p("id"), s("x"))));
    assert_eq!(bound("version = :v"), Ok(eq(p("version"), s("3"))));
    assert_eq!(bound("custom(fields(c)) != :id"), Ok(cmp(c("c"), CmpOp::Ne, s("x"))));
    assert_eq!(
        bound(r#"not (id = :id) or key is defined and name = "n""#),
        Ok(or(not(eq(p("id"), s("x"))), and(defined(p("key"), false), eq(p("name"), s("n")))))
    );
    let unbound = |name: &str| Err(PredicateError::UnboundVariable(name.to_string()));
    assert_eq!(bound("id = :nope"), unbound("nope"));
    assert_eq!(bound("id in :nope"), unbound("nope"));
    assert_eq!(bound("id = :none"), unbound("none"));
    assert_eq!(bound("id = :ids"), Err(PredicateError::VariableArity("ids".to_string())));
    assert_eq!(bound("id = :nope").unwrap_err().to_string(), "The variable 'nope' is not bound.");
}

#[test]
fn bind_typed_makes_numbers_for_numeric_fields() {
    let vs = vars(&[("v", &["3", "-1.5"]), ("x", &["x"]), ("one", &["7"])]);
    let bound = |input: &str| bind_typed(parse_fields(input).unwrap(), &vs, NUMERIC);
    assert_eq!(bound("version in :v"), Ok(is_in(p("version"), vec![n("3"), n("-1.5")])));
    assert_eq!(bound("version = :one"), Ok(eq(p("version"), n("7"))));
    assert_eq!(bound("key = :one"), Ok(eq(p("key"), s("7"))));
    assert_eq!(bound("custom(fields(version)) = :one"), Ok(eq(c("version"), s("7"))));
    let err = bound("version = :x").unwrap_err();
    assert_eq!(err.to_string(), "The field 'version' must be compared with a number.");
}

#[test]
fn check_types_of_plain_fields() {
    let check = |input: &str| check_types(&parse_fields(input).unwrap(), NUMERIC, DATETIME);
    for ok in [
        "version = 3 and version in (1, 2.5)",
        r#"id = "x" and key in ("a") and name != "n""#,
        r#"createdAt > "2024-01-01T00:00:00Z" and lastModifiedAt <= "2024-02-29""#,
        r#"createdAt in ("2024-01-01T10:00:00.123456789+05:30")"#,
        "custom(fields(x)) = 3 and custom(fields(y)) = true and custom(fields(z)) = \"s\"",
        "key is defined and createdAt is not defined",
        "version = :v and createdAt = :d",
    ] {
        assert_eq!(check(ok), Ok(()), "{ok}");
    }
    let mismatch =
        |field: &str, expected: Operand| Err(PredicateError::TypeMismatch { field: field.to_string(), expected });
    assert_eq!(check(r#"version = "3""#), mismatch("version", Operand::Number));
    assert_eq!(check("version = true"), mismatch("version", Operand::Number));
    assert_eq!(check(r#"version in (1, "2")"#), mismatch("version", Operand::Number));
    assert_eq!(check("name = 3"), mismatch("name", Operand::String));
    assert_eq!(check("not (id = false)"), mismatch("id", Operand::String));
    assert_eq!(check("createdAt > 5"), mismatch("createdAt", Operand::DateTime));
    assert_eq!(
        check(r#"createdAt > "yesterday""#),
        Err(PredicateError::InvalidDateTime { field: "createdAt".to_string(), value: "yesterday".to_string() })
    );
    assert_eq!(
        check(r#"version = "3""#).unwrap_err().to_string(),
        "The field 'version' must be compared with a number."
    );
    assert!(check(r#"lastModifiedAt < "2024-02-30""#)
        .unwrap_err()
        .to_string()
        .starts_with("The value '2024-02-30' is not a valid date-time for the field 'lastModifiedAt'."));
}

#[test]
fn datetimes() {
    for (input, normalized) in [
        ("2024-01-31", "2024-01-31T00:00:00Z"),
        ("2024-02-29T23:59", "2024-02-29T23:59:00Z"),
        ("2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"),
        ("2024-01-31T12:00:00.000Z", "2024-01-31T12:00:00Z"),
        ("2024-01-31t12:00:00.5z", "2024-01-31T12:00:00.5Z"),
        ("2024-01-31T12:00:00.123456789+05:30", "2024-01-31T12:00:00.123456789+05:30"),
        ("2024-12-31T23:59:59-23:59", "2024-12-31T23:59:59-23:59"),
        ("0001-01-01T00:00:00-00:00", "0001-01-01T00:00:00Z"),
    ] {
        assert_eq!(normalize_datetime(input).as_deref(), Some(normalized), "{input}");
    }
    for bad in [
        "",
        "yesterday",
        "2024",
        "2024-1-31",
        "2024-13-01",
        "2024-00-10",
        "2023-02-29",
        "1900-02-29",
        "2024-04-31",
        "2024-01-00",
        "2024-01-31T",
        "2024-01-31T24:00:00Z",
        "2024-01-31T12:60:00Z",
        "2024-01-31T12:00:60Z",
        "2024-01-31T12:00:00.Z",
        "2024-01-31T12:00:00.1234567891Z",
        "2024-01-31T12:00:00+0100",
        "2024-01-31T12:00:00+24:00",
        "2024-01-31T12:00:00Z ",
        " 2024-01-31",
        "2024-01-31 12:00:00Z",
        "2024-01-31T12:00:00ZZ",
        "２０２４-01-31",
        "2024-01-31T12:00:00é",
    ] {
        assert_eq!(parse_datetime(bad), None, "{bad}");
    }
}

#[test]
fn number_literals() {
    for ok in ["0", "-0", "12", "-2", "1.5", "-0.25", "007"] {
        assert!(is_number_literal(ok), "{ok}");
    }
    for bad in ["", "-", "1.", ".5", "1e5", "+1", "1.2.3", " 1", "0x10", "--1", "١"] {
        assert!(!is_number_literal(bad), "{bad}");
    }
}
