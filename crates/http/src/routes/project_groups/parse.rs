//! The pure part of the project-family group routes: query parameters, and the typed bodies
//! (`dto`) converted into drafts and update actions, with the family's error messages (§3.1,
//! §3.3, §3.4).

use super::dto::{GroupActionDto, GroupDraftDto, GroupUpdateDto, TypeResourceIdentifierDto};
use super::wire::{self, join, Field};
use crate::error::ProjectError;
use crate::query::QueryPairs;
use serde_json::{Map, Value};
use std::collections::HashMap;
use xclade_domain::customer_group::{
    CustomDraft, ExpectedVersion, GroupAction, GroupDraft, GroupKey, GroupName, TypeRef,
};
use xclade_domain::metadata::Metadata;
use xclade_domain::paging::{GroupQuery, Sort, DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT, MAX_QUERY_OFFSET};
use xclade_domain::predicate;

/// Plain fields of a group usable in `where`.
pub const PLAIN_FIELDS: &[&str] = &["id", "key", "name", "version", "createdAt", "lastModifiedAt"];
/// Fields compared as numbers.
pub const NUMERIC_FIELDS: &[&str] = &["version"];
/// Fields compared as date-times.
pub const DATETIME_FIELDS: &[&str] = &["createdAt", "lastModifiedAt"];

// ------------------------------------------------------------------------------------------
// Query parameters
// ------------------------------------------------------------------------------------------

fn malformed(param: &str, detail: impl std::fmt::Display) -> ProjectError {
    ProjectError::InvalidInput(format!("Malformed parameter: {param}: {detail}"))
}

/// A whole number in `0..=max`.
fn bounded(param: &str, raw: &str, max: u32) -> Result<u32, ProjectError> {
    let ok = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<u32>() {
        Ok(n) if ok && n <= max => Ok(n),
        _ => Err(malformed(param, format!("Expected a whole number between 0 and {max}, got '{raw}'."))),
    }
}

/// `withTotal`: `true`, `True`, `false` or `False`.
fn with_total(raw: &str) -> Result<bool, ProjectError> {
    match raw {
        "true" | "True" => Ok(true),
        "false" | "False" => Ok(false),
        _ => Err(malformed("withTotal", format!("Expected 'true' or 'false', got '{raw}'."))),
    }
}

/// The `var.<name>` parameters, each with all its values in order.
fn variables(pairs: &QueryPairs) -> HashMap<String, Vec<String>> {
    let mut vars: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs.iter() {
        if let Some(name) = k.strip_prefix("var.") {
            vars.entry(name.to_owned()).or_default().push(v.to_owned());
        }
    }
    vars
}

/// What a resource's `where` may name (groups: [`GROUP_QUERY`]).
#[derive(Debug, Clone, Copy)]
pub struct QueryFields {
    pub plain: &'static [&'static str],
    /// Fields compared as numbers.
    pub numeric: &'static [&'static str],
    /// Fields compared as date-times.
    pub datetime: &'static [&'static str],
    /// Whether `custom(fields(…))` is allowed.
    pub custom: bool,
}

/// The query fields of customer groups.
pub const GROUP_QUERY: QueryFields =
    QueryFields { plain: PLAIN_FIELDS, numeric: NUMERIC_FIELDS, datetime: DATETIME_FIELDS, custom: true };

/// The `where` parameters, AND-ed, bound and type-checked.
fn predicate(pairs: &QueryPairs, fields: &QueryFields) -> Result<Option<predicate::Expr>, ProjectError> {
    let wheres: Vec<String> = pairs.all("where").map(str::to_owned).collect();
    if wheres.is_empty() {
        return Ok(None);
    }
    let bad = |e: predicate::PredicateError| malformed("where", e);
    let Some(expr) = predicate::parse_all(&wheres, fields.plain, fields.custom).map_err(bad)? else {
        return Ok(None);
    };
    // Variables compared with `version` become numbers (`version = :v` with `var.v=3`).
    let expr = predicate::bind_typed(expr, &variables(pairs), fields.numeric).map_err(bad)?;
    predicate::check_types(&expr, fields.numeric, fields.datetime).map_err(bad)?;
    refuse_nul(&expr)?;
    Ok(Some(expr))
}

