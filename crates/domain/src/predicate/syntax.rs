//! What a [`super::PredicateError::Syntax`] found wrong, and what a
//! [`super::PredicateError::TypeMismatch`] expected, as data.

use super::lexer::quote;
use std::fmt;

/// What is wrong at the position of a [`super::PredicateError::Syntax`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxProblem {
    /// A token that cannot come here.
    Unexpected {
        /// The token's text, `None` at the end of the input.
        found: Option<String>,
        /// What could have come instead.
        expected: Expected,
    },
    /// `!` not followed by `=`.
    LoneBang,
    /// `:` not followed by a variable name.
    EmptyVariable,
    /// A `'`: strings are in double quotes.
    SingleQuote,
    /// A character that starts no token.
    InvalidCharacter(char),
    /// `-` not followed by a digit.
    LoneMinus,
    /// A number run together with letters, `_` or a second `.` (the whole run).
    InvalidNumber(String),
    /// A string literal without its closing `"`.
    UnterminatedString,
    /// A backslash in a string followed by this character, which starts no escape.
    InvalidEscape(char),
    /// `\u` not followed by 4 hex digits, or a surrogate without its pair.
    InvalidUnicodeEscape,
}

/// What the parser would have accepted where it found something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// A field name, `not` or `(`.
    Condition,
    /// A custom field name, `not` or `(` (inside `custom(fields( … ))`).
    CustomCondition,
    /// A comparison operator, `in`, `not in`, `is defined` or `is not defined`.
    Operator,
    /// A string, a number, `true`, `false` or a `:variable`.
    Value,
    /// `and`, `or` or the end of the input.
    AndOrEnd,
    /// `and`, `or` or `)`.
    AndOrClose,
    /// `)`.
    Close,
    /// `(` after `not`.
    OpenAfterNot,
    /// `(` after `custom`.
    OpenAfterCustom,
    /// `fields` inside `custom(`.
    Fields,
    /// `(` after `fields`.
    OpenAfterFields,
    /// `in` after a field and `not`.
    InAfterNot,
    /// `defined` after `is not`.
    Defined,
    /// `defined` or `not defined` after `is`.
    DefinedOrNotDefined,
    /// `,` or `)` in a list of values.
    CommaOrClose,
    /// `(` or a `:variable` after `in`.
    InOperand,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Condition => "a field name, 'not' or '('",
            Expected::CustomCondition => "a custom field name, 'not' or '('",
            Expected::Operator => "an operator (=, !=, <>, <, <=, >, >=, in, not in, is defined, is not defined)",
            Expected::Value => "a value (a string in double quotes, a number, true, false or a :variable)",
            Expected::AndOrEnd => "'and', 'or' or the end of the input",
            Expected::AndOrClose => "'and', 'or' or ')'",
            Expected::Close => "')'",
            Expected::OpenAfterNot => "'(' after 'not'",
            Expected::OpenAfterCustom => "'(' after 'custom'",
            Expected::Fields => "'fields'",
            Expected::OpenAfterFields => "'(' after 'fields'",
            Expected::InAfterNot => "'in' after 'not'",
            Expected::Defined => "'defined'",
            Expected::DefinedOrNotDefined => "'defined' or 'not defined'",
            Expected::CommaOrClose => "',' or ')'",
            Expected::InOperand => "'(' or a :variable after 'in'",
        })
    }
}

impl fmt::Display for SyntaxProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxProblem::Unexpected { found: None, expected } => {
                write!(f, "Unexpected end of input, expected {expected}")
            }
            SyntaxProblem::Unexpected { found: Some(text), expected } => {
                write!(f, "Invalid input {}, expected {expected}", quote(text))
            }
            SyntaxProblem::LoneBang => f.write_str("Invalid input '!', expected '!='"),
            SyntaxProblem::EmptyVariable => {
                f.write_str("Invalid input ':', expected a variable name ([A-Za-z0-9_]+) after ':'")
            }
            SyntaxProblem::SingleQuote => {
                f.write_str("Invalid input ''', string literals must be enclosed in double quotes")
            }
            SyntaxProblem::InvalidCharacter(c) => write!(f, "Invalid character {}", quote(&c.to_string())),
            SyntaxProblem::LoneMinus => f.write_str("Invalid input '-', expected a digit after '-'"),
            SyntaxProblem::InvalidNumber(text) => write!(
                f,
                "Invalid number {}, expected digits with an optional '-' and decimal part (e.g. 3, -2, 1.5)",
                quote(text)
            ),
            SyntaxProblem::UnterminatedString => f.write_str("Unterminated string literal, expected a closing '\"'"),
            SyntaxProblem::InvalidEscape(c) => write!(
                f,
                "Invalid escape sequence {} in a string literal, expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
                quote(&format!("\\{c}"))
            ),
            SyntaxProblem::InvalidUnicodeEscape => f.write_str(
                "Invalid unicode escape in a string literal, expected \\u followed by 4 hex digits (a surrogate pair for characters above U+FFFF)",
            ),
        }
    }
}

/// What a plain field must be compared with ([`super::PredicateError::TypeMismatch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operand {
    /// A number literal (`version`).
    Number,
    /// A string (`id`, `key`, `name`).
    String,
    /// A string holding an ISO 8601 date-time (`createdAt`, `lastModifiedAt`).
    DateTime,
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operand::Number => "a number",
            Operand::String => "a string",
            Operand::DateTime => "a date-time string",
        })
    }
}
