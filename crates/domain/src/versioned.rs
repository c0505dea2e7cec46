//! The one engine of versioned updates, shared by customer groups and custom types: the
//! version check, the actions applied in order (all or nothing), the count of effective
//! actions and the version that grows by exactly that count.

use crate::auth::Actor;
use crate::customer_group::{ExpectedVersion, Version, MAX_ACTIONS};
use crate::error::{DomainError, DomainResult, Violation};
use chrono::{DateTime, Utc};

/// A resource that changes through update actions at an expected version.
pub trait Versioned: Clone {
    /// One update action of the resource.
    type Action;

    /// The id of the resource, as named in a [`DomainError::VersionConflict`].
    fn id_text(&self) -> String;

    /// The current version.
    fn version(&self) -> Version;

    /// Applies one action; returns whether it changed the resource.
    fn apply_action(&mut self, action: &Self::Action) -> DomainResult<bool>;

    /// Records a change: the new version, when and by whom.
    fn touch(&mut self, version: Version, at: DateTime<Utc>, by: &Actor);
}

/// Puts `value` in `slot`; returns whether that changed it (what an action that sets a field
/// answers).
pub(crate) fn replace<T: PartialEq>(slot: &mut T, value: T) -> bool {
    if *slot == value {
        false
    } else {
        *slot = value;
        true
    }
}

/// Refuses more than [`MAX_ACTIONS`] actions in one update.
pub fn check_action_count(actions: usize) -> DomainResult<()> {
    if actions > MAX_ACTIONS {
        return Err(DomainError::validation(Violation::TooManyActions { max: MAX_ACTIONS }));
    }
    Ok(())
}

/// Refuses an update based on another version than the current one.
pub fn check_version<T: Versioned>(current: &T, expected: ExpectedVersion) -> DomainResult<()> {
    if !expected.matches(current.version()) {
        return Err(DomainError::VersionConflict {
            id: current.id_text(),
            expected: expected.get(),
            current: current.version().get(),
        });
    }
    Ok(())
}

/// Applies `actions` in order to a copy of `current`, all or nothing. Returns the new resource,
/// its version grown by the number of actions that changed something, and that number.
pub fn apply_all<T: Versioned>(
    current: &T,
    actions: &[T::Action],
    at: DateTime<Utc>,
    by: &Actor,
) -> DomainResult<(T, i64)> {
    let mut next = current.clone();
    let mut effective = 0u32;
    for action in actions {
        if next.apply_action(action)? {
            effective = effective.saturating_add(1);
        }
    }
    if effective > 0 {
        next.touch(current.version().advanced_by(effective), at, by);
    }
    Ok((next, i64::from(effective)))
}
