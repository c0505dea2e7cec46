//! The JSON of the admin family's customers (§2.2), and the documented shapes of its requests
//! and answers. Field order of each struct is the key order on the wire.

use super::support::{group_id, to_value};
use crate::body::{non_null, nullable};
use crate::error::AdminError;
use crate::fields::{RelationFields, SelectedFields};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;
use xclade_domain::customer::{
    check_additional_data, Address, AddressFields, Customer, CustomerDraft, CustomerPatch, Email,
};
use xclade_domain::customer_group::CustomerGroup;
use xclade_domain::ids::GroupId;
use xclade_domain::metadata::Metadata;

/// Both families write timestamps alike (RFC 3339 UTC with milliseconds and `Z`).
pub use crate::routes::project_groups::dto::timestamp;

/// A group as seen through a customer's `groups`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerGroupSummary {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub updated_at: String,
}

impl From<&CustomerGroup> for AdminCustomerGroupSummary {
    fn from(g: &CustomerGroup) -> Self {
        AdminCustomerGroupSummary {
            id: g.id().0,
            name: g.name().as_str().to_owned(),
            metadata: g.metadata().as_map().clone(),
            created_at: timestamp(&g.created_at()),
            updated_at: timestamp(&g.last_modified_at()),
        }
    }
}

/// A customer address.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerAddress {
    pub id: Uuid,
    #[schema(required = true)]
    pub address_name: Option<String>,
    pub is_default_shipping: bool,
    pub is_default_billing: bool,
    pub customer_id: Uuid,
    #[schema(required = true)]
    pub company: Option<String>,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    #[schema(required = true)]
    pub address_1: Option<String>,
    #[schema(required = true)]
    pub address_2: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    /// Lowercase ISO 3166-1 alpha-2, e.g. `us`.
    #[schema(example = "us", required = true)]
    pub country_code: Option<String>,
    /// Lowercase, e.g. `us-ca`.
    #[schema(example = "us-ca", required = true)]
    pub province: Option<String>,
    #[schema(required = true)]
    pub postal_code: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub updated_at: String,
}

impl From<&Address> for AdminCustomerAddress {
    fn from(a: &Address) -> Self {
        AdminCustomerAddress {
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
}

/// A customer (§2.2). Every answer is shaped by the request's `fields` (§2.5): by default all
/// of these keys are present; `groups` and `addresses` are left out when deselected.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminCustomer {
    pub id: Uuid,
    #[schema(format = Email, example = "user@example.com")]
    pub email: String,
    #[schema(required = true)]
    pub company_name: Option<String>,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub has_account: bool,
    #[schema(required = true)]
    pub default_billing_address_id: Option<Uuid>,
    #[schema(required = true)]
    pub default_shipping_address_id: Option<Uuid>,
    pub groups: Vec<AdminCustomerGroupSummary>,
    pub addresses: Vec<AdminCustomerAddress>,
    /// The id of the admin user or the `client_id` of the API client that created it.
    #[schema(required = true)]
    pub created_by: Option<String>,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub updated_at: String,
    #[schema(format = DateTime, required = true)]
    pub deleted_at: Option<String>,
}

impl From<&Customer> for AdminCustomer {
    fn from(c: &Customer) -> Self {
        AdminCustomer {
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
            groups: c.groups().iter().map(AdminCustomerGroupSummary::from).collect(),
            addresses: c.addresses().iter().map(AdminCustomerAddress::from).collect(),
            created_by: c.created_by().map(str::to_owned),
            created_at: timestamp(&c.created_at()),
            updated_at: timestamp(&c.updated_at()),
            deleted_at: c.deleted_at().as_ref().map(timestamp),
        }
    }
}

/// A customer without its relations (the members of an admin customer group).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerSummary {
    pub id: Uuid,
    #[schema(format = Email, example = "user@example.com")]
    pub email: String,
    #[schema(required = true)]
    pub company_name: Option<String>,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub has_account: bool,
    #[schema(required = true)]
    pub default_billing_address_id: Option<Uuid>,
    #[schema(required = true)]
    pub default_shipping_address_id: Option<Uuid>,
    #[schema(required = true)]
    pub created_by: Option<String>,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2019-08-24T14:15:22.000Z")]
    pub updated_at: String,
    #[schema(format = DateTime, required = true)]
    pub deleted_at: Option<String>,
}

