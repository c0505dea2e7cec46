//! Rows of the tables and their translation to and from the domain's entities.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;
use xclade_domain::auth::Actor;
use xclade_domain::customer::{Address, Customer, Email};
use xclade_domain::customer_group::{CustomFields, CustomerGroup, GroupKey, GroupName, Version};
use xclade_domain::event::{Event, EventBody, EventEncoder, EventKind};
use xclade_domain::metadata::Metadata;
use xclade_domain::{AddressId, CustomerId, DomainError, GroupId, ProjectId, TypeId};

use crate::schema::{customer_addresses, customer_groups, customers, events};

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Stored data of a shape the adapter cannot read (`Storage`).
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> DomainError {
    DomainError::Storage(format!("stored {what} cannot be read: {detail}").into())
}

/// How `created_by`/`last_modified_by` (and the idempotency snapshot's groups) store an actor:
/// `{"clientId": …}` or `{"externalUserId": …}` (the project family's form).
#[derive(serde::Serialize, serde::Deserialize)]
enum StoredActor {
    #[serde(rename = "clientId")]
    Client(String),
    #[serde(rename = "externalUserId")]
    User(String),
}

pub(crate) fn actor_json(actor: &Actor) -> Value {
    let stored = match actor {
        Actor::Client(id) => StoredActor::Client(id.clone()),
        Actor::User(id) => StoredActor::User(id.clone()),
    };
    serde_json::to_value(stored).unwrap_or(Value::Null)
}

pub(crate) fn actor_of(value: Option<Value>) -> Result<Option<Actor>, DomainError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match serde_json::from_value(v).map_err(|e| corrupt("actor", e))? {
            StoredActor::Client(id) => Ok(Some(Actor::Client(id))),
            StoredActor::User(id) => Ok(Some(Actor::User(id))),
        },
    }
}

/// PostgreSQL keeps microseconds: what a write answers must be what a read returns.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

// ------------------------------------------------------------------------------------------
// Customers.

/// A customer's row; without its project, also the JSON of its idempotency snapshot
/// ([`CustomerSnapshot`]).
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CustomerRow {
    #[serde(skip)]
    pub project_id: Uuid,
    pub id: Uuid,
    pub email: String,
    pub company_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub metadata: Value,
    pub has_account: bool,
    pub default_billing_address_id: Option<Uuid>,
    pub default_shipping_address_id: Option<Uuid>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl CustomerRow {
    pub fn from_domain(project: ProjectId, c: &Customer) -> CustomerRow {
        CustomerRow {
            project_id: project.0,
            id: c.id().0,
            email: c.email_str().to_owned(),
            company_name: c.company_name().map(str::to_owned),
            first_name: c.first_name().map(str::to_owned),
            last_name: c.last_name().map(str::to_owned),
            phone: c.phone().map(str::to_owned),
            metadata: Value::Object(c.metadata().as_map().clone()),
            has_account: c.has_account(),
            default_billing_address_id: c.default_billing_address_id().map(|a| a.0),
            default_shipping_address_id: c.default_shipping_address_id().map(|a| a.0),
            created_by: c.created_by().map(str::to_owned),
            created_at: c.created_at(),
            updated_at: c.updated_at(),
            deleted_at: c.deleted_at(),
        }
    }

    /// The customer without relations; a stored email the rules refuse is an internal error.
    pub fn into_domain(self) -> Result<Customer, DomainError> {
        Ok(Customer::from_parts(xclade_domain::customer::CustomerParts {
            id: CustomerId(self.id),
            email: Email::parse(&self.email).map_err(|e| stored("email", self.id, e))?,
            company_name: self.company_name,
            first_name: self.first_name,
            last_name: self.last_name,
            phone: self.phone,
            metadata: Metadata::parse(object(self.metadata)).map_err(|e| stored("metadata", self.id, e))?,
            has_account: self.has_account,
            default_billing_address_id: self.default_billing_address_id.map(AddressId),
            default_shipping_address_id: self.default_shipping_address_id.map(AddressId),
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
            groups: Vec::new(),
            addresses: Vec::new(),
        }))
    }
}

/// The stored form of a created [`Customer`] (`idempotency_keys.response`), read back for
/// idempotent replays: its row without the project, then the relations, which a created
/// customer does not have. Its JSON is what the domain's `Serialize` of a customer wrote
/// before the domain stopped deriving it: keep the row's field names and their order.
#[derive(serde::Serialize)]
pub(crate) struct CustomerSnapshot<'a> {
    #[serde(flatten)]
    row: &'a CustomerRow,
    groups: [(); 0],
    addresses: [(); 0],
}

