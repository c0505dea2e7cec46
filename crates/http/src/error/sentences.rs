//! The contract's words for the domain's rules ([`Violation`], [`Refusal`], [`FieldProblem`]).
//! Both families use the same sentence for a rule; they differ only in how they wrap it
//! (the admin family prefixes `Invalid request: ` to a violation, see [`super::admin`]).

use serde_json::Value;
use xclade_domain::auth::Permission;
use xclade_domain::custom_type::FieldType;
use xclade_domain::error::{FieldProblem, Refusal, TextKind, Violation, WhereViolation};

/// The longest value quoted in a custom field's error message, in characters.
const MAX_SHOWN: usize = 100;

/// The sentence of an input that breaks a rule; `field` is the input to blame.
pub fn violation(field: Option<&str>, violation: &Violation) -> String {
    use Violation as V;
    let f = field.unwrap_or_default();
    match violation {
        V::TooManyActions { max } => format!("At most {max} update actions are allowed per request."),
        V::TooHigh { max } => format!("Field '{f}' must be at most {max}"),
        V::TooManyIds { max } => format!("Each of 'add' and 'remove' may hold at most {max} ids"),
        V::AddedAndRemoved { id } => format!("The id {id} cannot be both added and removed"),
        V::InvalidScope { scope } => format!("Invalid scope '{scope}'"),
        V::ForeignScope { scope, project_key } => {
            format!("Scope '{scope}' does not belong to project '{project_key}'")
        }
        V::PasswordTooShort { min_chars } => format!("The password must have at least {min_chars} characters"),
        V::InvalidProjectKey { key } => format!("Invalid project key '{key}': expected ^[a-z0-9][a-z0-9-]{{1,35}}$"),
        V::ReservedProjectKey { key } => format!("The project key '{key}' is reserved"),
        V::InvalidEmail => "Invalid email".into(),
        V::Empty => format!("Field '{f}' must not be empty"),
        V::TooLong { max_chars } => format!("Field '{f}' must be at most {max_chars} characters long"),
        V::ContainsNul { kind } => match kind {
            TextKind::GroupName => format!("Field '{f}' must not contain U+0000"),
            TextKind::Localized => format!("Field '{f}' must not contain U+0000."),
            TextKind::EnumLabel => "Enum value labels must not contain U+0000.".into(),
            // `Plain`, and the plain wording for any kind added later.
            _ => format!("Field '{f}' must not contain the character U+0000"),
        },
        V::TooManyKeys { max } => format!("Field '{f}' must have at most {max} keys"),
        V::TooDeep { max_levels } => format!("Field '{f}' must not be nested deeper than {max_levels} levels"),
        V::TooLarge { max_bytes } => format!("Field '{f}' must be at most {max_bytes} bytes when serialized"),
        V::InvalidKey { key } => format!(
            "Invalid key '{key}'. Keys may only contain alphanumeric characters, underscores and hyphens and must have a minimum length of 2 characters and maximum length of 256 characters."
        ),
        V::InvalidLocale { locale } => format!("Invalid locale '{}' in field '{f}'.", locale.escape_debug()),
        V::InvalidFieldName { name } => format!(
            "Invalid field definition name '{name}'. Names may only contain alphanumeric characters, underscores and hyphens and must be 2 to 36 characters long."
        ),
        V::NestedSet => "A Set cannot contain a Set.".into(),
        V::InvalidEnumKey { .. } => "Enum value keys must be non-empty and must not contain U+0000.".into(),
        V::InvalidResourceTypeId { id } => format!("Invalid resource type id '{id}'."),
        V::NoResourceTypeIds => format!("Field '{f}' must list at least one resource type id."),
        V::InvalidSort { expression } => {
            format!("Malformed parameter: sort: Invalid sort expression '{expression}'.")
        }
        V::UnboundVariable { name } => format!("The variable '{name}' is not bound."),
        V::Unstorable => "A value contains the character U+0000, which cannot be stored".into(),
        V::MalformedWhere(problem) => format!("Malformed parameter: where: {}", malformed_where(problem)),
        _ => "The request is invalid.".into(),
    }
}

/// What follows `Malformed parameter: where: ` for a predicate the store cannot evaluate.
fn malformed_where(problem: &WhereViolation) -> String {
    use WhereViolation as W;
    match problem {
        W::UnknownField { field } => format!("The field '{field}' does not exist."),
        W::UnboundVariable { name } => format!("The variable ':{name}' is not bound."),
        W::BooleanComparison { field } => format!("The field '{field}' cannot be compared with a boolean."),
        W::NeedsDateTime { field } => format!("The field '{field}' can only be compared with a date-time string."),
        W::InvalidDateTime { field, literal } => {
            format!("'{literal}' is not a valid date-time for the field '{field}'.")
        }
        W::InvalidNumber { field, literal } => format!("'{literal}' is not a valid number for the field '{field}'."),
        W::InvalidCustomDateTime => "invalid date-time".into(),
        W::NestedSets => "nested sets cannot be compared".into(),
        _ => "The predicate cannot be evaluated.".into(),
    }
}

