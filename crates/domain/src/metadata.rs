//! Free-form `metadata` objects with bounded size, key count and depth.

use crate::error::{DomainError, TextKind, Violation};
use serde::Serialize;
use serde_json::{Map, Value};

/// Largest serialized size of a metadata object.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Most top-level keys of a metadata object.
pub const MAX_METADATA_KEYS: usize = 64;
/// Deepest nesting of objects/arrays inside a metadata object (the object itself is level 1).
pub const MAX_METADATA_DEPTH: usize = 5;

/// A JSON object that is known to respect the metadata limits.
///
/// There is no unchecked constructor (and no `Deserialize`): an adapter reads stored metadata
/// back through [`Metadata::parse`], like input, and treats a refusal as an internal error.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Metadata(Map<String, Value>);

/// Whether a key or string anywhere in `value` holds the NUL character (jsonb cannot store it).
pub(crate) fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl Metadata {
    /// Validates a metadata object: what a client sent, or what an adapter stored.
    pub fn parse(map: Map<String, Value>) -> Result<Self, DomainError> {
        if map.len() > MAX_METADATA_KEYS {
            return Err(DomainError::invalid_field("metadata", Violation::TooManyKeys { max: MAX_METADATA_KEYS }));
        }
        if map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)) {
            return Err(DomainError::invalid_field("metadata", Violation::ContainsNul { kind: TextKind::Plain }));
        }
        let max_child = map.values().map(depth).max().unwrap_or(0);
        if 1 + max_child > MAX_METADATA_DEPTH {
            return Err(DomainError::invalid_field("metadata", Violation::TooDeep { max_levels: MAX_METADATA_DEPTH }));
        }
        let size = serde_json::to_vec(&map).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > MAX_METADATA_BYTES {
            return Err(DomainError::invalid_field("metadata", Violation::TooLarge { max_bytes: MAX_METADATA_BYTES }));
        }
        Ok(Metadata(map))
    }

    /// The metadata as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The metadata as an owned JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    /// Shallow merge of an update: a key set to `""` is deleted, others are set.
    /// The result is validated again.
    pub fn merged(&self, patch: &Metadata) -> Result<Metadata, DomainError> {
        let mut out = self.0.clone();
        for (k, v) in &patch.0 {
            if v.as_str() == Some("") {
                out.remove(k);
            } else {
                out.insert(k.clone(), v.clone());
            }
        }
        Metadata::parse(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn accepts_depth_five_and_refuses_six() {
        let five = obj(json!({"a": {"b": {"c": {"d": {}}}}}));
        assert!(Metadata::parse(five).is_ok());
        let six = obj(json!({"a": {"b": {"c": {"d": {"e": {}}}}}}));
        assert!(Metadata::parse(six).is_err());
    }

    #[test]
    fn refuses_too_many_keys_and_too_large() {
        let many: Map<String, Value> = (0..65).map(|i| (format!("k{i}"), json!(1))).collect();
        assert!(Metadata::parse(many).is_err());
        let big = obj(json!({"a": "x".repeat(MAX_METADATA_BYTES)}));
        assert!(Metadata::parse(big).is_err());
        let ok: Map<String, Value> = (0..64).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(Metadata::parse(ok).is_ok());
    }

    #[test]
    fn refuses_nul_anywhere() {
        assert!(Metadata::parse(obj(json!({"a\0": 1}))).is_err());
        assert!(Metadata::parse(obj(json!({"a": {"b": ["x\0"]}}))).is_err());
    }

    #[test]
    fn merge_deletes_empty_string_keys() {
        let base = Metadata::parse(obj(json!({"a": 1, "b": 2}))).expect("valid");
        let patch = Metadata::parse(obj(json!({"a": "", "c": 3}))).expect("valid");
        let merged = base.merged(&patch).expect("valid");
        assert_eq!(Value::Object(merged.into_map()), json!({"b": 2, "c": 3}));
    }
}
