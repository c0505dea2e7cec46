//! A small builder of dynamic SQL whose values are always bound parameters.
//!
//! The SQL text is made only of constants of this crate; every value that comes from a
//! request is pushed with [`Sql::bind`], which writes `$n` and keeps the value for diesel's
//! `sql_query(..).into_boxed().bind::<T, _>(..)`.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types;
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
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
    }
}
