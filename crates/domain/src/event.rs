//! Domain events, recorded in the outbox in the transaction of the change they describe, and
//! their CloudEvents form (§6).
//!
//! An event says what changed as domain values ([`EventData`]: the resource after the change
//! and the extras of its kind). How that is written as the CloudEvent's `data` is not this
//! crate's business: an [`EventEncoder`] given by the edge of the service does it (the service
//! writes the resources in the JSON of its HTTP families). An adapter that stores events as
//! text encodes them when it records them and reads back [`EventBody::Encoded`]; the in-memory
//! adapter keeps them as they are ([`EventBody::Data`]), and the relay encodes those when it
//! publishes them.

use crate::auth::Actor;
use crate::custom_type::Type;
use crate::customer::Customer;
use crate::customer_group::CustomerGroup;
use crate::ids::{GroupId, ProjectId};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
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
    /// What the event says: as the write recorded it, or already encoded.
    pub body: EventBody,
    /// When the change was written.
    pub created_at: DateTime<Utc>,
}

/// The `data` of an event, in one of its two forms.
#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    /// As the write recorded it (what the in-memory adapter keeps).
    Data(Box<EventData>),
    /// Encoded by an [`EventEncoder`] (what an adapter that stores events as text reads back).
    Encoded(EventPayload),
}

/// The resource an event is about, after the change (its last state on a delete).
#[derive(Debug, Clone, PartialEq)]
pub enum EventResource {
    /// A customer, with its groups and addresses.
    Customer(Customer),
    /// A customer group.
    Group(CustomerGroup),
    /// A custom type.
    Type(Type),
}

/// The groups a customer actually joined and left in one change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MembershipChange {
    /// Groups the customer joined.
    pub added: Vec<GroupId>,
    /// Groups the customer left.
    pub removed: Vec<GroupId>,
}

/// What an event says happened: the resource after the change and the extras of some kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct EventData {
    /// The resource after the change.
    pub resource: EventResource,
    /// `customer.created`: the caller's `additional_data`, when the request had one.
    pub additional_data: Option<Map<String, Value>>,
    /// `customer.groups_changed`: the memberships that changed.
    pub memberships: Option<MembershipChange>,
}

impl EventData {
    fn of(resource: EventResource) -> EventData {
        EventData { resource, additional_data: None, memberships: None }
    }
}

/// Writes the `data` of events (the CloudEvent's `data` member, §6) as JSON text.
///
/// The service's encoder lives with its HTTP representations (`xclade_http::events`); a
/// service that reuses this crate may bring its own.
pub trait EventEncoder: Send + Sync {
    /// The `data` of an event by `actor` that says `data`.
    fn encode(&self, actor: &Actor, data: &EventData) -> EventPayload;
}

impl Event {
    fn recorded(ctx: &WriteContext, kind: EventKind, resource_id: Uuid, data: EventData) -> Event {
        Event {
            id: ctx.event_id,
            project_id: ctx.project_id,
            project_key: ctx.project_key.clone(),
            kind,
            resource_id,
            actor: ctx.actor.clone(),
            body: EventBody::Data(Box::new(data)),
            created_at: ctx.now,
        }
    }

    /// `customer.created`, with the request's `additional_data` when it had one.
    pub fn customer_created(ctx: &WriteContext, c: &Customer, additional_data: Option<&Map<String, Value>>) -> Event {
        let mut data = EventData::of(EventResource::Customer(c.clone()));
        data.additional_data = additional_data.cloned();
        Event::recorded(ctx, EventKind::CustomerCreated, c.id().0, data)
    }

    /// `customer.updated` (fields or addresses changed): the customer after the change.
    pub fn customer_updated(ctx: &WriteContext, c: &Customer) -> Event {
        Event::recorded(ctx, EventKind::CustomerUpdated, c.id().0, EventData::of(EventResource::Customer(c.clone())))
    }

    /// `customer.deleted`: the customer's last state (with its deletion time).
    pub fn customer_deleted(ctx: &WriteContext, c: &Customer) -> Event {
        Event::recorded(ctx, EventKind::CustomerDeleted, c.id().0, EventData::of(EventResource::Customer(c.clone())))
    }

    /// `customer.groups_changed`: the customer after the change and the groups it actually
    /// joined and left.
    pub fn customer_groups_changed(ctx: &WriteContext, c: &Customer, added: &[GroupId], removed: &[GroupId]) -> Event {
        let mut data = EventData::of(EventResource::Customer(c.clone()));
        data.memberships = Some(MembershipChange { added: added.to_vec(), removed: removed.to_vec() });
        Event::recorded(ctx, EventKind::CustomerGroupsChanged, c.id().0, data)
    }

    /// `customer-group.created|updated|deleted`: the group after the change (its last state on
    /// a delete).
    pub fn group(ctx: &WriteContext, kind: EventKind, g: &CustomerGroup) -> Event {
        Event::recorded(ctx, kind, g.id().0, EventData::of(EventResource::Group(g.clone())))
    }

    /// `type.created|updated|deleted`.
    pub fn custom_type(ctx: &WriteContext, kind: EventKind, t: &Type) -> Event {
        Event::recorded(ctx, kind, t.id().0, EventData::of(EventResource::Type(t.clone())))
    }

    /// What the event says, when it is still in the form the write recorded.
    pub fn data(&self) -> Option<&EventData> {
        match &self.body {
            EventBody::Data(data) => Some(data),
            EventBody::Encoded(_) => None,
        }
    }

    /// The CloudEvent's `data` as JSON text: as encoded, or encoded now by `encoder`.
    pub fn payload(&self, encoder: &dyn EventEncoder) -> Cow<'_, EventPayload> {
        match &self.body {
            EventBody::Data(data) => Cow::Owned(encoder.encode(&self.actor, data)),
            EventBody::Encoded(payload) => Cow::Borrowed(payload),
        }
    }

    /// The NATS subject of the event: `xclade.events.<projectKey>.<type>` (§6).
    pub fn subject(&self) -> String {
        format!("{SUBJECT_PREFIX}.{}.{}", self.project_key, self.kind.as_str())
    }

    /// The CloudEvent (structured mode) around `data`, borrowing it (serialized without
    /// copying it).
    fn envelope<'a>(&self, data: &'a EventPayload) -> CloudEvent<'a> {
        CloudEvent {
            specversion: "1.0",
            id: self.id,
            source: format!("/projects/{}", self.project_key),
            r#type: self.kind.as_str(),
            subject: self.resource_id,
            time: self.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            datacontenttype: "application/json",
            data: &data.0,
        }
    }

    /// The message that carries the event: subject, `Nats-Msg-Id` and the CloudEvents 1.0
    /// JSON, its `data` as encoded (or encoded now by `encoder`).
    pub fn message(&self, encoder: &dyn EventEncoder) -> OutgoingMessage {
        let data = self.payload(encoder);
        OutgoingMessage {
            subject: self.subject(),
            msg_id: self.id.to_string(),
            body: serde_json::to_vec(&self.envelope(&data)).unwrap_or_default(),
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
