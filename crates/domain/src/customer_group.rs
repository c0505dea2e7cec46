//! Customer groups: shared by both families, versioned, with update actions (§3.2, §3.3).

use crate::auth::Actor;
use crate::error::{DomainError, Refusal, TextKind, Violation};
use crate::ids::{GroupId, TypeId};
use crate::metadata::Metadata;
use crate::versioned::replace;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// Default maximum number of groups per project.
pub const DEFAULT_MAX_GROUPS: u32 = 1000;
/// Most update actions in one request.
pub const MAX_ACTIONS: usize = 500;
/// The longest group name, in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// A group name: non-empty, at most 256 characters, unique per project (exact).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct GroupName(String);

impl GroupName {
    /// Parses a name given in the input field `field` (named in the error).
    pub fn parse(field: &str, s: &str) -> Result<Self, DomainError> {
        if s.is_empty() {
            return Err(DomainError::invalid_field(field, Violation::Empty));
        }
        if s.chars().count() > MAX_NAME_CHARS {
            return Err(DomainError::invalid_field(field, Violation::TooLong { max_chars: MAX_NAME_CHARS }));
        }
        // PostgreSQL text cannot hold U+0000: refuse it here rather than fail in the database.
        if s.contains('\0') {
            return Err(DomainError::invalid_field(field, Violation::ContainsNul { kind: TextKind::GroupName }));
        }
        Ok(GroupName(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user-defined key: `^[A-Za-z0-9_-]+$`, 2–256 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct GroupKey(String);

impl GroupKey {
    /// Parses a key.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let valid =
            (2..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(DomainError::invalid_field("key", Violation::InvalidKey { key: s.to_owned() }));
        }
        Ok(GroupKey(s.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The version of a versioned resource (a group or a type): [`Version::INITIAL`] (1) when it
/// is created, grown by one per update action that changed something. A version is never
/// below 1; a stored value is read back through [`Version::new`].
///
/// ```
/// use xclade_domain::customer_group::Version;
///
/// let v = Version::INITIAL.advanced_by(2);
/// assert_eq!((v.get(), v.next().get()), (3, 4));
/// assert_eq!(Version::new(3), Some(v));
/// assert_eq!(Version::new(0), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Version(i64);

impl Version {
    /// The version of a resource when it is created: 1.
    pub const INITIAL: Version = Version(1);

    /// A version read back from storage (or anywhere else a resource's own version comes
    /// from): `None` below 1, which no resource can have.
    pub const fn new(value: i64) -> Option<Version> {
        if value >= 1 {
            Some(Version(value))
        } else {
            None
        }
    }

    /// The version as a number.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// The version after one more effective change.
    pub const fn next(self) -> Version {
        self.advanced_by(1)
    }

    /// The version after `changes` more effective changes (it stays at `i64::MAX` rather than
    /// overflow, which no count of real changes reaches).
    pub const fn advanced_by(self, changes: u32) -> Version {
        Version(self.0.saturating_add(changes as i64))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The version a client based a change on, as it sent it: any integer. It is a claim, not a
/// resource's version, so it may name one no resource has (`0`, `-1`, a future one); comparing
/// it with the current [`Version`] is what refuses it, with
/// [`DomainError::VersionConflict`] naming both.
///
/// ```
/// use xclade_domain::customer_group::{ExpectedVersion, Version};
///
/// assert!(ExpectedVersion::new(1).matches(Version::INITIAL));
/// assert!(!ExpectedVersion::new(0).matches(Version::INITIAL));
/// assert_eq!(ExpectedVersion::from(Version::INITIAL.next()).get(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpectedVersion(i64);

impl ExpectedVersion {
    /// The version a client sent.
    pub const fn new(value: i64) -> ExpectedVersion {
        ExpectedVersion(value)
    }

    /// The version as sent.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Whether the resource is at this version.
    pub const fn matches(self, current: Version) -> bool {
        self.0 == current.0
    }
}

impl From<Version> for ExpectedVersion {
    fn from(version: Version) -> ExpectedVersion {
        ExpectedVersion(version.0)
    }
}

/// Custom fields of a resource: the type (always by id) and the values.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomFields {
    /// The type that defines the fields.
    pub type_id: TypeId,
    /// The field values, by field name.
    pub fields: Map<String, Value>,
}

/// A customer group.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerGroup {
    /// The id of the group.
    id: GroupId,
    /// Its version: 1 when created, grown by every effective update action.
    version: Version,
    /// Its optional key, unique per project.
    key: Option<GroupKey>,
    /// Its name, unique per project.
    name: GroupName,
    /// Its custom fields, if it has a custom type.
    custom: Option<CustomFields>,
    /// Its metadata (admin family).
    metadata: Metadata,
    /// When it was created.
    created_at: DateTime<Utc>,
    /// Who created it.
    created_by: Option<Actor>,
    /// When it last changed.
    last_modified_at: DateTime<Utc>,
    /// Who last changed it.
    last_modified_by: Option<Actor>,
}

/// Every field of a [`CustomerGroup`], in the validated types: what an adapter hands to
/// [`CustomerGroup::from_parts`] when it loads a stored group, and what [`CustomerGroup::into_parts`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerGroupParts {
    /// The id of the group.
    pub id: GroupId,
    /// Its version: 1 when created, grown by every effective update action.
    pub version: Version,
    /// Its optional key, unique per project.
    pub key: Option<GroupKey>,
    /// Its name, unique per project.
    pub name: GroupName,
    /// Its custom fields, if it has a custom type.
    pub custom: Option<CustomFields>,
    /// Its metadata (admin family).
    pub metadata: Metadata,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: Option<Actor>,
    /// When it last changed.
    pub last_modified_at: DateTime<Utc>,
    /// Who last changed it.
    pub last_modified_by: Option<Actor>,
}

impl CustomerGroup {
    /// Records that its members changed at `at`, by `by`: the version grows by one (once per
    /// request, whatever the number of members that changed).
    pub fn record_membership_change(&mut self, at: DateTime<Utc>, by: &Actor) {
        self.version = self.version.next();
        self.last_modified_at = at;
        self.last_modified_by = Some(by.clone());
    }

    /// Builds a group from its parts (each already valid by its type).
    pub fn from_parts(parts: CustomerGroupParts) -> CustomerGroup {
        let CustomerGroupParts {
            id,
            version,
            key,
            name,
            custom,
            metadata,
            created_at,
            created_by,
            last_modified_at,
            last_modified_by,
        } = parts;
        CustomerGroup {
            id,
            version,
            key,
            name,
            custom,
            metadata,
            created_at,
            created_by,
            last_modified_at,
            last_modified_by,
        }
    }

    /// Takes the group apart, to change what the rules leave to an adapter and build it again.
    pub fn into_parts(self) -> CustomerGroupParts {
        let CustomerGroup {
            id,
            version,
            key,
            name,
            custom,
            metadata,
            created_at,
            created_by,
            last_modified_at,
            last_modified_by,
        } = self;
        CustomerGroupParts {
            id,
            version,
            key,
            name,
            custom,
            metadata,
            created_at,
            created_by,
            last_modified_at,
            last_modified_by,
        }
    }

    /// The id of the group.
    pub fn id(&self) -> GroupId {
        self.id
    }

    /// Its version: 1 when created, grown by every effective update action.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Its optional key, unique per project.
    pub fn key(&self) -> Option<&GroupKey> {
        self.key.as_ref()
    }

    /// Its name, unique per project.
    pub fn name(&self) -> &GroupName {
        &self.name
    }

    /// Its custom fields, if it has a custom type.
    pub fn custom(&self) -> Option<&CustomFields> {
        self.custom.as_ref()
    }

    /// Its metadata (admin family).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Who created it.
    pub fn created_by(&self) -> Option<&Actor> {
        self.created_by.as_ref()
    }

    /// When it last changed.
    pub fn last_modified_at(&self) -> DateTime<Utc> {
        self.last_modified_at
    }

    /// Who last changed it.
    pub fn last_modified_by(&self) -> Option<&Actor> {
        self.last_modified_by.as_ref()
    }
}

/// A reference to a custom type, by id or by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    /// By id.
    Id(String),
    /// By key.
    Key(String),
}

/// A validated create of a group (project draft or admin body).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDraft {
    /// The name.
    pub name: GroupName,
    /// The optional key.
    pub key: Option<GroupKey>,
    /// Custom fields, with their type still to resolve.
    pub custom: Option<CustomDraft>,
    /// The metadata.
    pub metadata: Metadata,
}

/// `custom` of a draft or of `setCustomType`: a type reference and the field values.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomDraft {
    /// The type, by id or key.
    pub type_ref: TypeRef,
    /// The field values, by field name.
    pub fields: Map<String, Value>,
}

/// One update action, validated but not yet applied.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupAction {
    /// Renames the group.
    ChangeName(GroupName),
    /// Sets (`Some`) or removes (`None`) the key.
    SetKey(Option<GroupKey>),
    /// `None` removes the type and all fields. The type must have been resolved to
    /// [`ResolvedCustom`] before applying.
    SetCustomType(Option<CustomDraft>),
    /// Sets (`Some`) or removes (`None`) one custom field.
    SetCustomField {
        /// The field name.
        name: String,
        /// The new value, or `None` to remove it.
        value: Option<Value>,
    },
    /// Admin family: replaces metadata (already merged by the caller).
    SetMetadata(Metadata),
}

/// A custom draft whose type has been resolved and whose fields have been validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedCustom(pub Option<CustomFields>);

/// An action ready to apply: custom types already resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedAction {
    /// Renames the group.
    ChangeName(GroupName),
    /// Sets (`Some`) or removes (`None`) the key.
    SetKey(Option<GroupKey>),
    /// Sets (`Some`) or removes (`None`) the custom type and its fields.
    SetCustomType(Option<CustomFields>),
    /// The value was validated against the group's type by the caller.
    SetCustomField {
        /// The field name.
        name: String,
        /// The new value, or `None` to remove it.
        value: Option<Value>,
    },
    /// Replaces the metadata.
    SetMetadata(Metadata),
}

impl CustomerGroup {
    /// Applies one action; returns whether it changed the group.
    pub fn apply(&mut self, action: &ResolvedAction) -> Result<bool, DomainError> {
        Ok(match action {
            ResolvedAction::ChangeName(name) => replace(&mut self.name, name.clone()),
            ResolvedAction::SetKey(key) => replace(&mut self.key, key.clone()),
            ResolvedAction::SetCustomType(custom) => replace(&mut self.custom, custom.clone()),
            ResolvedAction::SetMetadata(m) => replace(&mut self.metadata, m.clone()),
            ResolvedAction::SetCustomField { name, value } => {
                let custom = self
                    .custom
                    .as_mut()
                    .ok_or_else(|| DomainError::InvalidOperation(Refusal::NoCustomType { field: name.clone() }))?;
                match value {
                    Some(v) => custom.fields.insert(name.clone(), v.clone()).as_ref() != Some(v),
                    None => {
                        if custom.fields.remove(name).is_none() {
                            return Err(DomainError::InvalidOperation(Refusal::CustomFieldNotSet {
                                field: name.clone(),
                            }));
                        }
                        true
                    }
                }
            }
        })
    }