impl From<&Customer> for AdminCustomerSummary {
    fn from(c: &Customer) -> Self {
        let full = AdminCustomer::from(c);
        AdminCustomerSummary {
            id: full.id,
            email: full.email,
            company_name: full.company_name,
            first_name: full.first_name,
            last_name: full.last_name,
            phone: full.phone,
            metadata: full.metadata,
            has_account: full.has_account,
            default_billing_address_id: full.default_billing_address_id,
            default_shipping_address_id: full.default_shipping_address_id,
            created_by: full.created_by,
            created_at: full.created_at,
            updated_at: full.updated_at,
            deleted_at: full.deleted_at,
        }
    }
}

/// The customer's JSON, shaped by `fields`.
pub fn customer_value(customer: &Customer, selected: &SelectedFields) -> Result<Value, AdminError> {
    to_value(&ShapedCustomer::new(customer, selected))
}

/// A customer that serializes straight to its JSON with only the fields `selected` keeps, in
/// the order of [`AdminCustomer`]: what `selected.shape(to_value(&AdminCustomer))` gives,
/// without building a `serde_json::Value` tree first (which was most of the server's CPU for a
/// page of 50 customers; docs/benchmarks.md), and without copying the customer into an
/// [`AdminCustomer`] either (change 30). A test checks the two agree.
pub struct ShapedCustomer<'a> {
    customer: &'a Customer,
    selected: &'a SelectedFields,
}

impl<'a> ShapedCustomer<'a> {
    pub fn new(customer: &'a Customer, selected: &'a SelectedFields) -> Self {
        ShapedCustomer { customer, selected }
    }
}

impl Serialize for ShapedCustomer<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let selected = self.selected;
        write_customer(serializer, self.customer, |name| selected.includes(name), |name| selected.relation(name))
    }
}

/// A whole customer (every field, both relations), as [`AdminCustomer`] serializes it, read
/// straight from the customer: the `resource` of a customer's events.
pub struct CustomerJson<'a>(pub &'a Customer);

impl Serialize for CustomerJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        write_customer(serializer, self.0, |_| true, |_| Some(&RelationFields::All))
    }
}

/// Writes the fields of `c` that `scalar` and `relation` keep, in [`AdminCustomer`]'s order.
fn write_customer<'s, S: serde::Serializer>(
    serializer: S,
    c: &Customer,
    scalar: impl Fn(&str) -> bool,
    relation: impl Fn(&str) -> Option<&'s RelationFields>,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(None)?;
    // One list, in AdminCustomer's order: it destructures an `AdminCustomer` exhaustively (a
    // field added to it fails to compile here until it is written below too).
    macro_rules! fields {
        ($($kind:ident $name:ident = $value:expr),* $(,)?) => {
            #[allow(dead_code, unused_variables)]
            fn exhaustive(dto: &AdminCustomer) {
                let AdminCustomer { $($name),* } = dto;
            }
            $(fields!(@ $kind $name = $value);)*
        };
        (@ scalar $name:ident = $value:expr) => {
            if scalar(stringify!($name)) {
                map.serialize_entry(stringify!($name), &$value)?;
            }
        };
        (@ relation $name:ident = $value:expr) => {
            shaped_relation(&mut map, relation(stringify!($name)), stringify!($name), $value)?;
        };
    }
    fields!(
        scalar id = c.id().0,
        scalar email = c.email_str(),
        scalar company_name = c.company_name(),
        scalar first_name = c.first_name(),
        scalar last_name = c.last_name(),
        scalar phone = c.phone(),
        scalar metadata = c.metadata().as_map(),
        scalar has_account = c.has_account(),
        scalar default_billing_address_id = c.default_billing_address_id().map(|a| a.0),
        scalar default_shipping_address_id = c.default_shipping_address_id().map(|a| a.0),
        relation groups = Views(c.groups(), AdminCustomerGroupSummary::from),
        relation addresses = Views(c.addresses(), AdminCustomerAddress::from),
        scalar created_by = c.created_by(),
        scalar created_at = timestamp(&c.created_at()),
        scalar updated_at = timestamp(&c.updated_at()),
        scalar deleted_at = c.deleted_at().as_ref().map(timestamp),
    );
    map.end()
}

/// The elements of a relation, each serialized through its DTO as it is written.
#[derive(Clone, Copy)]
struct Views<'a, T, D>(&'a [T], fn(&'a T) -> D);

impl<'a, T, D: Serialize> Serialize for Views<'a, T, D> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(self.1))
    }
}

