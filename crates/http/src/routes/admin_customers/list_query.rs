//! The query strings of the admin lists, read with the `qs` conventions of the admin SDK
//! (`a=1&a=2`, `a[]=1`, `a[0]=1`, nested `created_at[gte]=…`). Unknown keys are ignored.

use crate::error::AdminError;
use crate::query::QueryPairs;
use chrono::{DateTime, NaiveDate, Utc};
use xclade_domain::customer::{CustomerFilter, CustomerOrderField, TimeRange, DEFAULT_LIST_LIMIT};

/// The largest `offset` the database can take.
const MAX_OFFSET: u64 = i64::MAX as u64;

/// The last non-empty value of `key` (an empty value counts as absent).
pub(crate) fn last_non_empty<'a>(q: &'a QueryPairs, key: &str) -> Option<&'a str> {
    q.last(key).filter(|v| !v.is_empty())
}

/// Every non-empty value of any of `keys`, in order.
pub(crate) fn list(q: &QueryPairs, keys: &[&str]) -> Vec<String> {
    q.iter().filter(|(k, v)| keys.contains(k) && !v.is_empty()).map(|(_, v)| v.to_owned()).collect()
}

/// Ids of a list filter. A value that is not a UUID cannot match anything: the second member
/// is true when values were given but none of them can match.
pub(crate) fn id_list<T>(q: &QueryPairs, keys: &[&str], parse: impl Fn(&str) -> Option<T>) -> (Vec<T>, bool) {
    let raw = list(q, keys);
    let ids: Vec<T> = raw.iter().filter_map(|v| parse(v)).collect();
    let matches_nothing = !raw.is_empty() && ids.is_empty();
    (ids, matches_nothing)
}

/// `limit`: default 50, an integer in 0..=1000.
pub(crate) fn limit(q: &QueryPairs) -> Result<u32, AdminError> {
    let Some(raw) = last_non_empty(q, "limit") else {
        return Ok(DEFAULT_LIST_LIMIT);
    };
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AdminError::invalid_request("Field 'limit' must be a non-negative integer"));
    }
    // All digits: only too large a number fails to parse, and the domain's rule refuses it.
    let limit = raw.parse::<u64>().ok().and_then(|n| u32::try_from(n).ok()).unwrap_or(u32::MAX);
    xclade_domain::services::check_list_limit(limit)
        .map_err(|e| AdminError::invalid_request(crate::error::sentence(&e)))?;
    Ok(limit)
}

/// `offset`: default 0, a non-negative integer.
pub(crate) fn offset(q: &QueryPairs) -> Result<u64, AdminError> {
    let Some(raw) = last_non_empty(q, "offset") else {
        return Ok(0);
    };
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AdminError::invalid_request("Field 'offset' must be a non-negative integer"));
    }
    match raw.parse::<u64>() {
        Ok(n) if n <= MAX_OFFSET => Ok(n),
        _ => Err(AdminError::invalid_request(format!("Field 'offset' must be at most {MAX_OFFSET}"))),
    }
}

/// `order=field` (ascending) or `order=-field` (descending); `None` when absent.
pub(crate) fn order<F>(q: &QueryPairs, parse: impl Fn(&str) -> Option<F>) -> Result<Option<(F, bool)>, AdminError> {
    let Some(raw) = last_non_empty(q, "order") else {
        return Ok(None);
    };
    let (name, descending) = match raw.strip_prefix('-') {
        Some(rest) => (rest, true),
        None => (raw.strip_prefix('+').unwrap_or(raw), false),
    };
    parse(name)
        .map(|f| Some((f, descending)))
        .ok_or_else(|| AdminError::invalid_request(format!("Invalid order field '{name}'")))
}

/// A boolean query value: exactly `true` or `false`.
pub(crate) fn boolean(q: &QueryPairs, key: &str) -> Result<Option<bool>, AdminError> {
    match last_non_empty(q, key) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(AdminError::invalid_request(format!("Field '{key}' must be 'true' or 'false'"))),
    }
}

