//! Small pieces shared by the admin-family handlers (customers and customer groups): path ids,
//! `fields`, the body, JSON answers and the `Idempotency-Key`.

use crate::body::AdminJson;
use crate::error::AdminError;
use crate::fields::{parse_fields_for, FieldSpec, SelectedFields};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use xclade_domain::customer::Relations;
use xclade_domain::ids::{AddressId, CustomerId, GroupId};
use xclade_domain::{DomainError, Resource};

/// The header of idempotent creates.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// An opaque 500 for what cannot happen (a DTO that fails to serialize).
pub(crate) fn internal(err: impl std::fmt::Display) -> AdminError {
    AdminError::Domain(DomainError::internal(err.to_string()))
}

/// Serializes a DTO (its key order is the struct's field order).
pub(crate) fn to_value<T: Serialize>(dto: &T) -> Result<Value, AdminError> {
    serde_json::to_value(dto).map_err(internal)
}

/// 200 with a JSON body.
pub(crate) fn ok(body: Map<String, Value>) -> HttpResponse {
    crate::respond::json(HttpResponse::Ok(), &body, crate::respond::ONE_RESOURCE)
}

/// `{key: value}`, in order.
pub(crate) fn object<const N: usize>(entries: [(&str, Value); N]) -> Map<String, Value> {
    entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A path customer id; anything that is not a UUID is as missing as an unknown one.
pub(crate) fn customer_id(raw: &str) -> Result<CustomerId, AdminError> {
    CustomerId::parse(raw).ok_or_else(|| DomainError::not_found(Resource::Customer, raw).into())
}

/// A path (or body) group id; anything that is not a UUID is as missing as an unknown one.
pub(crate) fn group_id(raw: &str) -> Result<GroupId, AdminError> {
    GroupId::parse(raw).ok_or_else(|| DomainError::not_found(Resource::CustomerGroup, raw).into())
}

/// A path address id; anything that is not a UUID is as missing as an unknown one.
pub(crate) fn address_id(raw: &str) -> Result<AddressId, AdminError> {
    AddressId::parse(raw).ok_or_else(|| DomainError::not_found(Resource::CustomerAddress, raw).into())
}

/// The raw `fields` query value (still percent-encoded; the parser decodes it).
pub(crate) fn raw_fields(req: &HttpRequest) -> Option<&str> {
    crate::query::raw_value(req.query_string(), "fields")
}

/// Parses `fields` against `spec`; an invalid list is 400 with the parser's message.
pub(crate) fn parse_fields_raw(spec: &'static FieldSpec, raw: Option<&str>) -> Result<SelectedFields, AdminError> {
    parse_fields_for(spec, raw).map_err(|e| AdminError::Invalid(e.to_string()))
}

/// The request's `fields` against `spec`.
pub(crate) fn fields(req: &HttpRequest, spec: &'static FieldSpec) -> Result<SelectedFields, AdminError> {
    parse_fields_raw(spec, raw_fields(req))
}

/// The relations of a customer to load for a selection.
pub(crate) fn relations(selected: &SelectedFields) -> Relations {
    Relations { groups: selected.wants_groups(), addresses: selected.wants_addresses() }
}

/// Reads the admin JSON body; called after the permission check, so a caller without the
/// scope gets 403 whatever it sent.
pub(crate) async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<Map<String, Value>, AdminError> {
    let mut payload = payload.into_inner();
    AdminJson::from_request(req, &mut payload).await.map(|json| json.0)
}

/// The `Idempotency-Key` header: absent → `None`; empty, longer than 255 characters or not
/// printable ASCII → 400.
pub(crate) fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AdminError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    check_idempotency_key(value.to_str().ok()).map(Some)
}

pub(crate) fn check_idempotency_key(value: Option<&str>) -> Result<String, AdminError> {
    match value {
        Some(key)
            if !key.is_empty()
                && key.len() <= MAX_IDEMPOTENCY_KEY_CHARS
                && key.bytes().all(|b| (b' '..=b'~').contains(&b)) =>
        {
            Ok(key.to_owned())
        }
        _ => Err(AdminError::invalid_request(format!(
            "The {IDEMPOTENCY_HEADER} header must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters"
        ))),
    }
}

/// Hex SHA-256 of everything that makes up a create request: method, path, the raw `fields`
/// value and the body (re-serialized; key order is kept, whitespace is not significant).
pub(crate) fn request_hash(
    method: &str,
    path: &str,
    raw_fields: Option<&str>,
    body: &Map<String, Value>,
) -> Result<String, AdminError> {
    let body = serde_json::to_vec(body).map_err(internal)?;
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    part(method.as_bytes());
    part(path.as_bytes());
    match raw_fields {
        None => part(b"\0none"),
        Some(f) => part(format!("={f}").as_bytes()),
    }
    part(&body);
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// The object's members (none for any other value).
    pub(crate) fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn request_hash_is_stable_and_covers_every_part() {
        let body = map(json!({"email": "a@b.co", "metadata": {}}));
        let h = request_hash("POST", "/admin/customers", Some("id"), &body).expect("hash");
        assert_eq!(h.len(), 64);
        assert_eq!(h, request_hash("POST", "/admin/customers", Some("id"), &body).expect("hash"));
        assert_ne!(h, request_hash("POST", "/admin/customers", None, &body).expect("hash"));
        assert_ne!(h, request_hash("POST", "/admin/customers", Some(""), &body).expect("hash"));
        assert_ne!(
            h,
            request_hash("POST", "/admin/customers", Some("id"), &map(json!({"email": "a@b.co"}))).expect("hash")
        );
        // The same body with other whitespace hashes the same.
        let spaced: Map<String, Value> =
            serde_json::from_str("{ \"email\" : \"a@b.co\",\n \"metadata\": { } }").expect("json");
        assert_eq!(h, request_hash("POST", "/admin/customers", Some("id"), &spaced).expect("hash"));
    }

    #[test]
    fn idempotency_keys_are_bounded() {
        assert_eq!(check_idempotency_key(Some("abc")).expect("ok"), "abc");
        assert!(check_idempotency_key(Some(&"k".repeat(255))).is_ok());
        let long = check_idempotency_key(Some(&"k".repeat(256))).expect_err("too long");
        assert_eq!(
            long.to_string(),
            "Invalid request: The Idempotency-Key header must be 1 to 255 printable ASCII characters"
        );
        assert!(check_idempotency_key(Some("")).is_err());
        assert!(check_idempotency_key(None).is_err());
    }

    #[test]
    fn non_uuid_ids_are_not_found() {
        assert_eq!(customer_id("nope").expect_err("404").to_string(), "Customer with id: nope was not found");
        assert_eq!(group_id("g").expect_err("404").to_string(), "Customer group with id: g was not found");
        assert_eq!(address_id("a").expect_err("404").to_string(), "Customer address with id: a was not found");
        assert!(customer_id("0193a1b2-0000-7000-8000-000000000001").is_ok());
    }
}
