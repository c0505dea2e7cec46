//! Query predicates: the parser of commercetools-style `where` parameters.
//!
//! A predicate is parsed into a typed AST ([`Expr`]) by [`parse`] (or [`parse_all`] for several
//! `where` parameters, which are AND-ed), its `:variables` are replaced by the values of the
//! `var.<name>` request parameters with [`bind`] (or [`bind_typed`]), and the types of the values
//! compared with the plain fields are checked with [`check_types`]. No step needs a database.
//! [`Expr`] implements [`std::fmt::Display`], printing canonical syntax that parses back to the
//! identical AST.
//!
//! # Grammar (EBNF)
//!
//! ```text
//! predicate    = or-expr , EOF ;
//! or-expr      = and-expr , { "or" , and-expr } ;
//! and-expr     = unary , { "and" , unary } ;
//! unary        = "not" , "(" , or-expr , ")"
//!              | "(" , or-expr , ")"
//!              | condition ;
//! condition    = plain-field , tail
//!              | "custom" , "(" , "fields" , "(" , custom-name , ")" , ")" , tail
//!              | "custom" , "(" , "fields" , "(" , custom-name , ")" , tail , ")"
//!              | "custom" , "(" , "fields" , "(" , custom-expr , ")" , ")" ;
//! custom-expr  = or-expr ;   (* nested form: inside it, every condition is
//!                                 custom-name , tail ;  "not (" is still negation *)
//! tail         = cmp-op , value
//!              | [ "not" ] , "in" , ( "(" , value , { "," , value } , ")" | variable )
//!              | "is" , [ "not" ] , "defined" ;
//! cmp-op       = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" ;   (* "<>" is "!=" *)
//! value        = string | number | "true" | "false" | variable ;
//! plain-field  = one of the plain field names the resource allows, e.g.
//!                "id" | "key" | "name" | "version" | "createdAt" | "lastModifiedAt" ;
//! custom-name  = ( letter | digit | "_" | "-" ) , { letter | digit | "_" | "-" } ;
//! variable     = ":" , ( letter | digit | "_" ) , { letter | digit | "_" } ;
//! string       = '"' , { any char except '"' and "\" | escape } , '"' ;
//! escape       = "\" , ( '"' | "\" | "/" | "b" | "f" | "n" | "r" | "t" | "u" , 4 * hex-digit ) ;
//! number       = [ "-" ] , digit , { digit } , [ "." , digit , { digit } ] ;
//! letter       = "A" … "Z" | "a" … "z" ;
//! ```
//!
//! * `not` binds tightest (it always takes a parenthesized operand), then `and`, then `or`.
//! * Keywords (`and`, `or`, `not`, `in`, `is`, `defined`, `true`, `false`) are case-insensitive;
//!   field names, `custom` and `fields` are case-sensitive.
//! * Whitespace (spaces, tabs, newlines) may appear between any two tokens.
//! * `\uXXXX` escapes may form UTF-16 surrogate pairs (`"\ud83d\ude00"`); a lone surrogate is an
//!   error. Any other character, multi-byte UTF-8 included, may appear unescaped in a string.
//! * `custom(fields(color)) = "red"`, `custom(fields(color) = "red")` and
//!   `custom(fields(color = "red"))` give the same AST. The
//!   nested form may hold a whole boolean expression over custom fields:
//!   `custom(fields(color = "red" and size > 3))`.
//! * A variable in a comparison must be bound to exactly one value; in an `in` list
//!   (`in :ids`, `in (:ids)`, `in ("a", :ids)`) it stands for all the values of the repeated
//!   `var.ids` parameter.
//! * Limits: at most [`MAX_INPUT_LEN`] bytes per predicate and [`MAX_DEPTH`] levels of nesting
//!   (each `(`, `not (` and nested `custom(fields( … ))` is one level).
//!
//! # Examples
//!
//! ```text
//! id = "7ab3…"
//! key != "vip" and version >= 2
//! name in ("Alice", "Bob") or key is not defined
//! not (createdAt < "2024-01-01T00:00:00Z") AND lastModifiedAt <= "2024-06-30T23:59:59.999+02:00"
//! id in :ids                                  (with ?var.ids=a&var.ids=b)
//! custom(fields(tier)) = "gold"
//! custom(fields(tier = "gold" or points > 1000))
//! custom(fields(birthday is defined))
//! ```
//!
//! # AST
//!
//! `and`/`or` chains are flattened: `a and b and c` is `Expr::And(vec![a, b, c])`, while a
//! parenthesized chain keeps its own node (`(a and b) and c` is
//! `And(vec![And(vec![a, b]), c])`), so printing and parsing again is exact. Parentheses
//! around a single term leave no node. The parser needs no recursion, and the tree it builds
//! is at most `3 * MAX_DEPTH + 3` nodes deep (`a or b and not (c or d and not ( … ))`), whatever the
//! length of the input, so recursive walks over it are safe.
//!
//! # Value types
//!
//! Variable values are strings: [`bind`] turns each into [`Value::Str`]. [`bind_typed`] instead
//! turns a variable compared with one of the given numeric plain fields into [`Value::Number`]
//! (rejecting values that are not number literals). [`check_types`] then requires numbers for
//! numeric fields, ISO 8601 date-time strings for date-time fields (see [`normalize_datetime`]),
//! and strings for every other plain field. Custom fields are not type-checked.

