//! Queries of the project family (`where`, `sort`, `limit`, `offset`, `withTotal`) and the
//! admin list of groups.

use crate::error::{DomainError, Violation};
use crate::predicate::Expr;

/// Default `limit` of a project-family query.
pub const DEFAULT_QUERY_LIMIT: u32 = 20;
/// Largest `limit` of a project-family query.
pub const MAX_QUERY_LIMIT: u32 = 500;
/// Largest `offset` of a project-family query.
pub const MAX_QUERY_OFFSET: u32 = 10_000;

/// Fields a project-family query can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// The id.
    Id,
    /// The key.
    Key,
    /// The name.
    Name,
    /// The version.
    Version,
    /// The creation time.
    CreatedAt,
    /// The time of the last change.
    LastModifiedAt,
}

impl SortField {
    /// The field of a sort expression (`id`, `key`, `name`, `version`, `createdAt`, `lastModifiedAt`).
    pub fn parse(s: &str) -> Option<SortField> {
        Some(match s {
            "id" => SortField::Id,
            "key" => SortField::Key,
            "name" => SortField::Name,
            "version" => SortField::Version,
            "createdAt" => SortField::CreatedAt,
            "lastModifiedAt" => SortField::LastModifiedAt,
            _ => return None,
        })
    }
}

/// One `sort` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// The field sorted by.
    pub field: SortField,
    /// Whether the order is descending.
    pub descending: bool,
}

impl Sort {
    /// Parses `<field> asc|desc` (direction optional, default ascending).
    pub fn parse(s: &str) -> Result<Sort, DomainError> {
        let mut parts = s.split_whitespace();
        let bad = || DomainError::validation(Violation::InvalidSort { expression: s.to_owned() });
        let field = parts.next().and_then(SortField::parse).ok_or_else(bad)?;
        let descending = match parts.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(bad()),
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Sort { field, descending })
    }
}

/// A validated project-family query.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupQuery {
    /// Already bound (no variables left) and type-checked.
    pub predicate: Option<Expr>,
    /// Sort expressions, most significant first (the id breaks ties).
    pub sort: Vec<Sort>,
    /// Most results returned.
    pub limit: u32,
    /// Results skipped.
    pub offset: u32,
    /// Whether the total number of matches is counted.
    pub with_total: bool,
}

impl Default for GroupQuery {
    fn default() -> Self {
        GroupQuery { predicate: None, sort: Vec::new(), limit: DEFAULT_QUERY_LIMIT, offset: 0, with_total: true }
    }
}

/// A page of a project-family query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage<T> {
    /// The results of the page.
    pub results: Vec<T>,
    /// The number of matches, when `withTotal` was asked for.
    pub total: Option<i64>,
}

/// The admin list of groups.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFilter {
    /// A case-insensitive search within the name, if any.
    pub q: Option<String>,
    /// Only these groups, when not empty.
    pub ids: Vec<crate::ids::GroupId>,
    /// Only groups with these names, when not empty.
    pub names: Vec<String>,
    /// The field ordered by.
    pub order: SortField,
    /// Whether the order is descending.
    pub descending: bool,
    /// Most results returned.
    pub limit: u32,
    /// Results skipped.
    pub offset: u64,
}

impl GroupFilter {
    /// Refuses filter values that cannot be stored or compared (the NUL character).
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(q) = &self.q {
            crate::text::storable("q", q)?;
        }
        self.names.iter().try_for_each(|n| crate::text::storable("name", n))
    }
}

impl Default for GroupFilter {
    fn default() -> Self {
        GroupFilter {
            q: None,
            ids: Vec::new(),
            names: Vec::new(),
            order: SortField::Id,
            descending: false,
            limit: crate::customer::DEFAULT_LIST_LIMIT,
            offset: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts() {
        assert_eq!(Sort::parse("name desc").ok(), Some(Sort { field: SortField::Name, descending: true }));
        assert_eq!(Sort::parse("createdAt").ok(), Some(Sort { field: SortField::CreatedAt, descending: false }));
        assert_eq!(Sort::parse("version ASC").ok(), Some(Sort { field: SortField::Version, descending: false }));
        assert!(Sort::parse("foo asc").is_err());
        assert!(Sort::parse("name sideways").is_err());
        assert!(Sort::parse("name asc extra").is_err());
    }
}
