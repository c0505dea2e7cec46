//! What the project-family group routes read and write: the response representations and the
//! request bodies (typed DTOs whose schemas are the documented ones; `parse` converts them).

use super::wire::{self, wire_objects, Field, WireVersion};
use chrono::{DateTime, Utc};
use serde::de::{Deserializer, Error as _, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use xclade_domain::auth::Actor;
use xclade_domain::customer_group::{CustomFields, CustomerGroup};
use xclade_domain::paging::QueryPage;

/// RFC 3339 in UTC with milliseconds and `Z` (`2024-05-01T12:00:00.000Z`).
pub fn timestamp(t: &DateTime<Utc>) -> String {
    crate::rfc3339::millis(t)
}

/// The acting identity as the project family writes it (`createdBy`, `lastModifiedBy`):
/// `{"clientId": …}` or `{"externalUserId": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ActorView {
    /// An API client, by its public client id.
    #[serde(rename = "clientId")]
    Client(String),
    /// An admin user, by its id.
    #[serde(rename = "externalUserId")]
    User(String),
}

impl From<&Actor> for ActorView {
    fn from(a: &Actor) -> Self {
        match a {
            Actor::Client(id) => ActorView::Client(id.clone()),
            Actor::User(id) => ActorView::User(id.clone()),
        }
    }
}

/// The acting identity: exactly one of the two fields.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(as = ProjectActor)]
pub struct ActorDoc {
    /// The API client that acted.
    #[schema(rename = "clientId", nullable = false)]
    client_id: Option<String>,
    /// The admin user that acted.
    #[schema(rename = "externalUserId", nullable = false)]
    external_user_id: Option<String>,
}

/// A reference to a custom type, always by id in responses.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeReference {
    /// Always `type`.
    #[schema(example = "type")]
    pub type_id: &'static str,
    pub id: String,
}

/// The custom fields of a group.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CustomFields)]
pub struct CustomFieldsView {
    #[serde(rename = "type")]
    pub type_ref: TypeReference,
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

impl From<&CustomFields> for CustomFieldsView {
    fn from(c: &CustomFields) -> Self {
        CustomFieldsView {
            type_ref: TypeReference { type_id: "type", id: c.type_id.to_string() },
            fields: c.fields.clone(),
        }
    }
}

/// A customer group of the project family (§3.2). Absent optional fields are omitted.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerGroup)]
pub struct GroupView {
    #[schema(format = Uuid)]
    pub id: String,
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub key: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub custom: Option<CustomFieldsView>,
    #[schema(format = DateTime, example = "2024-05-01T12:00:00.000Z")]
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ActorDoc>, nullable = false)]
    pub created_by: Option<ActorView>,
    #[schema(format = DateTime, example = "2024-05-01T12:00:00.000Z")]
    pub last_modified_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ActorDoc>, nullable = false)]
    pub last_modified_by: Option<ActorView>,
}

impl From<&CustomerGroup> for GroupView {
    fn from(g: &CustomerGroup) -> Self {
        GroupView {
            id: g.id().to_string(),
            version: g.version().get(),
            key: g.key().map(|k| k.as_str().to_owned()),
            name: g.name().as_str().to_owned(),
            custom: g.custom().map(CustomFieldsView::from),
            created_at: timestamp(&g.created_at()),
            created_by: g.created_by().map(ActorView::from),
            last_modified_at: timestamp(&g.last_modified_at()),
            last_modified_by: g.last_modified_by().map(ActorView::from),
        }
    }
}

/// A group that serializes straight from the domain to the JSON of [`GroupView`] (same members,
/// same order), without copying its strings into a `GroupView` first: what a group read, a
/// group write, a page of groups and a group's event write (docs/benchmarks.md, change 34).
/// [`GroupView`] stays the documented schema; a test checks the two write the same text.
#[derive(Clone, Copy)]
pub struct GroupJson<'a>(pub &'a CustomerGroup);

