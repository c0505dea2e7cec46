//! The `where` predicates evaluated in memory, over groups and types.
//!
//! Semantics (those of the PostgreSQL adapter for plain fields, see the [module
//! docs](super)): every comparison is two-valued — a field that is not set satisfies no
//! comparison, and `!=`, `not in` and `not (…)` are the negations of `=`, `in` and the inner
//! expression, so they match it. An `id` literal that is not a UUID matches no `=`; ordering
//! operators on `id` compare its canonical text with the lowercased literal. `version`
//! compares numerically, `createdAt`/`lastModifiedAt` as instants (a date alone is midnight
//! UTC). Custom fields compare by their JSON value, of the same kind only.

use crate::custom_type::Type;
use crate::customer_group::{CustomerGroup, Version};
use crate::error::{DomainError, DomainResult, Violation};
use crate::ids::ProjectId;
use crate::paging::{GroupQuery, QueryPage, Sort, SortField};
use crate::predicate::{CmpOp, Expr, Field, Value};
use chrono::{DateTime, NaiveDate, Utc};
use std::cmp::Ordering;
use uuid::Uuid;

/// A plain field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    /// An id.
    Id(Uuid),
    /// A text (`key`, `name`).
    Text(String),
    /// A version.
    Version(i64),
    /// An instant (`createdAt`, `lastModifiedAt`).
    Time(DateTime<Utc>),
}

/// A resource a predicate can be evaluated on.
pub trait Queryable {
    /// The value of a plain field; `None` when it is not set (or unknown).
    fn plain(&self, name: &str) -> Option<Plain>;
    /// The value of a custom field, when the resource has custom fields and this one is set.
    fn custom(&self, name: &str) -> Option<&serde_json::Value>;
}

impl Queryable for CustomerGroup {
    fn plain(&self, name: &str) -> Option<Plain> {
        match name {
            "key" => Some(Plain::Text(self.key()?.as_str().to_owned())),
            "name" => Some(Plain::Text(self.name().as_str().to_owned())),
            _ => versioned_plain(name, self.id().0, self.version(), self.created_at(), self.last_modified_at()),
        }
    }

    fn custom(&self, name: &str) -> Option<&serde_json::Value> {
        self.custom()?.fields.get(name)
    }
}

impl Queryable for Type {
    fn plain(&self, name: &str) -> Option<Plain> {
        match name {
            "key" => Some(Plain::Text(self.key().as_str().to_owned())),
            _ => versioned_plain(name, self.id().0, self.version(), self.created_at(), self.last_modified_at()),
        }
    }

    fn custom(&self, _: &str) -> Option<&serde_json::Value> {
        None
    }
}

/// The plain fields groups and types share: `id`, `version`, `createdAt` and `lastModifiedAt`.
fn versioned_plain(
    name: &str,
    id: Uuid,
    version: Version,
    created_at: DateTime<Utc>,
    last_modified_at: DateTime<Utc>,
) -> Option<Plain> {
    Some(match name {
        "id" => Plain::Id(id),
        "version" => Plain::Version(version.get()),
        "createdAt" => Plain::Time(created_at),
        "lastModifiedAt" => Plain::Time(last_modified_at),
        _ => return None,
    })
}

/// Whether `r` satisfies `expr`. A variable left unbound is a `Validation` error.
pub fn matches<R: Queryable>(expr: &Expr, r: &R) -> DomainResult<bool> {
    Ok(match expr {
        Expr::And(list) => {
            for e in list {
                if !matches(e, r)? {
                    return Ok(false);
                }
            }
            true
        }
        Expr::Or(list) => {
            for e in list {
                if matches(e, r)? {
                    return Ok(true);
                }
            }
            false
        }
        Expr::Not(inner) => !matches(inner, r)?,
        Expr::Cmp { field, op: CmpOp::Ne, value } => !compare(r, field, CmpOp::Eq, value)?,
        Expr::Cmp { field, op, value } => compare(r, field, *op, value)?,
        Expr::In { field, negated, values } => {
            let mut any = false;
            for v in values {
                any |= compare(r, field, CmpOp::Eq, v)?;
            }
            any != *negated
        }
        Expr::Defined { field, negated } => {
            let defined = match field {
                Field::Plain(name) => r.plain(name).is_some(),
                Field::Custom(name) => r.custom(name).is_some(),
            };
            defined != *negated
        }
    })
}

fn holds(ord: Option<Ordering>, op: CmpOp) -> bool {
    let Some(ord) = ord else { return false };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}

