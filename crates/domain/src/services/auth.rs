//! Token issuance (client credentials and admin login) and token verification.

use crate::auth::{parse_scope_list, Principal, Scope, TokenClaims};
use crate::error::DomainError;
use crate::ports::{Clock, PasswordHasher, ProjectRepository, TokenRejection, TokenSigner};
use std::sync::Arc;

/// How far in the future a token's issue time may lie (clock skew between replicas); a token
/// issued later than that is refused (§4.1).
pub const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// Default token lifetime: 48 hours.
pub const DEFAULT_TOKEN_TTL_SECS: i64 = 172_800;

/// Errors of issuing a token by client credentials.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The client is unknown or its secret is wrong.
    #[error("invalid client credentials")]
    InvalidClient,
    /// A requested scope is not a scope at all.
    #[error("unknown scope {0:?}")]
    UnknownScope(String),
    /// A requested scope is not granted to the client.
    #[error("scope {0:?} is not granted")]
    ScopeNotGranted(String),
    /// Anything else.
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// An issued access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The signed access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// Space-separated, exactly the requested (or granted) scopes.
    pub scope: String,
}

#[derive(Clone)]
/// Token issuance (client credentials, admin login) and token verification.
pub struct AuthService {
    projects: Arc<dyn ProjectRepository>,
    hasher: Arc<dyn PasswordHasher>,
    signer: Arc<dyn TokenSigner>,
    clock: Arc<dyn Clock>,
    ttl_secs: i64,
}

impl AuthService {
    /// A service over these ports; tokens live `ttl_secs` seconds.
    pub fn new(
        projects: Arc<dyn ProjectRepository>,
        hasher: Arc<dyn PasswordHasher>,
        signer: Arc<dyn TokenSigner>,
        clock: Arc<dyn Clock>,
        ttl_secs: i64,
    ) -> Self {
        AuthService { projects, hasher, signer, clock, ttl_secs }
    }

    fn sign(
        &self,
        sub: &str,
        kind: &str,
        project_key: &str,
        pid: uuid::Uuid,
        scope: String,
    ) -> Result<IssuedToken, DomainError> {
        let iat = self.clock.now().timestamp();
        let claims = TokenClaims {
            sub: sub.to_owned(),
            kind: kind.to_owned(),
            project: project_key.to_owned(),
            pid,
            scope: scope.clone(),
            iat,
            exp: iat + self.ttl_secs,
        };
        Ok(IssuedToken { access_token: self.signer.sign(&claims)?, expires_in: self.ttl_secs, scope })
    }

    /// OAuth 2.0 client credentials: verifies the client and issues a token whose scope is
    /// exactly the requested set (all of the client's scopes when none is requested).
    pub async fn client_credentials(
        &self,
        client_id: &str,
        secret: &str,
        requested: Option<&str>,
    ) -> Result<IssuedToken, OAuthError> {
        let candidates = self.projects.find_api_clients(client_id).await?;
        let client = match candidates.as_slice() {
            [one] => one,
            _ => {
                // Same work whether or not the client exists.
                self.hasher.verify(secret, None).await?;
                return Err(OAuthError::InvalidClient);
            }
        };
        if !self.hasher.verify(secret, Some(&client.secret_hash)).await? {
            return Err(OAuthError::InvalidClient);
        }
        let held: Vec<Scope> = client.scopes.iter().filter_map(|s| Scope::parse(s)).collect();
        let granted = match requested.map(str::trim).filter(|s| !s.is_empty()) {
            None => held.clone(),
            Some(raw) => {
                let wanted = parse_scope_list(raw).map_err(|bad| OAuthError::UnknownScope(bad.to_string()))?;
                if let Some(missing) = wanted.iter().find(|w| !held.iter().any(|h| h.covers(w))) {
                    return Err(OAuthError::ScopeNotGranted(missing.to_string()));
                }
                wanted
            }
        };
        let scope = granted.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
        Ok(self.sign(&client.client_id, "client", &client.project_key, client.project_id.0, scope)?)
    }

