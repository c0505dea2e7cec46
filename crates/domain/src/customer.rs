//! Customers and their addresses (admin family, §2.2).

use crate::customer_group::CustomerGroup;
use crate::error::{DomainError, TextKind, Violation};
use crate::ids::{AddressId, CustomerId, GroupId};
use crate::metadata::Metadata;
use crate::text::{bounded_opt, MAX_STRING_CHARS};
use crate::versioned::replace;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// Longest accepted email address.
pub const MAX_EMAIL_CHARS: usize = 320;

/// A syntactically valid email address, stored as given (uniqueness ignores case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses an email address (at most [`MAX_EMAIL_CHARS`] characters, no white space, a
    /// non-empty local part and a dotted domain).
    pub fn parse(s: &str) -> Result<Email, DomainError> {
        let invalid = || DomainError::invalid_field("email", Violation::InvalidEmail);
        if s.chars().count() > MAX_EMAIL_CHARS || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(s.to_owned()))
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A customer address. `is_default_*` are derived from the customer's default ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    /// The id.
    id: AddressId,
    /// The customer the address belongs to.
    customer_id: CustomerId,
    /// A name for the address (`Home`, …).
    address_name: Option<String>,
    /// Whether it is the customer's default shipping address.
    is_default_shipping: bool,
    /// Whether it is the customer's default billing address.
    is_default_billing: bool,
    /// The company.
    company: Option<String>,
    /// The first name.
    first_name: Option<String>,
    /// The last name.
    last_name: Option<String>,
    /// The first address line.
    address_1: Option<String>,
    /// The second address line.
    address_2: Option<String>,
    /// The city.
    city: Option<String>,
    /// The ISO 3166-1 alpha-2 country code.
    country_code: Option<String>,
    /// The province or state.
    province: Option<String>,
    /// The postal code.
    postal_code: Option<String>,
    /// The phone number.
    phone: Option<String>,
    /// The metadata.
    metadata: Metadata,
    /// When it was created.
    created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
}

