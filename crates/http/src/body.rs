//! Request bodies: read with the configured limit (413 in the family's format), parsed as JSON,
//! and, for the admin family, read field by field with strict, Medusa-style messages.

use crate::error::{AdminError, ProjectError};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures::StreamExt;
use serde_json::{Map, Value};
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

/// An admin-family JSON object body.
#[derive(Debug, Clone)]
pub struct AdminJson(pub Map<String, Value>);

impl FromRequest for AdminJson {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_limited(&req, &mut payload).await.map_err(|e| match e {
                BodyError::TooLarge(n) => AdminError::TooLarge(n),
                BodyError::Read => AdminError::invalid_request("The request body could not be read"),
                BodyError::Timeout => AdminError::Timeout,
            })?;
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
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_limited(&req, &mut payload).await.map_err(|e| match e {
                BodyError::TooLarge(n) => ProjectError::TooLarge(n),
                BodyError::Read => ProjectError::InvalidJson("The request body could not be read.".into()),
                BodyError::Timeout => ProjectError::Timeout,
            })?;
            serde_json::from_slice::<Value>(&bytes)
                .map(ProjectJson)
                .map_err(|e| ProjectError::InvalidJson(format!("Malformed JSON: {e}")))
        })
    }
}

/// Reads an admin body field by field, with the contract's messages.
#[derive(Debug)]
pub struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// Refuses unknown keys: `Invalid request: Unrecognized fields: 'foo', 'bar'`.
    pub fn new(map: Map<String, Value>, allowed: &[&str]) -> Result<Fields, AdminError> {
        let unknown: Vec<String> =
            map.keys().filter(|k| !allowed.contains(&k.as_str())).map(|k| format!("'{k}'")).collect();
        if !unknown.is_empty() {
            return Err(AdminError::invalid_request(format!("Unrecognized fields: {}", unknown.join(", "))));
        }
        Ok(Fields { map })
    }

    fn wrong_type(name: &str, expected: &str, got: &Value) -> AdminError {
        AdminError::invalid_request(format!(
            "Expected type: '{expected}' for field '{name}', got: '{}'",
            json_type(got)
        ))
    }

    fn required(name: &str) -> AdminError {
        AdminError::invalid_request(format!("Field '{name}' is required"))
    }

    /// A required, non-null string.
    pub fn required_string(&mut self, name: &str) -> Result<String, AdminError> {
        match self.map.remove(name) {
            None => Err(Self::required(name)),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(Self::wrong_type(name, "string", &other)),
        }
    }

    /// An optional, nullable string: absent → `None`, null → `Some(None)`.
    pub fn nullable_string(&mut self, name: &str) -> Result<Option<Option<String>>, AdminError> {
        match self.map.remove(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s))),
            Some(other) => Err(Self::wrong_type(name, "string", &other)),
        }
    }

    /// An optional, non-null string.
    pub fn optional_string(&mut self, name: &str) -> Result<Option<String>, AdminError> {
        match self.map.remove(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(Self::wrong_type(name, "string", &other)),
        }
    }

    /// A required object.
    pub fn required_object(&mut self, name: &str) -> Result<Map<String, Value>, AdminError> {
        match self.map.remove(name) {
            None => Err(Self::required(name)),
            Some(Value::Object(m)) => Ok(m),
            Some(other) => Err(Self::wrong_type(name, "object", &other)),
        }
    }

    /// An optional object (null counts as absent).
    pub fn optional_object(&mut self, name: &str) -> Result<Option<Map<String, Value>>, AdminError> {
        match self.map.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(Self::wrong_type(name, "object", &other)),
        }
    }

    /// An optional boolean.
    pub fn optional_bool(&mut self, name: &str) -> Result<Option<bool>, AdminError> {
        match self.map.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(Self::wrong_type(name, "boolean", &other)),
        }
    }

    /// An optional array of strings.
    pub fn optional_string_array(&mut self, name: &str) -> Result<Vec<String>, AdminError> {
        match self.map.remove(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s),
                    other => Err(Self::wrong_type(&format!("{name}.{i}"), "string", &other)),
                })
                .collect(),
            Some(other) => Err(Self::wrong_type(name, "array", &other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value, allowed: &[&str]) -> Result<Fields, AdminError> {
        match v {
            Value::Object(m) => Fields::new(m, allowed),
            _ => Err(AdminError::Invalid("not an object".into())),
        }
    }

    #[test]
    fn messages_match_the_contract() {
        let err = fields(json!({"foo": 1, "email": "a"}), &["email"]).expect_err("unknown");
        assert_eq!(err.to_string(), "Invalid request: Unrecognized fields: 'foo'");
        let mut f = fields(json!({"first_name": 3}), &["email", "first_name"]).expect("ok");
        assert_eq!(
            f.required_string("email").expect_err("missing").to_string(),
            "Invalid request: Field 'email' is required"
        );
        assert_eq!(
            f.required_string("first_name").expect_err("type").to_string(),
            "Invalid request: Expected type: 'string' for field 'first_name', got: 'number'"
        );
    }
}
