//! Table tests of the parser, binding, type checks and date-times.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic

use std::collections::HashMap;

use super::*;

pub(super) const FIELDS: &[&str] = &["id", "key", "name", "version", "createdAt", "lastModifiedAt"];
pub(super) const NUMERIC: &[&str] = &["version"];
pub(super) const DATETIME: &[&str] = &["createdAt", "lastModifiedAt"];

pub(super) fn p(name: &str) -> Field {
    Field::Plain(name.to_string())
}
pub(super) fn c(name: &str) -> Field {
    Field::Custom(name.to_string())
}
pub(super) fn s(text: &str) -> Value {
    Value::Str(text.to_string())
}
pub(super) fn n(text: &str) -> Value {
    Value::Number(text.to_string())
}
pub(super) fn var(name: &str) -> Value {
    Value::Var(name.to_string())
}
pub(super) fn cmp(field: Field, op: CmpOp, value: Value) -> Expr {
    Expr::Cmp { field, op, value }
}
pub(super) fn eq(field: Field, value: Value) -> Expr {
    cmp(field, CmpOp::Eq, value)
}
pub(super) fn is_in(field: Field, values: Vec<Value>) -> Expr {
    Expr::In { field, negated: false, values }
}
pub(super) fn not_in(field: Field, values: Vec<Value>) -> Expr {
    Expr::In { field, negated: true, values }
}
pub(super) fn defined(field: Field, negated: bool) -> Expr {
    Expr::Defined { field, negated }
}
pub(super) fn and(lhs: Expr, rhs: Expr) -> Expr {
    Expr::And(vec![lhs, rhs])
}
pub(super) fn or(lhs: Expr, rhs: Expr) -> Expr {
    Expr::Or(vec![lhs, rhs])
}
pub(super) fn not(inner: Expr) -> Expr {
    Expr::Not(Box::new(inner))
}
/// `id = "a"`, `key = "b"`, `name = "c"`.
pub(super) fn a() -> Expr {
    eq(p("id"), s("a"))
}
pub(super) fn b() -> Expr {
    eq(p("key"), s("b"))
}
pub(super) fn c3() -> Expr {
    eq(p("name"), s("c"))
}

pub(super) fn parse_fields(input: &str) -> Result<Expr, PredicateError> {
    parse(input, FIELDS, true)
}