/// An RFC 3339 date-time or a `YYYY-MM-DD` date (midnight UTC). A `+` of an offset that was
/// sent unencoded (and so decoded to a space) is restored.
pub(crate) fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let candidates = [raw.to_owned(), raw.replace(' ', "+")];
    for s in &candidates {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(t.with_timezone(&Utc));
        }
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
}

/// Reads every `field[op]` of a time filter (`op` one of `gt`, `gte`, `lt`, `lte`, optionally
/// written `$gte` as the admin SDK also does). A bare `field` or another operator is 400.
pub(crate) fn time_range(q: &QueryPairs, field: &str) -> Result<TimeRange, AdminError> {
    let mut range = TimeRange::default();
    for (key, value) in q.iter() {
        let Some(rest) = key.strip_prefix(field) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with('[')) {
            continue; // another field that merely starts with the same name
        }
        let op = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')).map(|op| op.strip_prefix('$').unwrap_or(op));
        let slot = match op {
            Some("gt") => &mut range.gt,
            Some("gte") => &mut range.gte,
            Some("lt") => &mut range.lt,
            Some("lte") => &mut range.lte,
            _ => {
                return Err(AdminError::invalid_request(format!(
                    "Unrecognized filter '{key}': use {field}[gt], {field}[gte], {field}[lt] or {field}[lte]"
                )))
            }
        };
        if value.is_empty() {
            continue;
        }
        let at = parse_time(value).ok_or_else(|| {
            AdminError::invalid_request(format!(
                "Field '{key}' must be an RFC 3339 date-time or a YYYY-MM-DD date, got: '{value}'"
            ))
        })?;
        *slot = Some(at);
    }
    Ok(range)
}

/// A parsed `GET /admin/customers` query (without `fields`, read apart).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerListQuery {
    pub filter: CustomerFilter,
    /// A list filter held only values that cannot match (not UUIDs): the answer is empty.
    pub matches_nothing: bool,
}

