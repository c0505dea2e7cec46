//! Binding `:variables` and checking the types of values compared with plain fields.

use std::collections::HashMap;

use super::datetime::parse_datetime;
use super::{is_number_literal, Expr, Field, Operand, PredicateError, Value};

/// Longest rejected value quoted in an error, in chars.
const MAX_QUOTED_VALUE: usize = 64;

/// Replaces every [`Value::Var`] by the values of the `var.<name>` parameter, as
/// [`Value::Str`]s. The result contains no variable.
///
/// `vars` maps a variable name (without `var.`) to the values of the repeated parameter.
/// A variable in a comparison must have exactly one value ([`PredicateError::VariableArity`]);
/// in an `in` list it expands to all its values, in order. A missing name, or one with no
/// value, is [`PredicateError::UnboundVariable`].
pub fn bind(expr: Expr, vars: &HashMap<String, Vec<String>>) -> Result<Expr, PredicateError> {
    bind_typed(expr, vars, &[])
}

/// Like [`bind`], but a variable whose value is compared with one of the plain
/// `numeric_fields` becomes a [`Value::Number`]; a value that is not a number literal
/// (`-?[0-9]+(\.[0-9]+)?`) is then a [`PredicateError::TypeMismatch`].
pub fn bind_typed(
    mut expr: Expr,
    vars: &HashMap<String, Vec<String>>,
    numeric_fields: &[&str],
) -> Result<Expr, PredicateError> {
    bind_in_place(&mut expr, vars, numeric_fields)?;
    Ok(expr)
}

/// Binds every leaf through [`bind_leaf`].
fn bind_in_place(
    expr: &mut Expr,
    vars: &HashMap<String, Vec<String>>,
    numeric_fields: &[&str],
) -> Result<(), PredicateError> {
    try_each_leaf_mut(expr, &mut |leaf| bind_leaf(leaf, vars, numeric_fields))
}

/// Calls `f` on every leaf of `expr` (a comparison, `in` or `is defined`), in order, until one
/// fails. Only the boolean nodes are recursed through, keeping the recursive frame small.
fn try_each_leaf<E>(expr: &Expr, f: &mut impl FnMut(&Expr) -> Result<(), E>) -> Result<(), E> {
    match expr {
        Expr::And(operands) | Expr::Or(operands) => operands.iter().try_for_each(|o| try_each_leaf(o, f)),
        Expr::Not(inner) => try_each_leaf(inner, f),
        leaf => f(leaf),
    }
}

/// [`try_each_leaf`] with leaves that `f` may change.
fn try_each_leaf_mut<E>(expr: &mut Expr, f: &mut impl FnMut(&mut Expr) -> Result<(), E>) -> Result<(), E> {
    match expr {
        Expr::And(operands) | Expr::Or(operands) => operands.iter_mut().try_for_each(|o| try_each_leaf_mut(o, f)),
        Expr::Not(inner) => try_each_leaf_mut(inner, f),
        leaf => f(leaf),
    }
}

fn bind_leaf(
    expr: &mut Expr,
    vars: &HashMap<String, Vec<String>>,
    numeric_fields: &[&str],
) -> Result<(), PredicateError> {
    match expr {
        Expr::Cmp { field, value, .. } => {
            if let Value::Var(name) = value {
                *value = match lookup(vars, name)? {
                    [one] => typed(field, one, numeric_fields)?,
                    _ => return Err(PredicateError::VariableArity(name.clone())),
                };
            }
        }
        Expr::In { field, values, .. } => {
            if values.iter().any(|v| matches!(v, Value::Var(_))) {
                let mut bound = Vec::with_capacity(values.len());
                for value in std::mem::take(values) {
                    match value {
                        Value::Var(name) => {
                            for one in lookup(vars, &name)? {
                                bound.push(typed(field, one, numeric_fields)?);
                            }
                        }
                        literal => bound.push(literal),
                    }
                }
                *values = bound;
            }
        }
        Expr::And(_) | Expr::Or(_) | Expr::Not(_) | Expr::Defined { .. } => {}
    }
    Ok(())
}

fn lookup<'v>(vars: &'v HashMap<String, Vec<String>>, name: &str) -> Result<&'v [String], PredicateError> {
    match vars.get(name) {
        Some(values) if !values.is_empty() => Ok(values),
        _ => Err(PredicateError::UnboundVariable(name.to_string())),
    }
}

fn typed(field: &Field, raw: &str, numeric_fields: &[&str]) -> Result<Value, PredicateError> {
    match field {
        Field::Plain(name) if numeric_fields.contains(&name.as_str()) => {
            if is_number_literal(raw) {
                Ok(Value::Number(raw.to_string()))
            } else {
                Err(mismatch(name, Operand::Number))
            }
        }
        _ => Ok(Value::Str(raw.to_string())),
    }
}

fn mismatch(field: &str, expected: Operand) -> PredicateError {
    PredicateError::TypeMismatch { field: field.to_string(), expected }
}

/// Checks the values compared with plain fields: [`Value::Number`] for `numeric_fields`,
/// a [`Value::Str`] holding an ISO 8601 date-time (see [`super::parse_datetime`]) for
/// `datetime_fields`, and a [`Value::Str`] for every other plain field. Custom fields are not
/// checked, nor are variables (run this after [`bind`]); `is [not] defined` needs no value.
pub fn check_types(expr: &Expr, numeric_fields: &[&str], datetime_fields: &[&str]) -> Result<(), PredicateError> {
    try_each_leaf(expr, &mut |leaf| check_leaf(leaf, numeric_fields, datetime_fields))
}

fn check_leaf(expr: &Expr, numeric_fields: &[&str], datetime_fields: &[&str]) -> Result<(), PredicateError> {
    match expr {
        Expr::Cmp { field, value, .. } => check_value(field, value, numeric_fields, datetime_fields),
        Expr::In { field, values, .. } => {
            for value in values {
                check_value(field, value, numeric_fields, datetime_fields)?;
            }
            Ok(())
        }
        Expr::And(_) | Expr::Or(_) | Expr::Not(_) | Expr::Defined { .. } => Ok(()),
    }
}

fn check_value(
    field: &Field,
    value: &Value,
    numeric_fields: &[&str],
    datetime_fields: &[&str],
) -> Result<(), PredicateError> {
    let Field::Plain(name) = field else {
        return Ok(());
    };
    if matches!(value, Value::Var(_)) {
        return Ok(());
    }
    if numeric_fields.contains(&name.as_str()) {
        match value {
            Value::Number(_) => Ok(()),
            _ => Err(mismatch(name, Operand::Number)),
        }
    } else if datetime_fields.contains(&name.as_str()) {
        match value {
            Value::Str(s) if parse_datetime(s).is_some() => Ok(()),
            Value::Str(s) => Err(PredicateError::InvalidDateTime { field: name.clone(), value: shorten(s) }),
            _ => Err(mismatch(name, Operand::DateTime)),
        }
    } else {
        match value {
            Value::Str(_) => Ok(()),
            _ => Err(mismatch(name, Operand::String)),
        }
    }
}

/// The value as quoted in an error: invisible characters escaped, shortened when long.
fn shorten(s: &str) -> String {
    super::lexer::escape_shortened(s, MAX_QUOTED_VALUE)
}