/// Every field of a [`Address`], in the validated types: what an adapter hands to
/// [`Address::from_parts`] when it loads a stored address, and what [`Address::into_parts`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressParts {
    /// The id.
    pub id: AddressId,
    /// The customer the address belongs to.
    pub customer_id: CustomerId,
    /// A name for the address (`Home`, …).
    pub address_name: Option<String>,
    /// Whether it is the customer's default shipping address.
    pub is_default_shipping: bool,
    /// Whether it is the customer's default billing address.
    pub is_default_billing: bool,
    /// The company.
    pub company: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
    /// The first address line.
    pub address_1: Option<String>,
    /// The second address line.
    pub address_2: Option<String>,
    /// The city.
    pub city: Option<String>,
    /// The ISO 3166-1 alpha-2 country code.
    pub country_code: Option<String>,
    /// The province or state.
    pub province: Option<String>,
    /// The postal code.
    pub postal_code: Option<String>,
    /// The phone number.
    pub phone: Option<String>,
    /// The metadata.
    pub metadata: Metadata,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Address {
    /// A new address of `customer`, created at `at`, with no field set yet (set them with
    /// [`AddressFields::apply`]).
    pub fn new(id: AddressId, customer: CustomerId, at: DateTime<Utc>) -> Address {
        Address {
            id,
            customer_id: customer,
            address_name: None,
            is_default_shipping: false,
            is_default_billing: false,
            company: None,
            first_name: None,
            last_name: None,
            address_1: None,
            address_2: None,
            city: None,
            country_code: None,
            province: None,
            postal_code: None,
            phone: None,
            metadata: Metadata::default(),
            created_at: at,
            updated_at: at,
        }
    }

    /// Records a change at `at`.
    pub fn touch(&mut self, at: DateTime<Utc>) {
        self.updated_at = at;
    }

    /// Derives the default flags from the owner's default address ids.
    pub fn flag_defaults(&mut self, owner: &Customer) {
        self.is_default_billing = owner.default_billing_address_id == Some(self.id);
        self.is_default_shipping = owner.default_shipping_address_id == Some(self.id);
    }

    /// Builds an address from its parts (each already valid by its type).
    pub fn from_parts(parts: AddressParts) -> Address {
        let AddressParts {
            id,
            customer_id,
            address_name,
            is_default_shipping,
            is_default_billing,
            company,
            first_name,
            last_name,
            address_1,
            address_2,
            city,
            country_code,
            province,
            postal_code,
            phone,
            metadata,
            created_at,
            updated_at,
        } = parts;
        Address {
            id,
            customer_id,
            address_name,
            is_default_shipping,
            is_default_billing,
            company,
            first_name,
            last_name,
            address_1,
            address_2,
            city,
            country_code,
            province,
            postal_code,
            phone,
            metadata,
            created_at,
            updated_at,
        }
    }

    /// Takes the address apart, to change what the rules leave to an adapter and build it again.
    pub fn into_parts(self) -> AddressParts {
        let Address {
            id,
            customer_id,
            address_name,
            is_default_shipping,
            is_default_billing,
            company,
            first_name,
            last_name,
            address_1,
            address_2,
            city,
            country_code,
            province,
            postal_code,
            phone,
            metadata,
            created_at,
            updated_at,
        } = self;
        AddressParts {
            id,
            customer_id,
            address_name,
            is_default_shipping,
            is_default_billing,
            company,
            first_name,
            last_name,
            address_1,
            address_2,
            city,
            country_code,
            province,
            postal_code,
            phone,
            metadata,
            created_at,
            updated_at,
        }
    }

    /// The id.
    pub fn id(&self) -> AddressId {
        self.id
    }

    /// The customer the address belongs to.
    pub fn customer_id(&self) -> CustomerId {
        self.customer_id
    }

    /// A name for the address (`Home`, …).
    pub fn address_name(&self) -> Option<&str> {
        self.address_name.as_deref()
    }

    /// Whether it is the customer's default shipping address.
    pub fn is_default_shipping(&self) -> bool {
        self.is_default_shipping
    }

    /// Whether it is the customer's default billing address.
    pub fn is_default_billing(&self) -> bool {
        self.is_default_billing
    }

    /// The company.
    pub fn company(&self) -> Option<&str> {
        self.company.as_deref()
    }

    /// The first name.
    pub fn first_name(&self) -> Option<&str> {
        self.first_name.as_deref()
    }

    /// The last name.
    pub fn last_name(&self) -> Option<&str> {
        self.last_name.as_deref()
    }

    /// The first address line.
    pub fn address_1(&self) -> Option<&str> {
        self.address_1.as_deref()
    }

    /// The second address line.
    pub fn address_2(&self) -> Option<&str> {
        self.address_2.as_deref()
    }

    /// The city.
    pub fn city(&self) -> Option<&str> {
        self.city.as_deref()
    }

    /// The ISO 3166-1 alpha-2 country code.
    pub fn country_code(&self) -> Option<&str> {
        self.country_code.as_deref()
    }

    /// The province or state.
    pub fn province(&self) -> Option<&str> {
        self.province.as_deref()
    }

    /// The postal code.
    pub fn postal_code(&self) -> Option<&str> {
        self.postal_code.as_deref()
    }

    /// The phone number.
    pub fn phone(&self) -> Option<&str> {
        self.phone.as_deref()
    }

    /// The metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

/// A customer, with the relations that were asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// The id.
    id: CustomerId,
    /// The email address (unique per project, ignoring case).
    email: Email,
    /// The company name.
    company_name: Option<String>,
    /// The first name.
    first_name: Option<String>,
    /// The last name.
    last_name: Option<String>,
    /// The phone number.
    phone: Option<String>,
    /// The metadata.
    metadata: Metadata,
    /// Whether the customer has an account.
    has_account: bool,
    /// The default billing address, if any.
    default_billing_address_id: Option<AddressId>,
    /// The default shipping address, if any.
    default_shipping_address_id: Option<AddressId>,
    /// The id of who created it.
    created_by: Option<String>,
    /// When it was created.
    created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
    /// When it was deleted (deleted customers are not found).
    deleted_at: Option<DateTime<Utc>>,
    /// Loaded only when requested.
    groups: Vec<CustomerGroup>,
    /// Loaded only when requested.
    addresses: Vec<Address>,
}