use std::collections::HashMap;

mod check;
mod datetime;
mod display;
mod lexer;
mod parser;
mod syntax;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_check;

pub use check::{bind, bind_typed, check_types};
pub use datetime::{normalize_datetime, parse_datetime, DateTime};
pub use syntax::{Expected, Operand, SyntaxProblem};

/// The longest predicate accepted, in bytes.
pub const MAX_INPUT_LEN: usize = 10_000;

/// The deepest nesting accepted: parentheses, `not ( … )` and nested `custom(fields( … ))`.
pub const MAX_DEPTH: usize = 64;

/// A parsed predicate.
///
/// A chain `a and b and c` is one node `And(vec![a, b, c])`; a parenthesized group keeps its
/// own node (`(a and b) and c` is `And(vec![And(vec![a, b]), c])`), so printing and parsing
/// again gives the identical AST. Parentheses around a single condition leave no node. The
/// parser only makes `And`/`Or` nodes with at least two operands, and the tree is at most
/// `3 * MAX_DEPTH + 3` nodes deep however long the input, so recursive walks of it are safe.
///
/// `Display` prints the canonical form (lower-case keywords, `!=` for `<>`, the outer
/// `custom(fields(name))` form, strings re-escaped). It may be longer than the input, even
/// longer than [`MAX_INPUT_LEN`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// All operands hold (at least two when parsed).
    And(Vec<Expr>),
    /// At least one operand holds (at least two when parsed).
    Or(Vec<Expr>),
    /// `not ( … )`.
    Not(Box<Expr>),
    /// `field op value`.
    Cmp {
        /// The compared field.
        field: Field,
        /// The operator.
        op: CmpOp,
        /// The right-hand side.
        value: Value,
    },
    /// `field in ( … )` or, when `negated`, `field not in ( … )`. Never empty when parsed.
    In {
        /// The tested field.
        field: Field,
        /// `not in`.
        negated: bool,
        /// The listed values; a [`Value::Var`] stands for all its bound values.
        values: Vec<Value>,
    },
    /// `field is defined` or, when `negated`, `field is not defined`.
    Defined {
        /// The tested field.
        field: Field,
        /// `is not defined`.
        negated: bool,
    },
}

/// A field a condition is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// One of the allowed plain fields, spelled exactly as in the allowed list (`"createdAt"`).
    Plain(String),
    /// `custom(fields(<name>))`; the name matches `[A-Za-z0-9_-]+`.
    Custom(String),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A literal or a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string, unescaped.
    Str(String),
    /// A number, as its literal text: `-?[0-9]+(\.[0-9]+)?` (e.g. `"3"`, `"-2"`, `"1.5"`).
    Number(String),
    /// `true` or `false`.
    Bool(bool),
    /// `:name`, until [`bind`] replaces it.
    Var(String),
}

