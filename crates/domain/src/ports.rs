//! The ports: what the domain needs from the outside world, as async traits.
//!
//! Adapters implement them (`xclade-postgres` for storage, the server for hashing, signing,
//! time and ids). Mocks come from `mockall` behind the `mocks` feature.
//!
//! Error contract: storage ports return [`DomainError::Unavailable`] when the database cannot
//! be reached, [`DomainError::Storage`] when it fails, and the named rule errors
//! (`Duplicate`, `NotFound`, `VersionConflict`, `LimitExceeded`, …) when a rule decided.

use crate::auth::TokenClaims;
use crate::custom_type::{Type, TypeQuery};
use crate::customer::{Address, AddressFields, Customer, CustomerFilter, Listed, Relations};
use crate::customer_group::{CheckedType, CustomerGroup, ExpectedVersion, Version};
use crate::error::{DomainError, DomainResult};
use crate::event::{Event, OutgoingMessage, WriteContext};
use crate::ids::{AddressId, AdminUserId, ApiClientRowId, CustomerId, GroupId, ProjectId, TypeId};
use crate::paging::{GroupFilter, GroupQuery, QueryPage};
use crate::project::Project;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

#[cfg(feature = "mocks")]
use mockall::automock;

/// The current time.
#[cfg_attr(feature = "mocks", automock)]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// New ids (UUID v7, so id order is creation order) and random secrets.
#[cfg_attr(feature = "mocks", automock)]
pub trait IdGenerator: Send + Sync {
    /// A new unique id.
    fn new_id(&self) -> Uuid;
    /// A random URL-safe secret of `len` characters.
    fn new_secret(&self, len: usize) -> String;
}

/// Password and client-secret hashing (Argon2id in production).
#[cfg_attr(feature = "mocks", automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes `secret` (a password or a client secret) for storage.
    async fn hash(&self, secret: &str) -> DomainResult<String>;
    /// Verifies `secret` against `hash`; with `None` it verifies against a fixed dummy hash and
    /// returns false, taking the same time (so unknown users cannot be told apart).
    async fn verify<'a>(&self, secret: &str, hash: Option<&'a str>) -> DomainResult<bool>;
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("the token has expired")]
    /// The token's expiry lies in the past.
    Expired,
    #[error("the token is malformed or wrongly signed")]
    /// The token cannot be decoded or its signature does not verify.
    Invalid,
}

/// Signs and verifies access tokens, without any database round trip.
#[cfg_attr(feature = "mocks", automock)]
pub trait TokenSigner: Send + Sync {
    /// Signs `claims` into an access token.
    fn sign(&self, claims: &TokenClaims) -> DomainResult<String>;
    /// Verifies a token's signature and expiry and returns its claims.
    fn verify(&self, token: &str) -> Result<TokenClaims, TokenRejection>;
}

/// A stored API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClientRecord {
    /// The project the client belongs to.
    pub project_id: ProjectId,
    /// The key of that project.
    pub project_key: String,
    /// The row id of the client.
    pub id: ApiClientRowId,
    /// The public client id (the OAuth `client_id`).
    pub client_id: String,
    /// The hash of the client secret.
    pub secret_hash: String,
    /// The scopes granted to the client.
    pub scopes: Vec<String>,
}

/// A stored admin user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUserRecord {
    /// The project the user belongs to.
    pub project_id: ProjectId,
    /// The key of that project.
    pub project_key: String,
    /// The id of the user.
    pub id: AdminUserId,
    /// The user's login email.
    pub email: String,
    /// The hash of the user's password.
    pub password_hash: String,
}

/// Projects, API clients and admin users.
#[cfg_attr(feature = "mocks", automock)]
#[async_trait]
pub trait ProjectRepository: Send + Sync {
    /// MUST return `Duplicate { resource: Project, field: "key" }` when the key is taken.
    async fn create_project(&self, project: &Project) -> DomainResult<()>;
    /// The project with this key, if any.
    async fn find_project(&self, key: &str) -> DomainResult<Option<Project>>;
    /// Stores a new API client.
    async fn create_api_client(&self, client: &ApiClientRecord) -> DomainResult<()>;
    /// The API clients with this public client id (in any project).
    async fn find_api_clients(&self, client_id: &str) -> DomainResult<Vec<ApiClientRecord>>;
    /// MUST return `Duplicate { field: "email" }` when the email is taken in the project.
    async fn create_admin_user(&self, user: &AdminUserRecord) -> DomainResult<()>;
    /// Users with this email (case-insensitive) in any project.
    async fn find_admin_users(&self, email: &str) -> DomainResult<Vec<AdminUserRecord>>;
}