#[test]
fn valid_inputs_parse_to_the_expected_ast_and_round_trip() {
    use CmpOp::*;
    let cases: Vec<(&str, Expr)> = vec![
        // comparison operators
        (r#"id = "abc""#, eq(p("id"), s("abc"))),
        (r#"key != "k""#, cmp(p("key"), Ne, s("k"))),
        (r#"key <> "k""#, cmp(p("key"), Ne, s("k"))),
        ("version < 3", cmp(p("version"), Lt, n("3"))),
        ("version <= 3", cmp(p("version"), Le, n("3"))),
        ("version > -2", cmp(p("version"), Gt, n("-2"))),
        ("version >= 1.5", cmp(p("version"), Ge, n("1.5"))),
        ("version = 0", eq(p("version"), n("0"))),
        ("version>=-0.25", cmp(p("version"), Ge, n("-0.25"))),
        ("version = 007", eq(p("version"), n("007"))),
        // strings
        (r#"name = """#, eq(p("name"), s(""))),
        (r#"name = "say \"hi\"""#, eq(p("name"), s(r#"say "hi""#))),
        (r#"name = "back\\slash""#, eq(p("name"), s(r"back\slash"))),
        (r#"name = "a\nb\tc\/d\re\bf\fg""#, eq(p("name"), s("a\nb\tc/d\re\u{8}f\u{c}g"))),
        (r#"name = "\u00e9t\u00C9""#, eq(p("name"), s("étÉ"))),
        (r#"name = "\ud83d\ude00!""#, eq(p("name"), s("😀!"))),
        (r#"name = "日本語 ✓ 😀""#, eq(p("name"), s("日本語 ✓ 😀"))),
        (r#"name = "it's""#, eq(p("name"), s("it's"))),
        (r#"name = "a and b or not (c)""#, eq(p("name"), s("a and b or not (c)"))),
        ("name = \"multi\nline\"", eq(p("name"), s("multi\nline"))),
        // booleans and variables
        ("name = true", eq(p("name"), Value::Bool(true))),
        ("name = FALSE", eq(p("name"), Value::Bool(false))),
        ("name != True", cmp(p("name"), Ne, Value::Bool(true))),
        ("id = :id", eq(p("id"), var("id"))),
        ("version > :v_1", cmp(p("version"), Gt, var("v_1"))),
        // in / not in
        (r#"id in ("a", "b", "c")"#, is_in(p("id"), vec![s("a"), s("b"), s("c")])),
        (r#"id in ("a")"#, is_in(p("id"), vec![s("a")])),
        (r#"id in("a","b")"#, is_in(p("id"), vec![s("a"), s("b")])),
        (r#"id not in ("a", "b")"#, not_in(p("id"), vec![s("a"), s("b")])),
        (r#"id IN ("a")"#, is_in(p("id"), vec![s("a")])),
        (r#"id NOT In ("a")"#, not_in(p("id"), vec![s("a")])),
        ("version in (1, 2, -3, 4.25)", is_in(p("version"), vec![n("1"), n("2"), n("-3"), n("4.25")])),
        ("id in :ids", is_in(p("id"), vec![var("ids")])),
        ("id in (:ids)", is_in(p("id"), vec![var("ids")])),
        (r#"id in (:a, "x", :b)"#, is_in(p("id"), vec![var("a"), s("x"), var("b")])),
        ("id not in :ids", not_in(p("id"), vec![var("ids")])),
        ("name in (true, false)", is_in(p("name"), vec![Value::Bool(true), Value::Bool(false)])),
        // defined
        ("key is defined", defined(p("key"), false)),
        ("key is not defined", defined(p("key"), true)),
        ("key IS NOT DEFINED", defined(p("key"), true)),
        ("key Is Defined", defined(p("key"), false)),
        // boolean operators and precedence
        (r#"id = "a" and key = "b""#, and(a(), b())),
        (r#"id = "a" AND key = "b""#, and(a(), b())),
        (r#"id = "a" or key = "b""#, or(a(), b())),
        (r#"id = "a" Or key = "b""#, or(a(), b())),
        (r#"id = "a" and key = "b" or name = "c""#, or(and(a(), b()), c3())),
        (r#"id = "a" or key = "b" and name = "c""#, or(a(), and(b(), c3()))),
        (r#"id = "a" and key = "b" and name = "c""#, Expr::And(vec![a(), b(), c3()])),
        (r#"id = "a" or key = "b" or name = "c""#, Expr::Or(vec![a(), b(), c3()])),
        (r#"(id = "a" and key = "b") and name = "c""#, and(and(a(), b()), c3())),
        (r#"id = "a" and (key = "b" and name = "c")"#, and(a(), and(b(), c3()))),
        (r#"(id = "a" or key = "b") or name = "c""#, or(or(a(), b()), c3())),
        (r#"id = "a" and (key = "b" or name = "c")"#, and(a(), or(b(), c3()))),
        (r#"(id = "a" or key = "b") and name = "c""#, and(or(a(), b()), c3())),
        (r#"id = "a" or (key = "b" or name = "c")"#, or(a(), or(b(), c3()))),
        (r#"not (id = "a")"#, not(a())),
        (r#"not(id = "a") and key = "b""#, and(not(a()), b())),
        (r#"NOT (id = "a" or key = "b")"#, not(or(a(), b()))),
        (r#"not (not (id = "a"))"#, not(not(a()))),
        (r#"id = "a" or not (key = "b") and name = "c""#, or(a(), and(not(b()), c3()))),
        (r#"((id = "a"))"#, a()),
        (r#"(id = "a") and ((key = "b"))"#, and(a(), b())),
        (r#"id="a"and key="b"or(name="c")"#, or(and(a(), b()), c3())),
        (
            r#"id = "a" and not (key is defined or name in ("x"))"#,
            and(a(), not(or(defined(p("key"), false), is_in(p("name"), vec![s("x")])))),
        ),
        // custom fields, outer and nested forms
        (r#"custom(fields(color)) = "red""#, eq(c("color"), s("red"))),
        (r#"custom(fields(color = "red"))"#, eq(c("color"), s("red"))),
        (r#"custom(fields(color) = "red")"#, eq(c("color"), s("red"))),
        ("custom(fields(size) >= 3) and version = 2", and(cmp(c("size"), Ge, n("3")), eq(p("version"), n("2")))),
        ("custom(fields(tags) in :tags)", is_in(c("tags"), vec![var("tags")])),
        ("custom(fields(tags) not in (1, 2))", not_in(c("tags"), vec![n("1"), n("2")])),
        ("custom(fields(color) is not defined)", defined(c("color"), true)),
        (r#"custom ( fields ( color = "red" ) )"#, eq(c("color"), s("red"))),
        (r#"custom(fields( color )) = "red""#, eq(c("color"), s("red"))),
        ("custom(fields(color is defined))", defined(c("color"), false)),
        ("custom(fields(color)) is not defined", defined(c("color"), true)),
        (r#"custom(fields(my-field_2)) in ("a", "b")"#, is_in(c("my-field_2"), vec![s("a"), s("b")])),
        ("custom(fields(size > 3))", cmp(c("size"), Gt, n("3"))),
        ("custom(fields(size<>-3))", cmp(c("size"), Ne, n("-3"))),
        (r#"custom(fields(a = "x" and b = "y"))"#, and(eq(c("a"), s("x")), eq(c("b"), s("y")))),
        (r#"custom(fields(a = "x" or not (b is defined)))"#, or(eq(c("a"), s("x")), not(defined(c("b"), false)))),
        (
            r#"custom(fields((a = "x" or b = "y") and c not in ("z")))"#,
            and(or(eq(c("a"), s("x")), eq(c("b"), s("y"))), not_in(c("c"), vec![s("z")])),
        ),
        (r#"custom(fields(not = "x"))"#, eq(c("not"), s("x"))),
        (r#"custom(fields(and)) = "x""#, eq(c("and"), s("x"))),
        ("custom(fields(123)) = 1", eq(c("123"), n("1"))),
        ("custom(fields(-x)) = 1", eq(c("-x"), n("1"))),
        ("custom(fields(in in :in))", is_in(c("in"), vec![var("in")])),
        (
            "custom(fields(flag = true)) and version = 2",
            and(eq(c("flag"), Value::Bool(true)), eq(p("version"), n("2"))),
        ),
        ("custom(fields(tags in :tags))", is_in(c("tags"), vec![var("tags")])),
        // whitespace and dates
        ("  id\t=\n\"x\"  ", eq(p("id"), s("x"))),
        ("\r\nid = \"a\"\r\n\tand\r\n key = \"b\"\r\n", and(a(), b())),
        ("id = \"a\"\n  and (key = \"b\"\n    or name = \"c\")", and(a(), or(b(), c3()))),
        (
            r#"createdAt > "2024-01-01T00:00:00Z" and lastModifiedAt <= "2024-02-01T00:00:00.000+01:00""#,
            and(
                cmp(p("createdAt"), Gt, s("2024-01-01T00:00:00Z")),
                cmp(p("lastModifiedAt"), Le, s("2024-02-01T00:00:00.000+01:00")),
            ),
        ),
    ];
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for (input, expected) in cases {
        let parsed = parse_fields(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(parsed, expected, "{input:?}");
        let printed = parsed.to_string();
        assert_eq!(parse_fields(&printed), Ok(expected), "{input:?} printed as {printed:?}");
    }
}

#[derive(Debug)]
enum Kind {
    Syntax(usize, usize),
    Unknown(&'static str),
    TooLong,
    TooDeep(usize, usize),
}

#[test]
fn invalid_inputs_give_the_expected_error() {
    use Kind::*;
    let deep = format!("{}id = \"a\"{}", "(".repeat(65), ")".repeat(65));
    let deep_not = "not (".repeat(100);
    let long = format!("id = \"{}\"", "a".repeat(MAX_INPUT_LEN));
    let cases: Vec<(&str, Kind)> = vec![
        ("", Syntax(1, 1)),
        ("   ", Syntax(1, 4)),
        ("\n\n", Syntax(3, 1)),
        (r#"foo = "x""#, Unknown("foo")),
        (r#"Name = "x""#, Unknown("Name")),
        (r#"first-name = "x""#, Unknown("first-name")),
        (r#"name.en = "x""#, Unknown("name.en")),
        (r#"naïve = "x""#, Unknown("naïve")),
        (r#"id = "a" and foo is defined"#, Unknown("foo")),
        (r#"name = "abc"#, Syntax(1, 8)),
        (r#"name = "abc\"#, Syntax(1, 8)),
        (r#"name = "x" garbage"#, Syntax(1, 12)),
        ("name = ", Syntax(1, 8)),
        ("name", Syntax(1, 5)),
        (r#"name == "x""#, Syntax(1, 7)),
        (r#"name = "x" or 1=1 --"#, Syntax(1, 15)),
        (r#"name = "x"; drop table x"#, Syntax(1, 11)),
        (r#"name = "x" -- comment"#, Syntax(1, 12)),
        ("name = 'x'", Syntax(1, 8)),
        (r#"name = "x" /* c */"#, Syntax(1, 12)),
        (r#"= "x""#, Syntax(1, 1)),
        (r#"and = "x""#, Syntax(1, 1)),
        (r#"true = "x""#, Syntax(1, 1)),
        ("id in ()", Syntax(1, 8)),
        (r#"id in ("a",)"#, Syntax(1, 12)),
        (r#"id in ("a" "b")"#, Syntax(1, 12)),
        (r#"id in "a""#, Syntax(1, 7)),
        ("id in :", Syntax(1, 7)),
        (r#"(id = "a""#, Syntax(1, 10)),
        (r#"id = "a")"#, Syntax(1, 9)),
        (r#"not id = "a""#, Syntax(1, 5)),
        (r#"id is "x""#, Syntax(1, 7)),
        (r#"id is not "x""#, Syntax(1, 11)),
        (r#"id not "x""#, Syntax(1, 8)),
        (r#"id = "\x""#, Syntax(1, 7)),
        (r#"id = "\u12""#, Syntax(1, 7)),
        (r#"id = "\ud800""#, Syntax(1, 7)),
        (r#"id = "\udc00\ud800""#, Syntax(1, 7)),
        (r#"custom(fields()) = "x""#, Syntax(1, 15)),
        ("custom(fields(a)) ", Syntax(1, 19)),
        (r#"custom(fields(a = "x")) = "y""#, Syntax(1, 25)),
        (r#"custom(field(a)) = "x""#, Syntax(1, 8)),
        (r#"custom(fields(a) = "x""#, Syntax(1, 23)),
        (r#"custom(fields(a) = "x") = "y""#, Syntax(1, 25)),
        (r#"custom(fields(custom(fields(a)) = "x"))"#, Syntax(1, 21)),
        (r#"custom(fields(naïve = "x"))"#, Syntax(1, 17)),
        ("version = 1.", Syntax(1, 11)),
        ("version = 1e5", Syntax(1, 11)),
        ("version = --1", Syntax(1, 11)),
        ("version = .5", Syntax(1, 11)),
        ("id = :", Syntax(1, 6)),
        (r#"id = "a" and"#, Syntax(1, 13)),
        (r#"id = "a" and or key = "b""#, Syntax(1, 14)),
        (r#"id = "a" & key = "b""#, Syntax(1, 10)),
        (r#"id = "a" || key = "b""#, Syntax(1, 10)),
        (r#"id ! "a""#, Syntax(1, 4)),
        (r#"id = "a" AND NOT key = "b""#, Syntax(1, 18)),
        ("id = \"a\"\nand key = \n  \"b\" x", Syntax(3, 7)),
        (r#"name = "é" é"#, Syntax(1, 12)),
        ("name = \"日本\" → x", Syntax(1, 13)),
        ("\u{feff}id = \"a\"", Syntax(1, 1)),
        (&long, TooLong),
        (&deep, TooDeep(1, 65)),
        (&deep_not, TooDeep(1, 325)),
    ];
    assert!(cases.len() >= 20);
    for (input, kind) in cases {
        let err = match parse_fields(input) {
            Ok(expr) => panic!("{input:?} parsed as {expr:?}"),
            Err(err) => err,
        };
        let ok = match (&kind, &err) {
            (Syntax(l, c), PredicateError::Syntax { line, column, .. }) => (l, c) == (line, column),
            (Unknown(f), PredicateError::UnknownField(g)) => f == g,
            (TooLong, PredicateError::TooLong { .. }) => true,
            (TooDeep(l, c), PredicateError::TooDeep { line, column, .. }) => (l, c) == (line, column),
            _ => false,
        };
        assert!(ok, "{input:?}: expected {kind:?}, got {err:?} ({err})");
    }
}

#[test]
fn custom_fields_can_be_disallowed() {
    let types = &["id", "key", "version", "createdAt", "lastModifiedAt"];
    assert_eq!(
        parse(r#"custom(fields(color)) = "x""#, types, false),
        Err(PredicateError::UnknownField("custom".to_string()))
    );
    assert_eq!(parse(r#"name = "x""#, types, false), Err(PredicateError::UnknownField("name".to_string())));
    assert_eq!(parse(r#"key = "x""#, types, false), Ok(eq(p("key"), s("x"))));
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let input = format!("{}id = \"a\"{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse_fields(&input), Ok(a()));
    let input = format!("{}id = \"a\"{}", "not (".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    let mut expected = a();
    for _ in 0..MAX_DEPTH {
        expected = not(expected);
    }
    let parsed = parse_fields(&input);
    assert_eq!(parsed, Ok(expected.clone()));
    assert_eq!(parse_fields(&expected.to_string()), Ok(expected));
    let input = format!("{}custom(fields(a = 1)){}", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
    assert_eq!(parse_fields(&input), Ok(eq(c("a"), n("1"))));
    let input = format!("{}custom(fields(a = 1)){}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(matches!(parse_fields(&input), Err(PredicateError::TooDeep { .. })));
}

/// Parses, binds, checks, prints, re-parses, compares, clones and drops `input` on a thread
/// with a small stack (in debug builds the derived `Clone` needs the most: about 256 KiB for
/// the deepest tree; the parser itself needs almost none).
fn full_cycle_on_small_stack(input: String) {
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            let expr = parse(&input, FIELDS, true).map_err(|e| e.to_string())?;
            let vars = HashMap::from([("k".to_string(), vec!["v".to_string()])]);
            let bound = bind(expr.clone(), &vars).map_err(|e| e.to_string())?;
            check_types(&bound, NUMERIC, DATETIME).map_err(|e| e.to_string())?;
            let printed = expr.to_string();
            // The canonical form adds spaces, so it may exceed `MAX_INPUT_LEN`.
            let again = parser::Parser::new(&printed, FIELDS, true).parse_predicate().map_err(|e| e.to_string())?;
            let _ = format!("{bound:?}");
            drop(bound);
            Ok::<bool, String>(again == expr)
        })
        .unwrap();
    assert_eq!(handle.join().unwrap(), Ok(true));
}

#[test]
fn the_longest_chains_do_not_exhaust_a_small_stack() {
    // ~1 250 conditions, the most 10 000 bytes can hold, in one `or` chain.
    let unit = "id=\"\"or ";
    let last = "key=:k";
    let mut input = unit.repeat((MAX_INPUT_LEN - last.len()) / unit.len());
    input.push_str(last);
    assert!(input.len() > MAX_INPUT_LEN - unit.len());
    full_cycle_on_small_stack(input);
}

#[test]
fn the_deepest_trees_do_not_exhaust_a_small_stack() {
    // The root adds an `Or` and an `And`, each level a `Not`, an `Or` and an `And`: the
    // deepest tree there can be.
    let open = "not (id=\"\" or id=\"\" and ";
    let input = format!("id=\"\" or id=\"\" and {}key=:k{}", open.repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(input.len() <= MAX_INPUT_LEN);
    let expr = parse_fields(&input).unwrap();
    fn depth(expr: &Expr) -> usize {
        match expr {
            Expr::And(operands) | Expr::Or(operands) => 1 + operands.iter().map(depth).max().unwrap_or(0),
            Expr::Not(inner) => 1 + depth(inner),
            _ => 1,
        }
    }
    assert_eq!(depth(&expr), 3 * MAX_DEPTH + 3);
    full_cycle_on_small_stack(input);
}

#[test]
fn error_messages() {
    let err = |input: &str| parse_fields(input).unwrap_err().to_string();
    assert_eq!(err(r#"foo = "x""#), "The field 'foo' does not exist.");
    assert_eq!(
        err(r#"name == "x""#),
        "Syntax error while parsing 'where'. Invalid input '=', expected a value (a string in \
         double quotes, a number, true, false or a :variable) (line 1, column 7)"
    );
    assert_eq!(
        err("name = "),
        "Syntax error while parsing 'where'. Unexpected end of input, expected a value (a string \
         in double quotes, a number, true, false or a :variable) (line 1, column 8)"
    );
    assert!(err("name = 'x'").contains("double quotes (line 1, column 8)"));
    assert!(err(r#"name = "abc"#).contains("Unterminated string literal"));
    assert!(
        err(r#"name = "x" garbage"#).contains("Invalid input 'garbage', expected 'and', 'or' or the end of the input")
    );
    assert!(err("id is x").contains("line 1, column 7"));
    let long = format!("name = \"x\" {}", "y".repeat(100));
    assert!(err(&long).contains(&format!("'{}…'", "y".repeat(40))));
    assert!(err("name = \"x\" \u{7}").contains(r"'\u{7}'"));
    assert!(err("\u{feff}id = \"a\"").contains(r"Invalid character '\u{feff}' (line 1, column 1)"));
    assert_eq!(
        parse_fields(&"x".repeat(MAX_INPUT_LEN + 1)).unwrap_err().to_string(),
        "The predicate is too long: 10001 bytes, at most 10000 are allowed."
    );
}

#[test]
fn syntax_errors_are_data() {
    use super::{Expected, SyntaxProblem};
    let problem = |input: &str| match parse_fields(input) {
        Err(PredicateError::Syntax { problem, line, column }) => (problem, line, column),
        other => panic!("{input}: expected a syntax error, got {other:?}"),
    };
    let unexpected =
        |found: Option<&str>, expected| SyntaxProblem::Unexpected { found: found.map(str::to_owned), expected };
    assert_eq!(problem(r#"name == "x""#), (unexpected(Some("="), Expected::Value), 1, 7));
    assert_eq!(problem("name = "), (unexpected(None, Expected::Value), 1, 8));
    assert_eq!(problem(r#"name = "x" garbage"#), (unexpected(Some("garbage"), Expected::AndOrEnd), 1, 12));
    assert_eq!(problem("id is x").0, unexpected(Some("x"), Expected::DefinedOrNotDefined));
    assert_eq!(problem("name = 'x'").0, SyntaxProblem::SingleQuote);
    assert_eq!(problem(r#"name = "abc"#).0, SyntaxProblem::UnterminatedString);
    assert_eq!(problem("version = 1x").0, SyntaxProblem::InvalidNumber("1x".into()));
    assert_eq!(problem(r#"name = "\q""#).0, SyntaxProblem::InvalidEscape('q'));
    assert_eq!(problem("\u{feff}id = \"a\"").0, SyntaxProblem::InvalidCharacter('\u{feff}'));
    assert_eq!(problem("name != :").0, SyntaxProblem::EmptyVariable);
}

#[test]
fn parse_all_ands_the_inputs() {
    let inputs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(parse_all(&[], FIELDS, true), Ok(None));
    assert_eq!(parse_all(&inputs(&[r#"id = "a""#]), FIELDS, true), Ok(Some(a())));
    let all = parse_all(&inputs(&[r#"id = "a""#, r#"key = "b" or name = "c""#, r#"name = "c""#]), FIELDS, true);
    let expected = Expr::And(vec![a(), or(b(), c3()), c3()]);
    assert_eq!(all, Ok(Some(expected.clone())));
    let all = parse_all(&inputs(&[r#"id = "a" and key = "b""#, r#"name = "c""#]), FIELDS, true);
    assert_eq!(all, Ok(Some(Expr::And(vec![a(), b(), c3()]))));
    assert_eq!(parse_fields(&expected.to_string()), Ok(expected));
    assert_eq!(
        parse_all(&inputs(&[r#"id = "a""#, "foo = 1"]), FIELDS, true),
        Err(PredicateError::UnknownField("foo".to_string()))
    );
}

#[test]
fn display_is_canonical() {
    let cases = [
        (r#"id <> "a" AND key IS NOT DEFINED"#, r#"id != "a" and key is not defined"#),
        ("id in :ids", "id in (:ids)"),
        (r#"custom(fields(c = "x\/y"))"#, r#"custom(fields(c)) = "x/y""#),
        (r#"not(id="a")OR(key="b"or name="c")"#, r#"not (id = "a") or (key = "b" or name = "c")"#),
        (r#"(id="a"or key="b")and name="c""#, r#"(id = "a" or key = "b") and name = "c""#),
        ("name = \"tab\u{9}quote\\\"nul\\u0000\"", r#"name = "tab\tquote\"nul\u0000""#),
    ];
    for (input, printed) in cases {
        assert_eq!(parse_fields(input).unwrap().to_string(), printed, "{input}");
    }
}