/// Why a predicate was rejected. Its `Display` is the text that follows
/// `Malformed parameter: where: ` in the HTTP error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PredicateError {
    /// The input does not follow the grammar. `line` and `column` are 1-based and point at the
    /// offending token (columns count characters, not bytes).
    #[error("Syntax error while parsing 'where'. {problem} (line {line}, column {column})")]
    Syntax {
        /// What is wrong there.
        problem: SyntaxProblem,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// The input is longer than [`MAX_INPUT_LEN`] bytes.
    #[error("The predicate is too long: {len} bytes, at most {max} are allowed.")]
    TooLong {
        /// The input's length in bytes.
        len: usize,
        /// [`MAX_INPUT_LEN`].
        max: usize,
    },
    /// The input nests deeper than [`MAX_DEPTH`] levels.
    #[error("The predicate is nested too deeply: at most {max} levels are allowed (line {line}, column {column})")]
    TooDeep {
        /// [`MAX_DEPTH`].
        max: usize,
        /// 1-based line of the parenthesis that went too deep.
        line: usize,
        /// 1-based column of the parenthesis that went too deep.
        column: usize,
    },
    /// A plain field that the resource does not have (or `custom` where custom fields are not
    /// allowed).
    #[error("The field '{0}' does not exist.")]
    UnknownField(String),
    /// A `:variable` without a `var.<name>` parameter.
    #[error("The variable '{0}' is not bound.")]
    UnboundVariable(String),
    /// A `:variable` used outside `in` but bound to several values.
    #[error("The variable '{0}' must have exactly one value when it is not used with 'in'.")]
    VariableArity(String),
    /// A plain field compared with a value of the wrong type.
    #[error("The field '{field}' must be compared with {expected}.")]
    TypeMismatch {
        /// The plain field.
        field: String,
        /// What the field is compared with.
        expected: Operand,
    },
    /// A date-time field compared with a string that is not an ISO 8601 date-time.
    #[error("The value '{value}' is not a valid date-time for the field '{field}'. Expected ISO 8601, e.g. '2024-01-31T12:00:00.000Z'.")]
    InvalidDateTime {
        /// The plain field.
        field: String,
        /// The rejected value (shortened when long).
        value: String,
    },
}

/// Parses one predicate.
///
/// `plain_fields` are the plain field names the resource allows (case-sensitive; each must be a
/// plain identifier and not a keyword); `allow_custom` allows `custom(fields(<name>))`.
pub fn parse(input: &str, plain_fields: &[&str], allow_custom: bool) -> Result<Expr, PredicateError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(PredicateError::TooLong { len: input.len(), max: MAX_INPUT_LEN });
    }
    parser::Parser::new(input, plain_fields, allow_custom).parse_predicate()
}

/// Parses several `where` parameters and AND-s them, in order: `["a", "b or c"]` gives
/// `And(vec![a, Or(vec![b, c])])`; an input that is itself an `and` chain is spliced in
/// (`["a and b", "c"]` gives `And(vec![a, b, c])`). `None` when there is none. Each input is
/// limited on its own.
pub fn parse_all(inputs: &[String], plain_fields: &[&str], allow_custom: bool) -> Result<Option<Expr>, PredicateError> {
    let mut parsed = Vec::with_capacity(inputs.len());
    for input in inputs {
        parsed.push(parse(input, plain_fields, allow_custom)?);
    }
    if parsed.len() <= 1 {
        return Ok(parsed.pop());
    }
    let mut operands = Vec::with_capacity(parsed.len());
    for expr in parsed {
        match expr {
            Expr::And(inner) => operands.extend(inner),
            other => operands.push(other),
        }
    }
    Ok(Some(Expr::And(operands)))
}

/// The values of the `var.<name>` parameters, by name (without `var.`).
pub type Variables = HashMap<String, Vec<String>>;

/// Whether `s` is a number literal of the grammar: `-?[0-9]+(\.[0-9]+)?`.
pub fn is_number_literal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (digits, None),
    };
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && frac.is_none_or(all_digits)
}
