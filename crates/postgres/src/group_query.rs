//! The project family's queries (`where`, `sort`, paging), compiled to parameterised SQL over
//! one [`Table`]: customer groups ([`GROUPS`]) and custom types ([`TYPES`]) share this code.
//! No value of a predicate is ever written into the SQL text: every literal is a bound
//! parameter, and the text is built only from this module's constants.
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
//! * `custom(fields(name))` (groups only): compared according to the field's type in the
//!   group's custom type — see [`custom`].
//! * `is defined` is always true for `id`, `name`, `version`, `createdAt`, `lastModifiedAt`.

mod custom;
#[cfg(test)]
mod tests;

pub(crate) use custom::{mentions_custom, CustomTyping};

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;
use xclade_domain::error::{Violation, WhereViolation};
use xclade_domain::paging::{Sort, SortField};
use xclade_domain::predicate::{CmpOp, Expr, Field, Value};
use xclade_domain::{DomainError, ProjectId};

use crate::customers::queries::count;
use crate::error::TxResult;
use crate::sql::{Bind, Sql};

/// How a plain field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A UUID column.
    Id,
    /// A text column; `nullable` ones may be undefined.
    Text { nullable: bool },
    /// A `bigint` version.
    Version,
    /// A `timestamptz`.
    Timestamp,
}

/// A plain field of a table: its public name, its SQL column, how it compares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub name: &'static str,
    pub sql: &'static str,
    pub kind: Kind,
}

/// A table the project family queries.
#[derive(Debug)]
pub(crate) struct Table {
    /// `FROM` target with its alias.
    pub from: &'static str,
    /// The select list of whole rows (`g.*`).
    pub all: &'static str,
    /// The id column (ties of every sort are broken by it).
    pub id: &'static str,
    pub project: &'static str,
    /// The fields `where` may name.
    pub fields: &'static [Column],
    /// The custom fields and custom type columns, when the resource has custom fields.
    pub custom: Option<(&'static str, &'static str)>,
    /// The column each `sort` field orders by.
    pub sort: fn(SortField) -> &'static str,
}

/// The [`Table`] of a versioned resource: `$table` under `$alias`, with the `id`, `version`,
/// `createdAt` and `lastModifiedAt` fields every versioned resource has and its own `$field`s,
/// its custom columns, and its sort columns (`name` orders by `$name_sort`).
macro_rules! versioned_table {
    ($table:literal as $alias:literal, [$($field:expr),* $(,)?], custom: $custom:expr, name_sort: $name_sort:literal $(,)?) => {
        Table {
            from: concat!($table, " ", $alias),
            all: concat!($alias, ".*"),
            id: concat!($alias, ".id"),
            project: concat!($alias, ".project_id"),
            fields: &[
                Column { name: "id", sql: concat!($alias, ".id"), kind: Kind::Id },
                $($field,)*
                Column { name: "version", sql: concat!($alias, ".version"), kind: Kind::Version },
                Column { name: "createdAt", sql: concat!($alias, ".created_at"), kind: Kind::Timestamp },
                Column { name: "lastModifiedAt", sql: concat!($alias, ".last_modified_at"), kind: Kind::Timestamp },
            ],
            custom: $custom,
            sort: |field| match field {
                SortField::Id => concat!($alias, ".id"),
                SortField::Key => concat!($alias, ".key"),
                SortField::Name => $name_sort,
                SortField::Version => concat!($alias, ".version"),
                SortField::CreatedAt => concat!($alias, ".created_at"),
                SortField::LastModifiedAt => concat!($alias, ".last_modified_at"),
            },
        }
    };
}

/// Customer groups.
pub(crate) static GROUPS: Table = versioned_table!(
    "customer_groups" as "g",
    [
        Column { name: "key", sql: "g.key", kind: Kind::Text { nullable: true } },
        Column { name: "name", sql: "g.name", kind: Kind::Text { nullable: false } },
    ],
    custom: Some(("g.custom_fields", "g.custom_type_id")),
    name_sort: "g.name",
);

/// Custom types. `name` is localized: it sorts by its JSON text and cannot be compared.
pub(crate) static TYPES: Table = versioned_table!(
    "types" as "t",
    [Column { name: "key", sql: "t.key", kind: Kind::Text { nullable: false } }],
    custom: None,
    name_sort: "t.name::text",
);