/// Every field of a [`Customer`], in the validated types: what an adapter hands to
/// [`Customer::from_parts`] when it loads a stored customer, and what [`Customer::into_parts`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerParts {
    /// The id.
    pub id: CustomerId,
    /// The email address (unique per project, ignoring case).
    pub email: Email,
    /// The company name.
    pub company_name: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
    /// The phone number.
    pub phone: Option<String>,
    /// The metadata.
    pub metadata: Metadata,
    /// Whether the customer has an account.
    pub has_account: bool,
    /// The default billing address, if any.
    pub default_billing_address_id: Option<AddressId>,
    /// The default shipping address, if any.
    pub default_shipping_address_id: Option<AddressId>,
    /// The id of who created it.
    pub created_by: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was deleted (deleted customers are not found).
    pub deleted_at: Option<DateTime<Utc>>,
    /// Loaded only when requested.
    pub groups: Vec<CustomerGroup>,
    /// Loaded only when requested.
    pub addresses: Vec<Address>,
}

impl Customer {
    /// A new customer from a validated draft: no account, no addresses, no groups, created
    /// by `created_by` at `at`.
    pub fn create(id: CustomerId, draft: &CustomerDraft, created_by: Option<String>, at: DateTime<Utc>) -> Customer {
        Customer {
            id,
            email: draft.email.clone(),
            company_name: draft.company_name.clone(),
            first_name: draft.first_name.clone(),
            last_name: draft.last_name.clone(),
            phone: draft.phone.clone(),
            metadata: draft.metadata.clone(),
            has_account: false,
            default_billing_address_id: None,
            default_shipping_address_id: None,
            created_by,
            created_at: at,
            updated_at: at,
            deleted_at: None,
            groups: Vec::new(),
            addresses: Vec::new(),
        }
    }

    /// Records a change at `at`.
    pub fn touch(&mut self, at: DateTime<Utc>) {
        self.updated_at = at;
    }

    /// Sets the default billing and shipping addresses after an address change at `at`.
    pub fn set_default_addresses(
        &mut self,
        billing: Option<AddressId>,
        shipping: Option<AddressId>,
        at: DateTime<Utc>,
    ) {
        self.default_billing_address_id = billing;
        self.default_shipping_address_id = shipping;
        self.updated_at = at;
    }

    /// Marks the customer deleted at `at` (deleted customers are not found).
    pub fn mark_deleted(&mut self, at: DateTime<Utc>) {
        self.deleted_at = Some(at);
    }

    /// Sets the loaded relation `groups`: the groups the customer is a member of.
    pub fn set_groups(&mut self, groups: Vec<CustomerGroup>) {
        self.groups = groups;
    }

    /// Sets the loaded relation `addresses`: the customer's addresses.
    pub fn set_addresses(&mut self, addresses: Vec<Address>) {
        self.addresses = addresses;
    }

    /// Drops the relations that were not asked for.
    pub fn keep_relations(&mut self, relations: Relations) {
        if !relations.groups {
            self.groups.clear();
        }
        if !relations.addresses {
            self.addresses.clear();
        }
    }

    /// Builds a customer from its parts (each already valid by its type).
    pub fn from_parts(parts: CustomerParts) -> Customer {
        let CustomerParts {
            id,
            email,
            company_name,
            first_name,
            last_name,
            phone,
            metadata,
            has_account,
            default_billing_address_id,
            default_shipping_address_id,
            created_by,
            created_at,
            updated_at,
            deleted_at,
            groups,
            addresses,
        } = parts;
        Customer {
            id,
            email,
            company_name,
            first_name,
            last_name,
            phone,
            metadata,
            has_account,
            default_billing_address_id,
            default_shipping_address_id,
            created_by,
            created_at,
            updated_at,
            deleted_at,
            groups,
            addresses,
        }
    }

