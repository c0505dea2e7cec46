//! The pure domain of xclade customers, as a library other Rust services can depend on.
//!
//! Entities (customers, addresses, customer groups, custom types), the values that can only be
//! built valid, the update actions and their rules, the `where` query language, the ports
//! (async traits the adapters implement) and the application services that use them.
//! No web framework, no database driver, no async runtime: the crate speaks domain, not wire.
//! How to depend on it from another service is described in `docs/domain-crate.md`.
//!
//! # A guided tour
//!
//! * **Values** ([`customer::Email`], [`customer_group::GroupName`], [`customer_group::GroupKey`],
//!   [`metadata::Metadata`], …) are built by `parse`/`new` constructors that enforce the rules;
//!   a value you hold is valid.
//! * **Entities** ([`customer::Customer`], [`customer::Address`],
//!   [`customer_group::CustomerGroup`], [`custom_type::Type`]) change through **actions**,
//!   applied in order, all or nothing; a versioned entity's version grows by the number of
//!   actions that changed something.
//! * **Invariants are sealed**: entity fields are private behind accessors (`customer.email()`,
//!   `group.version()`, …) and change only through the domain's methods. A
//!   [`customer_group::Version`] is never below 1 and grows with `next`/`advanced_by`; what a
//!   client claims is an [`customer_group::ExpectedVersion`] (any integer: one no resource has is
//!   simply a conflict). An adapter loads a stored row with `from_parts` (for example
//!   [`customer::Customer::from_parts`] with a [`customer::CustomerParts`]), whose fields are
//!   the validated types: it reads emails, names, keys, versions and metadata back through the
//!   same parsers as input, and a stored value they refuse is [`DomainError::Internal`].
//! * **Ports** ([`ports`]) are what the domain needs from outside: repositories, a clock, ids,
//!   hashing, token signing. `xclade-postgres` implements the storage ports; with the `mocks`
//!   feature every port has a `mockall` mock (`MockCustomerGroupRepository`, …).
//! * **Services** ([`services`]) are the use cases (create a group, update it with actions at an
//!   expected version, manage memberships, query with a `where` predicate), written against the
//!   ports and checked by the [`auth::Principal`]'s permissions.
//! * **The in-memory adapter** (feature `memory`, module `memory`) implements every port
//!   with no database and no runtime: `MemoryStore::new()`, then `store.group_service(…)`,
//!   `store.customer_service()`, `store.type_service()`. `crates/domain/examples/loyalty.rs`
//!   is a whole program on it (`cargo run -p xclade-domain --features memory --example loyalty`).
//! * **Errors** are one enum, [`DomainError`], carrying structured data (the resource, how it
//!   was looked up, expected and actual versions, the field and value, the broken rule as a
//!   [`Violation`] or a [`Refusal`]); each caller words them for its own users.
//!
//! # Example: a versioned update with a conflict
//!
//! ```
//! use chrono::Utc;
//! use xclade_domain::auth::Actor;
//! use xclade_domain::customer_group::{
//!     CustomerGroup, CustomerGroupParts, GroupKey, GroupName, ResolvedAction, Version,
//! };
//! use xclade_domain::metadata::Metadata;
//! use xclade_domain::{DomainError, GroupId, Violation};
//!
//! let now = Utc::now();
//! let gold = CustomerGroup::from_parts(CustomerGroupParts {
//!     id: GroupId(uuid::Uuid::now_v7()),
//!     version: Version::INITIAL,
//!     key: Some(GroupKey::parse("gold")?),
//!     name: GroupName::parse("name", "Gold")?,
//!     custom: None,
//!     metadata: Metadata::default(),
//!     created_at: now,
//!     created_by: None,
//!     last_modified_at: now,
//!     last_modified_by: None,
//! });
//! let by = Actor::Client("loyalty-service".into());
//!
//! // Two actions, one of which changes nothing: the version grows by one.
//! let actions = [
//!     ResolvedAction::ChangeName(GroupName::parse("name", "Gold members")?),
//!     ResolvedAction::SetKey(Some(GroupKey::parse("gold")?)),
//! ];
//! let (renamed, effective) = gold.apply_all(&actions, now, &by)?;
//! assert_eq!((effective, renamed.version()), (1, Version::INITIAL.next()));
//!
//! // Rules refuse invalid values before anything is stored, and name the rule as data.
//! assert!(matches!(
//!     GroupKey::parse("x"),
//!     Err(DomainError::Validation { violation: Violation::InvalidKey { .. }, .. })
//! ));
//! # Ok::<(), DomainError>(())
//! ```
//!
//! # Example: a `where` query
//!
//! ```
//! use xclade_domain::predicate;
//!
//! let expr = predicate::parse(r#"key = "gold" or version >= 2"#, &["key", "version"], false)?;
//! // Printing gives the canonical form, which parses back to the same tree.
//! assert_eq!(predicate::parse(&expr.to_string(), &["key", "version"], false)?, expr);
//! assert!(predicate::parse("color = \"red\"", &["key"], false).is_err());
//! # Ok::<(), xclade_domain::predicate::PredicateError>(())
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod custom_type;
pub mod customer;
pub mod customer_group;
pub mod error;
pub mod event;
pub mod ids;
#[cfg(feature = "memory")]
pub mod memory;
pub mod metadata;
pub mod paging;
pub mod ports;
pub mod predicate;
pub mod project;
pub mod services;
pub mod text;
pub mod versioned;

pub use error::{DomainError, FieldProblem, Refusal, Resource, Violation};
pub use ids::{AddressId, AdminUserId, ApiClientRowId, CustomerId, GroupId, ProjectId, TypeId};