fn malformed(problem: WhereViolation) -> DomainError {
    DomainError::invalid_field("where", Violation::MalformedWhere(problem))
}

/// The column a project-family `sort` field orders groups by.
pub(crate) fn sort_column(field: SortField) -> &'static str {
    (GROUPS.sort)(field)
}

/// The `ORDER BY` of a query: the sorts, then the id in the direction of the last sort
/// (ascending without a sort), so paging is stable.
pub(crate) fn query_order(table: &Table, sort: &[Sort]) -> Vec<(&'static str, bool)> {
    let mut order: Vec<(&'static str, bool)> = sort.iter().map(|s| ((table.sort)(s.field), s.descending)).collect();
    let last_descending = order.last().is_some_and(|(_, d)| *d);
    if !order.iter().any(|(column, _)| *column == table.id) {
        order.push((table.id, last_descending));
    }
    order
}

/// `SELECT <all> <from> ORDER BY … LIMIT … OFFSET …`.
pub(crate) fn page(table: &Table, from: &Sql, order: &[(&str, bool)], limit: u32, offset: u64) -> Sql {
    let mut sql = Sql::new("SELECT ");
    sql.push(table.all).append(from).push(" ORDER BY ");
    for (i, (column, descending)) in order.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push(column).push(if *descending { " DESC" } else { " ASC" });
    }
    sql.push(" LIMIT ")
        .bind(Bind::BigInt(i64::from(limit)))
        .push(" OFFSET ")
        .bind(Bind::BigInt(i64::try_from(offset).unwrap_or(i64::MAX)));
    sql
}

/// `SELECT count(*) AS count <from>`.
pub(crate) fn counting(from: &Sql) -> Sql {
    let mut sql = Sql::new("SELECT count(*) AS count");
    sql.append(from);
    sql
}

/// The total of a `FROM …` part when asked for (else nothing is sent), on a shared connection so
/// that it pipelines with the page it counts.
pub(crate) async fn total_if(conn: &AsyncPgConnection, wanted: bool, from: &Sql) -> TxResult<Option<i64>> {
    if !wanted {
        return Ok(None);
    }
    count(conn, &counting(from)).await.map(Some)
}

/// Compiles predicates over one table.
pub(crate) struct Compiler<'a> {
    pub table: &'a Table,
    /// The field types of the project's custom types (groups only).
    pub typing: &'a CustomTyping,
}

