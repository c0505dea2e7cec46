//! Request bodies: read with the configured limit (413 in the family's format), parsed as JSON,
//! and, for the admin family, read into typed DTOs ([`admin_body`]) with strict, Medusa-style
//! messages (customers, addresses, groups, memberships and the login).

use crate::error::{AdminError, ProjectError};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures::StreamExt;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    TooLarge(usize),
    Read,
    /// The body did not arrive within [`BODY_READ_DEADLINE`].
    Timeout,
}

impl From<BodyError> for AdminError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge(n) => AdminError::TooLarge(n),
            BodyError::Read => AdminError::invalid_request("The request body could not be read"),
            BodyError::Timeout => AdminError::Timeout,
        }
    }
}

impl From<BodyError> for ProjectError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge(n) => ProjectError::TooLarge(n),
            BodyError::Read => ProjectError::InvalidJson("The request body could not be read.".into()),
            BodyError::Timeout => ProjectError::Timeout,
        }
    }
}

/// The longest a request body may take to arrive (§4.1: a body that trickles is cut with 408).
/// The request head has its own deadline (the server's client request timeout).
pub const BODY_READ_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// The message of the 408 for a body that did not arrive in time.
pub const BODY_TIMEOUT_MESSAGE: &str = "The request body was not received within 30 seconds.";

/// Reads the whole payload within [`BODY_READ_DEADLINE`], refusing more than `limit` bytes.
pub async fn read_limited(req: &HttpRequest, payload: &mut Payload) -> Result<web::Bytes, BodyError> {
    actix_web::rt::time::timeout(BODY_READ_DEADLINE, read_all(req, payload)).await.unwrap_or(Err(BodyError::Timeout))
}

async fn read_all(req: &HttpRequest, payload: &mut Payload) -> Result<web::Bytes, BodyError> {
    let limit =
        req.app_data::<web::Data<AppState>>().map(|s| s.config.body_limit).unwrap_or(crate::state::DEFAULT_BODY_LIMIT);
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| BodyError::Read)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The JSON type name used in admin messages.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The future of a body extractor.
type BodyFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>>>>;

/// Reads the body with [`read_limited`] in the background (a failure worded in the family's
/// terms, `E`); `parse` makes the extractor's value of the bytes.
fn read_body<T: 'static, E: From<BodyError> + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    parse: fn(web::Bytes) -> Result<T, E>,
) -> BodyFuture<T, E> {
    let req = req.clone();
    let mut payload = payload.take();
    Box::pin(async move { parse(read_limited(&req, &mut payload).await?) })
}

/// An admin-family JSON object body.
#[derive(Debug, Clone)]
pub struct AdminJson(pub Map<String, Value>);

impl FromRequest for AdminJson {
    type Error = AdminError;
    type Future = BodyFuture<Self, Self::Error>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        read_body(req, payload, |bytes| {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(AdminJson(Map::new()));
            }
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => Ok(AdminJson(map)),
                Ok(other) => Err(AdminError::invalid_request(format!(
                    "Expected type: 'object' for the request body, got: '{}'",
                    json_type(&other)
                ))),
                Err(e) => Err(AdminError::invalid_request(format!("Malformed JSON: {e}"))),
            }
        })
    }
}

/// A project-family JSON body (any JSON value).
#[derive(Debug, Clone)]
pub struct ProjectJson(pub Value);

