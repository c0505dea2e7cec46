//! The events' `data` and messages, pinned byte for byte: `golden.txt` holds what the service
//! published before the encoder moved out of the domain crate (one payload line, then the
//! message line, per event below).

#![allow(clippy::unwrap_used)]

use super::EventJson;
use xclade_domain::event::{Event, EventKind};

// Entities that exercise every member of every event's data.
use chrono::{TimeZone, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;
use xclade_domain::auth::Actor;
use xclade_domain::custom_type::{
    EnumValue, FieldDefinition, FieldName, FieldType, InputHint, LocalizedEnumValue, LocalizedString, Type, TypeKey,
    TypeParts,
};
use xclade_domain::customer::{Address, AddressParts, Customer, CustomerParts, Email};
use xclade_domain::customer_group::{CustomFields, CustomerGroup, CustomerGroupParts, GroupKey, GroupName, Version};
use xclade_domain::event::WriteContext;
use xclade_domain::metadata::Metadata;
use xclade_domain::{AddressId, CustomerId, GroupId, ProjectId, TypeId};

fn at(s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, s).unwrap() + chrono::Duration::microseconds(123_456)
}

fn meta(v: Value) -> Metadata {
    match v {
        Value::Object(m) => Metadata::parse(m).unwrap(),
        _ => unreachable!(),
    }
}

fn localized(pairs: &[(&str, &str)]) -> LocalizedString {
    let m: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    LocalizedString::new("name", m).unwrap()
}

fn context(actor: Actor) -> WriteContext {
    WriteContext {
        project_id: ProjectId(Uuid::from_u128(1)),
        project_key: "acme".into(),
        actor,
        now: at(9),
        event_id: Uuid::from_u128(99),
    }
}

fn group() -> CustomerGroup {
    CustomerGroup::from_parts(CustomerGroupParts {
        id: GroupId(Uuid::from_u128(7)),
        version: Version::INITIAL.advanced_by(2),
        key: Some(GroupKey::parse("gold-1").unwrap()),
        name: GroupName::parse("name", "Gold \"β\"\ttab").unwrap(),
        custom: Some(CustomFields {
            type_id: TypeId(Uuid::from_u128(8)),
            fields: json!({"tier": 3, "since": "2024-05-01", "tags": ["a", "b"]}).as_object().unwrap().clone(),
        }),
        metadata: meta(json!({"z": 1, "a": {"nested": [1.5, null, true]}})),
        created_at: at(1),
        created_by: Some(Actor::Client("client-1".into())),
        last_modified_at: at(2),
        last_modified_by: Some(Actor::User("user-1".into())),
    })
}

fn bare_group() -> CustomerGroup {
    CustomerGroup::from_parts(CustomerGroupParts {
        id: GroupId(Uuid::from_u128(17)),
        version: Version::INITIAL,
        key: None,
        name: GroupName::parse("name", "Silver").unwrap(),
        custom: None,
        metadata: Metadata::default(),
        created_at: at(1),
        created_by: None,
        last_modified_at: at(1),
        last_modified_by: None,
    })
}

fn customer() -> Customer {
    let id = CustomerId(Uuid::from_u128(3));
    let address = Address::from_parts(AddressParts {
        id: AddressId(Uuid::from_u128(4)),
        customer_id: id,
        address_name: Some("Home".into()),
        is_default_shipping: true,
        is_default_billing: false,
        company: None,
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        address_1: Some("1 Main St".into()),
        address_2: None,
        city: Some("London".into()),
        country_code: Some("gb".into()),
        province: None,
        postal_code: Some("N1".into()),
        phone: None,
        metadata: meta(json!({"door": "blue"})),
        created_at: at(3),
        updated_at: at(4),
    });
    Customer::from_parts(CustomerParts {
        id,
        email: Email::parse("ada@example.com").unwrap(),
        company_name: Some("Engines Ltd".into()),
        first_name: Some("Ada".into()),
        last_name: None,
        phone: Some("+44 1".into()),
        metadata: meta(json!({"vip": true, "note": "line\nbreak é"})),
        has_account: true,
        default_billing_address_id: None,
        default_shipping_address_id: Some(AddressId(Uuid::from_u128(4))),
        created_by: Some("user-1".into()),
        created_at: at(1),
        updated_at: at(5),
        deleted_at: Some(at(6)),
        groups: vec![group(), bare_group()],
        addresses: vec![address],
    })
}

fn custom_type() -> Type {
    let def = |name: &str, t: FieldType, hint: InputHint| {
        FieldDefinition::new(
            FieldName::parse(name).unwrap(),
            localized(&[("en", name), ("de", "D")]),
            name == "tier",
            t,
            hint,
        )
        .unwrap()
    };
    Type::from_parts(TypeParts {
        id: TypeId(Uuid::from_u128(8)),
        version: Version::INITIAL.advanced_by(1),
        key: TypeKey::parse("group-fields").unwrap(),
        name: localized(&[("en", "Group fields"), ("de", "Gruppenfelder")]),
        description: Some(localized(&[("en", "Fields")])),
        resource_type_ids: vec!["customer-group".into()],
        field_definitions: vec![
            def("tier", FieldType::Number, InputHint::SingleLine),
            def("note", FieldType::String, InputHint::MultiLine),
            def(
                "level",
                FieldType::Enum { values: vec![EnumValue { key: "hi".into(), label: "High".into() }] },
                InputHint::SingleLine,
            ),
            def(
                "color",
                FieldType::LocalizedEnum {
                    values: vec![LocalizedEnumValue {
                        key: "red".into(),
                        label: localized(&[("en", "Red"), ("fr", "Rouge")]),
                    }],
                },
                InputHint::SingleLine,
            ),
            def(
                "tags",
                FieldType::Set {
                    element_type: Box::new(FieldType::Enum {
                        values: vec![EnumValue { key: "x".into(), label: "X".into() }],
                    }),
                },
                InputHint::SingleLine,
            ),
        ],
        created_at: at(1),
        created_by: Some(Actor::User("user-2".into())),
        last_modified_at: at(2),
        last_modified_by: Some(Actor::Client("client-2".into())),
    })
}

fn additional() -> Map<String, Value> {
    json!({"source": "import", "batch": [1, 2]}).as_object().unwrap().clone()
}

fn members() -> (Vec<GroupId>, Vec<GroupId>) {
    (vec![GroupId(Uuid::from_u128(7))], vec![GroupId(Uuid::from_u128(17)), GroupId(Uuid::from_u128(27))])
}

#[test]
fn every_event_is_written_as_before_byte_for_byte() {
    let client = context(Actor::Client("client-9".into()));
    let user = context(Actor::User("user-9".into()));
    let (added, removed) = members();
    let events = [
        Event::customer_created(&client, &customer(), Some(&additional())),
        Event::customer_created(&user, &customer(), None),
        Event::customer_updated(&client, &customer()),
        Event::customer_deleted(&user, &customer()),
        Event::customer_groups_changed(&user, &customer(), &added, &removed),
        Event::group(&client, EventKind::GroupUpdated, &group()),
        Event::group(&user, EventKind::GroupCreated, &bare_group()),
        Event::custom_type(&user, EventKind::TypeCreated, &custom_type()),
    ];
    let golden: Vec<&str> = include_str!("golden.txt").lines().collect();
    assert_eq!(golden.len(), 2 * events.len());
    for (e, expected) in events.iter().zip(golden.chunks(2)) {
        assert_eq!(e.payload(&EventJson).as_json(), expected[0], "{:?}", e.kind);
        assert_eq!(String::from_utf8(e.message(&EventJson).body).unwrap(), expected[1], "{:?}", e.kind);
    }
}