impl Compiler<'_> {
    /// ` FROM <table> WHERE <project> = $1 [AND <predicate>]`.
    pub fn filtered(&self, project: ProjectId, predicate: Option<&Expr>) -> Result<Sql, DomainError> {
        let mut from = Sql::new(" FROM ");
        from.push(self.table.from).push(" WHERE ").push(self.table.project).push(" = ").bind(Bind::Uuid(project.0));
        if let Some(predicate) = predicate {
            from.push(" AND ");
            self.compile(predicate, &mut from)?;
        }
        Ok(from)
    }

    /// Appends the SQL of `expr` (a boolean that is never NULL) to `sql`.
    pub fn compile(&self, expr: &Expr, sql: &mut Sql) -> Result<(), DomainError> {
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
                    self.compile(operand, sql)?;
                }
                sql.push(")");
            }
            Expr::Not(inner) => {
                sql.push("(NOT ");
                self.compile(inner, sql)?;
                sql.push(")");
            }
            Expr::Cmp { field, op: CmpOp::Ne, value } => {
                sql.push("(NOT ");
                self.comparison(field, CmpOp::Eq, value, sql)?;
                sql.push(")");
            }
            Expr::Cmp { field, op, value } => self.comparison(field, *op, value, sql)?,
            Expr::In { field, negated, values } => {
                sql.push(if *negated { "(NOT (" } else { "((" });
                if values.is_empty() {
                    sql.push("FALSE");
                }
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        sql.push(" OR ");
                    }
                    self.comparison(field, CmpOp::Eq, value, sql)?;
                }
                sql.push("))");
            }
            Expr::Defined { field, negated } => {
                sql.push(if *negated { "(NOT " } else { "(" });
                self.defined(field, sql)?;
                sql.push(")");
            }
        }
        Ok(())
    }

    fn column(&self, name: &str) -> Result<&Column, DomainError> {
        self.table.fields.iter().find(|c| c.name == name).ok_or_else(|| unknown_field(name))
    }

    fn defined(&self, field: &Field, sql: &mut Sql) -> Result<(), DomainError> {
        match field {
            Field::Custom(name) => {
                let (fields, _) = self.table.custom.ok_or_else(|| unknown_field("custom"))?;
                sql.push("(").push(fields).push(" -> ").bind(Bind::Text(name.clone())).push(") IS NOT NULL");
            }
            Field::Plain(name) => {
                let column = self.column(name)?;
                match column.kind {
                    Kind::Text { nullable: true } => {
                        sql.push(column.sql).push(" IS NOT NULL");
                    }
                    _ => {
                        sql.push("TRUE");
                    }
                }
            }
        }
        Ok(())
    }

    /// `op` between a field and a literal, as a two-valued boolean.
    fn comparison(&self, field: &Field, op: CmpOp, value: &Value, sql: &mut Sql) -> Result<(), DomainError> {
        let name = match field {
            Field::Custom(name) => {
                let columns = self.table.custom.ok_or_else(|| unknown_field("custom"))?;
                return custom::comparison(columns, self.typing, name, op, value, sql);
            }
            Field::Plain(name) => name,
        };
        let column = self.column(name)?;
        let op_sql = operator(op);
        sql.push("COALESCE(");
        match column.kind {
            Kind::Id => {
                let literal = text_literal(name, value)?;
                match Uuid::try_parse(literal) {
                    Ok(id) => {
                        sql.push(column.sql).push(" ").push(op_sql).push(" ").bind(Bind::Uuid(id));
                    }
                    Err(_) if op == CmpOp::Eq => {
                        sql.push("FALSE");
                    }
                    Err(_) => {
                        sql.push(column.sql)
                            .push("::text ")
                            .push(op_sql)
                            .push(" ")
                            .bind(Bind::Text(literal.to_lowercase()));
                    }
                }
            }
            Kind::Text { .. } => {
                let literal = text_literal(name, value)?;
                sql.push(column.sql).push(" ").push(op_sql).push(" ").bind(Bind::Text(literal.to_owned()));
            }
            Kind::Version => {
                let literal = text_literal(name, value)?;
                match literal.trim().parse::<i64>() {
                    Ok(v) => {
                        sql.push(column.sql).push(" ").push(op_sql).push(" ").bind(Bind::BigInt(v));
                    }
                    Err(_) => {
                        let numeric = numeric_literal(name, literal)?;
                        sql.push(column.sql)
                            .push("::numeric ")
                            .push(op_sql)
                            .push(" CAST(")
                            .bind(Bind::Text(numeric))
                            .push(" AS numeric)");
                    }
                }
            }
            Kind::Timestamp => {
                let literal = match value {
                    Value::Str(s) => s,
                    Value::Var(v) => return Err(unbound(v)),
                    _ => return Err(malformed(WhereViolation::NeedsDateTime { field: name.clone() })),
                };
                let at = parse_datetime(literal).ok_or_else(|| {
                    malformed(WhereViolation::InvalidDateTime { field: name.clone(), literal: literal.clone() })
                })?;
                sql.push(column.sql).push(" ").push(op_sql).push(" ").bind(Bind::Timestamptz(at));
            }
        }
        sql.push(", FALSE)");
        Ok(())
    }
}

pub(crate) fn operator(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn unknown_field(name: &str) -> DomainError {
    malformed(WhereViolation::UnknownField { field: name.to_owned() })
}

/// The text of a literal compared with a text field.
fn text_literal<'v>(field: &str, value: &'v Value) -> Result<&'v str, DomainError> {
    match value {
        Value::Str(s) | Value::Number(s) => Ok(s),
        Value::Bool(_) => Err(malformed(WhereViolation::BooleanComparison { field: field.to_owned() })),
        Value::Var(v) => Err(unbound(v)),
    }
}

fn unbound(var: &str) -> DomainError {
    malformed(WhereViolation::UnboundVariable { name: var.to_owned() })
}

/// A number literal, checked to be a finite decimal before PostgreSQL casts it.
pub(crate) fn numeric_literal(field: &str, literal: &str) -> Result<String, DomainError> {
    let s = literal.trim();
    let well_formed = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        && s.parse::<f64>().is_ok_and(f64::is_finite);
    if well_formed {
        Ok(s.to_owned())
    } else {
        Err(malformed(WhereViolation::InvalidNumber { field: field.to_owned(), literal: literal.to_owned() }))
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