/// PostgreSQL text cannot hold U+0000: a string with it could match nothing, and binding it
/// would fail in the database (a 500), so it is refused like any other malformed value.
/// (The tree is shallow whatever the input, see [`predicate::Expr`].)
fn refuse_nul(expr: &predicate::Expr) -> Result<(), ProjectError> {
    use predicate::{Expr, Value};
    let check = |value: &Value| match value {
        Value::Str(s) if s.contains('\0') => {
            Err(malformed("where", "String values must not contain the character U+0000."))
        }
        _ => Ok(()),
    };
    match expr {
        Expr::And(operands) | Expr::Or(operands) => operands.iter().try_for_each(refuse_nul),
        Expr::Not(inner) => refuse_nul(inner),
        Expr::Cmp { value, .. } => check(value),
        Expr::In { values, .. } => values.iter().try_for_each(check),
        Expr::Defined { .. } => Ok(()),
    }
}

/// Reads `where`, `var.*`, `sort`, `limit`, `offset` and `withTotal` (last value wins for the
/// single-valued ones); anything else (`expand`, …) is ignored.
pub fn group_query(pairs: &QueryPairs) -> Result<GroupQuery, ProjectError> {
    resource_query(pairs, &GROUP_QUERY)
}

/// [`group_query`] for any resource of the family, with its own `where` fields.
pub fn resource_query(pairs: &QueryPairs, fields: &QueryFields) -> Result<GroupQuery, ProjectError> {
    let limit = pairs
        .last("limit")
        .map(|raw| bounded("limit", raw, MAX_QUERY_LIMIT))
        .transpose()?
        .unwrap_or(DEFAULT_QUERY_LIMIT);
    let offset = pairs.last("offset").map(|raw| bounded("offset", raw, MAX_QUERY_OFFSET)).transpose()?.unwrap_or(0);
    let with_total = pairs.last("withTotal").map(with_total).transpose()?.unwrap_or(true);
    let sort = pairs.all("sort").map(Sort::parse).collect::<Result<Vec<_>, _>>()?;
    let predicate = predicate(pairs, fields)?;
    Ok(GroupQuery { predicate, sort, limit, offset, with_total })
}

/// The `version` query parameter of a delete.
pub fn delete_version(pairs: &QueryPairs) -> Result<ExpectedVersion, ProjectError> {
    let raw = pairs.last("version").ok_or_else(|| ProjectError::InvalidOperation("Missing version number".into()))?;
    raw.parse::<i64>()
        .ok()
        .filter(|_| !raw.starts_with('+'))
        .map(ExpectedVersion::new)
        .ok_or_else(|| malformed("version", format!("Expected a whole number, got '{raw}'.")))
}

// ------------------------------------------------------------------------------------------
// JSON bodies: the DTOs (`dto`) converted into the domain's draft and actions, field by field
// in order, with the family's messages (see `wire`).
// ------------------------------------------------------------------------------------------

/// A `TypeResourceIdentifier`: `{"typeId": "type", "id": …}` or `{…, "key": …}`; `id` wins when
/// both are given.
fn type_ref(dto: TypeResourceIdentifierDto, path: &str) -> Result<TypeRef, ProjectError> {
    let type_id_path = join(path, "typeId");
    if let Some(type_id) = dto.type_id.optional(&type_id_path)? {
        if type_id != "type" {
            return Err(ProjectError::InvalidJson(format!(
                "{type_id_path}: Invalid value '{type_id}', expected 'type'."
            )));
        }
    }
    if let Some(id) = dto.id.optional(&join(path, "id"))? {
        return Ok(TypeRef::Id(id));
    }
    if let Some(key) = dto.key.optional(&join(path, "key"))? {
        return Ok(TypeRef::Key(key));
    }
    Err(ProjectError::InvalidJson(format!("{path}: Either 'id' or 'key' must be set.")))
}

