//! Domain events, recorded in the outbox in the transaction of the change they describe.

use crate::auth::Actor;
use crate::ids::ProjectId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventKind {
    #[serde(rename = "customer.created")]
    /// A customer was created.
    CustomerCreated,
    #[serde(rename = "customer.updated")]
    /// A customer changed (its fields or its addresses).
    CustomerUpdated,
    #[serde(rename = "customer.deleted")]
    /// A customer was deleted.
    CustomerDeleted,
    #[serde(rename = "customer.groups_changed")]
    /// A customer's group memberships changed.
    CustomerGroupsChanged,
    #[serde(rename = "customer-group.created")]
    /// A customer group was created.
    GroupCreated,
    #[serde(rename = "customer-group.updated")]
    /// A customer group changed.
    GroupUpdated,
    #[serde(rename = "customer-group.deleted")]
    /// A customer group was deleted.
    GroupDeleted,
    #[serde(rename = "type.created")]
    /// A custom type was created.
    TypeCreated,
    #[serde(rename = "type.updated")]
    /// A custom type changed.
    TypeUpdated,
    #[serde(rename = "type.deleted")]
    /// A custom type was deleted.
    TypeDeleted,
}

impl EventKind {
    /// The event type (`customer.created`, `customer-group.updated`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CustomerCreated => "customer.created",
            EventKind::CustomerUpdated => "customer.updated",
            EventKind::CustomerDeleted => "customer.deleted",
            EventKind::CustomerGroupsChanged => "customer.groups_changed",
            EventKind::GroupCreated => "customer-group.created",
            EventKind::GroupUpdated => "customer-group.updated",
            EventKind::GroupDeleted => "customer-group.deleted",
            EventKind::TypeCreated => "type.created",
            EventKind::TypeUpdated => "type.updated",
            EventKind::TypeDeleted => "type.deleted",
        }
    }
}

/// The context every write carries: who, when, in which project, and the id of its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteContext {
    /// The project written in.
    pub project_id: ProjectId,
    /// The key of that project.
    pub project_key: String,
    /// Who writes.
    pub actor: Actor,
    /// When the write happens.
    pub now: DateTime<Utc>,
    /// The id of the event the write records.
    pub event_id: Uuid,
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: Uuid,
    pub project_id: ProjectId,
    pub project_key: String,
    pub kind: EventKind,
    pub resource_id: Uuid,
    pub actor: Actor,
    /// `{"<resource>": {…}}`, plus `additional_data` for creates that carried it.
    pub payload: Value,
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// Builds the event of a write from its context and the changed resource.
    pub fn new<T: Serialize>(
        ctx: &WriteContext,
        kind: EventKind,
        resource_id: Uuid,
        resource_name: &str,
        resource: &T,
    ) -> Event {
        let mut payload = serde_json::Map::new();
        payload.insert(resource_name.to_owned(), serde_json::to_value(resource).unwrap_or(Value::Null));
        Event {
            id: ctx.event_id,
            project_id: ctx.project_id,
            project_key: ctx.project_key.clone(),
            kind,
            resource_id,
            actor: ctx.actor.clone(),
            payload: Value::Object(payload),
            created_at: ctx.now,
        }
    }

    /// Adds `additional_data` to the payload.
    pub fn with_additional_data(mut self, data: Option<&serde_json::Map<String, Value>>) -> Event {
        if let (Some(data), Value::Object(payload)) = (data, &mut self.payload) {
            payload.insert("additional_data".into(), Value::Object(data.clone()));
        }
        self
    }
}