impl FromRequest for ProjectJson {
    type Error = ProjectError;
    type Future = BodyFuture<Self, Self::Error>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        read_body(req, payload, |bytes| {
            serde_json::from_slice::<Value>(&bytes)
                .map(ProjectJson)
                .map_err(|e| ProjectError::InvalidJson(format!("Malformed JSON: {e}")))
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Typed admin bodies

/// Reads an admin JSON object into its DTO `T`: a `#[derive(Deserialize)]` struct (no
/// `flatten`) whose fields are `String`, `bool`, `Vec<String>`, `Map<String, Value>`, `Option`s
/// of these (absent or `null` → `None`), or use [`nullable`] / [`non_null`].
///
/// Errors come in the contract's order, with its messages (`Invalid request: …`):
/// 1. every key the DTO does not have, in body order: `Unrecognized fields: 'foo', 'bar'`;
/// 2. then the DTO's fields in declaration order, the first that is missing although required
///    (`Field 'email' is required`) or of the wrong JSON type (`Expected type: 'string' for
///    field 'first_name', got: 'number'`; inside an array the field is `add.0`).
///
/// What the DTO's `TryFrom` checks afterwards (lengths, emails, metadata limits) comes last.
pub fn admin_body<T: DeserializeOwned>(body: Map<String, Value>) -> Result<T, AdminError> {
    T::deserialize(Body(body)).map_err(AdminError::invalid_request)
}

/// An update's nullable string: absent → `None`, `null` → `Some(None)`, a string → `Some(Some)`.
/// Use with `#[serde(default, deserialize_with = "…")]`.
pub fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    struct Nullable;
    impl<'de> Visitor<'de> for Nullable {
        type Value = Option<Option<String>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("string")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Some(None))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Some(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Some(v)))
        }
    }
    d.deserialize_any(Nullable)
}

/// An optional string that may not be `null`: absent → `None`, a string → `Some`, `null` is a
/// wrong type. Use with `#[serde(default, deserialize_with = "…")]`.
pub fn non_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct NonNull;
    impl<'de> Visitor<'de> for NonNull {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("string")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
    }
    d.deserialize_any(NonNull)
}

/// Why an admin body does not fit its DTO; `Display` is the detail of the 400 message.
#[derive(Debug)]
pub struct BodyIssue {
    kind: IssueKind,
    /// The field, `add.0` inside an array; empty until the key is known.
    path: String,
}

#[derive(Debug)]
enum IssueKind {
    Unknown(Vec<String>),
    Required,
    Type { expected: String, got: String },
    Other(String),
}

impl IssueKind {
    fn wrong(expected: &str, got: &Value) -> IssueKind {
        IssueKind::Type { expected: expected.to_owned(), got: json_type(got).to_owned() }
    }
}

impl BodyIssue {
    fn unknown(keys: &[&str]) -> BodyIssue {
        BodyIssue { kind: IssueKind::Unknown(keys.iter().map(|k| (*k).to_owned()).collect()), path: String::new() }
    }

    /// The issue, one level up: `segment` is the key or index it happened under.
    fn under(mut self, segment: &str) -> BodyIssue {
        self.path = if self.path.is_empty() { segment.to_owned() } else { format!("{segment}.{}", self.path) };
        self
    }
}

impl fmt::Display for BodyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            IssueKind::Unknown(keys) => {
                f.write_str("Unrecognized fields: ")?;
                for (i, key) in keys.iter().enumerate() {
                    write!(f, "{}'{key}'", if i == 0 { "" } else { ", " })?;
                }
                Ok(())
            }
            IssueKind::Required => write!(f, "Field '{}' is required", self.path),
            IssueKind::Type { expected, got } => {
                write!(f, "Expected type: '{expected}' for field '{}', got: '{got}'", self.path)
            }
            IssueKind::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BodyIssue {}

impl de::Error for BodyIssue {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        BodyIssue { kind: IssueKind::Other(msg.to_string()), path: String::new() }
    }

    /// A visitor's refusal (see [`nullable`]): `exp` is the JSON type name it expects.
    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        use de::Unexpected as U;
        let got = match unexp {
            U::Bool(_) => "boolean",
            U::Unsigned(_) | U::Signed(_) | U::Float(_) => "number",
            U::Char(_) | U::Str(_) => "string",
            U::Unit | U::Option => "null",
            U::Seq => "array",
            U::Map => "object",
            U::Other(other) => other,
            _ => "other",
        };
        BodyIssue { kind: IssueKind::Type { expected: exp.to_string(), got: got.to_owned() }, path: String::new() }
    }
}

/// The whole body: a DTO reads it as a struct, its fields in declaration order.
struct Body(Map<String, Value>);

