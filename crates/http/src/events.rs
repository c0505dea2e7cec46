//! The `data` of the service's events (§6), written with the representations of the HTTP
//! families: a customer as the admin family answers it (with its groups and addresses), a
//! group and a custom type as the project family answers them (with `version`).
//!
//! `data` is `{"resource", "actor", …}`: `actor` is `{"clientId": …}` or `{"userId": …}`,
//! `customer.created` adds the request's `additional_data` when it had one, and
//! `customer.groups_changed` adds the group ids that actually joined (`added`) and left
//! (`removed`). The server gives [`EventJson`] to the outbox adapter (which encodes each event
//! when it records it) and to the relay.

use crate::routes::admin_customers::dto::CustomerJson;
use crate::routes::project_groups::dto::GroupJson;
use crate::routes::project_types::dto::TypeView;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;
use xclade_domain::auth::Actor;
use xclade_domain::event::{EventData, EventEncoder, EventPayload, EventResource};

/// The service's [`EventEncoder`]: the §6 JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventJson;

/// Who acted, as an event's `actor` names them: exactly one key.
#[derive(Serialize)]
enum ActorData<'a> {
    #[serde(rename = "clientId")]
    Client(&'a str),
    #[serde(rename = "userId")]
    User(&'a str),
}

/// The resource in its family's representation.
#[derive(Serialize)]
#[serde(untagged)]
enum ResourceData<'a> {
    Customer(CustomerJson<'a>),
    Group(GroupJson<'a>),
    Type(Box<TypeView>),
}

/// `data`, its members in the order they are written.
#[derive(Serialize)]
struct Data<'a> {
    resource: ResourceData<'a>,
    actor: ActorData<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_data: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<Vec<Uuid>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<Vec<Uuid>>,
}

impl EventEncoder for EventJson {
    fn encode(&self, actor: &Actor, data: &EventData) -> EventPayload {
        let resource = match &data.resource {
            EventResource::Customer(c) => ResourceData::Customer(CustomerJson(c)),
            EventResource::Group(g) => ResourceData::Group(GroupJson(g)),
            EventResource::Type(t) => ResourceData::Type(Box::new(TypeView::from(t))),
        };
        let actor = match actor {
            Actor::Client(id) => ActorData::Client(id),
            Actor::User(id) => ActorData::User(id),
        };
        let ids = |ids: &[xclade_domain::GroupId]| ids.iter().map(|g| g.0).collect();
        EventPayload::of(&Data {
            resource,
            actor,
            additional_data: data.additional_data.as_ref(),
            added: data.memberships.as_ref().map(|m| ids(&m.added)),
            removed: data.memberships.as_ref().map(|m| ids(&m.removed)),
        })
    }
}

#[cfg(test)]
mod tests;
