//! The project family's `where` predicates, compiled to parameterised SQL over
//! `customer_groups g`. No value of a predicate is ever written into the SQL text: every
//! literal is a bound parameter, and the text is built only from this file's constants.
//!
//! Semantics (documented in `docs/`):
//!
//! * Every comparison is two-valued: a field that is not set (`key`, a custom field)
//!   satisfies no comparison, so `!=`/`<>`, `not in` and `not (…)` **do** match it
//!   (`key != "x"` matches groups without a key).
//! * `id`: the literal is parsed as a UUID. When it is not one, `=`/`in` match nothing and
//!   `!=`/`not in` match everything; ordering operators then compare the id's canonical text
//!   (lowercase, hyphenated) with the literal lowercased.
//! * `version`: an integer literal compares as `bigint`; a decimal one (`1.5`) as `numeric`.
//! * `createdAt`, `lastModifiedAt`: RFC 3339 date-times (`2024-05-01T10:00:00Z`, with an
//!   offset, with or without fractions) or a date alone (`2024-05-01`, meaning midnight UTC).
//! * `custom(fields(name))`: a string literal matches only a JSON string (compared as text),
//!   a number only a JSON number (compared numerically), `true`/`false` only a JSON boolean.
//! * `is defined` is always true for `id`, `name`, `version`, `createdAt`, `lastModifiedAt`.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value as Json;
use uuid::Uuid;
use xclade_domain::paging::SortField;
use xclade_domain::predicate::{CmpOp, Expr, Field, Value};
use xclade_domain::DomainError;

use crate::sql::{Bind, Sql};

fn malformed(detail: impl std::fmt::Display) -> DomainError {
    DomainError::invalid_field("where", format!("Malformed parameter: where: {detail}"))
}

/// The column a project-family `sort` field orders by.
pub(crate) fn sort_column(field: SortField) -> &'static str {
    match field {
        SortField::Id => "g.id",
        SortField::Key => "g.key",
        SortField::Name => "g.name",
        SortField::Version => "g.version",
        SortField::CreatedAt => "g.created_at",
        SortField::LastModifiedAt => "g.last_modified_at",
    }
}

/// Appends the SQL of `expr` (a boolean that is never NULL) to `sql`.
pub(crate) fn compile(expr: &Expr, sql: &mut Sql) -> Result<(), DomainError> {
    match expr {
        Expr::And(operands) | Expr::Or(operands) => {
            let (op, empty) = if matches!(expr, Expr::And(_)) { (" AND ", "TRUE") } else { (" OR ", "FALSE") };
            sql.push("(");
            if operands.is_empty() {
                sql.push(empty);
            }
            for (i, operand) in operands.iter().enumerate() {
                if i > 0 {
                    sql.push(op);
                }
                compile(operand, sql)?;
            }
            sql.push(")");
        }
        Expr::Not(inner) => {
            sql.push("(NOT ");
            compile(inner, sql)?;
            sql.push(")");
        }
        Expr::Cmp { field, op: CmpOp::Ne, value } => {
            sql.push("(NOT ");
            comparison(field, CmpOp::Eq, value, sql)?;
            sql.push(")");
        }
        Expr::Cmp { field, op, value } => comparison(field, *op, value, sql)?,
        Expr::In { field, negated, values } => {
            sql.push(if *negated { "(NOT (" } else { "((" });
            if values.is_empty() {
                sql.push("FALSE");
            }
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                comparison(field, CmpOp::Eq, value, sql)?;
            }
            sql.push("))");
        }
        Expr::Defined { field, negated } => {
            sql.push(if *negated { "(NOT " } else { "(" });
            defined(field, sql)?;
            sql.push(")");
        }
    }
    Ok(())
}