impl CustomerSnapshot<'_> {
    /// The snapshot of a customer as it is created (relations are not kept).
    pub fn text(c: &Customer) -> Result<String, DomainError> {
        // The project is not part of the snapshot: any id serves.
        let row = CustomerRow::from_domain(ProjectId(Uuid::nil()), c);
        let snapshot = CustomerSnapshot { row: &row, groups: [], addresses: [] };
        serde_json::to_string(&snapshot).map_err(|e| DomainError::Internal(Box::new(e)))
    }

    /// Reads a snapshot written by [`CustomerSnapshot::text`] through the customer's row;
    /// relations are not kept (a customer has none when it is created).
    pub fn parse(text: &str) -> Result<Customer, DomainError> {
        let row: CustomerRow = serde_json::from_str(text).map_err(|e| corrupt("idempotent response", e))?;
        row.into_domain()
    }
}

// ------------------------------------------------------------------------------------------
// Addresses.

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = customer_addresses, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AddressRow {
    pub project_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub address_name: Option<String>,
    pub company: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub country_code: Option<String>,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AddressRow {
    pub fn from_domain(project: ProjectId, a: &Address) -> AddressRow {
        AddressRow {
            project_id: project.0,
            id: a.id().0,
            customer_id: a.customer_id().0,
            address_name: a.address_name().map(str::to_owned),
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
            metadata: Value::Object(a.metadata().as_map().clone()),
            created_at: a.created_at(),
            updated_at: a.updated_at(),
        }
    }

    /// The address, with its default flags derived from the customer's default ids.
    pub fn into_domain(
        self,
        default_billing: Option<Uuid>,
        default_shipping: Option<Uuid>,
    ) -> Result<Address, DomainError> {
        Ok(Address::from_parts(xclade_domain::customer::AddressParts {
            id: AddressId(self.id),
            customer_id: CustomerId(self.customer_id),
            address_name: self.address_name,
            is_default_shipping: default_shipping == Some(self.id),
            is_default_billing: default_billing == Some(self.id),
            company: self.company,
            first_name: self.first_name,
            last_name: self.last_name,
            address_1: self.address_1,
            address_2: self.address_2,
            city: self.city,
            country_code: self.country_code,
            province: self.province,
            postal_code: self.postal_code,
            phone: self.phone,
            metadata: Metadata::parse(object(self.metadata)).map_err(|e| stored("metadata", self.id, e))?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }))
    }
}

// ------------------------------------------------------------------------------------------
// Customer groups.

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = customer_groups, check_for_backend(diesel::pg::Pg))]
pub(crate) struct GroupRow {
    pub project_id: Uuid,
    pub id: Uuid,
    pub version: i64,
    pub key: Option<String>,
    pub name: String,
    pub custom_type_id: Option<Uuid>,
    pub custom_fields: Option<Value>,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Value>,
    pub last_modified_at: DateTime<Utc>,
    pub last_modified_by: Option<Value>,
}

impl GroupRow {
    pub fn from_domain(project: ProjectId, g: &CustomerGroup) -> GroupRow {
        GroupRow {
            project_id: project.0,
            id: g.id().0,
            version: g.version().get(),
            key: g.key().map(|k| k.as_str().to_owned()),
            name: g.name().as_str().to_owned(),
            custom_type_id: g.custom().map(|c| c.type_id.0),
            custom_fields: g.custom().map(|c| Value::Object(c.fields.clone())),
            metadata: Value::Object(g.metadata().as_map().clone()),
            created_at: g.created_at(),
            created_by: g.created_by().map(actor_json),
            last_modified_at: g.last_modified_at(),
            last_modified_by: g.last_modified_by().map(actor_json),
        }
    }

    pub fn into_domain(self) -> Result<CustomerGroup, DomainError> {
        let custom = self.custom_type_id.map(|type_id| CustomFields {
            type_id: TypeId(type_id),
            fields: self.custom_fields.map(object).unwrap_or_default(),
        });
        Ok(CustomerGroup::from_parts(xclade_domain::customer_group::CustomerGroupParts {
            id: GroupId(self.id),
            version: stored_version(self.version, self.id)?,
            key: self.key.as_deref().map(GroupKey::parse).transpose().map_err(|e| stored("key", self.id, e))?,
            name: GroupName::parse("name", &self.name).map_err(|e| stored("name", self.id, e))?,
            custom,
            metadata: Metadata::parse(object(self.metadata)).map_err(|e| stored("metadata", self.id, e))?,
            created_at: self.created_at,
            created_by: actor_of(self.created_by)?,
            last_modified_at: self.last_modified_at,
            last_modified_by: actor_of(self.last_modified_by)?,
        }))
    }
}

