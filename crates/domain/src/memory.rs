//! An in-memory adapter for every port (feature `memory`): no database, no async runtime.
//!
//! [`MemoryStore`] implements the storage ports ([`CustomerRepository`](crate::ports::CustomerRepository),
//! [`CustomerGroupRepository`](crate::ports::CustomerGroupRepository), [`TypeRepository`](crate::ports::TypeRepository), [`ProjectRepository`](crate::ports::ProjectRepository), [`EventOutbox`](crate::ports::EventOutbox),
//! [`HealthCheck`](crate::ports::HealthCheck)) over one shared state behind a [`std::sync::Mutex`]. Every write works on a
//! copy of the state and replaces it only when the whole write succeeded, so writes are
//! all or nothing and one write never sees another half done. It keeps the rules the
//! PostgreSQL adapter is responsible for:
//!
//! * one email per project among customers that are not deleted (compared case-insensitively),
//!   one group name and one group key per project, one type key per project;
//! * versions: a save based on an old version is `VersionConflict` with the stored version;
//!   membership changes grow the version of every group whose members changed;
//! * the group limit, exactly;
//! * the type integrity rules of [`TypeRepository`](crate::ports::TypeRepository) and the
//!   comparison of the type version a group's custom fields were validated against with the
//!   type as stored;
//! * idempotency claims of customer creates (replay, mismatch, expiry);
//! * every write records its event in the outbox, in the same step, exactly when the
//!   PostgreSQL adapter does; [`MemoryStore::events`] shows them, and the outbox methods serve
//!   a [`RelayService`](crate::services::RelayService).
//!
//! The non-storage ports have simple stand-ins: [`SystemClock`] and [`FixedClock`],
//! [`SequentialIds`], [`PlainHasher`] and [`MemoryTokenSigner`] (for tests and examples only:
//! they protect nothing), and [`MemoryPublisher`], which keeps what it is sent.
//!
//! # `where` queries
//!
//! Group and type queries evaluate the predicate AST in memory ([`query`]) with the semantics
//! of the PostgreSQL adapter for the plain fields (`id`, `key`, `name`, `version`, `createdAt`,
//! `lastModifiedAt`; two-valued logic, so `key != "x"` matches groups without a key). Custom
//! fields (`custom(fields(name))`) are compared by their stored JSON value: strings with
//! strings, numbers with numbers, booleans with booleans (a value of another kind matches no
//! comparison); the type-aware comparisons of PostgreSQL (dates, money, localized strings) are
//! not reproduced. Text compares by Unicode code points, not by a database collation.
//!
//! # Example
//!
//! ```
//! use xclade_domain::memory::MemoryStore;
//! use xclade_domain::customer::CustomerDraft;
//!
//! let store = MemoryStore::new();
//! let principal = store.principal("demo");
//! let customers = store.customer_service();
//! let draft = CustomerDraft::new("ada@example.com", None, Some("Ada".into()), None, None, Default::default(), None)?;
//! futures::executor::block_on(customers.create(&principal, draft, None))?;
//! assert_eq!(store.events().len(), 1);
//! # Ok::<(), xclade_domain::DomainError>(())
//! ```

mod customers;
mod groups;
mod outbox;
mod ports;
pub mod query;
mod types;

#[cfg(test)]
mod tests;

pub use ports::{FixedClock, MemoryPublisher, MemoryTokenSigner, PlainHasher, SequentialIds, SystemClock};

use crate::auth::{Actor, Principal, Scope};
use crate::custom_type::Type;
use crate::customer::{Address, Customer};
use crate::customer_group::CustomerGroup;
use crate::error::DomainResult;
use crate::event::Event;
use crate::ids::{AddressId, CustomerId, GroupId, ProjectId, TypeId};
use crate::ports::{AdminUserRecord, ApiClientRecord, IdGenerator};
use crate::project::Project;
use crate::services::{CustomerService, GroupService, TypeService};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A claimed idempotency key.
#[derive(Debug, Clone)]
struct Claim {
    request_hash: String,
    customer: Customer,
    created_at: DateTime<Utc>,
}

/// One outbox row.
#[derive(Debug, Clone)]
struct OutboxRow {
    event: Event,
    published_at: Option<DateTime<Utc>>,
}