impl<'de> Deserializer<'de> for Body {
    type Error = BodyIssue;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, BodyIssue> {
        Err(de::Error::custom("an admin body is read into a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, BodyIssue> {
        let unknown: Vec<&str> = self.0.keys().map(String::as_str).filter(|k| !fields.contains(k)).collect();
        if !unknown.is_empty() {
            return Err(BodyIssue::unknown(&unknown));
        }
        visitor.visit_map(InOrder { fields, next: 0, map: self.0 })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Every field of the DTO in declaration order, given or absent, so the first issue in that
/// order is the one reported.
struct InOrder {
    fields: &'static [&'static str],
    next: usize,
    map: Map<String, Value>,
}

impl<'de> MapAccess<'de> for InOrder {
    type Error = BodyIssue;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, BodyIssue> {
        match self.fields.get(self.next).copied() {
            Some(name) => seed.deserialize(de::value::BorrowedStrDeserializer::new(name)).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, BodyIssue> {
        let name = self.fields.get(self.next).copied().unwrap_or_default();
        self.next += 1;
        let slot = self.map.remove(name).map_or(Slot::Absent, Slot::Given);
        seed.deserialize(slot).map_err(|issue| issue.under(name))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len().saturating_sub(self.next))
    }
}

/// One value of an admin body. `String`, `bool`, sequences and maps check the JSON type
/// themselves (with the contract's type names). An absent value is `None` to an `Option` and
/// required to anything else; an `Option` takes `null` as `None` too. To `deserialize_any` (the
/// [`nullable`] and [`non_null`] helpers) absent is `visit_none` and `null` is `visit_unit`.
enum Slot {
    Absent,
    Given(Value),
}

/// The `pick` of [`Slot::take`] for one JSON type: the content of `$variant`, or the value back.
macro_rules! variant {
    ($variant:path) => {
        |v| match v {
            $variant(content) => Ok(content),
            v => Err(v),
        }
    };
}

impl Slot {
    /// The value if `pick` takes it (it is of the `expected` JSON type), else the issue.
    fn take<T>(self, expected: &str, pick: fn(Value) -> Result<T, Value>) -> Result<T, BodyIssue> {
        match self {
            Slot::Absent => Err(BodyIssue { kind: IssueKind::Required, path: String::new() }),
            Slot::Given(v) => {
                pick(v).map_err(|v| BodyIssue { kind: IssueKind::wrong(expected, &v), path: String::new() })
            }
        }
    }
}

impl<'de> IntoDeserializer<'de, BodyIssue> for Slot {
    type Deserializer = Slot;
    fn into_deserializer(self) -> Slot {
        self
    }
}

fn visit_array<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value, BodyIssue> {
    visitor.visit_seq(Items { items: items.into_iter(), index: 0 })
}

fn visit_object<'de, V: Visitor<'de>>(map: Map<String, Value>, visitor: V) -> Result<V::Value, BodyIssue> {
    visitor.visit_map(de::value::MapDeserializer::new(map.into_iter().map(|(k, v)| (k, Slot::Given(v)))))
}

impl<'de> Deserializer<'de> for Slot {
    type Error = BodyIssue;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyIssue> {
        let value = match self {
            Slot::Absent => return visitor.visit_none(),
            Slot::Given(value) => value,
        };
        match value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                (None, None, None) => Err(de::Error::custom(format!("unreadable number {n}"))),
            },
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visit_object(map, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyIssue> {
        match self {
            Slot::Absent | Slot::Given(Value::Null) => visitor.visit_none(),
            given => visitor.visit_some(given),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyIssue> {
        visitor.visit_bool(self.take("boolean", variant!(Value::Bool))?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyIssue> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyIssue> {
        visitor.visit_string(self.take("string", variant!(Value::String))?)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyIssue> {
        visit_array(self.take("array", variant!(Value::Array))?, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyIssue> {
        visit_object(self.take("object", variant!(Value::Object))?, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, BodyIssue> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct tuple
        tuple_struct struct enum identifier ignored_any
    }
}

/// The items of an array; an issue inside one is under its index.
struct Items {
    items: std::vec::IntoIter<Value>,
    index: usize,
}

impl<'de> SeqAccess<'de> for Items {
    type Error = BodyIssue;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, BodyIssue> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(Slot::Given(item)).map(Some).map_err(|issue| issue.under(&index.to_string()))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize)]
    struct Dto {
        name: String,
        #[serde(default, deserialize_with = "nullable")]
        note: Option<Option<String>>,
        #[serde(default, deserialize_with = "non_null")]
        email: Option<String>,
        tags: Option<Vec<String>>,
        meta: Option<Map<String, Value>>,
        flag: Option<bool>,
    }

    fn read(v: Value) -> Result<Dto, String> {
        match v {
            Value::Object(m) => admin_body::<Dto>(m).map_err(|e| e.to_string()),
            _ => Err("not an object".into()),
        }
    }

    #[test]
    fn typed_bodies_read_absent_null_and_values() {
        let d = read(json!({"name": "a"})).expect("ok");
        assert_eq!((d.note, d.email, d.tags, d.meta, d.flag), (None, None, None, None, None));
        let d = read(json!({"flag": null, "meta": null, "tags": null, "note": null, "name": "a"})).expect("ok");
        assert_eq!((d.note, d.tags, d.meta, d.flag), (Some(None), None, None, None));
        let d = read(json!({"name": "a", "note": "n", "email": "e", "tags": ["x", "y"], "meta": {"k": [1, {"z": null}]}, "flag": true}))
            .expect("ok");
        assert_eq!(d.name, "a");
        assert_eq!(
            (d.note, d.email, d.tags),
            (Some(Some("n".into())), Some("e".into()), Some(vec!["x".into(), "y".into()]))
        );
        assert_eq!(d.meta.map(Value::Object), Some(json!({"k": [1, {"z": null}]})));
        assert_eq!(d.flag, Some(true));
        // The same DTO read by plain serde_json agrees on absent and null.
        let plain: Dto = serde_json::from_value(json!({"name": "a", "note": null})).expect("ok");
        assert_eq!((plain.note, plain.email), (Some(None), None));
    }

    #[test]
    fn typed_bodies_report_the_first_issue_in_contract_order() {
        let err = |v: Value| read(v).expect_err("invalid");
        // Unknown keys before anything else, all of them, in body order.
        assert_eq!(err(json!({"name": 1, "zz": 1, "aa": 2})), "Invalid request: Unrecognized fields: 'zz', 'aa'");
        // Then the fields in declaration order, whatever the body's order.
        assert_eq!(err(json!({"flag": "x", "note": 1})), "Invalid request: Field 'name' is required");
        assert_eq!(
            err(json!({"flag": "x", "note": 1, "name": "a"})),
            "Invalid request: Expected type: 'string' for field 'note', got: 'number'"
        );
        assert_eq!(
            err(json!({"name": null})),
            "Invalid request: Expected type: 'string' for field 'name', got: 'null'"
        );
        assert_eq!(
            err(json!({"name": "a", "email": null})),
            "Invalid request: Expected type: 'string' for field 'email', got: 'null'"
        );
        assert_eq!(
            err(json!({"name": "a", "tags": "x"})),
            "Invalid request: Expected type: 'array' for field 'tags', got: 'string'"
        );
        assert_eq!(
            err(json!({"name": "a", "tags": ["x", 2.5]})),
            "Invalid request: Expected type: 'string' for field 'tags.1', got: 'number'"
        );
        assert_eq!(
            err(json!({"name": "a", "meta": [1]})),
            "Invalid request: Expected type: 'object' for field 'meta', got: 'array'"
        );
        assert_eq!(
            err(json!({"name": "a", "flag": {}})),
            "Invalid request: Expected type: 'boolean' for field 'flag', got: 'object'"
        );
    }

    #[test]
    fn messages_match_the_contract() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Login {
            email: String,
            first_name: String,
        }
        let read = |v: Value| match v {
            Value::Object(m) => admin_body::<Login>(m).map(|_| ()).map_err(|e| e.to_string()),
            _ => Err("not an object".into()),
        };
        assert_eq!(read(json!({"foo": 1, "email": "a"})), Err("Invalid request: Unrecognized fields: 'foo'".into()));
        assert_eq!(read(json!({"first_name": 3})), Err("Invalid request: Field 'email' is required".into()));
        assert_eq!(
            read(json!({"first_name": 3, "email": "a"})),
            Err("Invalid request: Expected type: 'string' for field 'first_name', got: 'number'".into())
        );
    }
}