/// An idempotency key claimed by a create (a retry of the same request replays its result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// The key the client sent.
    pub key: String,
    /// A digest of everything that makes up the request (route, query, body).
    pub request_hash: String,
    /// Claims older than this are expired and may be taken over.
    pub not_before: DateTime<Utc>,
}

/// The result of a create that may have been a retry.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// A new customer was created.
    Created(Customer),
    /// The key was used before with the same request: the customer as first created.
    Replayed(Customer),
}

/// A change of a customer, decided by the domain: it applies the change to the customer it is
/// given and answers whether anything changed (see [`crate::customer::CustomerAction`]).
pub type CustomerChange = dyn Fn(&mut Customer) -> DomainResult<bool> + Send + Sync;

/// Customers and their addresses and group memberships.
#[cfg_attr(feature = "mocks", automock)]
#[async_trait]
pub trait CustomerRepository: Send + Sync {
    /// Inserts the customer and its `customer.created` event (with `additional_data`), and claims
    /// the idempotency key, in one transaction. MUST return `Duplicate { field: "email" }` on a
    /// taken email and `IdempotencyMismatch` when the key was used with another request.
    async fn create<'a>(
        &self,
        ctx: &WriteContext,
        customer: &Customer,
        additional_data: Option<&'a Map<String, Value>>,
        idempotency: Option<&'a IdempotencyClaim>,
    ) -> DomainResult<CreateOutcome>;

    /// A customer that is not deleted, with the requested relations; `NotFound` otherwise.
    async fn get(&self, project: ProjectId, id: CustomerId, relations: Relations) -> DomainResult<Customer>;

    /// Customers of the project matching `filter`, one page, with the requested relations.
    async fn list(
        &self,
        project: ProjectId,
        filter: &CustomerFilter,
        relations: Relations,
    ) -> DomainResult<Listed<Customer>>;

    /// Locks the customer, runs `change` on it and stores the result, in one transaction (so
    /// concurrent updates apply one after the other, none lost); writes `customer.updated` only
    /// when `change` answered that something changed. An error of `change` writes nothing.
    /// `NotFound`, or `Duplicate { field: "email" }` on a taken email.
    async fn update<'a>(
        &self,
        ctx: &WriteContext,
        id: CustomerId,
        change: &'a CustomerChange,
        relations: Relations,
    ) -> DomainResult<Customer>;

    /// Soft-deletes the customer and removes its memberships; writes `customer.deleted`.
    async fn delete(&self, ctx: &WriteContext, id: CustomerId) -> DomainResult<()>;

    /// Adds and removes memberships in one transaction; an unknown group is `NotFound` naming it
    /// and changes nothing. Bumps the version of every group whose members changed.
    async fn set_groups(
        &self,
        ctx: &WriteContext,
        id: CustomerId,
        add: &[GroupId],
        remove: &[GroupId],
        relations: Relations,
    ) -> DomainResult<Customer>;

    /// One address of a customer; `NotFound` when the customer or the address does not exist.
    async fn get_address(&self, project: ProjectId, customer: CustomerId, address: AddressId) -> DomainResult<Address>;

    /// The addresses of a customer, one page.
    async fn list_addresses(
        &self,
        project: ProjectId,
        customer: CustomerId,
        limit: u32,
        offset: u64,
    ) -> DomainResult<Listed<Address>>;

    /// Creates (`create = true`, with `address` as the new id) or updates an address; a new
    /// default clears the old one in the same transaction. Returns the refreshed customer.
    async fn upsert_address(
        &self,
        ctx: &WriteContext,
        customer: CustomerId,
        address: AddressId,
        create: bool,
        fields: &AddressFields,
        relations: Relations,
    ) -> DomainResult<Customer>;

    /// Deletes an address; returns the refreshed customer.
    async fn delete_address(
        &self,
        ctx: &WriteContext,
        customer: CustomerId,
        address: AddressId,
        relations: Relations,
    ) -> DomainResult<Customer>;
}

