//! `custom(fields(<name>))` comparisons, typed by the project's custom types.
//!
//! The same field name may have different types in different custom types, so a comparison
//! is a `CASE` over the group's `custom_type_id`: for the types that define the field with a
//! given kind, the value is compared as that kind:
//!
//! | field type | literal | comparison |
//! |---|---|---|
//! | Number | a number | numerically |
//! | Date | `"YYYY-MM-DD"` | as dates |
//! | DateTime | an ISO 8601 date-time (like `createdAt`) | as instants |
//! | String, Enum, LocalizedEnum | a string | as text (the enum key); `in` lists keys |
//! | LocalizedString | a string | true when any locale's text compares |
//! | Boolean | `true`/`false` | as booleans |
//! | Set of any | as its element | true when any element compares ("contains") |
//!
//! A field no type defines matches nothing, and so does a literal that fits none of the kinds
//! the field has (`points = "10"` for a Number field, `born < "yesterday"` for a Date): like
//! every comparison here, it is simply false (so `!=` matches). `:variables` are strings.
//! `CASE` guarantees a value is only cast where its type says it can be.

use std::collections::HashMap;

use serde_json::Value as Json;
use uuid::Uuid;
use xclade_domain::custom_type::{parse_date, FieldDefinition, FieldType};
use xclade_domain::error::WhereViolation;
use xclade_domain::predicate::{CmpOp, Expr, Field, Value};
use xclade_domain::DomainError;

use super::{malformed, numeric_literal, operator, parse_datetime, unbound};
use crate::sql::{Bind, Sql};

/// How the values of a custom field compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CustomKind {
    Boolean,
    /// String, Enum and LocalizedEnum values: compared as text.
    Text,
    Localized,
    Number,
    Date,
    DateTime,
    Set(Box<CustomKind>),
}

impl CustomKind {
    fn of(t: &FieldType) -> CustomKind {
        match t {
            FieldType::Boolean => CustomKind::Boolean,
            FieldType::String | FieldType::Enum { .. } | FieldType::LocalizedEnum { .. } => CustomKind::Text,
            FieldType::LocalizedString => CustomKind::Localized,
            FieldType::Number => CustomKind::Number,
            FieldType::Date => CustomKind::Date,
            FieldType::DateTime => CustomKind::DateTime,
            FieldType::Set { element_type } => CustomKind::Set(Box::new(CustomKind::of(element_type))),
        }
    }

    /// Whether `value` can be compared with values of this kind.
    fn fits(&self, value: &Value) -> bool {
        match (self, value) {
            (CustomKind::Boolean, Value::Bool(_)) => true,
            (CustomKind::Text | CustomKind::Localized, Value::Str(_)) => true,
            (CustomKind::Number, Value::Number(_)) => true,
            (CustomKind::Date, Value::Str(s)) => parse_date(s).is_some(),
            (CustomKind::DateTime, Value::Str(s)) => parse_datetime(s).is_some(),
            (CustomKind::Set(inner), v) => inner.fits(v),
            _ => false,
        }
    }
}

/// For each custom field name, its kinds and the types that give it each kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct CustomTyping(HashMap<String, Vec<(CustomKind, Vec<Uuid>)>>);

impl CustomTyping {
    /// The typing of the given types' field definitions.
    pub fn new<'a>(types: impl IntoIterator<Item = (Uuid, &'a [FieldDefinition])>) -> CustomTyping {
        let mut map: HashMap<String, Vec<(CustomKind, Vec<Uuid>)>> = HashMap::new();
        for (type_id, defs) in types {
            for def in defs {
                let kind = CustomKind::of(&def.field_type);
                let kinds = map.entry(def.name.as_str().to_owned()).or_default();
                match kinds.iter_mut().find(|(k, _)| *k == kind) {
                    Some((_, ids)) => ids.push(type_id),
                    None => kinds.push((kind, vec![type_id])),
                }
            }
        }
        CustomTyping(map)
    }
}