fn instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let parsed = crate::predicate::parse_datetime(s)?;
    if let Ok(t) = DateTime::parse_from_rfc3339(&parsed.to_rfc3339()) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// `field op value` (`op` is not `Ne`).
fn compare<R: Queryable>(r: &R, field: &Field, op: CmpOp, value: &Value) -> DomainResult<bool> {
    if let Value::Var(name) = value {
        return Err(DomainError::validation(Violation::UnboundVariable { name: name.clone() }));
    }
    let ord = match field {
        Field::Plain(name) => match (r.plain(name), value) {
            (None, _) => None,
            (Some(Plain::Id(id)), Value::Str(s)) => match (Uuid::try_parse(s), op) {
                (Ok(lit), CmpOp::Eq) => Some(id.cmp(&lit)),
                (Err(_), CmpOp::Eq) => None,
                _ => Some(id.hyphenated().to_string().as_str().cmp(s.to_lowercase().as_str())),
            },
            (Some(Plain::Text(t)), Value::Str(s)) => Some(t.as_str().cmp(s.as_str())),
            (Some(Plain::Version(v)), Value::Number(n)) => {
                n.parse::<f64>().ok().and_then(|n| (v as f64).partial_cmp(&n))
            }
            (Some(Plain::Time(t)), Value::Str(s)) => instant(s).map(|lit| t.cmp(&lit)),
            _ => None,
        },
        Field::Custom(name) => match (r.custom(name), value) {
            (None, _) => None,
            (Some(serde_json::Value::String(a)), Value::Str(b)) => Some(a.as_str().cmp(b.as_str())),
            (Some(serde_json::Value::Number(a)), Value::Number(b)) => {
                a.as_f64().zip(b.parse::<f64>().ok()).and_then(|(a, b)| a.partial_cmp(&b))
            }
            (Some(serde_json::Value::Bool(a)), Value::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        },
    };
    Ok(holds(ord, op))
}

/// The project's resource (from `stored`, keyed by project and id) whose `key_of` is `key`;
/// `NotFound` naming the key otherwise.
pub fn by_key<'a, K: 'a, R: Clone + 'a>(
    stored: impl IntoIterator<Item = (&'a (ProjectId, K), &'a R)>,
    project: ProjectId,
    key: &str,
    key_of: impl Fn(&R) -> Option<&str>,
    resource: crate::Resource,
) -> DomainResult<R> {
    stored
        .into_iter()
        .find(|((p, _), r)| *p == project && key_of(r) == Some(key))
        .map(|(_, r)| r.clone())
        .ok_or_else(|| DomainError::not_found_key(resource, key))
}

/// One page of the project's resources (from `stored`, keyed by project and id) that match the
/// `where` query, in its order, with the total when asked for: groups and types alike.
pub fn query_page<'a, K: 'a, R: Queryable + Clone + 'a>(
    stored: impl IntoIterator<Item = (&'a (ProjectId, K), &'a R)>,
    project: ProjectId,
    query: &GroupQuery,
) -> DomainResult<QueryPage<R>> {
    let mut found = Vec::new();
    for ((p, _), r) in stored {
        if *p == project && query.predicate.as_ref().map(|e| matches(e, r)).transpose()?.unwrap_or(true) {
            found.push(r.clone());
        }
    }
    sort_by(&mut found, &query.sort);
    let total = query.with_total.then(|| i64::try_from(found.len()).unwrap_or(i64::MAX));
    Ok(QueryPage { results: super::page(found, u64::from(query.offset), query.limit), total })
}

/// Sorts by the sort fields in order, then by id (the default order).
pub fn sort_by<R: Queryable>(items: &mut [R], sort: &[Sort]) {
    items.sort_by(|a, b| {
        for s in sort {
            let name = match s.field {
                SortField::Id => "id",
                SortField::Key => "key",
                SortField::Name => "name",
                SortField::Version => "version",
                SortField::CreatedAt => "createdAt",
                SortField::LastModifiedAt => "lastModifiedAt",
            };
            let ord = super::cmp_nulls_last(&a.plain(name).map(Key), &b.plain(name).map(Key));
            let ord = if s.descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Key(a.plain("id").unwrap_or(Plain::Version(0))).cmp(&Key(b.plain("id").unwrap_or(Plain::Version(0))))
    });
}

/// A plain value with a total order (values of one field are always of one kind).
#[derive(PartialEq)]
struct Key(Plain);

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            (Plain::Id(a), Plain::Id(b)) => a.cmp(b),
            (Plain::Text(a), Plain::Text(b)) => a.cmp(b),
            (Plain::Version(a), Plain::Version(b)) => a.cmp(b),
            (Plain::Time(a), Plain::Time(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}