fn operator(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn defined(field: &Field, sql: &mut Sql) -> Result<(), DomainError> {
    match field {
        Field::Custom(name) => {
            sql.push("(g.custom_fields -> ").bind(Bind::Text(name.clone())).push(") IS NOT NULL");
        }
        Field::Plain(name) => match name.as_str() {
            "key" => {
                sql.push("g.key IS NOT NULL");
            }
            "id" | "name" | "version" | "createdAt" | "lastModifiedAt" => {
                sql.push("TRUE");
            }
            other => return Err(unknown_field(other)),
        },
    }
    Ok(())
}

fn unknown_field(name: &str) -> DomainError {
    malformed(format_args!("The field '{name}' does not exist."))
}

/// The text of a literal compared with a text field.
fn text_literal<'v>(field: &str, value: &'v Value) -> Result<&'v str, DomainError> {
    match value {
        Value::Str(s) | Value::Number(s) => Ok(s),
        Value::Bool(_) => Err(malformed(format_args!("The field '{field}' cannot be compared with a boolean."))),
        Value::Var(v) => Err(unbound(v)),
    }
}

fn unbound(var: &str) -> DomainError {
    malformed(format_args!("The variable ':{var}' is not bound."))
}

/// `op` between a field and a literal, as a two-valued boolean.
fn comparison(field: &Field, op: CmpOp, value: &Value, sql: &mut Sql) -> Result<(), DomainError> {
    let op_sql = operator(op);
    match field {
        Field::Custom(name) => custom_comparison(name, op_sql, value, sql),
        Field::Plain(name) => {
            sql.push("COALESCE(");
            match name.as_str() {
                "id" => {
                    let literal = text_literal(name, value)?;
                    match Uuid::try_parse(literal) {
                        Ok(id) => {
                            sql.push("g.id ").push(op_sql).push(" ").bind(Bind::Uuid(id));
                        }
                        Err(_) if op == CmpOp::Eq => {
                            sql.push("FALSE");
                        }
                        Err(_) => {
                            sql.push("g.id::text ").push(op_sql).push(" ").bind(Bind::Text(literal.to_lowercase()));
                        }
                    }
                }
                "key" | "name" => {
                    let literal = text_literal(name, value)?;
                    sql.push(if name == "key" { "g.key " } else { "g.name " })
                        .push(op_sql)
                        .push(" ")
                        .bind(Bind::Text(literal.to_owned()));
                }
                "version" => {
                    let literal = text_literal(name, value)?;
                    match literal.trim().parse::<i64>() {
                        Ok(v) => {
                            sql.push("g.version ").push(op_sql).push(" ").bind(Bind::BigInt(v));
                        }
                        Err(_) => {
                            let numeric = numeric_literal(name, literal)?;
                            sql.push("g.version::numeric ")
                                .push(op_sql)
                                .push(" CAST(")
                                .bind(Bind::Text(numeric))
                                .push(" AS numeric)");
                        }
                    }
                }
                "createdAt" | "lastModifiedAt" => {
                    let literal = match value {
                        Value::Str(s) => s,
                        Value::Var(v) => return Err(unbound(v)),
                        _ => {
                            return Err(malformed(format_args!(
                                "The field '{name}' can only be compared with a date-time string."
                            )))
                        }
                    };
                    let at = parse_datetime(literal).ok_or_else(|| {
                        malformed(format_args!("'{literal}' is not a valid date-time for the field '{name}'."))
                    })?;
                    sql.push(if name == "createdAt" { "g.created_at " } else { "g.last_modified_at " })
                        .push(op_sql)
                        .push(" ")
                        .bind(Bind::Timestamptz(at));
                }
                other => return Err(unknown_field(other)),
            }
            sql.push(", FALSE)");
            Ok(())
        }
    }
}