/// Everything the store holds. Cloned by every write (all or nothing).
#[derive(Debug, Clone, Default)]
struct State {
    projects: Vec<Project>,
    clients: Vec<ApiClientRecord>,
    users: Vec<AdminUserRecord>,
    /// Customers without their relations (deleted ones stay, with `deleted_at`).
    customers: BTreeMap<(ProjectId, CustomerId), Customer>,
    addresses: BTreeMap<(ProjectId, AddressId), Address>,
    groups: BTreeMap<(ProjectId, GroupId), CustomerGroup>,
    /// (project, customer, group).
    memberships: BTreeSet<(ProjectId, CustomerId, GroupId)>,
    types: BTreeMap<(ProjectId, TypeId), Type>,
    idempotency: BTreeMap<(ProjectId, String), Claim>,
    outbox: Vec<OutboxRow>,
    /// Whether a relay holds the outbox (between `claim` and `release`).
    claimed: bool,
}

impl State {
    fn record(&mut self, event: Event) {
        self.outbox.push(OutboxRow { event, published_at: None });
    }
}

/// The in-memory adapter: one shared state behind every storage port. Cheap to share
/// ([`MemoryStore::clone_arc`]); all clones see the same data.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    clock: Arc<FixedClock>,
    ids: Arc<SequentialIds>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            state: Mutex::new(State::default()),
            clock: Arc::new(FixedClock::default()),
            ids: Arc::new(SequentialIds::default()),
        }
    }
}

impl MemoryStore {
    /// An empty store, with its own [`FixedClock`] and [`SequentialIds`] for the services.
    pub fn new() -> Arc<MemoryStore> {
        Arc::new(MemoryStore::default())
    }

    /// Another handle on this store, for the services' constructors (which take
    /// `Arc<dyn Port>`).
    pub fn clone_arc(self: &Arc<Self>) -> Arc<Self> {
        Arc::clone(self)
    }

    /// The clock of this store (starts at 2026-01-01T00:00:00Z; see [`FixedClock::advance`]).
    pub fn clock(&self) -> Arc<FixedClock> {
        Arc::clone(&self.clock)
    }

    /// The id generator of this store.
    pub fn ids(&self) -> Arc<SequentialIds> {
        Arc::clone(&self.ids)
    }

    /// Creates a project with this key (if there is none yet) and returns a principal of an API
    /// client `"<key>-client"` that may manage it.
    pub fn principal(&self, project_key: &str) -> Principal {
        let mut state = self.lock();
        let id = match state.projects.iter().find(|p| p.key.as_str() == project_key) {
            Some(p) => p.id,
            None => {
                let id = ProjectId(self.ids.new_id());
                if let Ok(key) = crate::project::ProjectKey::parse(project_key) {
                    state.projects.push(Project { id, key, name: project_key.to_owned() });
                }
                id
            }
        };
        Principal {
            project_id: id,
            project_key: project_key.to_owned(),
            actor: Actor::Client(format!("{project_key}-client")),
            scopes: vec![Scope::manage_project(project_key)],
        }
    }

    /// A [`CustomerService`] over this store, its clock and its ids.
    pub fn customer_service(self: &Arc<Self>) -> CustomerService {
        CustomerService::new(self.clone_arc(), self.clock(), self.ids())
    }

    /// A [`GroupService`] over this store, its clock and its ids; a project holds at most
    /// `max_groups` groups.
    pub fn group_service(self: &Arc<Self>, max_groups: u32) -> GroupService {
        GroupService::new(self.clone_arc(), self.clone_arc(), self.clock(), self.ids(), max_groups)
    }

    /// A [`TypeService`] over this store, its clock and its ids.
    pub fn type_service(self: &Arc<Self>) -> TypeService {
        TypeService::new(self.clone_arc(), self.clock(), self.ids())
    }

    /// Every event recorded so far, in write order (published or not).
    pub fn events(&self) -> Vec<Event> {
        self.lock().outbox.iter().map(|r| r.event.clone()).collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave half a write: writes replace the state whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the state.
    fn read<T>(&self, f: impl FnOnce(&State) -> DomainResult<T>) -> DomainResult<T> {
        f(&self.lock())
    }

    /// Runs one write on a copy of the state and keeps the copy only when it succeeded.
    fn write<T>(&self, f: impl FnOnce(&mut State) -> DomainResult<T>) -> DomainResult<T> {
        let mut state = self.lock();
        let mut next = state.clone();
        let out = f(&mut next)?;
        *state = next;
        Ok(out)
    }
}

/// Sorts with a key that may be absent: absent values last ascending, first descending (as
/// PostgreSQL orders NULLs).
fn cmp_nulls_last<T: Ord>(a: &Option<T>, b: &Option<T>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
    }
}

/// One page of `items`.
fn page<T>(items: Vec<T>, offset: u64, limit: u32) -> Vec<T> {
    items.into_iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).take(limit as usize).collect()
}

/// `needle` within `hay`, ignoring case (the admin family's `q`).
fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}