    /// Takes the customer apart, to change what the rules leave to an adapter and build it again.
    pub fn into_parts(self) -> CustomerParts {
        let Customer {
            id,
            email,
            company_name,
            first_name,
            last_name,
            phone,
            metadata,
            has_account,
            default_billing_address_id,
            default_shipping_address_id,
            created_by,
            created_at,
            updated_at,
            deleted_at,
            groups,
            addresses,
        } = self;
        CustomerParts {
            id,
            email,
            company_name,
            first_name,
            last_name,
            phone,
            metadata,
            has_account,
            default_billing_address_id,
            default_shipping_address_id,
            created_by,
            created_at,
            updated_at,
            deleted_at,
            groups,
            addresses,
        }
    }

    /// The id.
    pub fn id(&self) -> CustomerId {
        self.id
    }

    /// The email address (unique per project, ignoring case).
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The email address as text.
    pub fn email_str(&self) -> &str {
        self.email.as_str()
    }

    /// The company name.
    pub fn company_name(&self) -> Option<&str> {
        self.company_name.as_deref()
    }

    /// The first name.
    pub fn first_name(&self) -> Option<&str> {
        self.first_name.as_deref()
    }

    /// The last name.
    pub fn last_name(&self) -> Option<&str> {
        self.last_name.as_deref()
    }

    /// The phone number.
    pub fn phone(&self) -> Option<&str> {
        self.phone.as_deref()
    }

    /// The metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Whether the customer has an account.
    pub fn has_account(&self) -> bool {
        self.has_account
    }

    /// The default billing address, if any.
    pub fn default_billing_address_id(&self) -> Option<AddressId> {
        self.default_billing_address_id
    }

    /// The default shipping address, if any.
    pub fn default_shipping_address_id(&self) -> Option<AddressId> {
        self.default_shipping_address_id
    }

    /// The id of who created it.
    pub fn created_by(&self) -> Option<&str> {
        self.created_by.as_deref()
    }

    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// When it was deleted (deleted customers are not found).
    pub fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.deleted_at
    }

    /// Loaded only when requested.
    pub fn groups(&self) -> &[CustomerGroup] {
        &self.groups
    }

    /// Loaded only when requested.
    pub fn addresses(&self) -> &[Address] {
        &self.addresses
    }
}

/// The validated body of a create.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerDraft {
    /// The email address (unique per project, ignoring case).
    pub email: Email,
    /// The company name.
    pub company_name: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
    /// The phone number.
    pub phone: Option<String>,
    /// The metadata.
    pub metadata: Metadata,
    /// Travels with the `customer.created` event; never stored on the customer.
    pub additional_data: Option<Map<String, Value>>,
}

impl CustomerDraft {
    /// Validates the raw fields of a create.
    pub fn new(
        email: &str,
        company_name: Option<String>,
        first_name: Option<String>,
        last_name: Option<String>,
        phone: Option<String>,
        metadata: Map<String, Value>,
        additional_data: Option<Map<String, Value>>,
    ) -> Result<Self, DomainError> {
        Ok(CustomerDraft {
            email: Email::parse(email)?,
            company_name: bounded_opt("company_name", company_name, MAX_STRING_CHARS)?,
            first_name: bounded_opt("first_name", first_name, MAX_STRING_CHARS)?,
            last_name: bounded_opt("last_name", last_name, MAX_STRING_CHARS)?,
            phone: bounded_opt("phone", phone, MAX_STRING_CHARS)?,
            metadata: Metadata::parse(metadata)?,
            additional_data: additional_data.map(check_additional_data).transpose()?,
        })
    }
}

/// `additional_data` of a create or an update: any JSON object whose keys and strings hold no
/// U+0000 (it travels in the event, which is stored as jsonb).
pub fn check_additional_data(data: Map<String, Value>) -> Result<Map<String, Value>, DomainError> {
    if data.iter().any(|(k, v)| k.contains('\0') || crate::metadata::has_nul(v)) {
        return Err(DomainError::invalid_field("additional_data", Violation::ContainsNul { kind: TextKind::Plain }));
    }
    Ok(data)
}

