//! Projects (tenants) and their keys.

use crate::error::{DomainError, Violation};
use crate::ids::ProjectId;
use serde::Serialize;

/// Words that cannot be project keys because they are top-level routes.
pub const RESERVED_PROJECT_KEYS: &[&str] =
    &["admin", "auth", "oauth", "health", "metrics", "docs", "openapi", "store", "api"];

/// A valid project key: `^[a-z0-9][a-z0-9-]{1,35}$`, not reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ProjectKey(String);

impl ProjectKey {
    /// Parses a project key.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bytes = s.as_bytes();
        let valid = (2..=36).contains(&bytes.len())
            && bytes.first().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if !valid {
            return Err(DomainError::invalid_field("key", Violation::InvalidProjectKey { key: s.to_owned() }));
        }
        if RESERVED_PROJECT_KEYS.contains(&s) {
            return Err(DomainError::invalid_field("key", Violation::ReservedProjectKey { key: s.to_owned() }));
        }
        Ok(ProjectKey(s.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The id of the project.
    pub id: ProjectId,
    /// Its key, unique.
    pub key: ProjectKey,
    /// Its display name.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in ["demo", "a1", "my-shop-2", "0abc"] {
            assert!(ProjectKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "-abc", "Demo", "admin", "oauth", "a_b", "", &"a".repeat(37)] {
            assert!(ProjectKey::parse(bad).is_err(), "{bad}");
        }
    }
}
