//! Query strings: parsed by us (never by the framework), so every error has the family's format.
//! Lists follow the `qs` conventions of the admin SDK: `a=1&a=2`, `a[]=1`, `a[0]=1`; nested
//! objects stay as `created_at[gte]`.

use std::borrow::Cow;

/// The decoded pairs of a query string, in order.
#[derive(Debug, Clone, Default)]
pub struct QueryPairs {
    pairs: Vec<(String, String)>,
}

/// Strips a trailing `[]` or `[<digits>]` from a key.
fn normalize_key(key: &str) -> &str {
    if let Some(open) = key.rfind('[') {
        let inner = &key[open + 1..];
        if let Some(inner) = inner.strip_suffix(']') {
            if inner.is_empty() || inner.bytes().all(|b| b.is_ascii_digit()) {
                return &key[..open];
            }
        }
    }
    key
}

impl QueryPairs {
    /// Parses a raw query string (form-decoding, `+` as space); malformed escapes are kept.
    pub fn parse(raw: &str) -> QueryPairs {
        let pairs = raw
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|item| {
                let (k, v) = item.split_once('=').unwrap_or((item, ""));
                let key = decode(k);
                (normalize_key(&key).to_owned(), decode(v).into_owned())
            })
            .collect();
        QueryPairs { pairs }
    }

    /// Every value of `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The last value of `key`.
    pub fn last(&self, key: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Form-decodes one component.
pub fn decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['+', '%']) {
        return Cow::Borrowed(s);
    }
    let spaced = s.replace('+', " ");
    Cow::Owned(percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

/// Finds the raw (still encoded) value of `key` — for `fields`, which decodes itself.
pub fn raw_value<'a>(raw: &'a str, key: &str) -> Option<&'a str> {
    raw.split('&').rev().find_map(|item| {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        (decode(k) == key).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qs_list_forms() {
        for raw in
            ["groups=a&groups=b", "groups[]=a&groups[]=b", "groups[0]=a&groups[1]=b", "groups%5B%5D=a&groups%5B1%5D=b"]
        {
            let q = QueryPairs::parse(raw);
            assert_eq!(q.all("groups").collect::<Vec<_>>(), vec!["a", "b"], "{raw}");
        }
        let q = QueryPairs::parse("created_at%5Bgte%5D=2024-01-01T00%3A00%3A00Z&q=a+b");
        assert_eq!(q.last("created_at[gte]"), Some("2024-01-01T00:00:00Z"));
        assert_eq!(q.last("q"), Some("a b"));
        assert_eq!(raw_value("fields=-phone%2C%2Bgroups.id&x=1", "fields"), Some("-phone%2C%2Bgroups.id"));
    }

    #[test]
    fn malformed_escapes_do_not_fail() {
        let q = QueryPairs::parse("a=%zz&b=%&%E2%28=1");
        assert_eq!(q.last("a"), Some("%zz"));
        assert_eq!(q.last("b"), Some("%"));
    }
}
