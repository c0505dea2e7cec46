//! What the services' unit tests share: a principal of project `demo` and mocked time and ids.

use crate::auth::{Actor, Principal, Scope};
use crate::ids::ProjectId;
use crate::ports::{Clock, IdGenerator, MockClock, MockIdGenerator};
use chrono::Utc;
use std::sync::Arc;

/// A principal acting as `actor` with `manage_project:demo` on the nil project.
pub(super) fn principal_as(actor: Actor) -> Principal {
    Principal {
        project_id: ProjectId(uuid::Uuid::nil()),
        project_key: "demo".into(),
        actor,
        scopes: vec![Scope::manage_project("demo")],
    }
}

/// [`principal_as`] the API client `c`.
pub(super) fn principal() -> Principal {
    principal_as(Actor::Client("c".into()))
}

/// A clock telling the real time.
pub(super) fn clock() -> Arc<dyn Clock> {
    let mut clock = MockClock::new();
    clock.expect_now().returning(Utc::now);
    Arc::new(clock)
}

/// Fresh UUID v7 ids.
pub(super) fn ids() -> Arc<dyn IdGenerator> {
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().returning(uuid::Uuid::now_v7);
    Arc::new(ids)
}