impl Serialize for GroupJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // Every member of GroupView, in its order: a member added to GroupView fails to compile
        // here until it is written below too.
        #[allow(dead_code, unused_variables)]
        fn exhaustive(view: &GroupView) {
            let GroupView {
                id,
                version,
                key,
                name,
                custom,
                created_at,
                created_by,
                last_modified_at,
                last_modified_by,
            } = view;
        }
        let g = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &g.id().0)?;
        map.serialize_entry("version", &g.version().get())?;
        if let Some(key) = g.key() {
            map.serialize_entry("key", key.as_str())?;
        }
        map.serialize_entry("name", g.name().as_str())?;
        if let Some(custom) = g.custom() {
            map.serialize_entry("custom", &CustomJson(custom))?;
        }
        map.serialize_entry("createdAt", &timestamp(&g.created_at()))?;
        if let Some(actor) = g.created_by() {
            map.serialize_entry("createdBy", &ActorJson(actor))?;
        }
        map.serialize_entry("lastModifiedAt", &timestamp(&g.last_modified_at()))?;
        if let Some(actor) = g.last_modified_by() {
            map.serialize_entry("lastModifiedBy", &ActorJson(actor))?;
        }
        map.end()
    }
}

/// [`CustomFieldsView`]'s JSON, borrowed.
struct CustomJson<'a>(&'a CustomFields);

impl Serialize for CustomJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", &TypeRefJson(self.0.type_id.0))?;
        map.serialize_entry("fields", &self.0.fields)?;
        map.end()
    }
}

/// [`TypeReference`]'s JSON.
struct TypeRefJson(uuid::Uuid);

impl Serialize for TypeRefJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("typeId", "type")?;
        map.serialize_entry("id", &self.0)?;
        map.end()
    }
}

/// [`ActorView`]'s JSON, borrowed.
struct ActorJson<'a>(&'a Actor);

impl Serialize for ActorJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self.0 {
            Actor::Client(id) => map.serialize_entry("clientId", id)?,
            Actor::User(id) => map.serialize_entry("externalUserId", id)?,
        }
        map.end()
    }
}

/// A page of groups: `count` is the number of `results`, `total` (omitted when
/// `withTotal=false`) the number of all matches.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CustomerGroupPagedQueryResponse)]
pub struct PageView {
    pub limit: u32,
    pub offset: u32,
    pub count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub total: Option<i64>,
    pub results: Vec<GroupView>,
}

impl PageView {
    pub fn new(limit: u32, offset: u32, page: &QueryPage<CustomerGroup>) -> Self {
        let results: Vec<GroupView> = page.results.iter().map(GroupView::from).collect();
        PageView { limit, offset, count: results.len(), total: page.total, results }
    }
}

/// [`PageView`]'s JSON with each group written by [`GroupJson`] (what the query route answers).
#[derive(Serialize)]
pub struct PageJson<'a> {
    limit: u32,
    offset: u32,
    count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
    results: Groups<'a>,
}

impl<'a> PageJson<'a> {
    pub fn new(limit: u32, offset: u32, page: &'a QueryPage<CustomerGroup>) -> Self {
        PageJson { limit, offset, count: page.results.len(), total: page.total, results: Groups(&page.results) }
    }
}

/// Groups as a JSON array of [`GroupJson`].
struct Groups<'a>(&'a [CustomerGroup]);

impl Serialize for Groups<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(GroupJson))
    }
}

// ------------------------------------------------------------------------------------------
// Request bodies: read with serde into these (see `wire`: every field records what was sent),
// converted into the domain's draft and actions by `parse` (`TryFrom`); their schemas are the
// documented ones.
// ------------------------------------------------------------------------------------------

/// A reference to a custom type by `id` or by `key`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TypeResourceIdentifier)]
pub struct TypeResourceIdentifierDto {
    /// `type` (optional).
    #[schema(value_type = Option<String>, example = "type", pattern = "^type$")]
    pub(crate) type_id: Field<String>,
    /// The type's id; wins over `key` when both are given.
    #[schema(value_type = Option<String>)]
    pub(crate) id: Field<String>,
    #[schema(value_type = Option<String>)]
    pub(crate) key: Field<String>,
}

