//! Property tests: no input panics, and printing then parsing any AST gives it back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code may panic

use std::collections::HashMap;

use proptest::prelude::*;

use super::tests::FIELDS;
use super::*;

fn arb_field() -> impl Strategy<Value = Field> {
    prop_oneof![
        3 => prop::sample::select(FIELDS).prop_map(|f| Field::Plain(f.to_string())),
        1 => "[A-Za-z0-9_-]{1,10}".prop_map(Field::Custom),
        1 => prop::sample::select(&["not", "and", "or", "in", "is", "custom", "fields", "true"][..])
            .prop_map(|f| Field::Custom(f.to_string())),
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"\\\\/a-z \\t\\n\\r\u{0}\u{7f}\u{85}é日\u{1F600}\u{2028}\u{feff}]{0,12}",
        Just(String::new()),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_string().prop_map(Value::Str),
        "-?[0-9]{1,8}(\\.[0-9]{1,4})?".prop_map(Value::Number),
        any::<bool>().prop_map(Value::Bool),
        "[A-Za-z0-9_]{1,8}".prop_map(Value::Var),
    ]
}

fn arb_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(&[CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge][..])
}

fn arb_leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (arb_field(), arb_op(), arb_value()).prop_map(|(field, op, value)| Expr::Cmp { field, op, value }),
        (arb_field(), any::<bool>(), prop::collection::vec(arb_value(), 1..4))
            .prop_map(|(field, negated, values)| Expr::In { field, negated, values }),
        (arb_field(), any::<bool>()).prop_map(|(field, negated)| Expr::Defined { field, negated }),
    ]
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    arb_leaf().prop_recursive(8, 64, 2, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// Pieces of predicate syntax, valid and not, to build inputs that get deep into the parser.
const PIECES: &[&str] = &[
    "id",
    "key",
    "name",
    "version",
    "createdAt",
    "custom",
    "fields",
    "(",
    ")",
    "(",
    ")",
    ",",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!",
    "and",
    "OR",
    "not",
    "In",
    "is",
    "defined",
    "true",
    "false",
    ":v",
    ":",
    "\"x\"",
    "\"",
    "\"\\\"\"",
    "\\",
    "\"\\u12",
    "\"\\ud83d\"",
    "1",
    "-2",
    "1.5",
    "1.",
    "-",
    "é",
    "日本",
    "\u{1F600}",
    " ",
    "\n",
    "\t",
    "'",
    ";",
    "--",
    "a-b",
    "custom(fields(",
    "))",
];

fn arb_tokens() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..30).prop_map(|pieces| {
        let mut out = String::new();
        for (i, piece) in pieces.iter().enumerate() {
            // Sometimes glue pieces together, sometimes separate them.
            if i % 3 != 0 {
                out.push(' ');
            }
            out.push_str(piece);
        }
        out
    })
}

/// Parses, and when that succeeds checks that the canonical form parses back identically;
/// when it fails with a position, checks the position lies within the input.
fn parse_checked(input: &str) -> Result<(), TestCaseError> {
    match parse(input, FIELDS, true) {
        Ok(expr) => {
            let printed = expr.to_string();
            prop_assert_eq!(parse(&printed, FIELDS, true), Ok(expr.clone()), "printed {:?}", printed);
            let vars: HashMap<String, Vec<String>> = HashMap::new();
            let _ = bind(expr, &vars).map(|e| check_types(&e, &["version"], &["createdAt"]));
        }
        Err(PredicateError::Syntax { line, column, .. } | PredicateError::TooDeep { line, column, .. }) => {
            let lines: Vec<&str> = input.split('\n').collect();
            prop_assert!(line >= 1 && line <= lines.len(), "line {} in {:?}", line, input);
            let width = lines.get(line - 1).map_or(0, |l| l.chars().count());
            prop_assert!(column >= 1 && column <= width + 1, "column {} in {:?}", column, input);
        }
        Err(_) => {}
    }
    Ok(())
}

fn has_var(expr: &Expr) -> bool {
    match expr {
        Expr::And(operands) | Expr::Or(operands) => operands.iter().any(has_var),
        Expr::Not(e) => has_var(e),
        Expr::Cmp { value, .. } => matches!(value, Value::Var(_)),
        Expr::In { values, .. } => values.iter().any(|v| matches!(v, Value::Var(_))),
        Expr::Defined { .. } => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        parse_checked(&input)?;
    }

    #[test]
    fn arbitrary_ascii_never_panics(input in "[ -~\\t\\n]{0,60}") {
        parse_checked(&input)?;
    }

    #[test]
    fn arbitrary_token_soup_never_panics(input in arb_tokens()) {
        parse_checked(&input)?;
    }

    #[test]
    fn printed_asts_parse_back_identically(expr in arb_expr()) {
        let printed = expr.to_string();
        prop_assert_eq!(parse(&printed, FIELDS, true), Ok(expr), "printed {:?}", printed);
    }

    #[test]
    fn bound_asts_have_no_variables(
        expr in arb_expr(),
        values in prop::collection::vec(arb_string(), 1..3),
    ) {
        // Bind every variable the generator can produce to one value (comparisons) or several.
        let mut vars = HashMap::new();
        collect_vars(&expr, &mut |name, in_list| {
            let vs = if in_list { values.clone() } else { values[..1].to_vec() };
            vars.entry(name.to_string()).or_insert(vs);
        });
        match bind(expr, &vars) {
            Ok(bound) => prop_assert!(!has_var(&bound)),
            Err(PredicateError::VariableArity(_)) => {} // same name used in both positions
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}

fn collect_vars(expr: &Expr, f: &mut impl FnMut(&str, bool)) {
    match expr {
        Expr::And(operands) | Expr::Or(operands) => {
            operands.iter().for_each(|e| collect_vars(e, f));
        }
        Expr::Not(e) => collect_vars(e, f),
        Expr::Cmp { value: Value::Var(name), .. } => f(name, false),
        Expr::In { values, .. } => values.iter().for_each(|v| {
            if let Value::Var(name) = v {
                f(name, true);
            }
        }),
        Expr::Cmp { .. } | Expr::Defined { .. } => {}
    }
}