fn custom_comparison(name: &str, op_sql: &str, value: &Value, sql: &mut Sql) -> Result<(), DomainError> {
    sql.push("COALESCE(jsonb_typeof(g.custom_fields -> ");
    let field = sql.bind_ref(Bind::Text(name.to_owned()));
    match value {
        Value::Str(s) => {
            sql.push(&format!(") = 'string' AND (g.custom_fields ->> {field}) {op_sql} "));
            sql.bind(Bind::Text(s.clone()));
        }
        Value::Number(n) => {
            let numeric = numeric_literal(name, n)?;
            sql.push(&format!(") = 'number' AND (g.custom_fields ->> {field})::numeric {op_sql} CAST("));
            sql.bind(Bind::Text(numeric)).push(" AS numeric)");
        }
        Value::Bool(b) => {
            sql.push(&format!(") = 'boolean' AND (g.custom_fields -> {field}) {op_sql} "));
            sql.bind(Bind::Jsonb(Json::Bool(*b)));
        }
        Value::Var(v) => return Err(unbound(v)),
    }
    sql.push(", FALSE)");
    Ok(())
}

/// A number literal, checked to be a finite decimal before PostgreSQL casts it.
fn numeric_literal(field: &str, literal: &str) -> Result<String, DomainError> {
    let s = literal.trim();
    let well_formed = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        && s.parse::<f64>().is_ok_and(f64::is_finite);
    if well_formed {
        Ok(s.to_owned())
    } else {
        Err(malformed(format_args!("'{literal}' is not a valid number for the field '{field}'.")))
    }
}

/// A date-time in the forms the domain's predicate check accepts (RFC 3339, minutes without
/// seconds, no offset meaning UTC, or a date alone meaning midnight UTC).
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let normalized = xclade_domain::predicate::normalize_datetime(s);
    if let Ok(t) = DateTime::parse_from_rfc3339(normalized.as_deref().unwrap_or(s)) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(name: &str) -> Field {
        Field::Plain(name.into())
    }

    fn cmp(field: Field, op: CmpOp, value: Value) -> Expr {
        Expr::Cmp { field, op, value }
    }

    #[test]
    fn values_never_reach_the_sql_text() {
        let injection = "x\" or 1=1 --";
        let expr = Expr::Or(vec![
            cmp(plain("name"), CmpOp::Eq, Value::Str(injection.into())),
            cmp(Field::Custom("a'b".into()), CmpOp::Gt, Value::Number("3".into())),
        ]);
        let mut sql = Sql::new("");
        compile(&expr, &mut sql).expect("compiles");
        assert!(!sql.text().contains("1=1"), "{}", sql.text());
        assert!(!sql.text().contains("a'b"), "{}", sql.text());
        assert_eq!(
            sql.text(),
            "(COALESCE(g.name = $1, FALSE) OR COALESCE(jsonb_typeof(g.custom_fields -> $2) = 'number' \
             AND (g.custom_fields ->> $2)::numeric > CAST($3 AS numeric), FALSE))"
        );
    }

    #[test]
    fn unknown_fields_and_variables_are_refused() {
        let mut sql = Sql::new("");
        let err = compile(&cmp(plain("foo"), CmpOp::Eq, Value::Str("x".into())), &mut sql).expect_err("unknown");
        assert_eq!(err.to_string(), "Malformed parameter: where: The field 'foo' does not exist.");
        let err = compile(&cmp(plain("name"), CmpOp::Eq, Value::Var("v".into())), &mut sql).expect_err("unbound");
        assert!(err.to_string().contains(":v"));
        assert!(compile(&cmp(plain("version"), CmpOp::Eq, Value::Number("1; drop".into())), &mut sql).is_err());
        assert!(compile(&cmp(plain("createdAt"), CmpOp::Eq, Value::Str("yesterday".into())), &mut sql).is_err());
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
        let mut sql = Sql::new("");
        compile(&cmp(plain("id"), CmpOp::Eq, Value::Str("nope".into())), &mut sql).expect("compiles");
        assert_eq!(sql.text(), "COALESCE(FALSE, FALSE)");
        let mut sql = Sql::new("");
        compile(&cmp(plain("id"), CmpOp::Ne, Value::Str("nope".into())), &mut sql).expect("compiles");
        assert_eq!(sql.text(), "(NOT COALESCE(FALSE, FALSE))");
    }
}
