//! Identities, scopes and the permission table of the contract (§1.3).

use crate::ids::ProjectId;
use crate::project::ProjectKey;
use serde::{Deserialize, Serialize};

/// Who performs a request. How it is written down (in a response, a stored row, an event) is
/// up to each adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An API client, by its public `client_id`.
    Client(String),
    /// An admin user, by its id.
    User(String),
}

impl Actor {
    /// The bare identifier (the admin family's `created_by`).
    pub fn id(&self) -> &str {
        match self {
            Actor::Client(id) | Actor::User(id) => id,
        }
    }
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read customers and their addresses.
    ReadCustomers,
    /// Create, change and delete customers.
    WriteCustomers,
    /// Read customer groups.
    ReadGroups,
    /// Create, change and delete customer groups.
    WriteGroups,
    /// Read custom types.
    ReadTypes,
    /// Create, change and delete custom types.
    WriteTypes,
}

impl Permission {
    /// Scope names (without the project suffix) that each grant this permission, besides
    /// `manage_project`, in the order the 403 message lists them.
    pub fn granting_scopes(self) -> &'static [&'static str] {
        match self {
            Permission::ReadCustomers => &["view_customers", "manage_customers"],
            Permission::WriteCustomers => &["manage_customers"],
            Permission::ReadGroups => {
                &["view_customer_groups", "manage_customer_groups", "view_customers", "manage_customers"]
            }
            Permission::WriteGroups => &["manage_customer_groups", "manage_customers"],
            Permission::ReadTypes => &[
                "view_types",
                "manage_types",
                "view_customer_groups",
                "manage_customer_groups",
                "view_customers",
                "manage_customers",
            ],
            Permission::WriteTypes => &["manage_types"],
        }
    }
}

/// One OAuth scope: `name:project_key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// The scope name (`manage_project`, `view_customers`, …).
    pub name: String,
    /// The project the scope is for.
    pub project_key: String,
}

impl Scope {
    /// Parses `name:key`. Names are `manage_project`, or `manage_<x>` / `view_<x>` with `x`
    /// of lowercase letters and underscores.
    pub fn parse(s: &str) -> Option<Scope> {
        let (name, key) = s.split_once(':')?;
        let well_formed_name = (name.starts_with("manage_") || name.starts_with("view_"))
            && name.len() > 5
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !well_formed_name || ProjectKey::parse(key).is_err() {
            return None;
        }
        Some(Scope { name: name.to_owned(), project_key: key.to_owned() })
    }

    /// The `manage_project` scope of a project, which grants everything in it.
    pub fn manage_project(key: &str) -> Scope {
        Scope { name: "manage_project".into(), project_key: key.to_owned() }
    }

    /// Whether holding `self` allows requesting `wanted` at token issuance:
    /// the same scope, any scope of the project for `manage_project`, `view_x` for `manage_x`.
    pub fn covers(&self, wanted: &Scope) -> bool {
        if self.project_key != wanted.project_key {
            return false;
        }
        if self.name == wanted.name || self.name == "manage_project" {
            return true;
        }
        match (self.name.strip_prefix("manage_"), wanted.name.strip_prefix("view_")) {
            (Some(managed), Some(viewed)) => managed == viewed,
            _ => false,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.project_key)
    }
}