// ------------------------------------------------------------------------------------------
// Events.

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub(crate) struct EventRow {
    pub project_id: Uuid,
    pub id: Uuid,
    pub project_key: String,
    pub kind: String,
    pub resource_id: Uuid,
    pub actor: Value,
    pub payload: crate::outbox::StoredPayload,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// Every kind of event, to read kinds back from their names.
const EVENT_KINDS: [EventKind; 10] = [
    EventKind::CustomerCreated,
    EventKind::CustomerUpdated,
    EventKind::CustomerDeleted,
    EventKind::CustomerGroupsChanged,
    EventKind::GroupCreated,
    EventKind::GroupUpdated,
    EventKind::GroupDeleted,
    EventKind::TypeCreated,
    EventKind::TypeUpdated,
    EventKind::TypeDeleted,
];

/// The kind named `name` (`customer.created`, …).
pub fn event_kind(name: &str) -> Option<EventKind> {
    EVENT_KINDS.into_iter().find(|k| k.as_str() == name)
}

impl EventRow {
    /// The row of `e`, its `data` encoded by `encoder` (unless it is already).
    pub fn from_domain(e: &Event, encoder: &dyn EventEncoder) -> EventRow {
        EventRow {
            project_id: e.project_id.0,
            id: e.id,
            project_key: e.project_key.clone(),
            kind: e.kind.as_str().to_owned(),
            resource_id: e.resource_id,
            actor: actor_json(&e.actor),
            payload: crate::outbox::StoredPayload(e.payload(encoder).into_owned()),
            created_at: e.created_at,
            published_at: None,
        }
    }

    pub fn into_domain(self) -> Result<Event, DomainError> {
        let kind = event_kind(&self.kind).ok_or_else(|| corrupt("event kind", &self.kind))?;
        let actor = actor_of(Some(self.actor))?.ok_or_else(|| corrupt("event actor", "null"))?;
        Ok(Event {
            id: self.id,
            project_id: ProjectId(self.project_id),
            project_key: self.project_key,
            kind,
            resource_id: self.resource_id,
            actor,
            body: EventBody::Encoded(self.payload.0),
            created_at: self.created_at,
        })
    }
}

/// A stored value that the domain's rules refuse: the database was changed behind the service's
/// back (every write validates first), so it is an internal error, never the client's.
pub(crate) fn stored(what: &str, id: uuid::Uuid, e: DomainError) -> DomainError {
    DomainError::internal(format!("stored {what} of {id} is invalid: {e}"))
}

/// A stored version through the domain's constructor: one below 1 is an internal error.
pub(crate) fn stored_version(version: i64, id: uuid::Uuid) -> Result<Version, DomainError> {
    Version::new(version).ok_or_else(|| DomainError::internal(format!("stored version of {id} is invalid: {version}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_reads_back() {
        for kind in EVENT_KINDS {
            assert_eq!(event_kind(kind.as_str()), Some(kind));
        }
        assert_eq!(event_kind("nope"), None);
    }

    /// A customer as created: customer `id`, its default shipping address `shipping`, at `at`.
    fn created_customer(id: Uuid, shipping: Uuid, at: DateTime<Utc>) -> Customer {
        let mut meta = Map::new();
        meta.insert("a".into(), Value::from(1));
        Customer::from_parts(xclade_domain::customer::CustomerParts {
            id: CustomerId(id),
            email: Email::parse("A@b.co").expect("valid"),
            company_name: Some("c".into()),
            first_name: None,
            last_name: Some("l".into()),
            phone: None,
            metadata: Metadata::parse(meta).expect("valid"),
            has_account: false,
            default_billing_address_id: None,
            default_shipping_address_id: Some(AddressId(shipping)),
            created_by: Some("u".into()),
            created_at: at,
            updated_at: at,
            deleted_at: None,
            groups: Vec::new(),
            addresses: Vec::new(),
        })
    }

    #[test]
    fn customer_snapshot_round_trip() {
        let customer = created_customer(Uuid::now_v7(), Uuid::now_v7(), Utc::now());
        let text = CustomerSnapshot::text(&customer).expect("serializes");
        assert_eq!(CustomerSnapshot::parse(&text).expect("parses"), customer);
    }

    /// The stored snapshot's bytes are those the domain's former `Serialize` of a customer
    /// wrote: replays of keys claimed before still read, and new ones read the same way.
    #[test]
    fn customer_snapshot_bytes_are_stable() {
        use chrono::TimeZone;
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().expect("valid")
            + chrono::Duration::microseconds(123_456);
        let customer = created_customer(Uuid::from_u128(1), Uuid::from_u128(2), at);
        assert_eq!(
            CustomerSnapshot::text(&customer).expect("serializes"),
            concat!(
                r#"{"id":"00000000-0000-0000-0000-000000000001","email":"A@b.co","company_name":"c","#,
                r#""first_name":null,"last_name":"l","phone":null,"metadata":{"a":1},"has_account":false,"#,
                r#""default_billing_address_id":null,"#,
                r#""default_shipping_address_id":"00000000-0000-0000-0000-000000000002","created_by":"u","#,
                r#""created_at":"2026-01-02T03:04:05.123456Z","updated_at":"2026-01-02T03:04:05.123456Z","#,
                r#""deleted_at":null,"groups":[],"addresses":[]}"#
            )
        );
    }
}