/// Customer groups.
#[cfg_attr(feature = "mocks", automock)]
#[async_trait]
pub trait CustomerGroupRepository: Send + Sync {
    /// Inserts the group and its event, holding the project's group count under `max_groups`
    /// exactly, even under concurrent creates (`LimitExceeded`); `Duplicate` on name or key.
    ///
    /// `checked` is the type the caller validated the group's custom fields against. The
    /// repository validates nothing: under a share lock on that type (which orders the write with
    /// type saves) it compares the type's version, refusing a type that is gone with
    /// `ReferencedResourceNotFound` and one at another version with a `VersionConflict` naming
    /// the type ([`CheckedType::is_stale`]); `save` does the same.
    async fn create(
        &self,
        ctx: &WriteContext,
        group: &CustomerGroup,
        max_groups: u32,
        checked: Option<CheckedType>,
    ) -> DomainResult<CustomerGroup>;

    /// The group with this id; `NotFound` when the project has none.
    async fn get(&self, project: ProjectId, id: GroupId) -> DomainResult<CustomerGroup>;

    /// The group with this key; `NotFound` when the project has none.
    async fn get_by_key(&self, project: ProjectId, key: &str) -> DomainResult<CustomerGroup>;

    /// Project-family query: predicate, sort, page, optional total.
    async fn query(&self, project: ProjectId, query: &GroupQuery) -> DomainResult<QueryPage<CustomerGroup>>;

    /// Admin-family list.
    async fn list(&self, project: ProjectId, filter: &GroupFilter) -> DomainResult<Listed<CustomerGroup>>;

    /// Writes `group` and its event if the stored version is still `expected` (one statement
    /// when `checked` is `None`); otherwise `VersionConflict` with the current version, or
    /// `NotFound`. `checked` (`None` when the write leaves the custom fields as they were) is
    /// compared with the type as in `create`.
    async fn save(
        &self,
        ctx: &WriteContext,
        group: &CustomerGroup,
        expected: Version,
        checked: Option<CheckedType>,
    ) -> DomainResult<CustomerGroup>;

    /// Deletes the group (its memberships go with it) if the version matches, when one is given.
    async fn delete(
        &self,
        ctx: &WriteContext,
        id: GroupId,
        expected: Option<ExpectedVersion>,
    ) -> DomainResult<CustomerGroup>;

    /// Adds and removes members in one transaction; unknown customers are `NotFound` naming them.
    async fn set_customers(
        &self,
        ctx: &WriteContext,
        id: GroupId,
        add: &[CustomerId],
        remove: &[CustomerId],
    ) -> DomainResult<CustomerGroup>;

    /// The members of a group (for the admin `customers` relation), at most `limit` of them in
    /// id order; `NotFound` when the group does not exist.
    async fn customers_of(&self, project: ProjectId, id: GroupId, limit: u32) -> DomainResult<Vec<Customer>>;

    /// The members of each of `ids` (a page of groups), at most `limit` per group in id order,
    /// in one read: `result[i]` holds the members of `ids[i]`, empty for a group that does not
    /// exist (any more).
    async fn customers_of_groups(
        &self,
        project: ProjectId,
        ids: &[GroupId],
        limit: u32,
    ) -> DomainResult<Vec<Vec<Customer>>>;
}

/// Custom types.
///
/// Integrity the repository guarantees, whatever runs concurrently:
/// * a type used by a group cannot be deleted (`ReferenceExists`) — a foreign key holds it;
/// * a save that leaves a group using the type with a field the type no longer defines is
///   refused with `ReferenceExists`, and one that makes a field required while a group using
///   the type lacks it with `InvalidOperation`;
/// * a group written with custom fields (see [`CustomerGroupRepository`]) was validated by the
///   service against a version of its type; the write is refused unless that is the type's
///   version as committed, compared under a lock that orders it with type saves.
#[cfg_attr(feature = "mocks", automock)]
#[async_trait]
pub trait TypeRepository: Send + Sync {
    /// Inserts the type and its `type.created` event; `Duplicate { field: "key" }` on a taken key.
    async fn create(&self, ctx: &WriteContext, t: &Type) -> DomainResult<Type>;

