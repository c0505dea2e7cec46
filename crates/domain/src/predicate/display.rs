//! Canonical printing: parses back to the identical AST.
//!
//! Operators are printed in lower case with single spaces, `!=` for [`CmpOp::Ne`], custom
//! fields in the outer form `custom(fields(name))`, `in` lists always parenthesized, `not`
//! as `not (…)`, and parentheses only where precedence or a nested chain needs them.
//! `And`/`Or` nodes with fewer than two operands (which the parser never makes) do not
//! round-trip.

use std::fmt::{self, Display, Formatter, Write};

use super::{CmpOp, Expr, Field, Value};

/// Binding strength: `or` < `and` < everything else.
fn precedence(expr: &Expr) -> u8 {
    match expr {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        _ => 3,
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_expr(f, self)
    }
}

/// Recurses directly (not through `write!`), keeping stack frames small.
fn write_expr(f: &mut Formatter<'_>, expr: &Expr) -> fmt::Result {
    match expr {
        Expr::Or(operands) => write_chain(f, operands, " or ", 1),
        Expr::And(operands) => write_chain(f, operands, " and ", 2),
        Expr::Not(inner) => {
            f.write_str("not (")?;
            write_expr(f, inner)?;
            f.write_char(')')
        }
        leaf => write_leaf(f, leaf),
    }
}

fn write_leaf(f: &mut Formatter<'_>, expr: &Expr) -> fmt::Result {
    match expr {
        Expr::Cmp { field, op, value } => write!(f, "{field} {op} {value}"),
        Expr::In { field, negated, values } => {
            write!(f, "{field} {}in (", if *negated { "not " } else { "" })?;
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{value}")?;
            }
            f.write_char(')')
        }
        Expr::Defined { field, negated } => {
            let not = if *negated { "not " } else { "" };
            write!(f, "{field} is {not}defined")
        }
        Expr::And(_) | Expr::Or(_) | Expr::Not(_) => write_expr(f, expr),
    }
}

/// Operands joined by `separator`; an operand binding no tighter than the chain (an `or` in
/// an `and` chain, or a nested chain of the same kind) is parenthesized.
fn write_chain(f: &mut Formatter<'_>, operands: &[Expr], separator: &str, prec: u8) -> fmt::Result {
    for (i, expr) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        if precedence(expr) <= prec {
            f.write_char('(')?;
            write_expr(f, expr)?;
            f.write_char(')')?;
        } else {
            write_expr(f, expr)?;
        }
    }
    Ok(())
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Field::Plain(name) => f.write_str(name),
            Field::Custom(name) => write!(f, "custom(fields({name}))"),
        }
    }
}

impl Display for CmpOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write_string(f, s),
            Value::Number(n) => f.write_str(n),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Var(name) => write!(f, ":{name}"),
        }
    }
}

/// A double-quoted string literal: `"` and `\` escaped, control characters as escapes.
fn write_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}
