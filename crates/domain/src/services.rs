//! Application services: the use cases, written against the ports.

pub mod admin;
pub mod auth;
pub mod customers;
pub mod groups;
pub mod relay;
#[cfg(test)]
mod test_support;
pub mod types;

pub use admin::AdminService;
pub use auth::{AuthService, IssuedToken, OAuthError};
pub use customers::CustomerService;
pub use groups::{GroupService, GroupTarget};
pub use relay::{BatchReport, RelayService};
pub use types::{TypeService, TypeTarget};

use crate::auth::Principal;
use crate::customer::MAX_LIST_LIMIT;
use crate::error::{DomainError, DomainResult, Violation};
use crate::event::WriteContext;
use crate::ports::{Clock, IdGenerator};

/// The one check of a requested page size (admin-family lists): at most [`MAX_LIST_LIMIT`],
/// else `Validation` of `limit` with [`Violation::TooHigh`]. The list services run it; an edge
/// that reads the limit from a request may run it first to report it in its own order.
pub fn check_list_limit(limit: u32) -> DomainResult<()> {
    if limit > MAX_LIST_LIMIT {
        return Err(DomainError::invalid_field("limit", Violation::TooHigh { max: u64::from(MAX_LIST_LIMIT) }));
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_limit_is_checked_once_here() {
        assert!(check_list_limit(0).is_ok());
        assert!(check_list_limit(MAX_LIST_LIMIT).is_ok());
        let err = check_list_limit(MAX_LIST_LIMIT + 1).expect_err("refused");
        assert!(
            matches!(&err, DomainError::Validation { field: Some(f), violation: Violation::TooHigh { max: 1000 } } if f == "limit"),
            "{err:?}"
        );
    }
}