/// A partial update: `None` leaves a field alone, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerPatch {
    /// The email address (unique per project, ignoring case), if given.
    pub email: Option<Email>,
    /// The company name: `Some(None)` clears it, `None` leaves it alone.
    pub company_name: Option<Option<String>>,
    /// The first name: `Some(None)` clears it, `None` leaves it alone.
    pub first_name: Option<Option<String>>,
    /// The last name: `Some(None)` clears it, `None` leaves it alone.
    pub last_name: Option<Option<String>>,
    /// The phone number: `Some(None)` clears it, `None` leaves it alone.
    pub phone: Option<Option<String>>,
    /// Merged shallowly; keys set to `""` are deleted.
    pub metadata: Option<Metadata>,
}

impl CustomerPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == CustomerPatch::default()
    }

    /// Validates string lengths of the patch.
    pub fn validate(&self) -> Result<(), DomainError> {
        for (name, v) in [
            ("company_name", &self.company_name),
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("phone", &self.phone),
        ] {
            if let Some(Some(s)) = v {
                crate::text::bounded(name, s.clone(), MAX_STRING_CHARS)?;
            }
        }
        Ok(())
    }

    /// The patch as update actions, in the order of its fields.
    pub fn actions(&self) -> Vec<CustomerAction> {
        let mut actions = Vec::new();
        if let Some(email) = &self.email {
            actions.push(CustomerAction::ChangeEmail(email.clone()));
        }
        for (field, v) in [
            (CustomerField::CompanyName, &self.company_name),
            (CustomerField::FirstName, &self.first_name),
            (CustomerField::LastName, &self.last_name),
            (CustomerField::Phone, &self.phone),
        ] {
            if let Some(value) = v {
                actions.push(CustomerAction::Set(field, value.clone()));
            }
        }
        if let Some(m) = &self.metadata {
            actions.push(CustomerAction::MergeMetadata(m.clone()));
        }
        actions
    }

    /// The patch as a change of a customer made at `at`: its [actions](CustomerPatch::actions)
    /// applied in order by [`Customer::apply_all`] (what a repository runs on the customer it
    /// has locked).
    pub fn change_at(&self, at: DateTime<Utc>) -> impl Fn(&mut Customer) -> Result<bool, DomainError> + Send + Sync {
        let actions = self.actions();
        move |customer: &mut Customer| customer.apply_all(&actions, at)
    }
}

/// A nullable text field of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerField {
    /// The company name.
    CompanyName,
    /// The first name.
    FirstName,
    /// The last name.
    LastName,
    /// The phone number.
    Phone,
}

/// One update action on a customer's own fields, validated but not yet applied.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerAction {
    /// Changes the email address.
    ChangeEmail(Email),
    /// Sets (`Some`) or clears (`None`) a text field.
    Set(CustomerField, Option<String>),
    /// Merges metadata shallowly into the current one; keys set to `""` are deleted.
    MergeMetadata(Metadata),
}

impl Customer {
    /// Applies one action; returns whether it changed the customer.
    pub fn apply(&mut self, action: &CustomerAction) -> Result<bool, DomainError> {
        Ok(match action {
            CustomerAction::ChangeEmail(email) => replace(&mut self.email, email.clone()),
            CustomerAction::Set(field, value) => {
                let slot = match field {
                    CustomerField::CompanyName => &mut self.company_name,
                    CustomerField::FirstName => &mut self.first_name,
                    CustomerField::LastName => &mut self.last_name,
                    CustomerField::Phone => &mut self.phone,
                };
                replace(slot, value.clone())
            }
            CustomerAction::MergeMetadata(patch) => {
                let merged = self.metadata.merged(patch)?;
                replace(&mut self.metadata, merged)
            }
        })
    }

    /// Applies `actions` in order at `at`, all or nothing; when one changed something, records
    /// the change at `at`. Returns whether anything changed.
    pub fn apply_all(&mut self, actions: &[CustomerAction], at: DateTime<Utc>) -> Result<bool, DomainError> {
        let mut next = self.clone();
        let mut changed = false;
        for action in actions {
            changed |= next.apply(action)?;
        }
        if changed {
            next.touch(at);
            *self = next;
        }
        Ok(changed)
    }
}

