//! The `data` of every event (§6), built from the entities in this one file.
//!
//! These are the event payload types of the contract, not the HTTP representations and not the
//! entities' own serialization: a change to either must not change what consumers receive.
//! `resource` is the resource after the change — a customer in the admin family's JSON, a
//! group (and a custom type) in the project family's JSON, with `version` — and `actor` is
//! `{"clientId": …}` or `{"userId": …}`.

use super::{Event, EventKind, EventPayload, WriteContext};
use crate::auth::Actor;
use crate::custom_type::{FieldDefinition, FieldType, LocalizedString, Type};
use crate::customer::{Address, Customer};
use crate::customer_group::CustomerGroup;
use crate::ids::GroupId;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// RFC 3339 in UTC with milliseconds and `Z`, as both families write timestamps.
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Who acted: exactly one key — `clientId`, or the user's id under the key of the place it
/// stands in (`userId` for the event's `actor`, `externalUserId` inside a project-family
/// resource's `createdBy`/`lastModifiedBy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ActorData {
    /// An API client, by its public client id: `{"clientId": …}`.
    #[serde(rename = "clientId")]
    Client(String),
    /// An admin user, by its id: `{"userId": …}`.
    #[serde(rename = "userId")]
    User(String),
    /// An admin user inside a project-family resource: `{"externalUserId": …}`.
    #[serde(rename = "externalUserId")]
    ExternalUser(String),
}

impl ActorData {
    /// The acting identity, its user (if it is one) wrapped by `user`.
    fn of(a: &Actor, user: fn(String) -> ActorData) -> ActorData {
        match a {
            Actor::Client(id) => ActorData::Client(id.clone()),
            Actor::User(id) => user(id.clone()),
        }
    }
}

impl From<&Actor> for ActorData {
    fn from(a: &Actor) -> Self {
        ActorData::of(a, ActorData::User)
    }
}

/// The acting identity inside a project-family resource (`createdBy`/`lastModifiedBy`).
fn project_actor(a: &Actor) -> ActorData {
    ActorData::of(a, ActorData::ExternalUser)
}

/// A group as a customer's `groups` lists it (admin family).
#[derive(Debug, Clone, PartialEq, Serialize)]
struct CustomerGroupSummaryData {
    id: Uuid,
    name: String,
    metadata: Map<String, Value>,
    created_at: String,
    updated_at: String,
}

/// A customer address (admin family).
#[derive(Debug, Clone, PartialEq, Serialize)]
struct AddressData {
    id: Uuid,
    address_name: Option<String>,
    is_default_shipping: bool,
    is_default_billing: bool,
    customer_id: Uuid,
    company: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    address_1: Option<String>,
    address_2: Option<String>,
    city: Option<String>,
    country_code: Option<String>,
    province: Option<String>,
    postal_code: Option<String>,
    phone: Option<String>,
    metadata: Map<String, Value>,
    created_at: String,
    updated_at: String,
}

/// A customer in the admin family's JSON (§2.2), with its groups and addresses.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct CustomerData {
    id: Uuid,
    email: String,
    company_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    metadata: Map<String, Value>,
    has_account: bool,
    default_billing_address_id: Option<Uuid>,
    default_shipping_address_id: Option<Uuid>,
    groups: Vec<CustomerGroupSummaryData>,
    addresses: Vec<AddressData>,
    created_by: Option<String>,
    created_at: String,
    updated_at: String,
    deleted_at: Option<String>,
}

fn group_summary(g: &CustomerGroup) -> CustomerGroupSummaryData {
    CustomerGroupSummaryData {
        id: g.id().0,
        name: g.name().as_str().to_owned(),
        metadata: g.metadata().as_map().clone(),
        created_at: timestamp(&g.created_at()),
        updated_at: timestamp(&g.last_modified_at()),
    }
}