/// Whether the predicate compares any custom field (and so needs the typing).
pub(crate) fn mentions_custom(expr: &Expr) -> bool {
    match expr {
        Expr::And(operands) | Expr::Or(operands) => operands.iter().any(mentions_custom),
        Expr::Not(inner) => mentions_custom(inner),
        Expr::Cmp { field, .. } | Expr::In { field, .. } => matches!(field, Field::Custom(_)),
        Expr::Defined { .. } => false,
    }
}

/// Appends `custom(fields(name)) op value` as a two-valued boolean.
pub(super) fn comparison(
    (fields_column, type_column): (&str, &str),
    typing: &CustomTyping,
    name: &str,
    op: CmpOp,
    value: &Value,
    sql: &mut Sql,
) -> Result<(), DomainError> {
    if let Value::Var(v) = value {
        return Err(unbound(v));
    }
    let Some(kinds) = typing.0.get(name) else {
        sql.push("FALSE");
        return Ok(());
    };
    let fitting: Vec<&(CustomKind, Vec<Uuid>)> = kinds.iter().filter(|(kind, _)| kind.fits(value)).collect();
    if fitting.is_empty() {
        sql.push("FALSE");
        return Ok(());
    }
    let field = sql.placeholder(Bind::Text(name.to_owned()));
    let json = format!("({fields_column} -> {field})");
    sql.push("COALESCE(CASE");
    for (kind, type_ids) in fitting {
        sql.push(" WHEN ").push(type_column).push(" = ANY(").bind(Bind::Uuids(type_ids.clone())).push(") THEN ");
        condition(kind, &json, op, value, sql, 0)?;
    }
    sql.push(" ELSE FALSE END, FALSE)");
    Ok(())
}

/// Appends the comparison of the jsonb expression `json` (a value of `kind`) with `value`.
fn condition(
    kind: &CustomKind,
    json: &str,
    op: CmpOp,
    value: &Value,
    sql: &mut Sql,
    depth: u8,
) -> Result<(), DomainError> {
    let op_sql = operator(op);
    let text = |v: &Value| match v {
        Value::Str(s) | Value::Number(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Var(v) => v.clone(),
    };
    match kind {
        CustomKind::Boolean => {
            let b = matches!(value, Value::Bool(true));
            sql.push(json).push(" ").push(op_sql).push(" ").bind(Bind::Jsonb(Json::Bool(b)));
        }
        CustomKind::Text => {
            sql.push("(").push(json).push(" #>> '{}') ").push(op_sql).push(" ").bind(Bind::Text(text(value)));
        }
        CustomKind::Localized => {
            sql.push("EXISTS (SELECT 1 FROM jsonb_each_text(")
                .push(json)
                .push(") AS l(k, v) WHERE l.v ")
                .push(op_sql)
                .push(" ")
                .bind(Bind::Text(text(value)))
                .push(")");
        }
        CustomKind::Number => {
            let numeric = numeric_literal("custom", &text(value))?;
            sql.push("(")
                .push(json)
                .push(" #>> '{}')::numeric ")
                .push(op_sql)
                .push(" CAST(")
                .bind(Bind::Text(numeric))
                .push(" AS numeric)");
        }
        CustomKind::Date => {
            sql.push("(")
                .push(json)
                .push(" #>> '{}')::date ")
                .push(op_sql)
                .push(" CAST(")
                .bind(Bind::Text(text(value)));
            sql.push(" AS date)");
        }
        CustomKind::DateTime => {
            let at = parse_datetime(&text(value)).ok_or_else(|| malformed(WhereViolation::InvalidCustomDateTime))?;
            sql.push("(")
                .push(json)
                .push(" #>> '{}')::timestamptz ")
                .push(op_sql)
                .push(" ")
                .bind(Bind::Timestamptz(at));
        }
        CustomKind::Set(inner) => {
            if depth > 0 {
                return Err(malformed(WhereViolation::NestedSets));
            }
            sql.push("EXISTS (SELECT 1 FROM jsonb_array_elements(").push(json).push(") AS e(v) WHERE ");
            condition(inner, "e.v", op, value, sql, depth + 1)?;
            sql.push(")");
        }
    }
    Ok(())
}