/// `type` (required) and `fields` (optional) of a `CustomFieldsDraft` or of
/// `setCustomType`, whose fields are at `path`.
fn custom_draft(
    type_ref_field: Field<TypeResourceIdentifierDto>,
    fields: Field<Map<String, Value>>,
    path: &str,
) -> Result<CustomDraft, ProjectError> {
    let type_path = join(path, "type");
    let type_ref = type_ref(type_ref_field.required(&type_path)?, &type_path)?;
    let fields = fields.optional(&join(path, "fields"))?.unwrap_or_default();
    Ok(CustomDraft { type_ref, fields })
}

/// A `CustomerGroupDraft` (`groupName`, `key`?, `custom`?); unknown fields are ignored.
impl TryFrom<GroupDraftDto> for GroupDraft {
    type Error = ProjectError;

    fn try_from(dto: GroupDraftDto) -> Result<Self, ProjectError> {
        let name = dto.group_name.required("groupName")?;
        let key = dto.key.optional("key")?;
        let custom = match dto.custom.optional("custom")? {
            None => None,
            Some(custom) => Some(custom_draft(custom.type_ref, custom.fields, "custom")?),
        };
        // Shape errors first, then the domain's rules.
        Ok(GroupDraft {
            name: GroupName::parse("groupName", &name)?,
            key: key.as_deref().map(GroupKey::parse).transpose()?,
            custom,
            metadata: Metadata::default(),
        })
    }
}

/// One update action (its fields are at `actions`).
impl TryFrom<GroupActionDto> for GroupAction {
    type Error = ProjectError;

    fn try_from(dto: GroupActionDto) -> Result<Self, ProjectError> {
        Ok(match dto {
            GroupActionDto::ChangeName(a) => {
                GroupAction::ChangeName(GroupName::parse("name", &a.name.required("actions -> name")?)?)
            }
            GroupActionDto::SetKey(a) => {
                GroupAction::SetKey(a.key.optional("actions -> key")?.as_deref().map(GroupKey::parse).transpose()?)
            }
            GroupActionDto::SetCustomType(a) => match a.type_ref {
                Field::Absent => {
                    // The fields go with the type, but their shape is still checked.
                    a.fields.optional("actions -> fields")?;
                    GroupAction::SetCustomType(None)
                }
                type_ref => GroupAction::SetCustomType(Some(custom_draft(type_ref, a.fields, "actions")?)),
            },
            GroupActionDto::SetCustomField(a) => {
                let name = a.name.required("actions -> name")?;
                GroupAction::SetCustomField { name, value: a.value.optional("actions -> value")? }
            }
            GroupActionDto::NotAnAction(raw) => return Err(wire::not_an_action(&raw)),
        })
    }
}

/// An update body: `{"version", "actions": […]}`.
impl TryFrom<GroupUpdateDto> for (ExpectedVersion, Vec<GroupAction>) {
    type Error = ProjectError;

    fn try_from(dto: GroupUpdateDto) -> Result<Self, ProjectError> {
        wire::update(dto.version, dto.actions)
    }
}

/// A create body read and converted.
pub fn group_draft(body: &Value) -> Result<GroupDraft, ProjectError> {
    wire::body::<GroupDraftDto>(body)?.try_into()
}