/// A relation as `fields` selects it: absent, whole, or each element with only some fields.
fn shaped_relation<M: serde::ser::SerializeMap, T, D: Serialize>(
    map: &mut M,
    selection: Option<&RelationFields>,
    name: &'static str,
    items: Views<'_, T, D>,
) -> Result<(), M::Error> {
    match selection {
        None => Ok(()),
        Some(RelationFields::All) => map.serialize_entry(name, &items),
        Some(RelationFields::Only(keep)) => map.serialize_entry(name, &OnlyFields { items, keep }),
    }
}

/// Elements serialized with only the `keep` fields (the rare path: built through `Value`).
struct OnlyFields<'a, 'k, T, D> {
    items: Views<'a, T, D>,
    keep: &'k [&'static str],
}

impl<T, D: Serialize> Serialize for OnlyFields<'_, '_, T, D> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.items.0.len()))?;
        for item in self.items.0.iter().map(self.items.1) {
            let mut value = serde_json::to_value(&item).map_err(S::Error::custom)?;
            if let Value::Object(fields) = &mut value {
                fields.retain(|k, _| self.keep.contains(&k.as_str()));
            }
            seq.serialize_element(&value)?;
        }
        seq.end()
    }
}

/// `200 {"customer": …}`, serialized straight from the customer.
pub fn customer_response(customer: &Customer, selected: &SelectedFields) -> actix_web::HttpResponse {
    #[derive(Serialize)]
    struct Body<'a> {
        customer: ShapedCustomer<'a>,
    }
    crate::respond::json(
        actix_web::HttpResponse::Ok(),
        &Body { customer: ShapedCustomer::new(customer, selected) },
        crate::respond::ONE_RESOURCE,
    )
}

/// `200 {"customers": […], "count", "offset", "limit"}`, serialized straight from the page.
pub fn customer_list_response(
    customers: &[Customer],
    selected: &SelectedFields,
    count: i64,
    offset: u64,
    limit: u32,
) -> actix_web::HttpResponse {
    #[derive(Serialize)]
    struct Body<'a> {
        customers: Vec<ShapedCustomer<'a>>,
        count: i64,
        offset: u64,
        limit: u32,
    }
    let customers: Vec<_> = customers.iter().map(|c| ShapedCustomer::new(c, selected)).collect();
    let capacity = crate::respond::ONE_RESOURCE / 2 * customers.len().max(1);
    crate::respond::json(actix_web::HttpResponse::Ok(), &Body { customers, count, offset, limit }, capacity)
}

/// An address's JSON.
pub fn address_value(address: &Address) -> Result<Value, AdminError> {
    to_value(&AdminCustomerAddress::from(address))
}

// ---------------------------------------------------------------------------------------------
// Documented answers (rendered as `serde_json::Value` after shaping; these describe the default).

/// `{"customer": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerResponse {
    pub customer: AdminCustomer,
}

/// A page of customers; `count` is the total number of matches.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerListResponse {
    pub customers: Vec<AdminCustomer>,
    pub count: i64,
    pub offset: u64,
    pub limit: u32,
}

/// `{"address": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerAddressResponse {
    pub address: AdminCustomerAddress,
}

/// A page of a customer's addresses.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminCustomerAddressListResponse {
    pub addresses: Vec<AdminCustomerAddress>,
    pub count: i64,
    pub offset: u64,
    pub limit: u32,
}

/// The answer of a delete.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminDeleteResponse {
    pub id: Uuid,
    /// `customer` or `customer_group`.
    #[schema(example = "customer")]
    pub object: String,
    pub deleted: bool,
}

/// The answer of an address delete: the refreshed customer as `parent`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminAddressDeleteResponse {
    pub id: Uuid,
    #[schema(example = "customer_address")]
    pub object: String,
    pub deleted: bool,
    pub parent: AdminCustomer,
}

// ---------------------------------------------------------------------------------------------
// Request bodies: read with `crate::body::admin_body` (unknown keys, then each field in this
// order: missing or of the wrong JSON type → 400), then checked by the domain through `TryFrom`.

/// Body of `POST /admin/customers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdminCreateCustomer {
    /// At most 320 characters; unique among the project's customers (case-insensitive).
    #[schema(format = Email, example = "user@example.com", min_length = 3, max_length = 320)]
    pub email: String,
    /// At most 255 characters.
    #[schema(max_length = 255)]
    pub company_name: String,
    /// At most 255 characters.
    #[schema(max_length = 255)]
    pub first_name: String,
    /// At most 255 characters.
    #[schema(max_length = 255)]
    pub last_name: String,
    /// At most 255 characters.
    #[schema(max_length = 255)]
    pub phone: String,
    /// At most 64 keys, 16 KiB serialized, nested at most 5 levels.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    /// Not stored on the customer: it travels with the `customer.created` event.
    #[schema(value_type = Option<Object>)]
    pub additional_data: Option<Map<String, Value>>,
}

