//! How the project family reads its typed request bodies (§3.1).
//!
//! A body is one serde DTO (`Deserialize` + `ToSchema`, in each resource's `dto`) converted
//! into the domain's drafts and actions by `TryFrom` (in each resource's `parse`). The family
//! reports the *first* problem in the order the fields are listed, with the JSON path of its
//! detailed messages (`custom -> type: Missing required value`), and a domain rule of one field
//! only after the shape of the fields before it. So every field of a DTO is a [`Field`]: it
//! never fails to deserialize but records whether the value was absent (or null), of the
//! expected JSON type, or of another, and the conversion takes the fields in order, each with
//! its path. Unknown fields are ignored, as the family does.

use crate::error::ProjectError;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::Deserialize;
use serde_json::{Map, Value};
use xclade_domain::customer_group::{ExpectedVersion, MAX_ACTIONS};

/// Joins a JSON path the way the family's detailed messages show it (`custom -> type`).
pub(crate) fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path} -> {field}")
    }
}

pub(crate) fn missing(path: &str) -> ProjectError {
    ProjectError::InvalidJson(format!("{path}: Missing required value"))
}

pub(crate) fn expected(path: &str, what: &str) -> ProjectError {
    ProjectError::InvalidJson(format!("{path}: JSON {what} expected."))
}

/// The JSON type a field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Integer,
    Boolean,
    Object,
    Array,
    /// Any JSON value.
    Any,
}

impl Kind {
    /// The name in `…: JSON <name> expected.`
    fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Boolean => "boolean",
            Kind::Object => "object",
            Kind::Array => "array",
            Kind::Any => "value",
        }
    }

    /// Whether `value` has this JSON type. A number is admitted as an integer here; the type
    /// itself refuses a fractional one. Checked before the type deserializes, so that a struct
    /// is never read from an array (serde reads structs from sequences too).
    fn admits(self, value: &Value) -> bool {
        match self {
            Kind::String => value.is_string(),
            Kind::Integer => value.is_number(),
            Kind::Boolean => value.is_boolean(),
            Kind::Object => value.is_object(),
            Kind::Array => value.is_array(),
            Kind::Any => true,
        }
    }
}

/// What a [`Field`] may hold: a type read from JSON of one [`Kind`].
pub(crate) trait Wire: DeserializeOwned {
    const KIND: Kind;
}

impl Wire for String {
    const KIND: Kind = Kind::String;
}

impl Wire for bool {
    const KIND: Kind = Kind::Boolean;
}

impl Wire for Value {
    const KIND: Kind = Kind::Any;
}

impl Wire for Map<String, Value> {
    const KIND: Kind = Kind::Object;
}

impl<T: DeserializeOwned> Wire for Vec<T> {
    const KIND: Kind = Kind::Array;
}

impl<T: Wire> Wire for Box<T> {
    const KIND: Kind = T::KIND;
}

/// Declares body DTOs (structs of [`Field`]s, or action enums) as read from JSON objects.
macro_rules! wire_objects {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::routes::project_groups::wire::Wire for $t {
            const KIND: $crate::routes::project_groups::wire::Kind =
                $crate::routes::project_groups::wire::Kind::Object;
        })*
    };
}
pub(crate) use wire_objects;

/// One value of a body as sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<T> {
    /// Absent or null (the family treats both alike).
    Absent,
    /// Of the expected type.
    Given(T),
    /// Of another JSON type (or a value the type refuses), kept to say what is wrong.
    Invalid(Value),
}

impl<T: Wire> Field<T> {
    /// Reads one JSON value.
    pub(crate) fn of(value: Value) -> Self {
        if value.is_null() {
            return Field::Absent;
        }
        if !T::KIND.admits(&value) {
            return Field::Invalid(value);
        }
        match T::deserialize(&value) {
            Ok(t) => Field::Given(t),
            Err(_) => Field::Invalid(value),
        }
    }

    /// A required field at `path`.
    pub(crate) fn required(self, path: &str) -> Result<T, ProjectError> {
        match self {
            Field::Absent => Err(missing(path)),
            Field::Given(t) => Ok(t),
            Field::Invalid(_) => Err(expected(path, T::KIND.name())),
        }
    }

    /// An optional field at `path` (null counts as absent).
    pub(crate) fn optional(self, path: &str) -> Result<Option<T>, ProjectError> {
        match self {
            Field::Absent => Ok(None),
            Field::Given(t) => Ok(Some(t)),
            Field::Invalid(_) => Err(expected(path, T::KIND.name())),
        }
    }

    /// An element of an array at `path`: null is of the wrong type there, not absent.
    pub(crate) fn element(self, path: &str) -> Result<T, ProjectError> {
        match self {
            Field::Given(t) => Ok(t),
            Field::Absent | Field::Invalid(_) => Err(expected(path, T::KIND.name())),
        }
    }
}

impl<'de, T: Wire> Deserialize<'de> for Field<T> {
    /// Through `Option`, so that an absent field reads as [`Field::Absent`] like a null one.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<Value>::deserialize(deserializer)?.map_or(Field::Absent, Field::of))
    }
}