/// The fields of an address create or update (`None` = not given).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressFields {
    /// A name for the address (`Home`, …): `Some(None)` clears it, `None` leaves it alone.
    pub address_name: Option<Option<String>>,
    /// The company: `Some(None)` clears it, `None` leaves it alone.
    pub company: Option<Option<String>>,
    /// The first name: `Some(None)` clears it, `None` leaves it alone.
    pub first_name: Option<Option<String>>,
    /// The last name: `Some(None)` clears it, `None` leaves it alone.
    pub last_name: Option<Option<String>>,
    /// The first address line: `Some(None)` clears it, `None` leaves it alone.
    pub address_1: Option<Option<String>>,
    /// The second address line: `Some(None)` clears it, `None` leaves it alone.
    pub address_2: Option<Option<String>>,
    /// The city: `Some(None)` clears it, `None` leaves it alone.
    pub city: Option<Option<String>>,
    /// The ISO 3166-1 alpha-2 country code: `Some(None)` clears it, `None` leaves it alone.
    pub country_code: Option<Option<String>>,
    /// The province or state: `Some(None)` clears it, `None` leaves it alone.
    pub province: Option<Option<String>>,
    /// The postal code: `Some(None)` clears it, `None` leaves it alone.
    pub postal_code: Option<Option<String>>,
    /// The phone number: `Some(None)` clears it, `None` leaves it alone.
    pub phone: Option<Option<String>>,
    /// The metadata, if given.
    pub metadata: Option<Metadata>,
    /// Whether it is the customer's default shipping address, if given.
    pub is_default_shipping: Option<bool>,
    /// Whether it is the customer's default billing address, if given.
    pub is_default_billing: Option<bool>,
}

impl AddressFields {
    fn strings_mut(&mut self) -> [(&'static str, &mut Option<Option<String>>); 11] {
        [
            ("address_name", &mut self.address_name),
            ("company", &mut self.company),
            ("first_name", &mut self.first_name),
            ("last_name", &mut self.last_name),
            ("address_1", &mut self.address_1),
            ("address_2", &mut self.address_2),
            ("city", &mut self.city),
            ("country_code", &mut self.country_code),
            ("province", &mut self.province),
            ("postal_code", &mut self.postal_code),
            ("phone", &mut self.phone),
        ]
    }

    /// Validates lengths and normalizes `country_code`/`province` to lowercase.
    pub fn validated(mut self) -> Result<Self, DomainError> {
        for (name, v) in self.strings_mut() {
            if let Some(Some(s)) = v {
                crate::text::storable(name, s)?;
                if s.chars().count() > MAX_STRING_CHARS {
                    return Err(DomainError::invalid_field(name, Violation::TooLong { max_chars: MAX_STRING_CHARS }));
                }
                if name == "country_code" || name == "province" {
                    *s = s.to_lowercase();
                }
            }
        }
        Ok(self)
    }

    /// Writes the given fields onto an address (pure).
    pub fn apply(&self, address: &mut Address) {
        let mut me = self.clone();
        let targets: [&mut Option<String>; 11] = [
            &mut address.address_name,
            &mut address.company,
            &mut address.first_name,
            &mut address.last_name,
            &mut address.address_1,
            &mut address.address_2,
            &mut address.city,
            &mut address.country_code,
            &mut address.province,
            &mut address.postal_code,
            &mut address.phone,
        ];
        for ((_, src), dst) in me.strings_mut().into_iter().zip(targets) {
            if let Some(v) = src.take() {
                *dst = v;
            }
        }
        if let Some(m) = &self.metadata {
            address.metadata = m.clone();
        }
    }
}

/// Which relations to load with a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relations {
    /// Load the customer's groups.
    pub groups: bool,
    /// Load the customer's addresses.
    pub addresses: bool,
}

impl Relations {
    /// Load every relation.
    pub const ALL: Relations = Relations { groups: true, addresses: true };
    /// Load no relation.
    pub const NONE: Relations = Relations { groups: false, addresses: false };
}

/// Sortable customer fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerOrderField {
    /// The id.
    Id,
    /// The email.
    Email,
    /// The first name.
    FirstName,
    /// The last name.
    LastName,
    /// The company name.
    CompanyName,
    /// Whether the customer has an account.
    HasAccount,
    /// The creation time.
    CreatedAt,
    /// The time of the last change.
    UpdatedAt,
}

