//! The non-storage ports: clocks, ids, hashing, token signing, a publisher, and the
//! [`ProjectRepository`] of [`MemoryStore`].

use super::MemoryStore;
use crate::auth::TokenClaims;
use crate::error::{DomainError, DomainResult};
use crate::event::OutgoingMessage;
use crate::ports::{
    AdminUserRecord, ApiClientRecord, Clock, EventPublisher, IdGenerator, PasswordHasher, ProjectRepository,
    TokenRejection, TokenSigner,
};
use crate::project::Project;
use crate::Resource;
use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use uuid::Uuid;

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is moved, so tests see exact timestamps.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl Default for FixedClock {
    /// 2026-01-01T00:00:00Z.
    fn default() -> Self {
        FixedClock::at(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default())
    }
}

impl FixedClock {
    /// A clock showing `t`.
    pub fn at(t: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(t))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *t += by;
    }

    /// The time it shows.
    pub fn now_utc(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.now_utc()
    }
}

/// Ids `00000000-0000-7000-8000-000000000001`, `…02`, … in order (so id order is creation
/// order, as with UUID v7), and secrets made of a counter.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> Uuid {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0000 | u128::from(n))
    }

    fn new_secret(&self, len: usize) -> String {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{n:0>len$}").chars().rev().take(len).collect()
    }
}

/// A "hash" that is the secret with a prefix. For tests and examples only: it protects nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainHasher;

#[async_trait]
impl PasswordHasher for PlainHasher {
    async fn hash(&self, secret: &str) -> DomainResult<String> {
        Ok(format!("plain:{secret}"))
    }

    async fn verify<'a>(&self, secret: &str, hash: Option<&'a str>) -> DomainResult<bool> {
        Ok(hash.is_some_and(|h| h.strip_prefix("plain:") == Some(secret)))
    }
}

/// Tokens that are opaque handles on claims it keeps: only tokens it issued verify, until
/// their expiry by its clock. For tests and examples only.
pub struct MemoryTokenSigner {
    clock: Arc<dyn Clock>,
    issued: Mutex<HashMap<String, TokenClaims>>,
    next: AtomicU64,
}

impl std::fmt::Debug for MemoryTokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTokenSigner").finish_non_exhaustive()
    }
}

impl MemoryTokenSigner {
    /// A signer whose tokens expire by `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        MemoryTokenSigner { clock, issued: Mutex::new(HashMap::new()), next: AtomicU64::new(0) }
    }
}

impl TokenSigner for MemoryTokenSigner {
    fn sign(&self, claims: &TokenClaims) -> DomainResult<String> {
        let token = format!("memory-token-{}", self.next.fetch_add(1, Ordering::Relaxed) + 1);
        self.issued.lock().unwrap_or_else(PoisonError::into_inner).insert(token.clone(), claims.clone());
        Ok(token)
    }

    fn verify(&self, token: &str) -> Result<TokenClaims, TokenRejection> {
        let issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        let claims = issued.get(token).ok_or(TokenRejection::Invalid)?;
        if claims.exp <= self.clock.now().timestamp() {
            return Err(TokenRejection::Expired);
        }
        Ok(claims.clone())
    }
}

/// A publisher that keeps every message it is sent (a repeated `msg_id` is kept once).
#[derive(Debug, Default)]
pub struct MemoryPublisher(Mutex<Vec<OutgoingMessage>>);

impl MemoryPublisher {
    /// The messages published so far, in order.
    pub fn messages(&self) -> Vec<OutgoingMessage> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl EventPublisher for MemoryPublisher {
    async fn ensure_ready(&self) -> DomainResult<()> {
        Ok(())
    }

    async fn publish(&self, message: &OutgoingMessage) -> DomainResult<()> {
        let mut sent = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !sent.iter().any(|m| m.msg_id == message.msg_id) {
            sent.push(message.clone());
        }
        Ok(())
    }
}

#[async_trait]
impl ProjectRepository for MemoryStore {
    async fn create_project(&self, project: &Project) -> DomainResult<()> {
        self.write(|s| {
            if s.projects.iter().any(|p| p.key == project.key) {
                return Err(DomainError::Duplicate {
                    resource: Resource::Project,
                    field: "key",
                    value: project.key.as_str().to_owned(),
                });
            }
            s.projects.push(project.clone());
            Ok(())
        })
    }

    async fn find_project(&self, key: &str) -> DomainResult<Option<Project>> {
        self.read(|s| Ok(s.projects.iter().find(|p| p.key.as_str() == key).cloned()))
    }

    async fn create_api_client(&self, client: &ApiClientRecord) -> DomainResult<()> {
        self.write(|s| {
            s.clients.push(client.clone());
            Ok(())
        })
    }

    async fn find_api_clients(&self, client_id: &str) -> DomainResult<Vec<ApiClientRecord>> {
        self.read(|s| Ok(s.clients.iter().filter(|c| c.client_id == client_id).cloned().collect()))
    }

    async fn create_admin_user(&self, user: &AdminUserRecord) -> DomainResult<()> {
        self.write(|s| {
            let lower = user.email.to_lowercase();
            if s.users.iter().any(|u| u.project_id == user.project_id && u.email.to_lowercase() == lower) {
                return Err(DomainError::Duplicate {
                    resource: Resource::AdminUser,
                    field: "email",
                    value: user.email.clone(),
                });
            }
            s.users.push(user.clone());
            Ok(())
        })
    }

    async fn find_admin_users(&self, email: &str) -> DomainResult<Vec<AdminUserRecord>> {
        let lower = email.to_lowercase();
        self.read(|s| Ok(s.users.iter().filter(|u| u.email.to_lowercase() == lower).cloned().collect()))
    }
}
