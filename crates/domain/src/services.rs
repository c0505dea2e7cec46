//! Application services: the use cases, written against the ports.

pub mod admin;
pub mod auth;
pub mod customers;
pub mod groups;
pub mod relay;
pub mod types;

pub use admin::AdminService;
pub use auth::{AuthService, IssuedToken, OAuthError};
pub use customers::CustomerService;
pub use groups::{GroupService, GroupTarget};
pub use relay::{BatchReport, RelayService};
pub use types::{TypeService, TypeTarget};

use crate::auth::Principal;
use crate::event::WriteContext;
use crate::ports::{Clock, IdGenerator};

/// Builds the context of a write by `principal`.
pub(crate) fn write_context(principal: &Principal, clock: &dyn Clock, ids: &dyn IdGenerator) -> WriteContext {
    WriteContext {
        project_id: principal.project_id,
        project_key: principal.project_key.clone(),
        actor: principal.actor.clone(),
        now: clock.now(),
        event_id: ids.new_id(),
    }
}