/// Reads a whole body into its DTO; a body that is not a JSON object is refused first.
pub(crate) fn body<T: Wire>(value: &Value) -> Result<T, ProjectError> {
    if !value.is_object() {
        return Err(ProjectError::InvalidJson("The request body must be a JSON object.".into()));
    }
    // A DTO of `Field`s reads any object; the error is for completeness.
    T::deserialize(value).map_err(|e| ProjectError::InvalidJson(e.to_string()))
}

/// `version` of an update: a JSON integer. A number with no fractional part (`3.0`) counts as
/// one, as JSON Schema says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireVersion(i64);

impl<'de> Deserialize<'de> for WireVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(deserializer)?;
        n.as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= i64::MIN as f64 && *f < i64::MAX as f64)
                    .map(|f| f as i64)
            })
            .map(WireVersion)
            .ok_or_else(|| D::Error::custom("expected a whole number"))
    }
}

impl Wire for WireVersion {
    const KIND: Kind = Kind::Integer;
}

impl From<WireVersion> for ExpectedVersion {
    fn from(v: WireVersion) -> Self {
        ExpectedVersion::new(v.0)
    }
}

/// `version` and `actions` of an update body, checked in this order, with at most
/// [`MAX_ACTIONS`] actions. The actions are left to the caller, which checks each in turn
/// (the first problem in order is reported, a domain rule of one action included).
pub(crate) fn update<A>(
    version: Field<WireVersion>,
    actions: Field<Vec<Field<A>>>,
) -> Result<(ExpectedVersion, Vec<Field<A>>), ProjectError>
where
    A: Wire,
{
    let version = version.required("version")?.into();
    let actions = actions.required("actions")?;
    if actions.len() > MAX_ACTIONS {
        return Err(ProjectError::InvalidInput(format!(
            "At most {MAX_ACTIONS} update actions are allowed per request."
        )));
    }
    Ok((version, actions))
}

/// One element of `actions`. An action enum reads only the actions it knows (see
/// [`dispatch`]); anything else is told apart here: not an object, no `action`, an `action`
/// that is not a string, or an unknown one (`Invalid action foo`, InvalidInput).
pub(crate) fn action<A: Wire>(item: Field<A>) -> Result<A, ProjectError> {
    match item {
        Field::Given(action) => Ok(action),
        Field::Absent => Err(expected("actions", "object")),
        Field::Invalid(raw) => Err(match raw.get("action") {
            _ if !raw.is_object() => expected("actions", "object"),
            None | Some(Value::Null) => missing("actions -> action"),
            Some(Value::String(name)) => ProjectError::InvalidInput(format!("Invalid action {name}")),
            Some(_) => expected("actions -> action", "string"),
        }),
    }
}

/// The `action` of an update action, for an action enum's `Deserialize`: the enum's schema is
/// `untagged` with a `discriminator` on `action` (what utoipa documents), so serde's tagged form
/// cannot be derived on the same enum; the enum matches this name to its variants' DTOs.
pub(crate) fn dispatch<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(String, Value), D::Error> {
    let value = Value::deserialize(deserializer)?;
    match value.get("action") {
        Some(Value::String(name)) => Ok((name.clone(), value)),
        _ => Err(D::Error::custom("an update action needs an `action` name")),
    }
}

/// The error of an action enum's `Deserialize` for a name it does not know.
pub(crate) fn unknown_action<E: serde::de::Error>(name: &str) -> E {
    E::custom(format!("Invalid action {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Dto {
        name: Field<String>,
        tags: Field<Vec<Field<String>>>,
        inner: Field<Box<Dto>>,
    }
    wire_objects!(Dto);

    #[test]
    fn fields_record_what_was_sent() {
        let dto: Dto =
            body(&json!({"name": null, "tags": ["a", null, 1], "inner": {"name": 3}, "other": 1})).expect("ok");
        assert_eq!(dto.name, Field::Absent);
        assert_eq!(dto.tags, Field::Given(vec![Field::Given("a".into()), Field::Absent, Field::Invalid(json!(1))]));
        let Field::Given(inner) = dto.inner else { panic!("inner") };
        assert_eq!((inner.name, inner.tags, inner.inner), (Field::Invalid(json!(3)), Field::Absent, Field::Absent));
        // A struct is never read from an array (serde would read it positionally).
        let dto: Dto = body(&json!({"inner": ["x", [], null]})).expect("ok");
        assert_eq!(dto.inner, Field::Invalid(json!(["x", [], null])));
        assert!(
            matches!(body::<Dto>(&json!([])), Err(ProjectError::InvalidJson(m)) if m == "The request body must be a JSON object.")
        );
    }

    #[test]
    fn versions_are_whole_numbers() {
        let v = |value: Value| Field::<WireVersion>::of(value).required("version").map(ExpectedVersion::from);
        assert_eq!(v(json!(3)).ok(), Some(ExpectedVersion::new(3)));
        assert_eq!(v(json!(-3.0)).ok(), Some(ExpectedVersion::new(-3)));
        for bad in [json!(3.5), json!(1e300), json!(u64::MAX), json!("3"), json!(true)] {
            assert!(
                matches!(v(bad.clone()), Err(ProjectError::InvalidJson(m)) if m == "version: JSON integer expected."),
                "{bad}"
            );
        }
    }
}
