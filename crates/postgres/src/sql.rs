//! Hand-written SQL whose values are always bound parameters.
//!
//! * [`Sql`] builds dynamic SQL: the text is made only of constants of this crate; every value
//!   that comes from a request is pushed with [`Sql::bind`], which writes `$n` and keeps the
//!   value for diesel's `sql_query(..).into_boxed().bind::<T, _>(..)`. Its texts depend on the
//!   request (a `where` predicate can take any shape), so only the first [`MAX_CACHED_SHAPES`]
//!   texts the process sees are kept prepared by the connections ([`shape_admitted`]); later
//!   ones, and statements marked [`Sql::plan_each_time`], are prepared for one execution and
//!   planned for its parameters, so that no cache grows without bound, on the server neither.
//! * [`Cached`] marks a statement diesel would prepare for every execution (`sql_query`, every
//!   `UPDATE`, multi-row inserts, inserts with `DEFAULT`) as one the connection keeps: for the
//!   one-statement create and group update that was most of the difference between the service
//!   and its pgbench ceiling (docs/benchmarks.md).

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, BoxedSqlQuery, Query, QueryFragment, QueryId};
use diesel::sql_types;
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
    plan_each_time: bool,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), binds: Vec::new(), plan_each_time: false }
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

    /// Asks for this statement to be planned for its parameters at every execution, never kept
    /// prepared: for conditions whose best plan depends on the value (a generic plan of an
    /// `ILIKE $1` cannot use the trigram index and reads every row). Kept by [`Sql::append`].
    pub fn plan_each_time(&mut self) -> &mut Self {
        self.plan_each_time = true;
        self
    }

    /// Appends `other` (its placeholders renumbered after ours).
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        self.plan_each_time |= other.plan_each_time;
        let offset = self.binds.len();
        self.text.push_str(&renumber(&other.text, offset));
        self.binds.extend(other.binds.iter().cloned());
        self
    }

    #[cfg(test)]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The diesel query, ready to `load` or `execute`: kept prepared by the connection when its
    /// text is one of the admitted shapes ([`shape_admitted`]) and it is not to be planned each
    /// time, else prepared for this execution.
    pub fn query(&self) -> Cached<BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery>> {
        let keep = !self.plan_each_time && shape_admitted(&self.text);
        Cached { query: self.boxed(), keep }
    }

    fn boxed(&self) -> BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery> {
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

/// A statement diesel would not keep prepared, kept by the connection after all.
///
/// diesel-async prepares every statement: one it caches is parsed and planned once per
/// connection and then only bound and executed; one it does not cache is prepared anew for
/// every execution, which costs PostgreSQL a parse and a plan and the service one more round
/// trip (prepare, then execute). diesel declines to cache every `UPDATE`, every insert of
/// several rows, every insert with a `DEFAULT` and every `sql_query` — conservatively: the SQL
/// text it sends holds no values (they are all bound), so a statement cached under its text and
/// bind types is always the right one. `Cached` says so for one statement. The number of
/// different texts a call site can produce must be bounded (an insert of up to *n* rows has *n*
/// texts; an update that skips absent fields one per combination), since the connection keeps
/// each of them for its lifetime; dynamic SQL whose shape comes from a request goes through
/// [`Sql`] and [`shape_admitted`] instead.
pub(crate) struct Cached<Q> {
    query: Q,
    keep: bool,
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, backend: &Pg) -> QueryResult<bool> {
        if self.keep {
            Ok(true)
        } else {
            self.query.is_safe_to_cache_prepared(backend)
        }
    }
}

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    // No static id: diesel caches the prepared statement by its SQL text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

/// Wraps `query` in [`Cached`].
pub(crate) fn cached<Q>(query: Q) -> Cached<Q> {
    Cached { query, keep: true }
}

/// A `sql_query` whose text is a constant of its call site, kept prepared under a type of the
/// call site's own (made by [`constant!`]).
///
/// A [`Cached`] statement is found in the connection's statement cache by its SQL text: diesel
/// copies the text into the key and hashes all of it (SipHash) at every execution, about 6 000
/// instructions for the one-statement create's 900 bytes (docs/benchmarks.md, change 28). A
/// statement of a static type is found by its `TypeId`. A `sql_query` has the same type for
/// every text, so the type here is `Site`, which [`constant!`] declares afresh at each call site
/// whose text it has checked to be a compile-time constant: one site, one text, one type.
pub(crate) struct Constant<Q, Site> {
    query: Q,
    site: std::marker::PhantomData<fn() -> Site>,
}

impl<Q, Site> Constant<Q, Site> {
    /// Only [`constant!`] makes these: it guarantees that `Site` is the type of one call site
    /// whose text is constant.
    #[doc(hidden)]
    pub(crate) fn at_site(query: Q) -> Constant<Q, Site> {
        Constant { query, site: std::marker::PhantomData }
    }
}

impl<Q: QueryFragment<Pg>, Site> QueryFragment<Pg> for Constant<Q, Site> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, Site: 'static> QueryId for Constant<Q, Site> {
    type QueryId = Site;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Q: Query, Site> Query for Constant<Q, Site> {
    type SqlType = Q::SqlType;
}