impl TryFrom<AdminCreateCustomer> for CustomerDraft {
    type Error = AdminError;

    /// The email, the lengths and the metadata limits (§2.3).
    fn try_from(b: AdminCreateCustomer) -> Result<Self, AdminError> {
        Ok(CustomerDraft::new(
            &b.email,
            Some(b.company_name),
            Some(b.first_name),
            Some(b.last_name),
            Some(b.phone),
            b.metadata,
            b.additional_data,
        )?)
    }
}

/// Body of `POST /admin/customers/{id}`: every key optional; `null` clears a string
/// (except `email`); `metadata` is merged shallowly, a key set to `""` is deleted.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdminUpdateCustomer {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(format = Email, nullable = false, min_length = 3, max_length = 320)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub company_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub phone: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Accepted for compatibility; not stored.
    #[schema(value_type = Option<Object>)]
    pub additional_data: Option<Map<String, Value>>,
}

impl TryFrom<AdminUpdateCustomer> for CustomerPatch {
    type Error = AdminError;

    /// `additional_data` is checked like the create's, but an update has no event to carry it.
    fn try_from(b: AdminUpdateCustomer) -> Result<Self, AdminError> {
        b.additional_data.map(check_additional_data).transpose()?;
        Ok(CustomerPatch {
            email: b.email.as_deref().map(Email::parse).transpose()?,
            company_name: b.company_name,
            first_name: b.first_name,
            last_name: b.last_name,
            phone: b.phone,
            metadata: b.metadata.map(Metadata::parse).transpose()?,
        })
    }
}

/// Body of `POST /admin/customers/{id}/customer-groups`; each list at most 1000 ids, no id in
/// both.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdminManageCustomerGroups {
    /// Ids of the groups to add the customer to.
    #[schema(max_items = 1000)]
    pub add: Option<Vec<String>>,
    /// Ids of the groups to remove the customer from.
    #[schema(max_items = 1000)]
    pub remove: Option<Vec<String>>,
}

impl TryFrom<AdminManageCustomerGroups> for (Vec<GroupId>, Vec<GroupId>) {
    type Error = AdminError;

    /// The groups to add and to remove; the first id that is not a UUID is 404, `add` first.
    fn try_from(b: AdminManageCustomerGroups) -> Result<Self, AdminError> {
        Ok((ids(b.add, group_id)?, ids(b.remove, group_id)?))
    }
}

/// Parses a membership list of ids; an absent list is empty.
pub fn ids<T>(list: Option<Vec<String>>, parse: impl Fn(&str) -> Result<T, AdminError>) -> Result<Vec<T>, AdminError> {
    list.unwrap_or_default().iter().map(|id| parse(id)).collect()
}

/// Body of an address create or update: every key optional; `null` clears a string.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdminCustomerAddressBody {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub address_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub address_1: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub address_2: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub city: Option<Option<String>>,
    /// Stored lowercase.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "us", max_length = 255)]
    pub country_code: Option<Option<String>>,
    /// Stored lowercase.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "us-ca", max_length = 255)]
    pub province: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub phone: Option<Option<String>>,
    /// Replaces the address's metadata.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Makes this the customer's default shipping address (clearing the old default).
    pub is_default_shipping: Option<bool>,
    /// Makes this the customer's default billing address (clearing the old default).
    pub is_default_billing: Option<bool>,
}

impl TryFrom<AdminCustomerAddressBody> for AddressFields {
    type Error = AdminError;

    /// Checks the metadata's limits.
    fn try_from(b: AdminCustomerAddressBody) -> Result<Self, AdminError> {
        Ok(AddressFields {
            address_name: b.address_name,
            company: b.company,
            first_name: b.first_name,
            last_name: b.last_name,
            address_1: b.address_1,
            address_2: b.address_2,
            city: b.city,
            country_code: b.country_code,
            province: b.province,
            postal_code: b.postal_code,
            phone: b.phone,
            metadata: b.metadata.map(Metadata::parse).transpose()?,
            is_default_shipping: b.is_default_shipping,
            is_default_billing: b.is_default_billing,
        })
    }
}