/// Custom fields of a draft: the type and the field values.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CustomFieldsDraft)]
pub struct CustomFieldsDraftDto {
    #[serde(rename = "type")]
    #[schema(value_type = TypeResourceIdentifierDto)]
    pub(crate) type_ref: Field<TypeResourceIdentifierDto>,
    #[schema(value_type = Option<Object>)]
    pub(crate) fields: Field<Map<String, Value>>,
}

/// The body of a create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerGroupDraft)]
pub struct GroupDraftDto {
    /// Unique in the project (exact, case-sensitive), 1–256 characters.
    #[schema(value_type = String, example = "Gold", min_length = 1, max_length = 256)]
    pub(crate) group_name: Field<String>,
    /// `^[A-Za-z0-9_-]+$`, 2–256 characters, unique in the project.
    #[schema(value_type = Option<String>, example = "gold", pattern = "^[A-Za-z0-9_-]{2,256}$")]
    pub(crate) key: Field<String>,
    #[schema(value_type = Option<CustomFieldsDraftDto>)]
    pub(crate) custom: Field<CustomFieldsDraftDto>,
}

/// `changeName`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CustomerGroupChangeNameAction)]
pub struct ChangeNameDto {
    #[schema(value_type = String, example = "changeName", pattern = "^changeName$")]
    #[serde(rename = "action")]
    _action: IgnoredAny,
    #[schema(value_type = String, min_length = 1, max_length = 256)]
    pub(crate) name: Field<String>,
}

/// `setKey`: an absent or null `key` removes the key.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CustomerGroupSetKeyAction)]
pub struct SetKeyDto {
    #[schema(value_type = String, example = "setKey", pattern = "^setKey$")]
    #[serde(rename = "action")]
    _action: IgnoredAny,
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]{2,256}$")]
    pub(crate) key: Field<String>,
}

/// `setCustomType`: an absent `type` removes the type and all fields; a present one replaces both.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CustomerGroupSetCustomTypeAction)]
pub struct SetCustomTypeDto {
    #[schema(value_type = String, example = "setCustomType", pattern = "^setCustomType$")]
    #[serde(rename = "action")]
    _action: IgnoredAny,
    #[serde(rename = "type")]
    #[schema(value_type = Option<TypeResourceIdentifierDto>)]
    pub(crate) type_ref: Field<TypeResourceIdentifierDto>,
    #[schema(value_type = Option<Object>)]
    pub(crate) fields: Field<Map<String, Value>>,
}

/// `setCustomField`: an absent or null `value` removes the field (which must be set).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CustomerGroupSetCustomFieldAction)]
pub struct SetCustomFieldDto {
    #[schema(value_type = String, example = "setCustomField", pattern = "^setCustomField$")]
    #[serde(rename = "action")]
    _action: IgnoredAny,
    #[schema(value_type = String)]
    pub(crate) name: Field<String>,
    #[schema(value_type = Option<Object>)]
    pub(crate) value: Field<Value>,
}

/// One update action, told apart by `action`.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
#[schema(as = CustomerGroupUpdateAction, discriminator(property_name = "action", mapping(
    ("changeName" = "#/components/schemas/CustomerGroupChangeNameAction"),
    ("setKey" = "#/components/schemas/CustomerGroupSetKeyAction"),
    ("setCustomType" = "#/components/schemas/CustomerGroupSetCustomTypeAction"),
    ("setCustomField" = "#/components/schemas/CustomerGroupSetCustomFieldAction"),
)))]
pub enum GroupActionDto {
    ChangeName(ChangeNameDto),
    SetKey(SetKeyDto),
    SetCustomType(SetCustomTypeDto),
    SetCustomField(SetCustomFieldDto),
    /// An object of `actions` that is none of these (no `action`, or an unknown one), kept to
    /// say why (`wire::not_an_action`); not in the schema.
    #[serde(skip)]
    NotAnAction(Value),
}

