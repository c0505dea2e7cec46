//! The pure domain of xclade customers.
//!
//! Entities (customers, addresses, customer groups), the values that can only be built valid,
//! the update actions and their rules, the `where` query language,
//! the ports (async traits the adapters implement) and the application services that use them.
//! No web framework, no database driver, no async runtime.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod custom_type;
pub mod customer;
pub mod customer_group;
pub mod error;
pub mod event;
pub mod ids;
pub mod metadata;
pub mod paging;
pub mod ports;
pub mod predicate;
pub mod project;
pub mod services;
pub mod text;

pub use error::{DomainError, Resource};
pub use ids::{AddressId, AdminUserId, ApiClientRowId, CustomerId, GroupId, ProjectId, TypeId};