/// The sentence of an operation refused in the resource's current state.
pub fn refusal(refusal: &Refusal) -> String {
    use Refusal as R;
    match refusal {
        R::DuplicateEnumKeys { keys } => {
            let listed: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
            format!("The enum values contain duplicate keys: {}.", listed.join(", "))
        }
        R::FieldDefinitionExists { name } => format!("A field definition with the name '{name}' already exists."),
        R::NoSuchFieldDefinition { name } => format!("The type has no field definition named '{name}'."),
        R::NotAnEnum { field } => format!("The field '{field}' is not of type Enum (or a Set of Enum)."),
        R::NotALocalizedEnum { field } => {
            format!("The field '{field}' is not of type LocalizedEnum (or a Set of LocalizedEnum).")
        }
        R::EnumKeyExists { field, key } => format!("The enum value key '{key}' already exists in the field '{field}'."),
        R::TypeNotApplicable { type_key, resource_type_id } => format!(
            "The type '{type_key}' cannot be used for resources of type '{resource_type_id}': its resourceTypeIds do not include it."
        ),
        R::NoCustomType { field } => {
            format!("The customer group has no custom type; the field '{field}' cannot be set.")
        }
        R::CustomFieldNotSet { field } => format!("Cannot remove the custom field '{field}' because it is not set."),
        R::RequiredFieldLacking => {
            "A required field definition cannot be added while customer groups using the type lack the field.".into()
        }
        _ => "The operation is not allowed.".into(),
    }
}

/// The sentence of a custom field value that the field's type refuses.
pub fn field_problem(field: &str, value: &Value, problem: &FieldProblem) -> String {
    match problem {
        FieldProblem::NotDefined { type_key } => {
            format!("The field '{field}' is not defined by the type '{type_key}'.")
        }
        FieldProblem::WrongType { expected } => {
            format!("The value '{}' is not valid for field '{field}' of type {}.", shown(value), describe(expected))
        }
        _ => format!("The value for the field '{field}' is not valid."),
    }
}

/// The value as quoted in a message (JSON, shortened when long).
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_SHOWN {
        return text;
    }
    let mut out: String = text.chars().take(MAX_SHOWN).collect();
    out.push('…');
    out
}

/// What a value of `t` must look like.
fn describe(t: &FieldType) -> String {
    match t {
        FieldType::Boolean => "Boolean (true or false)".into(),
        FieldType::String => "String".into(),
        FieldType::LocalizedString => "LocalizedString (an object of strings by locale)".into(),
        FieldType::Number => "Number".into(),
        FieldType::Date => "Date (YYYY-MM-DD)".into(),
        FieldType::DateTime => "DateTime (ISO 8601, e.g. 2024-05-01T10:00:00.000Z)".into(),
        FieldType::Enum { values } => {
            format!("Enum (one of: {})", values.iter().map(|v| v.key.as_str()).collect::<Vec<_>>().join(", "))
        }
        FieldType::LocalizedEnum { values } => {
            format!("LocalizedEnum (one of: {})", values.iter().map(|v| v.key.as_str()).collect::<Vec<_>>().join(", "))
        }
        FieldType::Set { element_type } => format!("Set of {}", describe(element_type)),
    }
}