/// An update body read and converted.
pub fn group_update(body: &Value) -> Result<(ExpectedVersion, Vec<GroupAction>), ProjectError> {
    wire::body::<GroupUpdateDto>(body)?.try_into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use xclade_domain::DomainError;

    fn q(raw: &str) -> Result<GroupQuery, ProjectError> {
        group_query(&QueryPairs::parse(raw))
    }

    fn invalid_input(r: Result<GroupQuery, ProjectError>) -> String {
        match r {
            Err(ProjectError::InvalidInput(m)) => m,
            Err(e @ ProjectError::Domain(DomainError::Validation { .. })) => e.to_string(),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    fn json_detail<T: std::fmt::Debug>(r: Result<T, ProjectError>) -> String {
        match r {
            Err(ProjectError::InvalidJson(d)) => d,
            other => panic!("expected InvalidJsonInput, got {other:?}"),
        }
    }

    #[test]
    fn query_defaults() {
        let query = q("").expect("ok");
        assert_eq!(query, GroupQuery { predicate: None, sort: vec![], limit: 20, offset: 0, with_total: true });
        let query = q("expand=foo&unknown=1").expect("ok");
        assert_eq!(query.limit, 20);
    }

    #[test]
    fn limit_and_offset_bounds() {
        assert_eq!(q("limit=0").expect("ok").limit, 0);
        assert_eq!(q("limit=500").expect("ok").limit, 500);
        assert_eq!(q("limit=3&limit=7").expect("ok").limit, 7);
        assert_eq!(q("offset=10000").expect("ok").offset, 10_000);
        for (raw, expected) in [
            ("limit=501", "Malformed parameter: limit: Expected a whole number between 0 and 500, got '501'."),
            ("limit=-1", "Malformed parameter: limit: Expected a whole number between 0 and 500, got '-1'."),
            ("limit=abc", "Malformed parameter: limit: Expected a whole number between 0 and 500, got 'abc'."),
            ("limit=", "Malformed parameter: limit: Expected a whole number between 0 and 500, got ''."),
            ("limit=%2B5", "Malformed parameter: limit: Expected a whole number between 0 and 500, got '+5'."),
            ("offset=10001", "Malformed parameter: offset: Expected a whole number between 0 and 10000, got '10001'."),
            (
                "offset=99999999999",
                "Malformed parameter: offset: Expected a whole number between 0 and 10000, got '99999999999'.",
            ),
        ] {
            assert_eq!(invalid_input(q(raw)), expected, "{raw}");
        }
    }

    #[test]
    fn with_total_values() {
        for (raw, expected) in [("true", true), ("True", true), ("false", false), ("False", false)] {
            assert_eq!(q(&format!("withTotal={raw}")).expect("ok").with_total, expected, "{raw}");
        }
        for raw in ["TRUE", "1"] {
            let expected = format!("Malformed parameter: withTotal: Expected 'true' or 'false', got '{raw}'.");
            assert_eq!(invalid_input(q(&format!("withTotal={raw}"))), expected, "{raw}");
        }
    }

    #[test]
    fn sorts_repeat_in_order() {
        use xclade_domain::paging::SortField;
        let query = q("sort=name+desc&sort=createdAt%20asc&sort=id").expect("ok");
        assert_eq!(
            query.sort,
            vec![
                Sort { field: SortField::Name, descending: true },
                Sort { field: SortField::CreatedAt, descending: false },
                Sort { field: SortField::Id, descending: false },
            ]
        );
        assert!(invalid_input(q("sort=foo+asc")).starts_with("Malformed parameter: sort: "));
    }

    #[test]
    fn where_is_parsed_bound_and_checked() {
        let query = q("where=name%3D%22Gold%22").expect("ok");
        assert!(query.predicate.is_some());
        let query = q("where=name+in+:names&var.names=a&var.names=b&where=version+%3E+1").expect("ok");
        assert!(query.predicate.is_some());
        let query = q("where=version+%3D+:v&var.v=3").expect("a variable compared with version is a number");
        assert!(query.predicate.is_some());
        let mismatch = invalid_input(q("where=version+%3D+:v&var.v=x"));
        assert!(mismatch.starts_with("Malformed parameter: where: "), "{mismatch}");
        let date = invalid_input(q("where=createdAt+%3E+%22yesterday%22"));
        assert!(date.starts_with("Malformed parameter: where: "), "{date}");
        assert!(q("where=createdAt+%3E+%222024-01-01T00:00:00.000Z%22&where=custom(fields(tier))+%3D+3").is_ok());
        for nul in [
            "where=name+%3D+%22a%00%22",
            "where=name+%3D+%22a%5Cu0000%22",
            "where=key+in+(%22a%22,+%22%00%22)",
            "where=not+(custom(fields(x))+%3D+%22%00%22)",
            "where=name+%3D+:n&var.n=%00",
        ] {
            assert_eq!(
                invalid_input(q(nul)),
                "Malformed parameter: where: String values must not contain the character U+0000.",
                "{nul}"
            );
        }
        let unknown = invalid_input(q("where=foo%3D%22x%22"));
        assert_eq!(unknown, "Malformed parameter: where: The field 'foo' does not exist.");
        let syntax = invalid_input(q("where=name%3D"));
        assert!(syntax.starts_with("Malformed parameter: where: "), "{syntax}");
        assert!(
            syntax.to_lowercase().contains("line") || syntax.to_lowercase().contains("column"),
            "position in: {syntax}"
        );
        let unbound = invalid_input(q("where=name%3D:missing"));
        assert!(unbound.starts_with("Malformed parameter: where: "), "{unbound}");
        let typed = invalid_input(q("where=version%3D%22x%22"));
        assert!(typed.starts_with("Malformed parameter: where: "), "{typed}");
    }

    #[test]
    fn delete_versions() {
        let v = |raw: &str| delete_version(&QueryPairs::parse(raw));
        assert_eq!(v("version=3").expect("ok"), ExpectedVersion::new(3));
        assert!(matches!(v(""), Err(ProjectError::InvalidOperation(m)) if m == "Missing version number"));
        assert!(
            matches!(v("version=x"), Err(ProjectError::InvalidInput(m)) if m == "Malformed parameter: version: Expected a whole number, got 'x'.")
        );
        assert!(matches!(v("version=1.0"), Err(ProjectError::InvalidInput(_))));
    }

    #[test]
    fn draft_minimal_and_full() {
        let d = group_draft(&json!({"groupName": "Gold"})).expect("ok");
        assert_eq!((d.name.as_str(), d.key, d.custom), ("Gold", None, None));
        let d = group_draft(&json!({"groupName": "Gold", "key": "gold", "custom": {"type": {"typeId": "type", "key": "t"}, "fields": {"a": 1}}, "other": 1})).expect("ok");
        assert_eq!(d.key.as_ref().map(GroupKey::as_str), Some("gold"));
        let custom = d.custom.expect("custom");
        assert_eq!(custom.type_ref, TypeRef::Key("t".into()));
        assert_eq!(custom.fields.get("a"), Some(&json!(1)));
        let d = group_draft(&json!({"groupName": "Gold", "key": null, "custom": {"type": {"id": "abc", "key": "t"}}}))
            .expect("ok");
        assert_eq!(d.key, None);
        let custom = d.custom.expect("custom");
        assert_eq!((custom.type_ref, custom.fields.len()), (TypeRef::Id("abc".into()), 0));
    }

    #[test]
    fn draft_shape_errors() {
        assert_eq!(json_detail(group_draft(&json!({}))), "groupName: Missing required value");
        assert_eq!(json_detail(group_draft(&json!({"groupName": null}))), "groupName: Missing required value");
        assert_eq!(json_detail(group_draft(&json!({"groupName": 3}))), "groupName: JSON string expected.");
        assert_eq!(json_detail(group_draft(&json!({"groupName": "G", "key": 3}))), "key: JSON string expected.");
        assert_eq!(json_detail(group_draft(&json!({"groupName": "G", "custom": 1}))), "custom: JSON object expected.");
        assert_eq!(
            json_detail(group_draft(&json!({"groupName": "G", "custom": {}}))),
            "custom -> type: Missing required value"
        );
        assert_eq!(
            json_detail(group_draft(&json!({"groupName": "G", "custom": {"type": {}}}))),
            "custom -> type: Either 'id' or 'key' must be set."
        );
        assert_eq!(
            json_detail(group_draft(&json!({"groupName": "G", "custom": {"type": {"typeId": "channel", "id": "x"}}}))),
            "custom -> type -> typeId: Invalid value 'channel', expected 'type'."
        );
        assert_eq!(
            json_detail(group_draft(&json!({"groupName": "G", "custom": {"type": {"id": "x"}, "fields": []}}))),
            "custom -> fields: JSON object expected."
        );
        assert_eq!(json_detail(group_draft(&json!(["x"]))), "The request body must be a JSON object.");
    }

    #[test]
    fn draft_rule_errors_are_domain_validation() {
        assert!(matches!(
            group_draft(&json!({"groupName": ""})),
            Err(ProjectError::Domain(DomainError::Validation { .. }))
        ));
        assert!(matches!(
            group_draft(&json!({"groupName": "G", "key": "a b"})),
            Err(ProjectError::Domain(DomainError::Validation { .. }))
        ));
    }

    fn actions(list: Value) -> Result<Vec<GroupAction>, ProjectError> {
        group_update(&json!({"version": 1, "actions": list})).map(|(_, a)| a)
    }

    #[test]
    fn every_action() {
        let parsed = actions(json!([
            {"action": "changeName", "name": "Silver"},
            {"action": "setKey", "key": "silver"},
            {"action": "setKey"},
            {"action": "setKey", "key": null},
            {"action": "setCustomType", "type": {"typeId": "type", "id": "t1"}, "fields": {"a": "b"}},
            {"action": "setCustomType", "type": {"key": "t2"}},
            {"action": "setCustomType"},
            {"action": "setCustomType", "type": null, "fields": {"ignored": 1}},
            {"action": "setCustomField", "name": "a", "value": [1, 2]},
            {"action": "setCustomField", "name": "a"},
            {"action": "setCustomField", "name": "a", "value": null},
        ]))
        .expect("ok");
        let fields: Map<String, Value> = [("a".to_owned(), json!("b"))].into_iter().collect();
        assert_eq!(
            parsed,
            vec![
                GroupAction::ChangeName(GroupName::parse("name", "Silver").expect("valid")),
                GroupAction::SetKey(Some(GroupKey::parse("silver").expect("valid"))),
                GroupAction::SetKey(None),
                GroupAction::SetKey(None),
                GroupAction::SetCustomType(Some(CustomDraft { type_ref: TypeRef::Id("t1".into()), fields })),
                GroupAction::SetCustomType(Some(CustomDraft {
                    type_ref: TypeRef::Key("t2".into()),
                    fields: Map::new()
                })),
                GroupAction::SetCustomType(None),
                GroupAction::SetCustomType(None),
                GroupAction::SetCustomField { name: "a".into(), value: Some(json!([1, 2])) },
                GroupAction::SetCustomField { name: "a".into(), value: None },
                GroupAction::SetCustomField { name: "a".into(), value: None },
            ]
        );
        assert_eq!(group_update(&json!({"version": 7, "actions": []})).expect("ok"), (ExpectedVersion::new(7), vec![]));
    }

    #[test]
    fn version_is_a_json_integer() {
        let body = |v: Value| json!({"version": v, "actions": []});
        assert_eq!(group_update(&body(json!(3))).map(|(v, _)| v).ok(), Some(ExpectedVersion::new(3)));
        assert_eq!(group_update(&body(json!(3.0))).map(|(v, _)| v).ok(), Some(ExpectedVersion::new(3)));
        assert_eq!(json_detail(group_update(&body(json!(3.5)))), "version: JSON integer expected.");
        assert_eq!(json_detail(group_update(&body(json!(1e300)))), "version: JSON integer expected.");
        assert_eq!(json_detail(group_update(&body(json!("3")))), "version: JSON integer expected.");
    }

    #[test]
    fn update_shape_errors() {
        assert_eq!(json_detail(group_update(&json!({"actions": []}))), "version: Missing required value");
        assert_eq!(
            json_detail(group_update(&json!({"version": null, "actions": []}))),
            "version: Missing required value"
        );
        assert_eq!(
            json_detail(group_update(&json!({"version": "1", "actions": []}))),
            "version: JSON integer expected."
        );
        assert_eq!(
            json_detail(group_update(&json!({"version": 1.5, "actions": []}))),
            "version: JSON integer expected."
        );
        assert_eq!(json_detail(group_update(&json!({"version": 1}))), "actions: Missing required value");
        assert_eq!(json_detail(group_update(&json!({"version": 1, "actions": {}}))), "actions: JSON array expected.");
        assert_eq!(json_detail(group_update(&json!("x"))), "The request body must be a JSON object.");
        assert_eq!(json_detail(actions(json!([1]))), "actions: JSON object expected.");
        assert_eq!(json_detail(actions(json!([{}]))), "actions -> action: Missing required value");
        assert_eq!(json_detail(actions(json!([{"action": 1}]))), "actions -> action: JSON string expected.");
        assert_eq!(json_detail(actions(json!([{"action": "changeName"}]))), "actions -> name: Missing required value");
        assert_eq!(
            json_detail(actions(json!([{"action": "changeName", "name": 1}]))),
            "actions -> name: JSON string expected."
        );
        assert_eq!(
            json_detail(actions(json!([{"action": "setKey", "key": 1}]))),
            "actions -> key: JSON string expected."
        );
        assert_eq!(
            json_detail(actions(json!([{"action": "setCustomType", "type": "t"}]))),
            "actions -> type: JSON object expected."
        );
        assert_eq!(
            json_detail(actions(json!([{"action": "setCustomType", "type": {"id": "t"}, "fields": 1}]))),
            "actions -> fields: JSON object expected."
        );
        assert_eq!(
            json_detail(actions(json!([{"action": "setCustomType", "type": null, "fields": [null, null]}]))),
            "actions -> fields: JSON object expected."
        );
        assert_eq!(
            json_detail(actions(json!([{"action": "setCustomField", "value": 1}]))),
            "actions -> name: Missing required value"
        );
    }

    /// serde reads a struct from an array too (field by position); the bodies never do.
    #[test]
    fn arrays_are_not_objects() {
        assert_eq!(
            json_detail(group_draft(&json!({"groupName": "G", "custom": [{"id": "t"}, {}]}))),
            "custom: JSON object expected."
        );
        assert_eq!(
            json_detail(group_draft(&json!({"groupName": "G", "custom": {"type": ["type", "t"]}}))),
            "custom -> type: JSON object expected."
        );
        assert_eq!(json_detail(group_draft(&json!(["Gold", "gold"]))), "The request body must be a JSON object.");
        assert_eq!(json_detail(group_update(&json!([1, []]))), "The request body must be a JSON object.");
        assert_eq!(json_detail(actions(json!([["changeName", "Silver"]]))), "actions: JSON object expected.");
        assert_eq!(json_detail(actions(json!([null]))), "actions: JSON object expected.");
    }

    /// The first problem in order is reported, whatever the order of the fields in the body.
    #[test]
    fn the_first_problem_in_field_order_wins() {
        assert_eq!(json_detail(group_draft(&json!({"key": 3, "groupName": 3}))), "groupName: JSON string expected.");
        assert_eq!(
            json_detail(group_update(&json!({"actions": 1, "version": "1"}))),
            "version: JSON integer expected."
        );
        // A domain rule of an earlier action comes before the shape of a later one.
        assert!(matches!(
            actions(json!([{"action": "changeName", "name": ""}, {"action": "nope"}])),
            Err(ProjectError::Domain(DomainError::Validation { .. }))
        ));
        assert!(matches!(
            actions(json!([{"action": "setKey", "key": 1}, {"action": "nope"}])),
            Err(ProjectError::InvalidJson(m)) if m == "actions -> key: JSON string expected."
        ));
    }

    #[test]
    fn unknown_action_and_too_many() {
        assert!(
            matches!(actions(json!([{"action": "foo"}])), Err(ProjectError::InvalidInput(m)) if m == "Invalid action foo")
        );
        let many: Vec<Value> = (0..501).map(|_| json!({"action": "setKey"})).collect();
        assert!(
            matches!(actions(Value::Array(many)), Err(e @ ProjectError::Domain(_)) if e.to_string() == "At most 500 update actions are allowed per request.")
        );
        let exactly: Vec<Value> = (0..500).map(|_| json!({"action": "setKey"})).collect();
        assert_eq!(actions(Value::Array(exactly)).expect("ok").len(), 500);
    }

    #[test]
    fn action_rule_errors_are_domain_validation() {
        assert!(matches!(
            actions(json!([{"action": "changeName", "name": ""}])),
            Err(ProjectError::Domain(DomainError::Validation { .. }))
        ));
        assert!(matches!(
            actions(json!([{"action": "setKey", "key": "x"}])),
            Err(ProjectError::Domain(DomainError::Validation { .. }))
        ));
    }
}
