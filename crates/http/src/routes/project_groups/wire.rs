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
//!
//! A field is read in one pass, straight into its type: nothing is buffered per level, so the
//! work stays linear in the body however deep it nests (a `Set` of `Set`s…). Only an update
//! action is buffered once, to read its `action` before its fields.

use crate::error::ProjectError;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{
    DeserializeOwned, Deserializer, Error as _, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;
use std::marker::PhantomData;
use xclade_domain::customer_group::ExpectedVersion;

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
    /// Any JSON number is sent as this kind; the type refuses a fractional one.
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

    /// Whether a value sent as `sent` is read as this kind.
    fn admits(self, sent: Kind) -> bool {
        self == Kind::Any || self == sent
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
    /// Of another JSON type, or a value the type refuses (a fractional `version`).
    Invalid,
}

impl<T: Wire> Field<T> {
    /// Reads one JSON value.
    pub(crate) fn of(value: Value) -> Self {
        // Reading into a `Field` fails only where its type fails on an object or an array,
        // which none of the bodies' types do.
        Self::deserialize(value).unwrap_or(Field::Invalid)
    }

    /// A required field at `path`.
    pub(crate) fn required(self, path: &str) -> Result<T, ProjectError> {
        match self {
            Field::Absent => Err(missing(path)),
            Field::Given(t) => Ok(t),
            Field::Invalid => Err(expected(path, T::KIND.name())),
        }
    }

    /// An optional field at `path` (null counts as absent).
    pub(crate) fn optional(self, path: &str) -> Result<Option<T>, ProjectError> {
        match self {
            Field::Absent => Ok(None),
            Field::Given(t) => Ok(Some(t)),
            Field::Invalid => Err(expected(path, T::KIND.name())),
        }
    }

    /// An element of an array at `path`: null is of the wrong type there, not absent.
    pub(crate) fn element(self, path: &str) -> Result<T, ProjectError> {
        match self {
            Field::Given(t) => Ok(t),
            Field::Absent | Field::Invalid => Err(expected(path, T::KIND.name())),
        }
    }
}

impl<'de, T: Wire> Deserialize<'de> for Field<T> {
    /// Through `deserialize_option`, so that an absent field reads as [`Field::Absent`] like a
    /// null one; then by what was sent, each JSON type handed to `T` only if it is `T`'s.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_option(FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<T>(PhantomData<T>);

/// A scalar sent as `sent`, read as `T`. (The error is only "not a `T`", so serde's plain
/// error type does.)
fn scalar<'de, T: Wire, V: IntoDeserializer<'de, serde::de::value::Error>>(sent: Kind, value: V) -> Field<T> {
    if !T::KIND.admits(sent) {
        return Field::Invalid;
    }
    T::deserialize(value.into_deserializer()).map_or(Field::Invalid, Field::Given)
}

impl<'de, T: Wire> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Field<T>, E> {
        Ok(Field::Absent)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Field<T>, E> {
        Ok(Field::Absent)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field<T>, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Field<T>, E> {
        Ok(scalar::<T, _>(Kind::Boolean, v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Field<T>, E> {
        Ok(scalar::<T, _>(Kind::Integer, v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Field<T>, E> {
        Ok(scalar::<T, _>(Kind::Integer, v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Field<T>, E> {
        Ok(scalar::<T, _>(Kind::Integer, v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Field<T>, E> {
        Ok(scalar::<T, _>(Kind::String, v))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Field<T>, E> {
        Ok(scalar::<T, _>(Kind::String, v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<T>, A::Error> {
        if !T::KIND.admits(Kind::Array) {
            // Consumed all the same (the deserializer insists), without keeping anything.
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Field::Invalid);
        }
        T::deserialize(SeqAccessDeserializer::new(seq)).map(Field::Given)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field<T>, A::Error> {
        if !T::KIND.admits(Kind::Object) {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Field::Invalid);
        }
        T::deserialize(MapAccessDeserializer::new(map)).map(Field::Given)
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
/// [`xclade_domain::customer_group::MAX_ACTIONS`] actions, each then converted into the
/// domain's action `T` in turn (the first problem in order is reported, a domain rule of one
/// action included).
pub(crate) fn update<A, T>(
    version: Field<WireVersion>,
    actions: Field<Vec<Field<A>>>,
) -> Result<(ExpectedVersion, Vec<T>), ProjectError>
where
    A: Wire,
    T: TryFrom<A, Error = ProjectError>,
{
    let version = version.required("version")?.into();
    let actions = actions.required("actions")?;
    // The domain's rule, checked here as well so that it comes before the actions' own
    // problems, as the family reports them.
    xclade_domain::versioned::check_action_count(actions.len()).map_err(ProjectError::Domain)?;
    let actions = actions.into_iter().map(|a| action(a).and_then(T::try_from)).collect::<Result<_, _>>()?;
    Ok((version, actions))
}

/// One element of `actions`: anything but an object is not an action.
fn action<A: Wire>(item: Field<A>) -> Result<A, ProjectError> {
    match item {
        Field::Given(action) => Ok(action),
        Field::Absent | Field::Invalid => Err(expected("actions", "object")),
    }
}

/// The `action` of an update action, for an action enum's `Deserialize`, which matches it to
/// its variants' DTOs. (The enum's schema is `untagged` with a `discriminator` on `action`, what
/// utoipa documents; serde's tagged form cannot be derived on the same enum.)
pub(crate) fn action_name(action: &Value) -> Option<&str> {
    action.get("action").and_then(Value::as_str)
}

/// Why an object of `actions` that no variant reads is no action: no `action`, an `action` that
/// is not a string, or an unknown one (`Invalid action foo`, InvalidInput).
pub(crate) fn not_an_action(raw: &Value) -> ProjectError {
    match raw.get("action") {
        None | Some(Value::Null) => missing("actions -> action"),
        Some(Value::String(name)) => ProjectError::InvalidInput(format!("Invalid action {name}")),
        Some(_) => expected("actions -> action", "string"),
    }
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

    impl Field<Box<Dto>> {
        fn map_box(self) -> Field<Dto> {
            match self {
                Field::Given(b) => Field::Given(*b),
                Field::Absent => Field::Absent,
                Field::Invalid => Field::Invalid,
            }
        }
    }

    #[test]
    fn fields_record_what_was_sent() {
        let dto: Dto =
            body(&json!({"name": null, "tags": ["a", null, 1], "inner": {"name": 3}, "other": 1})).expect("ok");
        assert_eq!(dto.name, Field::Absent);
        assert_eq!(dto.tags, Field::Given(vec![Field::Given("a".into()), Field::Absent, Field::Invalid]));
        let Field::Given(inner) = dto.inner else { panic!("inner") };
        assert_eq!((inner.name, inner.tags, inner.inner), (Field::Invalid, Field::Absent, Field::Absent));
        // A struct is never read from an array (serde would read it positionally).
        // What is refused is skipped whole: the fields after it are still read.
        let dto: Dto = body(&json!({"inner": ["x", [], null], "tags": {"a": [1]}, "name": "after"})).expect("ok");
        assert_eq!((dto.inner, dto.tags, dto.name), (Field::Invalid, Field::Invalid, Field::Given("after".into())));
        // The same from an owned value (the deferred reads) and through nesting.
        let deep = (0..100).fold(json!({"name": "leaf"}), |inner, _| json!({"inner": inner}));
        let mut dto = Field::<Dto>::of(deep);
        let mut depth = 0;
        while let Field::Given(d) = dto {
            if d.name == Field::Given("leaf".into()) {
                break;
            }
            (dto, depth) = (d.inner.map_box(), depth + 1);
        }
        assert_eq!(depth, 100);
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