/// The message of a 403 for a missing permission (both families).
pub fn insufficient_scope_message(permission: Permission) -> String {
    let mut names: Vec<&str> = permission.granting_scopes().to_vec();
    if permission == Permission::ReadGroups || permission == Permission::ReadCustomers {
        // Listing the manage_ scopes first matches the platform's wording.
        names.sort_by_key(|n| !n.starts_with("manage_"));
    }
    format!("Insufficient scope. One of the following scopes is missing: {}.", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::sentence;
    use super::insufficient_scope_message;
    use serde_json::json;
    use xclade_domain::auth::Permission;
    use xclade_domain::custom_type::{EnumValue, FieldType};
    use xclade_domain::error::{FieldProblem, Refusal, TextKind, Violation, WhereViolation};
    use xclade_domain::DomainError;

    fn invalid(field: Option<&str>, violation: Violation) -> DomainError {
        DomainError::Validation { field: field.map(str::to_owned), violation }
    }

    /// Every rule's sentence, word for word as the contract (and the messages the domain
    /// used to carry) has it.
    #[test]
    fn violations_read_as_the_contract() {
        let nul = |field: &str, kind| invalid(Some(field), Violation::ContainsNul { kind });
        let cases = [
            (invalid(None, Violation::TooManyActions { max: 500 }), "At most 500 update actions are allowed per request."),
            (invalid(Some("limit"), Violation::TooHigh { max: 1000 }), "Field 'limit' must be at most 1000"),
            (invalid(None, Violation::TooManyIds { max: 1000 }), "Each of 'add' and 'remove' may hold at most 1000 ids"),
            (invalid(None, Violation::AddedAndRemoved { id: "g1".into() }), "The id g1 cannot be both added and removed"),
            (invalid(None, Violation::InvalidScope { scope: "x:y z".into() }), "Invalid scope 'x:y z'"),
            (
                invalid(None, Violation::ForeignScope { scope: "manage_project:b".into(), project_key: "a".into() }),
                "Scope 'manage_project:b' does not belong to project 'a'",
            ),
            (invalid(None, Violation::PasswordTooShort { min_chars: 8 }), "The password must have at least 8 characters"),
            (
                invalid(Some("key"), Violation::InvalidProjectKey { key: "A".into() }),
                "Invalid project key 'A': expected ^[a-z0-9][a-z0-9-]{1,35}$",
            ),
            (invalid(Some("key"), Violation::ReservedProjectKey { key: "admin".into() }), "The project key 'admin' is reserved"),
            (invalid(Some("email"), Violation::InvalidEmail), "Invalid email"),
            (invalid(Some("groupName"), Violation::Empty), "Field 'groupName' must not be empty"),
            (invalid(Some("name"), Violation::TooLong { max_chars: 256 }), "Field 'name' must be at most 256 characters long"),
            (nul("first_name", TextKind::Plain), "Field 'first_name' must not contain the character U+0000"),
            (nul("groupName", TextKind::GroupName), "Field 'groupName' must not contain U+0000"),
            (nul("name", TextKind::Localized), "Field 'name' must not contain U+0000."),
            (nul("label", TextKind::EnumLabel), "Enum value labels must not contain U+0000."),
            (invalid(Some("metadata"), Violation::TooManyKeys { max: 64 }), "Field 'metadata' must have at most 64 keys"),
            (
                invalid(Some("metadata"), Violation::TooDeep { max_levels: 5 }),
                "Field 'metadata' must not be nested deeper than 5 levels",
            ),
            (
                invalid(Some("metadata"), Violation::TooLarge { max_bytes: 16384 }),
                "Field 'metadata' must be at most 16384 bytes when serialized",
            ),
            (
                invalid(Some("key"), Violation::InvalidKey { key: "a".into() }),
                "Invalid key 'a'. Keys may only contain alphanumeric characters, underscores and hyphens and must have a minimum length of 2 characters and maximum length of 256 characters.",
            ),
            (
                invalid(Some("name"), Violation::InvalidLocale { locale: "e\0n".into() }),
                "Invalid locale 'e\\0n' in field 'name'.",
            ),
            (
                invalid(Some("name"), Violation::InvalidFieldName { name: "x".into() }),
                "Invalid field definition name 'x'. Names may only contain alphanumeric characters, underscores and hyphens and must be 2 to 36 characters long.",
            ),
            (invalid(Some("type"), Violation::NestedSet), "A Set cannot contain a Set."),
            (
                invalid(Some("values"), Violation::InvalidEnumKey { key: String::new() }),
                "Enum value keys must be non-empty and must not contain U+0000.",
            ),
            (
                invalid(Some("resourceTypeIds"), Violation::InvalidResourceTypeId { id: "Order".into() }),
                "Invalid resource type id 'Order'.",
            ),
            (
                invalid(Some("resourceTypeIds"), Violation::NoResourceTypeIds),
                "Field 'resourceTypeIds' must list at least one resource type id.",
            ),
            (
                invalid(None, Violation::InvalidSort { expression: "name up".into() }),
                "Malformed parameter: sort: Invalid sort expression 'name up'.",
            ),
            (invalid(None, Violation::UnboundVariable { name: "v".into() }), "The variable 'v' is not bound."),
            (invalid(None, Violation::Unstorable), "A value contains the character U+0000, which cannot be stored"),
        ];
        for (err, expected) in cases {
            assert_eq!(sentence(&err), expected, "{err:?}");
        }
    }

    #[test]
    fn malformed_where_reads_as_before() {
        let w = |problem| sentence(&invalid(Some("where"), Violation::MalformedWhere(problem)));
        let f = || "version".to_owned();
        let cases = [
            (w(WhereViolation::UnknownField { field: f() }), "The field 'version' does not exist."),
            (w(WhereViolation::UnboundVariable { name: "v".into() }), "The variable ':v' is not bound."),
            (
                w(WhereViolation::BooleanComparison { field: f() }),
                "The field 'version' cannot be compared with a boolean.",
            ),
            (
                w(WhereViolation::NeedsDateTime { field: f() }),
                "The field 'version' can only be compared with a date-time string.",
            ),
            (
                w(WhereViolation::InvalidDateTime { field: f(), literal: "x".into() }),
                "'x' is not a valid date-time for the field 'version'.",
            ),
            (
                w(WhereViolation::InvalidNumber { field: f(), literal: "x".into() }),
                "'x' is not a valid number for the field 'version'.",
            ),
            (w(WhereViolation::InvalidCustomDateTime), "invalid date-time"),
            (w(WhereViolation::NestedSets), "nested sets cannot be compared"),
        ];
        for (got, detail) in cases {
            assert_eq!(got, format!("Malformed parameter: where: {detail}"));
        }
    }

    #[test]
    fn refusals_read_as_the_contract() {
        let op = DomainError::InvalidOperation;
        let s = |v: &str| v.to_owned();
        let cases = [
            (
                op(Refusal::DuplicateEnumKeys { keys: vec![s("a"), s("b")] }),
                "The enum values contain duplicate keys: 'a', 'b'.",
            ),
            (
                op(Refusal::FieldDefinitionExists { name: s("points") }),
                "A field definition with the name 'points' already exists.",
            ),
            (op(Refusal::NoSuchFieldDefinition { name: s("points") }), "The type has no field definition named 'points'."),
            (op(Refusal::NotAnEnum { field: s("f") }), "The field 'f' is not of type Enum (or a Set of Enum)."),
            (
                op(Refusal::NotALocalizedEnum { field: s("f") }),
                "The field 'f' is not of type LocalizedEnum (or a Set of LocalizedEnum).",
            ),
            (
                op(Refusal::EnumKeyExists { field: s("f"), key: s("k") }),
                "The enum value key 'k' already exists in the field 'f'.",
            ),
            (
                op(Refusal::TypeNotApplicable { type_key: s("t"), resource_type_id: s("customer-group") }),
                "The type 't' cannot be used for resources of type 'customer-group': its resourceTypeIds do not include it.",
            ),
            (
                op(Refusal::NoCustomType { field: s("f") }),
                "The customer group has no custom type; the field 'f' cannot be set.",
            ),
            (op(Refusal::CustomFieldNotSet { field: s("f") }), "Cannot remove the custom field 'f' because it is not set."),
            (
                op(Refusal::RequiredFieldLacking),
                "A required field definition cannot be added while customer groups using the type lack the field.",
            ),
        ];
        for (err, expected) in cases {
            assert_eq!(sentence(&err), expected, "{err:?}");
        }
    }

    #[test]
    fn field_problems_read_as_the_contract() {
        let field = |invalid_value, problem| DomainError::InvalidField { field: "f".into(), invalid_value, problem };
        let undefined = field(json!(1), FieldProblem::NotDefined { type_key: "t".into() });
        assert_eq!(sentence(&undefined), "The field 'f' is not defined by the type 't'.");
        let set = FieldType::Set {
            element_type: Box::new(FieldType::Enum {
                values: vec![
                    EnumValue { key: "a".into(), label: "A".into() },
                    EnumValue { key: "b".into(), label: "B".into() },
                ],
            }),
        };
        let wrong = field(json!("x"), FieldProblem::WrongType { expected: Box::new(set) });
        assert_eq!(
            sentence(&wrong),
            "The value '\"x\"' is not valid for field 'f' of type Set of Enum (one of: a, b)."
        );
        let long = field(json!("y".repeat(200)), FieldProblem::WrongType { expected: Box::new(FieldType::Number) });
        let shown = format!("\"{}…", "y".repeat(99));
        assert_eq!(sentence(&long), format!("The value '{shown}' is not valid for field 'f' of type Number."));
    }

    #[test]
    fn the_admin_family_prefixes_violations() {
        use crate::error::AdminError;
        use actix_web::ResponseError;
        let err = AdminError::Domain(invalid(Some("email"), Violation::InvalidEmail));
        assert_eq!(err.status_code(), actix_web::http::StatusCode::BAD_REQUEST);
        let body = actix_web::body::to_bytes(err.error_response().into_body());
        let body = futures::executor::block_on(body).map_err(|_| ()).expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body, json!({"type": "invalid_data", "message": "Invalid request: Invalid email"}));
    }

    #[test]
    fn forbidden_message_matches_the_contract() {
        assert_eq!(
            insufficient_scope_message(Permission::WriteGroups),
            "Insufficient scope. One of the following scopes is missing: manage_customer_groups, manage_customers."
        );
        assert_eq!(
            insufficient_scope_message(Permission::ReadGroups),
            "Insufficient scope. One of the following scopes is missing: manage_customer_groups, manage_customers, view_customer_groups, view_customers."
        );
    }
}