    /// Applies actions in order, all or nothing. Returns the new group, with its version
    /// grown by the number of actions that changed something, and that number.
    pub fn apply_all(
        &self,
        actions: &[ResolvedAction],
        at: DateTime<Utc>,
        by: &Actor,
    ) -> Result<(CustomerGroup, i64), DomainError> {
        crate::versioned::apply_all(self, actions, at, by)
    }
}

impl crate::versioned::Versioned for CustomerGroup {
    type Action = ResolvedAction;

    fn id_text(&self) -> String {
        self.id.to_string()
    }

    fn version(&self) -> Version {
        self.version
    }

    fn apply_action(&mut self, action: &ResolvedAction) -> Result<bool, DomainError> {
        self.apply(action)
    }

    fn touch(&mut self, version: Version, at: DateTime<Utc>, by: &Actor) {
        self.version = version;
        self.last_modified_at = at;
        self.last_modified_by = Some(by.clone());
    }
}

/// The type a group's custom fields were validated against, at the version that was read.
///
/// A group write carries it so that the adapter need not validate again: it only compares the
/// type's current version with this one (under a lock that orders the write with type saves)
/// and refuses a stale one with a [`DomainError::VersionConflict`] naming the type, after which
/// the service reads the type again and validates again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedType {
    /// The type.
    pub id: TypeId,
    /// Its version when the fields were validated against it.
    pub version: Version,
}