/// `constant!(TEXT, |q| q.bind::<T, _>(v)…)`: `diesel::sql_query(TEXT)` with its binds, kept
/// prepared and found by a type of this call site ([`Constant`]). `TEXT` must be a constant
/// expression (a `const` or a literal): anything else does not compile, so the one type a call
/// site has always stands for the same text.
macro_rules! constant {
    ($text:expr, |$q:ident| $binds:expr) => {{
        const TEXT: &str = $text;
        enum Site {}
        let $q = diesel::sql_query(TEXT);
        $crate::sql::Constant::<_, Site>::at_site($binds)
    }};
    ($text:expr) => {
        $crate::sql::constant!($text, |q| q)
    };
}
pub(crate) use constant;

/// A query of a static type whose SQL text is written once per process instead of at every
/// execution.
///
/// diesel-async writes a query's SQL text before each execution, even when it finds the
/// prepared statement by the query's type and never reads the text: for the customer read's
/// three statements (every column named, quoted and escaped) that was about 6 % of the server's
/// CPU per read (docs/benchmarks.md, change 19). The text of a query of a static type does not
/// depend on its bound values, so it is written the first time into `text` (one cell per query
/// type, at the call site) and copied from there; the binds, the row type and the statement
/// cache key are the query's own. Debug builds check the copy against a fresh text every time.
pub(crate) struct Prebuilt<Q> {
    query: Q,
    text: &'static str,
}

/// Wraps `query` in [`Prebuilt`], its text kept in `cell` (which must serve this one query type).
pub(crate) fn prebuilt<Q>(cell: &'static std::sync::OnceLock<String>, query: Q) -> Prebuilt<Q>
where
    Q: QueryFragment<Pg> + QueryId,
{
    let text = cell.get_or_init(|| written(&query).unwrap_or_default());
    debug_assert_eq!(text, &written(&query).unwrap_or_default(), "one text cell serves one query type");
    Prebuilt { query, text }
}

/// The SQL text diesel writes for `query`.
fn written<Q: QueryFragment<Pg>>(query: &Q) -> Option<String> {
    use diesel::query_builder::QueryBuilder;
    let mut builder = diesel::pg::PgQueryBuilder::default();
    query.to_sql(&mut builder, &Pg).ok().map(|()| builder.finish())
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prebuilt<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    fn to_sql(&self, out: &mut diesel::pg::PgQueryBuilder, backend: &Pg) -> QueryResult<()> {
        use diesel::query_builder::QueryBuilder;
        if self.text.is_empty() {
            // The first text could not be written: write it each time (and fail as diesel does).
            return self.query.to_sql(out, backend);
        }
        out.push_sql(self.text);
        Ok(())
    }
}

impl<Q: QueryId> QueryId for Prebuilt<Q> {
    type QueryId = Q::QueryId;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q: Query> Query for Prebuilt<Q> {
    type SqlType = Q::SqlType;
}

/// The most distinct dynamic statement texts ([`Sql`]) the process prepares once per connection
/// and keeps: the shapes of `where` predicates and list filters seen first. Later shapes are
/// prepared for each execution (correct, one round trip slower), so a client that sends ever new
/// predicate shapes cannot make the connections (or the server) keep ever more statements.
pub const MAX_CACHED_SHAPES: usize = 256;

/// Whether the dynamic statement `text` may be kept prepared: it is one of the first
/// [`MAX_CACHED_SHAPES`] texts seen by this process.
pub(crate) fn shape_admitted(text: &str) -> bool {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static SHAPES: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Ok(mut shapes) = SHAPES.get_or_init(|| Mutex::new(HashSet::new())).lock() else {
        return false;
    };
    if shapes.contains(text) {
        return true;
    }
    if shapes.len() >= MAX_CACHED_SHAPES {
        return false;
    }
    shapes.insert(text.to_owned());
    true
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
    fn cached_statements_keep_their_text_and_are_cacheable() {
        use diesel::query_builder::QueryBuilder;
        let plain =
            diesel::sql_query("SELECT $2, $1").bind::<sql_types::Text, _>("a").bind::<sql_types::BigInt, _>(2_i64);
        assert!(!QueryFragment::<Pg>::is_safe_to_cache_prepared(&plain, &Pg).unwrap());
        let q = cached(plain);
        let mut builder = <Pg as diesel::backend::Backend>::QueryBuilder::default();
        QueryFragment::<Pg>::to_sql(&q, &mut builder, &Pg).unwrap();
        assert_eq!(builder.finish(), "SELECT $2, $1");
        assert!(QueryFragment::<Pg>::is_safe_to_cache_prepared(&q, &Pg).unwrap());
    }

    #[test]
    fn only_the_first_shapes_are_kept() {
        let first = "SELECT 'shape test' -- 0".to_owned();
        assert!(shape_admitted(&first));
        for i in 1..MAX_CACHED_SHAPES * 2 {
            shape_admitted(&format!("SELECT 'shape test' -- {i}"));
        }
        assert!(shape_admitted(&first), "a shape seen before stays admitted");
        assert!(!shape_admitted("SELECT 'a shape never seen'"), "no room for new shapes");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
    }
}
