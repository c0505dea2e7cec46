//! Hand-written SQL whose values are always bound parameters.
//!
//! * [`Sql`] builds dynamic SQL: the text is made only of constants of this crate; every value
//!   that comes from a request is pushed with [`Sql::bind`], which writes `$n` and keeps the
//!   value for diesel's `sql_query(..).into_boxed().bind::<T, _>(..)`. Its statements are sent
//!   unnamed (parsed and planned for their parameters each time): their texts depend on the
//!   request (a `where` predicate can take any shape), and a per-connection cache of them would
//!   grow without bound, on the server as well.
//! * [`Static`] sends one of this crate's fixed statements (a `&'static str`) as a prepared
//!   statement that the connection keeps, like diesel's query builder does for its own queries.
//!   `diesel::sql_query` never does (every execution is parsed and planned again): for the
//!   one-statement create and group update that was most of the difference between the service
//!   and its pgbench ceiling (docs/benchmarks.md).

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, BoxedSqlQuery, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{self, HasSqlType, Untyped};
use diesel::QueryResult;
use serde_json::Value;
use uuid::Uuid;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bind {
    Uuid(Uuid),
    Uuids(Vec<Uuid>),
    Text(String),
    Texts(Vec<String>),
    BigInt(i64),
    Bool(bool),
    Timestamptz(DateTime<Utc>),
    Jsonb(Value),
}

/// SQL text plus its bound values, in placeholder order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), binds: Vec::new() }
    }

    /// Appends constant SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        self.text.push('$');
        self.text.push_str(&self.binds.len().to_string());
        self
    }

    /// Appends a placeholder for `value` and returns its text (`$n`), so the same
    /// parameter can be referred to again.
    pub fn bind_ref(&mut self, value: Bind) -> String {
        self.binds.push(value);
        let placeholder = format!("${}", self.binds.len());
        self.text.push_str(&placeholder);
        placeholder
    }

    /// Keeps `value` for a new placeholder and returns its text (`$n`) without appending it;
    /// the caller must write it (one or more times) into this query's text.
    pub fn placeholder(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// Appends `other` (its placeholders renumbered after ours).
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        let offset = self.binds.len();
        self.text.push_str(&renumber(&other.text, offset));
        self.binds.extend(other.binds.iter().cloned());
        self
    }

    #[cfg(test)]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The diesel query, ready to `load` or `execute`.
    pub fn query(&self) -> BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery> {
        let mut q = diesel::sql_query(self.text.clone()).into_boxed::<Pg>();
        for b in &self.binds {
            q = match b.clone() {
                Bind::Uuid(v) => q.bind::<sql_types::Uuid, _>(v),
                Bind::Uuids(v) => q.bind::<sql_types::Array<sql_types::Uuid>, _>(v),
                Bind::Text(v) => q.bind::<sql_types::Text, _>(v),
                Bind::Texts(v) => q.bind::<sql_types::Array<sql_types::Text>, _>(v),
                Bind::BigInt(v) => q.bind::<sql_types::BigInt, _>(v),
                Bind::Bool(v) => q.bind::<sql_types::Bool, _>(v),
                Bind::Timestamptz(v) => q.bind::<sql_types::Timestamptz, _>(v),
                Bind::Jsonb(v) => q.bind::<sql_types::Jsonb, _>(v),
            };
        }
        q
    }
}

/// One of this crate's fixed statements with its bound values, sent as a prepared statement
/// the connection caches (diesel keys its cache by the SQL text and the bind types).
///
/// The text refers to its values as `$1 … $n`, each number once or more, in any order; the
/// statement diesel prepares numbers its parameters in the order they appear (a value used twice
/// is bound twice), which gives the same text for every execution of the same `&'static str`.
pub(crate) struct Static<'a> {
    text: &'static str,
    binds: Vec<Box<dyn QueryFragment<Pg> + Send + 'a>>,
}

impl<'a> Static<'a> {
    pub fn new(text: &'static str) -> Static<'a> {
        Static { text, binds: Vec::new() }
    }

    /// Binds the value of the next parameter (`$1`, then `$2`, …).
    pub fn bind<ST, U>(mut self, value: U) -> Static<'a>
    where
        Pg: HasSqlType<ST>,
        U: ToSql<ST, Pg> + Send + 'a,
        ST: 'a,
    {
        self.binds.push(Box::new(Param::<ST, U> { value, sql_type: PhantomData }));
        self
    }
}

struct Param<ST, U> {
    value: U,
    sql_type: PhantomData<fn() -> ST>,
}

impl<ST, U> QueryFragment<Pg> for Param<ST, U>
where
    Pg: HasSqlType<ST>,
    U: ToSql<ST, Pg>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        pass.push_bind_param::<ST, U>(&self.value)
    }
}

impl QueryFragment<Pg> for Static<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest = self.text;
        while let Some(at) = rest.find('$') {
            let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                out.push_sql(&rest[..=at]);
                rest = &rest[at + 1..];
                continue;
            }
            out.push_sql(&rest[..at]);
            let n: usize = rest[at + 1..at + 1 + digits].parse().unwrap_or(0);
            let param = n
                .checked_sub(1)
                .and_then(|i| self.binds.get(i))
                .ok_or_else(|| diesel::result::Error::QueryBuilderError(format!("no value bound for ${n}").into()))?;
            param.walk_ast(out.reborrow())?;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl QueryId for Static<'_> {
    type QueryId = ();
    // No static id: diesel then caches the prepared statement by its SQL text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Static<'_> {
    type SqlType = Untyped;
}

/// Shifts every `$n` of `text` by `offset`.
fn renumber(text: &str, offset: usize) -> String {
    if offset == 0 {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                n.push(d);
                chars.next();
            }
            let shifted = n.parse::<usize>().map_or(0, |v| v + offset);
            out.push('$');
            out.push_str(&shifted.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// The `ILIKE` pattern matching `q` anywhere, with `%`, `_` and `\` taken literally.
pub(crate) fn contains_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_and_renumbered() {
        let mut a = Sql::new("SELECT 1 WHERE a = ");
        a.bind(Bind::BigInt(1)).push(" AND b = ").bind(Bind::Text("x".into()));
        assert_eq!(a.text(), "SELECT 1 WHERE a = $1 AND b = $2");
        let mut b = Sql::new(" AND c = ");
        b.bind(Bind::Bool(true));
        a.append(&b);
        assert_eq!(a.text(), "SELECT 1 WHERE a = $1 AND b = $2 AND c = $3");
        assert_eq!(a.binds.len(), 3);
    }

    #[test]
    fn static_statements_are_cacheable_and_number_their_parameters_in_order() {
        use diesel::query_builder::QueryBuilder;
        let q =
            Static::new("SELECT $2, $1, '$' || $1").bind::<sql_types::Text, _>("a").bind::<sql_types::BigInt, _>(2_i64);
        let mut builder = <Pg as diesel::backend::Backend>::QueryBuilder::default();
        QueryFragment::<Pg>::to_sql(&q, &mut builder, &Pg).unwrap();
        assert_eq!(builder.finish(), "SELECT $1, $2, '$' || $3");
        assert!(QueryFragment::<Pg>::is_safe_to_cache_prepared(&q, &Pg).unwrap());
        let unbound = Static::new("SELECT $3").bind::<sql_types::Text, _>("a");
        let mut builder = <Pg as diesel::backend::Backend>::QueryBuilder::default();
        assert!(QueryFragment::<Pg>::to_sql(&unbound, &mut builder, &Pg).is_err());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
    }
}