impl CustomerOrderField {
    /// The field of an `order` parameter (`email`, `created_at`, …).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "id" => Self::Id,
            "email" => Self::Email,
            "first_name" => Self::FirstName,
            "last_name" => Self::LastName,
            "company_name" => Self::CompanyName,
            "has_account" => Self::HasAccount,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            _ => return None,
        })
    }
}

/// A time range filter (`created_at[gte]=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// Strictly after.
    pub gt: Option<DateTime<Utc>>,
    /// At or after.
    pub gte: Option<DateTime<Utc>>,
    /// Strictly before.
    pub lt: Option<DateTime<Utc>>,
    /// At or before.
    pub lte: Option<DateTime<Utc>>,
}

/// Largest accepted `limit` of the admin list.
pub const MAX_LIST_LIMIT: u32 = 1000;
/// Default `limit` of the admin list.
pub const DEFAULT_LIST_LIMIT: u32 = 50;

/// The filters, order and page of `GET /admin/customers`.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerFilter {
    /// A case-insensitive search, if any.
    pub q: Option<String>,
    /// Only these customers, when not empty.
    pub ids: Vec<CustomerId>,
    /// Only customers with these emails, when not empty.
    pub emails: Vec<String>,
    /// Only members of these groups, when not empty.
    pub groups: Vec<GroupId>,
    /// Only customers with (or without) an account.
    pub has_account: Option<bool>,
    /// Created within this range.
    pub created_at: TimeRange,
    /// Changed within this range.
    pub updated_at: TimeRange,
    /// The field ordered by.
    pub order: CustomerOrderField,
    /// Whether the order is descending.
    pub descending: bool,
    /// Most results returned.
    pub limit: u32,
    /// Results skipped.
    pub offset: u64,
}

impl Default for CustomerFilter {
    fn default() -> Self {
        CustomerFilter {
            q: None,
            ids: Vec::new(),
            emails: Vec::new(),
            groups: Vec::new(),
            has_account: None,
            created_at: TimeRange::default(),
            updated_at: TimeRange::default(),
            order: CustomerOrderField::Id,
            descending: false,
            limit: DEFAULT_LIST_LIMIT,
            offset: 0,
        }
    }
}

impl CustomerFilter {
    /// Refuses filter values that cannot be stored or compared (the NUL character).
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(q) = &self.q {
            crate::text::storable("q", q)?;
        }
        self.emails.iter().try_for_each(|e| crate::text::storable("email", e))
    }
}

/// A page of results with the total number of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    /// The results of the page.
    pub items: Vec<T>,
    /// The number of matches of the whole list.
    pub count: i64,
}

/// Checks the `add`/`remove` lists of a membership change (§2.4).
pub fn check_membership_lists<T: PartialEq + std::fmt::Display>(add: &[T], remove: &[T]) -> Result<(), DomainError> {
    const MAX: usize = 1000;
    if add.len() > MAX || remove.len() > MAX {
        return Err(DomainError::validation(Violation::TooManyIds { max: MAX }));
    }
    if let Some(both) = add.iter().find(|a| remove.contains(a)) {
        return Err(DomainError::validation(Violation::AddedAndRemoved { id: both.to_string() }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["user@example.com", "A@x.io", "a.b+c@sub.example.co"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "plain", "@x.io", "a@", "a@b", "a b@x.io", "a@x..io", "a@.x.io", "a@x.io."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@{}.io", "a".repeat(64), "b".repeat(300));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn membership_lists() {
        assert!(check_membership_lists(&[1, 2], &[3]).is_ok());
        assert!(check_membership_lists(&[1, 2], &[2]).is_err());
        let many: Vec<u32> = (0..1001).collect();
        assert!(check_membership_lists(&many, &[]).is_err());
    }

    #[test]
    fn draft_limits() {
        let ok = CustomerDraft::new("a@b.co", Some("x".repeat(255)), None, None, None, Map::new(), None);
        assert!(ok.is_ok());
        let long = CustomerDraft::new("a@b.co", Some("x".repeat(256)), None, None, None, Map::new(), None);
        assert!(long.is_err());
    }
}