impl<'de> Deserialize<'de> for GroupActionDto {
    /// By `action` (see [`wire::action_name`]); the object is read once, then as its action.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let action = match wire::action_name(&value) {
            Some("changeName") => ChangeNameDto::deserialize(&value).map(GroupActionDto::ChangeName),
            Some("setKey") => SetKeyDto::deserialize(&value).map(GroupActionDto::SetKey),
            Some("setCustomType") => SetCustomTypeDto::deserialize(&value).map(GroupActionDto::SetCustomType),
            Some("setCustomField") => SetCustomFieldDto::deserialize(&value).map(GroupActionDto::SetCustomField),
            _ => return Ok(GroupActionDto::NotAnAction(value)),
        };
        action.map_err(D::Error::custom)
    }
}

/// The body of an update: the expected version and up to 500 actions, applied atomically in order.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CustomerGroupUpdate)]
pub struct GroupUpdateDto {
    /// The group's current version; another one answers 409 ConcurrentModification.
    #[schema(value_type = i64)]
    pub(crate) version: Field<WireVersion>,
    #[schema(value_type = Vec<GroupActionDto>, max_items = 500)]
    pub(crate) actions: Field<Vec<Field<GroupActionDto>>>,
}

wire_objects!(TypeResourceIdentifierDto, CustomFieldsDraftDto, GroupDraftDto, GroupActionDto, GroupUpdateDto);

/// One error of the project family's envelope; some codes carry extra fields
/// (`detailedErrorMessage`, `field`, `duplicateValue`, `currentVersion`, …).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(as = ProjectErrorObject)]
pub struct ErrorObjectDoc {
    #[schema(example = "InvalidInput")]
    code: String,
    message: String,
    #[schema(rename = "detailedErrorMessage")]
    detailed_error_message: Option<String>,
}

/// The project family's error envelope (§3.1).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(as = ProjectErrorResponse)]
pub struct ErrorResponseDoc {
    #[schema(rename = "statusCode", example = 400)]
    status_code: u16,
    message: String,
    errors: Vec<ErrorObjectDoc>,
    /// Auth errors only: `invalid_token` or `insufficient_scope`.
    error: Option<String>,
    /// Auth errors only.
    error_description: Option<String>,
}

// The answers many operations of the family share, documented once; an operation lists its own
// answers next to the sets that apply to it.

/// 401: the token is missing, malformed or expired.
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "invalid_token")]
#[allow(dead_code)]
pub struct InvalidToken(ErrorResponseDoc);

/// 404: the addressed resource does not exist.
#[derive(utoipa::IntoResponses)]
#[response(status = 404, description = "ResourceNotFound")]
#[allow(dead_code)]
pub struct NotFound(ErrorResponseDoc);

/// 413: the body is larger than the configured limit.
#[derive(utoipa::IntoResponses)]
#[response(status = 413, description = "The body is larger than the limit")]
#[allow(dead_code)]
pub struct TooLarge(ErrorResponseDoc);

/// 500 and 503: every operation may fail, the database too.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ServerErrors {
    #[response(status = 500, description = "General")]
    General(ErrorResponseDoc),
    #[response(status = 503, description = "General: the database is unavailable")]
    Unavailable(ErrorResponseDoc),
}