/// Parses the query string of `GET /admin/customers`.
pub fn parse_customer_list(raw: &str) -> Result<CustomerListQuery, AdminError> {
    let q = QueryPairs::parse(raw);
    let (ids, no_ids) = id_list(&q, &["id"], xclade_domain::ids::CustomerId::parse);
    let (groups, no_groups) = id_list(&q, &["groups", "groups[id]"], xclade_domain::ids::GroupId::parse);
    let (order, descending) = order(&q, CustomerOrderField::parse)?.unwrap_or((CustomerOrderField::Id, false));
    let filter = CustomerFilter {
        q: last_non_empty(&q, "q").map(str::to_owned),
        ids,
        emails: list(&q, &["email"]),
        groups,
        has_account: boolean(&q, "has_account")?,
        created_at: time_range(&q, "created_at")?,
        updated_at: time_range(&q, "updated_at")?,
        order,
        descending,
        limit: limit(&q)?,
        offset: offset(&q)?,
    };
    Ok(CustomerListQuery { filter, matches_nothing: no_ids || no_groups })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use xclade_domain::ids::{CustomerId, GroupId};

    const G1: &str = "0193a1b2-0000-7000-8000-000000000001";
    const G2: &str = "0193a1b2-0000-7000-8000-000000000002";

    fn parse(raw: &str) -> CustomerListQuery {
        parse_customer_list(raw).expect("valid query")
    }

    fn err(raw: &str) -> String {
        parse_customer_list(raw).expect_err("invalid query").to_string()
    }

    fn gid(s: &str) -> GroupId {
        GroupId::parse(s).expect("uuid")
    }

    #[test]
    fn defaults() {
        let q = parse("");
        assert_eq!(q.filter, CustomerFilter::default());
        assert_eq!((q.filter.limit, q.filter.offset), (50, 0));
        assert!(!q.matches_nothing);
    }

    #[test]
    fn the_four_qs_list_forms() {
        let forms = [
            format!("groups={G1}&groups={G2}"),
            format!("groups[]={G1}&groups[]={G2}"),
            format!("groups%5B%5D={G1}&groups%5B%5D={G2}"),
            format!("groups[0]={G1}&groups[1]={G2}"),
            format!("groups%5B0%5D={G1}&groups%5B1%5D={G2}"),
            format!("groups[id]={G1}&groups[id][]={G2}"),
        ];
        for raw in forms {
            assert_eq!(parse(&raw).filter.groups, vec![gid(G1), gid(G2)], "{raw}");
        }
        assert_eq!(parse(&format!("groups={G1}")).filter.groups, vec![gid(G1)]);
        let q = parse(&format!("id[]={G1}&email=a%40b.co&email[]=c%2Bd@e.io"));
        assert_eq!(q.filter.ids, vec![CustomerId::parse(G1).expect("uuid")]);
        assert_eq!(q.filter.emails, vec!["a@b.co".to_owned(), "c+d@e.io".to_owned()]);
    }

    #[test]
    fn ids_that_cannot_match() {
        assert!(parse("groups=gold").matches_nothing);
        assert!(parse("id=cus_123").matches_nothing);
        let mixed = parse(&format!("groups=gold&groups={G1}"));
        assert!(!mixed.matches_nothing);
        assert_eq!(mixed.filter.groups, vec![gid(G1)]);
    }

    #[test]
    fn order() {
        let q = parse("order=-created_at");
        assert_eq!((q.filter.order, q.filter.descending), (CustomerOrderField::CreatedAt, true));
        let q = parse("order=email");
        assert_eq!((q.filter.order, q.filter.descending), (CustomerOrderField::Email, false));
        assert_eq!(err("order=-password"), "Invalid request: Invalid order field 'password'");
    }

    #[test]
    fn limit_and_offset() {
        let q = parse("limit=1000&offset=20");
        assert_eq!((q.filter.limit, q.filter.offset), (1000, 20));
        assert_eq!(parse("limit=0").filter.limit, 0);
        assert_eq!(err("limit=1001"), "Invalid request: Field 'limit' must be at most 1000");
        assert_eq!(err("limit=99999999999999999999999"), "Invalid request: Field 'limit' must be at most 1000");
        assert_eq!(err("limit=-1"), "Invalid request: Field 'limit' must be a non-negative integer");
        assert_eq!(err("limit=ten"), "Invalid request: Field 'limit' must be a non-negative integer");
        assert_eq!(err("offset=-5"), "Invalid request: Field 'offset' must be a non-negative integer");
        assert!(parse_customer_list("offset=9223372036854775808").is_err());
    }

    #[test]
    fn dates() {
        let q = parse("created_at%5Bgte%5D=2024-01-02T03%3A04%3A05.678Z&created_at[lt]=2024-02-01&updated_at[$gt]=2024-01-01T00:00:00+02:00");
        assert_eq!(
            q.filter.created_at.gte,
            Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).single().map(|t| t + chrono::Duration::milliseconds(678))
        );
        assert_eq!(q.filter.created_at.lt, Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).single());
        assert_eq!(q.filter.updated_at.gt, Utc.with_ymd_and_hms(2023, 12, 31, 22, 0, 0).single());
        assert_eq!(q.filter.created_at.lte, None);
        assert_eq!(
            err("created_at[gte]=yesterday"),
            "Invalid request: Field 'created_at[gte]' must be an RFC 3339 date-time or a YYYY-MM-DD date, got: 'yesterday'"
        );
        assert!(err("created_at[eq]=2024-01-01").starts_with("Invalid request: Unrecognized filter 'created_at[eq]'"));
        assert!(parse_customer_list("created_at=2024-01-01").is_err());
    }

    #[test]
    fn booleans_text_and_unknown_keys() {
        assert_eq!(parse("has_account=true").filter.has_account, Some(true));
        assert_eq!(parse("has_account=false").filter.has_account, Some(false));
        assert_eq!(err("has_account=yes"), "Invalid request: Field 'has_account' must be 'true' or 'false'");
        let q = parse("q=Jane+Doe&expand=groups&fields=*groups&whatever[x]=1");
        assert_eq!(q.filter.q.as_deref(), Some("Jane Doe"));
        assert_eq!(parse("q=").filter.q, None);
    }
}