    /// `NotFound` when the project has no such type.
    async fn get(&self, project: ProjectId, id: TypeId) -> DomainResult<Type>;

    /// The type with this key; `NotFound` when the project has none.
    async fn get_by_key(&self, project: ProjectId, key: &str) -> DomainResult<Type>;

    /// Predicate (over `id`, `key`, `version`, `createdAt`, `lastModifiedAt`), sort, page,
    /// optional total.
    async fn query(&self, project: ProjectId, query: &TypeQuery) -> DomainResult<QueryPage<Type>>;

    /// Writes `t` (and `type.updated`) if the stored version is still `expected`; otherwise
    /// `VersionConflict` or `NotFound`. See the integrity rules above.
    async fn save(&self, ctx: &WriteContext, t: &Type, expected: Version) -> DomainResult<Type>;

    /// Deletes the type (and writes `type.deleted`) if the version matches;
    /// `ReferenceExists` while a group uses it.
    async fn delete(&self, ctx: &WriteContext, id: TypeId, expected: ExpectedVersion) -> DomainResult<Type>;
}

/// The backlog of the outbox, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxStats {
    /// Events not yet published.
    pub pending: u64,
    /// When the oldest of them was written.
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

/// The outbox, for relays and audits.
///
/// Claims: the outbox is split into partitions by resource, so that every event of one
/// resource is in one partition. [`EventOutbox::claim`] takes (exclusively, among all relays on
/// the database) some partitions that have pending events and returns their pending events in
/// write order; nobody else gets those partitions until [`EventOutbox::release`]. A relay
/// that dies releases its partitions with its database session.
#[cfg_attr(feature = "mocks", automock)]
#[async_trait]
pub trait EventOutbox: Send + Sync {
    /// Unpublished events, oldest first.
    async fn pending(&self, limit: u32) -> DomainResult<Vec<Event>>;
    /// Marks these events (by project and event id) published; returns how many were still
    /// pending.
    async fn mark_published(&self, ids: &[(ProjectId, Uuid)]) -> DomainResult<u64>;
    /// At most `limit` pending events of the partitions this relay now holds, in write order.
    async fn claim(&self, limit: u32) -> DomainResult<Vec<Event>>;
    /// Gives the held partitions back (after the marks of the batch are committed).
    async fn release(&self) -> DomainResult<()>;
    /// Deletes at most `limit` events published before `cutoff`; returns how many.
    async fn delete_published_before(&self, cutoff: DateTime<Utc>, limit: u32) -> DomainResult<u64>;
    /// The backlog: how many events are pending and since when.
    async fn stats(&self) -> DomainResult<OutboxStats>;
}

/// The message broker that events are delivered to (NATS JetStream in production).
#[cfg_attr(feature = "mocks", automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Makes sure the destination exists (creates the stream when absent).
    async fn ensure_ready(&self) -> DomainResult<()>;
    /// Publishes one message and waits until the broker has stored it (a repeat of a
    /// `msg_id` it has seen is acknowledged without being stored twice). MUST return
    /// `Unavailable` when the broker cannot be reached or does not answer in time.
    async fn publish(&self, message: &OutgoingMessage) -> DomainResult<()>;

    /// Publishes `messages` and waits for each one's acknowledgement, answering one result per
    /// message, in order. A broker client that can have several publishes in flight sends them
    /// all before waiting (one round trip for the lot, not one each); the relay only hands it
    /// messages of different resources, so their order among themselves does not matter. The
    /// default publishes them one after the other.
    async fn publish_all(&self, messages: &[OutgoingMessage]) -> Vec<DomainResult<()>> {
        let mut results = Vec::with_capacity(messages.len());
        for message in messages {
            results.push(self.publish(message).await);
        }
        results
    }
}

/// Whether the storage is reachable and migrated.
#[cfg_attr(feature = "mocks", automock)]
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// `Ok` when the storage is reachable and migrated.
    async fn ready(&self) -> DomainResult<()>;
}

impl From<TokenRejection> for DomainError {
    fn from(r: TokenRejection) -> Self {
        DomainError::internal(r.to_string())
    }
}