impl CheckedType {
    /// Whether `error` says that this type has changed since it was read.
    pub fn is_stale(&self, error: &DomainError) -> bool {
        matches!(error, DomainError::VersionConflict { id, .. } if *id == self.id.to_string())
    }
}

impl CustomerGroup {
    /// The admin family's partial update as update actions on this group: `name` renames it,
    /// `metadata` is merged shallowly into the current metadata (a key set to `""` is removed).
    pub fn admin_actions(
        &self,
        name: Option<&GroupName>,
        metadata: Option<&Metadata>,
    ) -> Result<Vec<ResolvedAction>, DomainError> {
        let mut actions = Vec::with_capacity(2);
        if let Some(name) = name {
            actions.push(ResolvedAction::ChangeName(name.clone()));
        }
        if let Some(patch) = metadata {
            actions.push(ResolvedAction::SetMetadata(self.metadata.merged(patch)?));
        }
        Ok(actions)
    }
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn group() -> CustomerGroup {
        let t = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
        CustomerGroup {
            id: GroupId(uuid::Uuid::nil()),
            version: Version::new(1).unwrap(),
            key: None,
            name: GroupName::parse("name", "Gold").expect("valid"),
            custom: None,
            metadata: Metadata::default(),
            created_at: t,
            created_by: None,
            last_modified_at: t,
            last_modified_by: None,
        }
    }