fn address(a: &Address) -> AddressData {
    AddressData {
        id: a.id().0,
        address_name: a.address_name().map(str::to_owned),
        is_default_shipping: a.is_default_shipping(),
        is_default_billing: a.is_default_billing(),
        customer_id: a.customer_id().0,
        company: a.company().map(str::to_owned),
        first_name: a.first_name().map(str::to_owned),
        last_name: a.last_name().map(str::to_owned),
        address_1: a.address_1().map(str::to_owned),
        address_2: a.address_2().map(str::to_owned),
        city: a.city().map(str::to_owned),
        country_code: a.country_code().map(str::to_owned),
        province: a.province().map(str::to_owned),
        postal_code: a.postal_code().map(str::to_owned),
        phone: a.phone().map(str::to_owned),
        metadata: a.metadata().as_map().clone(),
        created_at: timestamp(&a.created_at()),
        updated_at: timestamp(&a.updated_at()),
    }
}

fn customer(c: &Customer) -> CustomerData {
    CustomerData {
        id: c.id().0,
        email: c.email_str().to_owned(),
        company_name: c.company_name().map(str::to_owned),
        first_name: c.first_name().map(str::to_owned),
        last_name: c.last_name().map(str::to_owned),
        phone: c.phone().map(str::to_owned),
        metadata: c.metadata().as_map().clone(),
        has_account: c.has_account(),
        default_billing_address_id: c.default_billing_address_id().map(|a| a.0),
        default_shipping_address_id: c.default_shipping_address_id().map(|a| a.0),
        groups: c.groups().iter().map(group_summary).collect(),
        addresses: c.addresses().iter().map(address).collect(),
        created_by: c.created_by().map(str::to_owned),
        created_at: timestamp(&c.created_at()),
        updated_at: timestamp(&c.updated_at()),
        deleted_at: c.deleted_at().as_ref().map(timestamp),
    }
}

/// `{"typeId": "type", "id": …}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct TypeReferenceData {
    type_id: &'static str,
    id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct CustomFieldsData {
    #[serde(rename = "type")]
    type_ref: TypeReferenceData,
    fields: Map<String, Value>,
}

/// A customer group in the project family's JSON (§3.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupData {
    id: String,
    version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom: Option<CustomFieldsData>,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<ActorData>,
    last_modified_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_modified_by: Option<ActorData>,
}

fn group(g: &CustomerGroup) -> GroupData {
    GroupData {
        id: g.id().to_string(),
        version: g.version().get(),
        key: g.key().map(|k| k.as_str().to_owned()),
        name: g.name().as_str().to_owned(),
        custom: g.custom().map(|c| CustomFieldsData {
            type_ref: TypeReferenceData { type_id: "type", id: c.type_id.to_string() },
            fields: c.fields.clone(),
        }),
        created_at: timestamp(&g.created_at()),
        created_by: g.created_by().map(project_actor),
        last_modified_at: timestamp(&g.last_modified_at()),
        last_modified_by: g.last_modified_by().map(project_actor),
    }
}

/// A custom type in the project family's JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct TypeData {
    id: String,
    version: i64,
    key: String,
    name: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Value>,
    resource_type_ids: Vec<String>,
    field_definitions: Value,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<ActorData>,
    last_modified_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_modified_by: Option<ActorData>,
}