    /// Admin login: one token carrying `manage_project:{key}`. Unknown email and wrong
    /// password take the same time and give the same error.
    pub async fn login(&self, email: &str, password: &str) -> Result<IssuedToken, DomainError> {
        let users = self.projects.find_admin_users(email).await?;
        if users.is_empty() {
            self.hasher.verify(password, None).await?;
            return Err(DomainError::InvalidCredentials);
        }
        for user in &users {
            if self.hasher.verify(password, Some(&user.password_hash)).await? {
                let scope = Scope::manage_project(&user.project_key).to_string();
                return self.sign(&user.id.to_string(), "user", &user.project_key, user.project_id.0, scope);
            }
        }
        Err(DomainError::InvalidCredentials)
    }

    /// Verifies a bearer token (no database round trip).
    pub fn authenticate(&self, token: &str) -> Result<Principal, TokenRejection> {
        let claims = self.signer.verify(token)?;
        let now = self.clock.now().timestamp();
        if claims.exp <= now {
            return Err(TokenRejection::Expired);
        }
        if claims.iat > now + MAX_CLOCK_SKEW_SECS {
            return Err(TokenRejection::Invalid);
        }
        Principal::from_claims(&claims).ok_or(TokenRejection::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AdminUserId, ApiClientRowId, ProjectId};
    use crate::ports::{
        AdminUserRecord, ApiClientRecord, MockClock, MockPasswordHasher, MockProjectRepository, MockTokenSigner,
    };
    use chrono::{TimeZone, Utc};
    use futures::executor::block_on;
    use mockall::predicate::eq;

    fn client(scopes: &[&str]) -> ApiClientRecord {
        ApiClientRecord {
            project_id: ProjectId(uuid::Uuid::nil()),
            project_key: "demo".into(),
            id: ApiClientRowId(uuid::Uuid::nil()),
            client_id: "cid".into(),
            secret_hash: "hash".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn service(repo: MockProjectRepository, hasher: MockPasswordHasher) -> AuthService {
        let mut signer = MockTokenSigner::new();
        signer.expect_sign().returning(|c| Ok(format!("token:{}", c.scope)));
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Utc.timestamp_opt(1_000, 0).single().unwrap_or_default());
        AuthService::new(Arc::new(repo), Arc::new(hasher), Arc::new(signer), Arc::new(clock), DEFAULT_TOKEN_TTL_SECS)
    }

    fn good_hasher() -> MockPasswordHasher {
        let mut h = MockPasswordHasher::new();
        h.expect_verify().returning(|secret, hash| Ok(hash.is_some() && secret == "right"));
        h
    }

    fn verifying(iat: i64, exp: i64) -> AuthService {
        let mut signer = MockTokenSigner::new();
        signer.expect_verify().returning(move |_| {
            Ok(TokenClaims {
                sub: "cid".into(),
                kind: "client".into(),
                project: "demo".into(),
                pid: uuid::Uuid::nil(),
                scope: "manage_project:demo".into(),
                iat,
                exp,
            })
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Utc.timestamp_opt(1_000, 0).single().unwrap_or_default());
        let (repo, hasher) = (MockProjectRepository::new(), MockPasswordHasher::new());
        AuthService::new(Arc::new(repo), Arc::new(hasher), Arc::new(signer), Arc::new(clock), DEFAULT_TOKEN_TTL_SECS)
    }

    #[test]
    fn tokens_from_the_future_or_the_past_are_refused() {
        // The clock says 1 000.
        assert!(verifying(990, 2_000).authenticate("t").is_ok());
        assert!(verifying(1_060, 2_000).authenticate("t").is_ok(), "within the allowed skew");
        assert_eq!(verifying(1_061, 2_000).authenticate("t").err(), Some(TokenRejection::Invalid));
        assert_eq!(
            verifying(1_000 + 365 * 86_400, 2_000_000_000).authenticate("t").err(),
            Some(TokenRejection::Invalid)
        );
        assert_eq!(verifying(500, 1_000).authenticate("t").err(), Some(TokenRejection::Expired));
    }

    #[test]
    fn grants_exactly_the_requested_scopes() {
        let mut repo = MockProjectRepository::new();
        repo.expect_find_api_clients().with(eq("cid")).returning(|_| Ok(vec![client(&["manage_project:demo"])]));
        let svc = service(repo, good_hasher());
        let t =
            block_on(svc.client_credentials("cid", "right", Some("manage_customer_groups:demo view_customers:demo")))
                .expect("token");
        assert_eq!(t.scope, "manage_customer_groups:demo view_customers:demo");
        assert_eq!(t.expires_in, 172_800);
    }

    #[test]
    fn no_scope_means_all_of_the_clients() {
        let mut repo = MockProjectRepository::new();
        repo.expect_find_api_clients().returning(|_| Ok(vec![client(&["manage_customers:demo", "view_types:demo"])]));
        let svc = service(repo, good_hasher());
        let t = block_on(svc.client_credentials("cid", "right", None)).expect("token");
        assert_eq!(t.scope, "manage_customers:demo view_types:demo");
    }

    #[test]
    fn refuses_uncovered_scopes_and_bad_secrets() {
        let mut repo = MockProjectRepository::new();
        repo.expect_find_api_clients().returning(|_| Ok(vec![client(&["manage_customers:demo"])]));
        let svc = service(repo, good_hasher());
        assert!(matches!(
            block_on(svc.client_credentials("cid", "right", Some("manage_types:demo"))),
            Err(OAuthError::UnknownScope(_) | OAuthError::ScopeNotGranted(_))
        ));
        assert!(matches!(
            block_on(svc.client_credentials("cid", "right", Some("view_customers:other"))),
            Err(OAuthError::UnknownScope(_) | OAuthError::ScopeNotGranted(_))
        ));
        assert!(matches!(block_on(svc.client_credentials("cid", "wrong", None)), Err(OAuthError::InvalidClient)));
    }

    /// A hasher that must verify exactly once, against the dummy hash (no stored hash).
    fn hashing_once_without_a_hash() -> MockPasswordHasher {
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().times(1).withf(|_, hash| hash.is_none()).returning(|_, _| Ok(false));
        hasher
    }

    #[test]
    fn unknown_client_still_hashes_once() {
        let mut repo = MockProjectRepository::new();
        repo.expect_find_api_clients().returning(|_| Ok(vec![]));
        let svc = service(repo, hashing_once_without_a_hash());
        assert!(matches!(block_on(svc.client_credentials("nobody", "x", None)), Err(OAuthError::InvalidClient)));
    }

    #[test]
    fn login_unknown_email_does_the_same_work() {
        let mut repo = MockProjectRepository::new();
        repo.expect_find_admin_users().returning(|_| Ok(vec![]));
        let svc = service(repo, hashing_once_without_a_hash());
        assert!(matches!(block_on(svc.login("x@y.io", "p")), Err(DomainError::InvalidCredentials)));
    }

    #[test]
    fn login_grants_manage_project() {
        let mut repo = MockProjectRepository::new();
        repo.expect_find_admin_users().returning(|_| {
            Ok(vec![AdminUserRecord {
                project_id: ProjectId(uuid::Uuid::nil()),
                project_key: "demo".into(),
                id: AdminUserId(uuid::Uuid::nil()),
                email: "a@b.co".into(),
                password_hash: "h".into(),
            }])
        });
        let svc = service(repo, good_hasher());
        assert_eq!(block_on(svc.login("a@b.co", "right")).expect("token").scope, "manage_project:demo");
        assert!(matches!(block_on(svc.login("a@b.co", "nope")), Err(DomainError::InvalidCredentials)));
    }
}