    fn name(s: &str) -> GroupName {
        GroupName::parse("name", s).expect("valid")
    }

    fn actor() -> Actor {
        Actor::Client("c".into())
    }

    #[test]
    fn names_refuse_nul() {
        let err = GroupName::parse("groupName", "Gold\0").expect_err("NUL");
        assert!(
            matches!(
                &err,
                DomainError::Validation {
                    field: Some(f),
                    violation: Violation::ContainsNul { kind: TextKind::GroupName }
                } if f == "groupName"
            ),
            "{err:?}"
        );
        assert!(GroupName::parse("name", "Gold \u{1F389}").is_ok());
    }

    #[test]
    fn same_name_leaves_version() {
        let (g, n) = group().apply_all(&[ResolvedAction::ChangeName(name("Gold"))], Utc::now(), &actor()).expect("ok");
        assert_eq!((g.version, n), (Version::new(1).unwrap(), 0));
    }

    #[test]
    fn each_effective_action_counts() {
        let actions = [
            ResolvedAction::ChangeName(name("a")),
            ResolvedAction::ChangeName(name("b")),
            ResolvedAction::SetKey(Some(GroupKey::parse("kk").expect("valid"))),
        ];
        let (g, n) = group().apply_all(&actions, Utc::now(), &actor()).expect("ok");
        assert_eq!((g.version, n, g.name.as_str()), (Version::new(4).unwrap(), 3, "b"));
    }

    #[test]
    fn failing_action_applies_nothing() {
        let original = group();
        let actions =
            [ResolvedAction::ChangeName(name("a")), ResolvedAction::SetCustomField { name: "x".into(), value: None }];
        assert!(original.apply_all(&actions, Utc::now(), &actor()).is_err());
        assert_eq!(original.version, Version::new(1).unwrap());
    }

    #[test]
    fn custom_field_set_and_remove() {
        let mut g = group();
        g.custom = Some(CustomFields { type_id: TypeId(uuid::Uuid::nil()), fields: Map::new() });
        let set = ResolvedAction::SetCustomField { name: "n".into(), value: Some(json!(1)) };
        assert!(g.apply(&set).expect("ok"));
        assert!(!g.apply(&set).expect("ok"), "setting the same value is a no-op");
        let remove = ResolvedAction::SetCustomField { name: "n".into(), value: None };
        assert!(g.apply(&remove).expect("ok"));
        assert!(matches!(g.apply(&remove), Err(DomainError::InvalidOperation(_))));
    }

    #[test]
    fn admin_patch_merges_metadata_and_counts_changes() {
        let mut base = group();
        base.metadata = Metadata::parse(serde_json::Map::from_iter([("a".to_owned(), json!(1))])).expect("valid");
        let metadata =
            Metadata::parse(serde_json::Map::from_iter([("a".to_owned(), json!("")), ("b".to_owned(), json!(2))]))
                .expect("valid");
        let actions = base.admin_actions(Some(&name("Gold")), Some(&metadata)).expect("ok");
        let (g, n) = base.apply_all(&actions, Utc::now(), &actor()).expect("ok");
        assert_eq!((n, g.version), (1, Version::new(2).unwrap()), "same name is a no-op, metadata changed");
        assert_eq!(serde_json::Value::Object(g.metadata.into_map()), json!({"b": 2}));
    }

    #[test]
    fn keys() {
        assert!(GroupKey::parse("ab").is_ok());
        assert!(GroupKey::parse("a").is_err());
        assert!(GroupKey::parse("a b").is_err());
        assert!(GroupKey::parse(&"k".repeat(257)).is_err());
    }
}