fn localized(l: &LocalizedString) -> Value {
    Value::Object(l.as_map().iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// A field type in the project family's JSON: `name` first, then `values` or `elementType`.
fn field_type_data(t: &FieldType) -> Value {
    let mut out = Map::new();
    out.insert("name".to_owned(), Value::String(t.name().to_owned()));
    match t {
        FieldType::Enum { values } => {
            let values = values.iter().map(|v| json!({"key": v.key, "label": v.label})).collect();
            out.insert("values".to_owned(), Value::Array(values));
        }
        FieldType::LocalizedEnum { values } => {
            let values = values.iter().map(|v| json!({"key": v.key, "label": localized(&v.label)})).collect();
            out.insert("values".to_owned(), Value::Array(values));
        }
        FieldType::Set { element_type } => {
            out.insert("elementType".to_owned(), field_type_data(element_type));
        }
        _ => {}
    }
    Value::Object(out)
}

/// A field definition in the project family's JSON.
fn field_definition_data(d: &FieldDefinition) -> Value {
    json!({
        "name": d.name.as_str(),
        "label": localized(&d.label),
        "required": d.required,
        "type": field_type_data(&d.field_type),
        "inputHint": d.input_hint.name(),
    })
}

fn custom_type(t: &Type) -> TypeData {
    TypeData {
        id: t.id().to_string(),
        version: t.version().get(),
        key: t.key().as_str().to_owned(),
        name: localized(t.name()),
        description: t.description().map(localized),
        resource_type_ids: t.resource_type_ids().to_vec(),
        field_definitions: Value::Array(t.field_definitions().iter().map(field_definition_data).collect()),
        created_at: timestamp(&t.created_at()),
        created_by: t.created_by().map(project_actor),
        last_modified_at: timestamp(&t.last_modified_at()),
        last_modified_by: t.last_modified_by().map(project_actor),
    }
}

/// `data` of an event: the resource, the actor and the extras of some kinds.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct EventData<R: Serialize> {
    resource: R,
    actor: ActorData,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_data: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<Vec<Uuid>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<Vec<Uuid>>,
}

fn event<R: Serialize>(ctx: &WriteContext, kind: EventKind, resource_id: Uuid, data: EventData<R>) -> Event {
    Event {
        id: ctx.event_id,
        project_id: ctx.project_id,
        project_key: ctx.project_key.clone(),
        kind,
        resource_id,
        actor: ctx.actor.clone(),
        payload: EventPayload::of(&data),
        created_at: ctx.now,
    }
}

fn data<R: Serialize>(ctx: &WriteContext, resource: R) -> EventData<R> {
    EventData { resource, actor: ActorData::from(&ctx.actor), additional_data: None, added: None, removed: None }
}

impl Event {
    /// `customer.created`, with the request's `additional_data` when it had one.
    pub fn customer_created(ctx: &WriteContext, c: &Customer, additional_data: Option<&Map<String, Value>>) -> Event {
        let mut d = data(ctx, customer(c));
        d.additional_data = additional_data.cloned();
        event(ctx, EventKind::CustomerCreated, c.id().0, d)
    }

    /// `customer.updated` (fields or addresses changed): the customer after the change.
    pub fn customer_updated(ctx: &WriteContext, c: &Customer) -> Event {
        event(ctx, EventKind::CustomerUpdated, c.id().0, data(ctx, customer(c)))
    }

    /// `customer.deleted`: the customer's last state (with `deleted_at`).
    pub fn customer_deleted(ctx: &WriteContext, c: &Customer) -> Event {
        event(ctx, EventKind::CustomerDeleted, c.id().0, data(ctx, customer(c)))
    }

    /// `customer.groups_changed`: the customer after the change and the group ids that
    /// actually joined (`added`) and left (`removed`).
    pub fn customer_groups_changed(ctx: &WriteContext, c: &Customer, added: &[GroupId], removed: &[GroupId]) -> Event {
        let mut d = data(ctx, customer(c));
        d.added = Some(added.iter().map(|g| g.0).collect());
        d.removed = Some(removed.iter().map(|g| g.0).collect());
        event(ctx, EventKind::CustomerGroupsChanged, c.id().0, d)
    }

    /// `customer-group.created|updated|deleted`: the group after the change (its last state on
    /// a delete).
    pub fn group(ctx: &WriteContext, kind: EventKind, g: &CustomerGroup) -> Event {
        event(ctx, kind, g.id().0, data(ctx, group(g)))
    }

    /// `type.created|updated|deleted`.
    pub fn custom_type(ctx: &WriteContext, kind: EventKind, t: &Type) -> Event {
        event(ctx, kind, t.id().0, data(ctx, custom_type(t)))
    }
}
