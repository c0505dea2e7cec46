//! Domain events, recorded in the outbox in the transaction of the change they describe, and
//! their CloudEvents form (§6). Their `data` is built in [`data`].

pub mod data;

use crate::auth::Actor;
use crate::ids::ProjectId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use uuid::Uuid;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A customer was created.
    CustomerCreated,
    /// A customer changed (its fields or its addresses).
    CustomerUpdated,
    /// A customer was deleted.
    CustomerDeleted,
    /// A customer's group memberships changed.
    CustomerGroupsChanged,
    /// A customer group was created.
    GroupCreated,
    /// A customer group changed.
    GroupUpdated,
    /// A customer group was deleted.
    GroupDeleted,
    /// A custom type was created.
    TypeCreated,
    /// A custom type changed.
    TypeUpdated,
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
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event id (the CloudEvent `id`, the broker's `Nats-Msg-Id`).
    pub id: Uuid,
    /// The project the change happened in.
    pub project_id: ProjectId,
    /// The key of that project (part of the subject and of the CloudEvent `source`).
    pub project_key: String,
    /// What happened.
    pub kind: EventKind,
    /// The id of the customer, group or type that changed.
    pub resource_id: Uuid,
    /// Who made the change.
    pub actor: Actor,
    /// The CloudEvent's `data`: `{"resource", "actor", …}` (see [`data`]).
    pub payload: EventPayload,
    /// When the change was written.
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// The NATS subject of the event: `xclade.events.<projectKey>.<type>` (§6).
    pub fn subject(&self) -> String {
        format!("{SUBJECT_PREFIX}.{}.{}", self.project_key, self.kind.as_str())
    }

    /// The event as a CloudEvents 1.0 JSON object (structured mode), `data` as recorded.
    pub fn cloud_event(&self) -> Value {
        serde_json::to_value(self.envelope()).unwrap_or(Value::Null)
    }

    /// The CloudEvent, borrowing `data` from the event (serialized without copying it).
    fn envelope(&self) -> CloudEvent<'_> {
        CloudEvent {
            specversion: "1.0",
            id: self.id,
            source: format!("/projects/{}", self.project_key),
            r#type: self.kind.as_str(),
            subject: self.resource_id,
            time: data::timestamp(&self.created_at),
            datacontenttype: "application/json",
            data: &self.payload.0,
        }
    }

    /// The message that carries the event: subject, `Nats-Msg-Id` and body.
    pub fn message(&self) -> OutgoingMessage {
        OutgoingMessage {
            subject: self.subject(),
            msg_id: self.id.to_string(),
            body: serde_json::to_vec(&self.envelope()).unwrap_or_default(),
        }
    }
}

/// A CloudEvents 1.0 event in structured mode; the members in the order they are written.
#[derive(Serialize)]
struct CloudEvent<'a> {
    specversion: &'static str,
    id: Uuid,
    source: String,
    r#type: &'static str,
    subject: Uuid,
    time: String,
    datacontenttype: &'static str,
    data: &'a RawValue,
}

/// The `data` of an event as compact JSON text: built once when the change is recorded, stored
/// as it is and published as it is, without a JSON tree in between.
#[derive(Debug, Clone)]
pub struct EventPayload(Box<RawValue>);

impl EventPayload {
    /// The payload of `data`, serialized (JSON `null` if it cannot be).
    pub fn of<T: Serialize>(data: &T) -> EventPayload {
        EventPayload(serde_json::value::to_raw_value(data).unwrap_or_else(|_| RawValue::NULL.to_owned()))
    }

    /// A payload from JSON text (as an adapter stored it); the text must be one JSON value.
    pub fn from_json(json: String) -> Result<EventPayload, serde_json::Error> {
        RawValue::from_string(json).map(EventPayload)
    }

    /// The JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }

    /// The payload as a JSON tree (to inspect it).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl PartialEq for EventPayload {
    fn eq(&self, other: &EventPayload) -> bool {
        self.as_json() == other.as_json()
    }
}

/// Every event subject starts with this (the stream's subjects are `xclade.events.>`).
pub const SUBJECT_PREFIX: &str = "xclade.events";

/// One event as it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The subject it is published on (see [`Event::subject`]).
    pub subject: String,
    /// The event id: the broker drops a repeat of it (`Nats-Msg-Id`).
    pub msg_id: String,
    /// The CloudEvents JSON.
    pub body: Vec<u8>,
}