/// Parses a space-separated scope list (a `+` that a client sent unencoded is a space too).
/// Returns the scopes in order, without duplicates, or the first malformed item.
pub fn parse_scope_list(raw: &str) -> Result<Vec<Scope>, String> {
    let mut out: Vec<Scope> = Vec::new();
    for item in raw.split([' ', '+', '\t', '\n']).filter(|s| !s.is_empty()) {
        let scope = Scope::parse(item).ok_or_else(|| item.to_owned())?;
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    Ok(out)
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The actor: a client id or an admin user id.
    pub sub: String,
    /// `client` or `user`.
    pub kind: String,
    /// The project key.
    pub project: String,
    /// The project id, so that verifying a token needs no database round trip.
    pub pid: uuid::Uuid,
    /// Space-separated scopes.
    pub scope: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The project the caller acts in.
    pub project_id: ProjectId,
    /// The key of that project.
    pub project_key: String,
    /// Who the caller is.
    pub actor: Actor,
    /// The scopes the caller holds.
    pub scopes: Vec<Scope>,
}

impl Principal {
    /// Builds the principal of verified claims; `None` when the claims are inconsistent.
    pub fn from_claims(claims: &TokenClaims) -> Option<Principal> {
        let actor = match claims.kind.as_str() {
            "client" => Actor::Client(claims.sub.clone()),
            "user" => Actor::User(claims.sub.clone()),
            _ => return None,
        };
        let scopes = parse_scope_list(&claims.scope).ok()?;
        Some(Principal { project_id: ProjectId(claims.pid), project_key: claims.project.clone(), actor, scopes })
    }

    /// Whether the principal may perform `permission` in the project `project_key`.
    pub fn allows(&self, project_key: &str, permission: Permission) -> bool {
        if self.project_key != project_key {
            return false;
        }
        self.scopes.iter().any(|s| {
            s.project_key == project_key
                && (s.name == "manage_project" || permission.granting_scopes().contains(&s.name.as_str()))
        })
    }

    /// Whether the principal may perform `permission` in its own project.
    pub fn allows_own(&self, permission: Permission) -> bool {
        self.allows(&self.project_key, permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(scopes: &str) -> Principal {
        Principal {
            project_id: ProjectId(uuid::Uuid::nil()),
            project_key: "demo".into(),
            actor: Actor::Client("c".into()),
            scopes: parse_scope_list(scopes).expect("valid scopes"),
        }
    }

    #[test]
    fn permission_table_of_the_contract() {
        use Permission::*;
        let cases: &[(&str, Permission, bool)] = &[
            ("manage_project:demo", WriteGroups, true),
            ("manage_project:demo", WriteTypes, true),
            ("view_customers:demo", ReadCustomers, true),
            ("view_customers:demo", WriteCustomers, false),
            ("manage_customers:demo", WriteCustomers, true),
            ("manage_customers:demo", ReadCustomers, true),
            ("view_customer_groups:demo", ReadGroups, true),
            ("view_customer_groups:demo", WriteGroups, false),
            ("view_customer_groups:demo", ReadCustomers, false),
            ("manage_customer_groups:demo", ReadGroups, true),
            ("manage_customer_groups:demo", WriteGroups, true),
            ("manage_customer_groups:demo", WriteCustomers, false),
            ("view_customers:demo", ReadGroups, true),
            ("manage_customers:demo", WriteGroups, true),
            ("view_types:demo", ReadTypes, true),
            ("view_types:demo", WriteTypes, false),
            ("manage_types:demo", WriteTypes, true),
            ("manage_types:demo", ReadGroups, false),
            ("manage_project:other", ReadGroups, false),
            ("view_customers:other", ReadCustomers, false),
        ];
        for (scopes, perm, expected) in cases {
            assert_eq!(principal(scopes).allows("demo", *perm), *expected, "{scopes} {perm:?}");
        }
        assert!(!principal("manage_project:demo").allows("other", Permission::ReadGroups));
    }

    #[test]
    fn scope_coverage_for_token_requests() {
        let mp = Scope::manage_project("demo");
        let want = |s: &str| Scope::parse(s).expect("valid");
        assert!(mp.covers(&want("view_customer_groups:demo")));
        assert!(mp.covers(&want("manage_types:demo")));
        assert!(!mp.covers(&want("view_types:other")));
        let mc = want("manage_customers:demo");
        assert!(mc.covers(&want("view_customers:demo")));
        assert!(!mc.covers(&want("manage_customer_groups:demo")));
        assert!(!want("view_customers:demo").covers(&want("manage_customers:demo")));
    }

    #[test]
    fn scope_lists_accept_spaces_and_plus() {
        let list =
            parse_scope_list("manage_customer_groups:demo+view_customers:demo  view_customers:demo").expect("valid");
        assert_eq!(list.len(), 2);
        assert!(parse_scope_list("bogus").is_err());
        assert!(parse_scope_list("manage_project:Bad Key").is_err());
    }
}