/// The failures of a HEAD operation that are not its own (a HEAD answer has no body).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum HeadErrors {
    #[response(status = 401, description = "invalid_token (no body)")]
    InvalidToken,
    #[response(status = 403, description = "insufficient_scope (no body)")]
    InsufficientScope,
    #[response(status = 500, description = "General (no body)")]
    General,
    #[response(status = 503, description = "General: the database is unavailable (no body)")]
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;
    use xclade_domain::customer_group::{GroupKey, GroupName, Version};
    use xclade_domain::metadata::Metadata;
    use xclade_domain::{GroupId, TypeId};

    fn group() -> CustomerGroup {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid")
            + chrono::Duration::microseconds(123_456);
        CustomerGroup::from_parts(xclade_domain::customer_group::CustomerGroupParts {
            id: GroupId(uuid::Uuid::from_u128(1)),
            version: Version::new(2).unwrap(),
            key: None,
            name: GroupName::parse("name", "Gold").expect("valid"),
            custom: None,
            metadata: Metadata::default(),
            created_at: t,
            created_by: None,
            last_modified_at: t,
            last_modified_by: None,
        })
    }

    #[test]
    fn minimal_group_omits_optionals() {
        let v = serde_json::to_value(GroupView::from(&group())).expect("json");
        assert_eq!(
            v,
            json!({
                "id": "00000000-0000-0000-0000-000000000001",
                "version": 2,
                "name": "Gold",
                "createdAt": "2024-05-01T12:00:00.123Z",
                "lastModifiedAt": "2024-05-01T12:00:00.123Z",
            })
        );
    }

    fn full() -> CustomerGroup {
        let mut g = group().into_parts();
        g.key = Some(GroupKey::parse("gold").expect("valid"));
        g.custom = Some(CustomFields {
            type_id: TypeId(uuid::Uuid::from_u128(9)),
            fields: [("tier".to_owned(), json!(3)), ("note".to_owned(), json!("a \"q\" \u{e9}"))].into_iter().collect(),
        });
        g.created_by = Some(Actor::User("u0".into()));
        g.last_modified_by = Some(Actor::Client("cli".into()));
        CustomerGroup::from_parts(g)
    }

    #[test]
    fn group_json_writes_the_text_of_group_view() {
        for g in [group(), full()] {
            let text = serde_json::to_string(&GroupJson(&g)).expect("json");
            assert_eq!(text, serde_json::to_string(&GroupView::from(&g)).expect("json"));
        }
        let page = QueryPage { results: vec![group(), full()], total: Some(7) };
        for total in [Some(7), None] {
            let page = QueryPage { total, ..page.clone() };
            assert_eq!(
                serde_json::to_string(&PageJson::new(20, 40, &page)).expect("json"),
                serde_json::to_string(&PageView::new(20, 40, &page)).expect("json")
            );
        }
    }

    #[test]
    fn full_group() {
        let mut g = group().into_parts();
        g.key = Some(GroupKey::parse("gold").expect("valid"));
        g.custom = Some(CustomFields {
            type_id: TypeId(uuid::Uuid::from_u128(9)),
            fields: [("tier".to_owned(), json!(3))].into_iter().collect(),
        });
        g.created_by = Some(Actor::Client("cli".into()));
        g.last_modified_by = Some(Actor::User("u1".into()));
        g.last_modified_at = Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).single().expect("valid");
        g.metadata = Metadata::parse([("secret".to_owned(), json!("x"))].into_iter().collect()).expect("valid");
        let g = CustomerGroup::from_parts(g);
        let v = serde_json::to_value(GroupView::from(&g)).expect("json");
        assert_eq!(
            v,
            json!({
                "id": "00000000-0000-0000-0000-000000000001",
                "version": 2,
                "key": "gold",
                "name": "Gold",
                "custom": {"type": {"typeId": "type", "id": "00000000-0000-0000-0000-000000000009"}, "fields": {"tier": 3}},
                "createdAt": "2024-05-01T12:00:00.123Z",
                "createdBy": {"clientId": "cli"},
                "lastModifiedAt": "2024-05-02T00:00:00.000Z",
                "lastModifiedBy": {"externalUserId": "u1"},
            })
        );
    }

    #[test]
    fn pages() {
        let page = QueryPage { results: vec![group(), group()], total: Some(7) };
        let v = serde_json::to_value(PageView::new(2, 4, &page)).expect("json");
        assert_eq!(
            (v["limit"].clone(), v["offset"].clone(), v["count"].clone(), v["total"].clone()),
            (json!(2), json!(4), json!(2), json!(7))
        );
        assert_eq!(v["results"].as_array().map(Vec::len), Some(2));
        let page = QueryPage { results: vec![], total: None };
        let v = serde_json::to_value(PageView::new(20, 0, &page)).expect("json");
        assert_eq!(v, json!({"limit": 20, "offset": 0, "count": 0, "results": []}));
    }
}
