//! Custom types: CRUD, versions, the key constraint, and the integrity between types and the
//! groups that use them (foreign key on delete, conformance on save, lock ordering).

use diesel_async::SimpleAsyncConnection;
use serde_json::json;
use uuid::Uuid;
use xclade_domain::custom_type::{
    FieldDefinition, FieldName, FieldType, InputHint, LocalizedString, Type, TypeAction, TypeKey,
};
use xclade_domain::customer_group::{CheckedType, CustomerGroup, ExpectedVersion, GroupName, Version};
use xclade_domain::paging::GroupQuery;
use xclade_domain::ports::{CustomerGroupRepository, TypeRepository};
use xclade_domain::{DomainError, Resource, TypeId};
use xclade_postgres::PgTypeRepository;

use crate::common::{group, now, with_custom, Fx};

fn ls(s: &str) -> LocalizedString {
    LocalizedString::new("name", [("en".to_owned(), s.to_owned())].into_iter().collect()).expect("valid")
}

fn def(name: &str, t: FieldType, required: bool) -> FieldDefinition {
    FieldDefinition::new(FieldName::parse(name).expect("name"), ls(name), required, t, InputHint::SingleLine)
        .expect("def")
}

fn a_type(key: &str, defs: Vec<FieldDefinition>) -> Type {
    let t = now();
    Type::from_parts(xclade_domain::custom_type::TypeParts {
        id: TypeId(Uuid::now_v7()),
        version: Version::new(1).unwrap(),
        key: TypeKey::parse(key).expect("key"),
        name: ls(key),
        description: None,
        resource_type_ids: vec!["customer-group".into()],
        field_definitions: defs,
        created_at: t,
        created_by: None,
        last_modified_at: t,
        last_modified_by: None,
    })
}

/// The fields of a group were validated against `t` as it is.
fn checked(t: &Type) -> Option<CheckedType> {
    Some(CheckedType { id: t.id(), version: t.version() })
}

/// Whether `err` is the stale-type refusal of a group write validated against version `expected`
/// of `t`, which is now at `current`.
fn is_stale(err: &DomainError, t: &Type, expected: i64, current: i64) -> bool {
    matches!(err, DomainError::VersionConflict { id, expected: e, current: c }
        if *id == t.id().to_string() && (*e, *c) == (expected, current))
}

fn next(t: &Type, actions: &[TypeAction]) -> Type {
    t.apply_all(actions, now(), &xclade_domain::auth::Actor::Client("tester".into())).expect("applies").0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn create_read_save_delete() {
    let fx = Fx::new().await;
    let repo = PgTypeRepository::new(fx.pool.clone(), crate::common::events());
    let t = a_type("group-fields", vec![def("points", FieldType::Number, false)]);
    let created = repo.create(&fx.ctx(), &t).await.expect("create");
    assert_eq!(created, t);
    assert_eq!(repo.get(fx.project, t.id()).await.expect("get"), t);
    assert_eq!(repo.get_by_key(fx.project, "group-fields").await.expect("by key"), t);
    assert!(matches!(
        repo.get_by_key(fx.project, "nope").await,
        Err(DomainError::NotFound { resource: Resource::Type, .. })
    ));
    let err = repo.create(&fx.ctx(), &a_type("group-fields", vec![])).await.expect_err("key taken");
    assert!(
        matches!(err, DomainError::Duplicate { resource: Resource::Type, field: "key", ref value } if value == "group-fields")
    );

    let renamed = next(&t, &[TypeAction::ChangeName(ls("Renamed"))]);
    let saved = repo.save(&fx.ctx(), &renamed, Version::new(1).unwrap()).await.expect("save");
    assert_eq!(saved.version(), Version::new(2).unwrap());
    let err = repo.save(&fx.ctx(), &renamed, Version::new(1).unwrap()).await.expect_err("stale");
    assert!(matches!(err, DomainError::VersionConflict { current: 2, .. }), "{err:?}");

    let page = repo.query(fx.project, &GroupQuery::default()).await.expect("query");
    assert_eq!((page.results.len(), page.total), (1, Some(1)));

    let err = repo.delete(&fx.ctx(), t.id(), ExpectedVersion::new(1)).await.expect_err("stale delete");
    assert!(matches!(err, DomainError::VersionConflict { .. }));
    let deleted = repo.delete(&fx.ctx(), t.id(), ExpectedVersion::new(2)).await.expect("delete");
    assert_eq!(deleted.id(), t.id());
    assert!(matches!(repo.delete(&fx.ctx(), t.id(), ExpectedVersion::new(2)).await, Err(DomainError::NotFound { .. })));
    assert_eq!(
        (fx.events_of("type.created").await, fx.events_of("type.updated").await, fx.events_of("type.deleted").await),
        (1, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn groups_hold_their_types() {
    let fx = Fx::new().await;
    let repo = PgTypeRepository::new(fx.pool.clone(), crate::common::events());
    let groups = fx.groups();
    let t =
        a_type("group-fields", vec![def("points", FieldType::Number, false), def("note", FieldType::String, false)]);
    repo.create(&fx.ctx(), &t).await.expect("type");

    // The adapter validates nothing: it compares the type's version with the one the fields
    // were validated against, and refuses another one (or a type that is gone).
    let claimed = Some(CheckedType { id: t.id(), version: Version::new(2).unwrap() });
    let stale = with_custom(group("Stale", None), t.id(), json!({"points": 1}));
    let err = groups.create(&fx.ctx(), &stale, 1000, claimed).await.expect_err("stale");
    assert!(is_stale(&err, &t, 2, 1), "{err:?}");
    let ghost = Some(CheckedType { id: TypeId(Uuid::now_v7()), version: Version::INITIAL });
    let err = groups.create(&fx.ctx(), &stale, 1000, ghost).await.expect_err("no type");
    assert!(matches!(err, DomainError::ReferencedResourceNotFound { resource: Resource::Type, .. }), "{err:?}");
    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_groups").await, 0, "nothing written");
    assert_eq!(fx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 0);
    assert_eq!(fx.events_of("customer-group.created").await, 0);
    let gold = groups
        .create(&fx.ctx(), &with_custom(group("Gold", None), t.id(), json!({"points": 1})), 1000, checked(&t))
        .await
        .expect("gold");

    // Delete: the foreign key refuses while a group uses the type.
    let err = repo.delete(&fx.ctx(), t.id(), ExpectedVersion::new(1)).await.expect_err("in use");
    assert!(matches!(
        err,
        DomainError::ReferenceExists { resource: Resource::Type, referenced_by: Resource::CustomerGroup }
    ));
    assert_eq!(repo.get(fx.project, t.id()).await.expect("still there"), t);
    assert_eq!(fx.events_of("type.deleted").await, 0);

    // Save: a used definition cannot go, a required one cannot come while groups lack it.
    let removed = next(&t, &[TypeAction::RemoveFieldDefinition("points".into())]);
    assert!(matches!(
        repo.save(&fx.ctx(), &removed, Version::new(1).unwrap()).await,
        Err(DomainError::ReferenceExists { .. })
    ));
    let required = next(&t, &[TypeAction::AddFieldDefinition(def("tier", FieldType::String, true))]);
    assert!(matches!(
        repo.save(&fx.ctx(), &required, Version::new(1).unwrap()).await,
        Err(DomainError::InvalidOperation(_))
    ));
    let unused = next(&t, &[TypeAction::RemoveFieldDefinition("note".into())]);
    let saved = repo.save(&fx.ctx(), &unused, Version::new(1).unwrap()).await.expect("unused definition");
    assert_eq!(saved.field_names(), vec!["points"]);

    // A group write validated against the type before that save is stale; against the saved
    // type, it is written.
    let mut g = gold.clone().into_parts();
    g.custom.as_mut().map(|c| c.fields.insert("points".into(), json!(2)));
    g.version = Version::new(2).unwrap();
    let g = CustomerGroup::from_parts(g);
    let err = groups.save(&fx.ctx(), &g, Version::new(1).unwrap(), checked(&t)).await.expect_err("stale");
    assert!(is_stale(&err, &t, 1, 2), "{err:?}");
    assert_eq!(groups.get(fx.project, gold.id()).await.expect("unchanged"), gold);
    let written = groups.save(&fx.ctx(), &g, Version::new(1).unwrap(), checked(&saved)).await.expect("current type");
    assert_eq!(written.custom().map(|c| c.fields["points"].clone()), Some(json!(2)));
}

/// A save that leaves the custom fields as they were (an admin-family rename) compares no type:
/// it is one statement, even after the type was saved since the group was written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn saves_that_keep_the_custom_fields_compare_no_type() {
    let fx = Fx::new().await;
    let repo = PgTypeRepository::new(fx.pool.clone(), crate::common::events());
    let t =
        a_type("group-fields", vec![def("points", FieldType::Number, false), def("note", FieldType::String, false)]);
    repo.create(&fx.ctx(), &t).await.expect("type");
    let groups = fx.groups();
    let gold = groups
        .create(&fx.ctx(), &with_custom(group("Gold", None), t.id(), json!({"points": 1})), 1000, checked(&t))
        .await
        .expect("gold");
    let unused = next(&t, &[TypeAction::RemoveFieldDefinition("note".into())]);
    repo.save(&fx.ctx(), &unused, Version::new(1).unwrap()).await.expect("type saved");
    let mut renamed = gold.clone().into_parts();
    renamed.name = GroupName::parse("name", "Platinum").expect("name");
    renamed.version = gold.version().next();
    let renamed = CustomerGroup::from_parts(renamed);
    let patched = groups.save(&fx.ctx(), &renamed, gold.version(), None).await.expect("save");
    assert_eq!((patched.name().as_str(), patched.version().get()), ("Platinum", 2));
    assert_eq!(patched.custom(), gold.custom());
    assert_eq!(groups.get(fx.project, gold.id()).await.expect("stored"), patched);
    assert_eq!(fx.events_of("customer-group.updated").await, 1);
}

/// A group write validated against a type waits for a save of that type in flight, and is then
/// refused as stale: the service validates again against the type as saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_writes_wait_for_type_saves_in_flight_and_are_then_stale() {
    let fx = Fx::new().await;
    let repo = PgTypeRepository::new(fx.pool.clone(), crate::common::events());
    let t = a_type("group-fields", vec![def("points", FieldType::Number, false)]);
    repo.create(&fx.ctx(), &t).await.expect("type");

    // A type save in flight: its row is locked until it commits.
    let mut saver = fx.conn().await;
    saver
        .batch_execute(&format!(
            "BEGIN; UPDATE types SET version = 2 WHERE project_id = '{p}' AND id = '{t}';",
            p = fx.project.0,
            t = t.id().0
        ))
        .await
        .expect("type save");

    let groups = fx.groups();
    let ctx = fx.ctx();
    let gold = with_custom(group("Gold", None), t.id(), json!({"points": 1}));
    let validated = checked(&t);
    let write = tokio::spawn(async move { groups.create(&ctx, &gold, 1000, validated).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!write.is_finished(), "the group write waits for the type save");
    saver.batch_execute("COMMIT").await.expect("commit");
    let err = write.await.expect("task").expect_err("stale");
    assert!(is_stale(&err, &t, 1, 2), "{err:?}");
    assert_eq!(fx.count("SELECT count(*) AS n FROM customer_groups").await, 0);
}

/// A group write holding the type `FOR SHARE` makes a concurrent type save wait, and the save
/// then sees the group's committed fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn type_saves_wait_for_group_writes_in_flight() {
    let fx = Fx::new().await;
    let repo = PgTypeRepository::new(fx.pool.clone(), crate::common::events());
    let t = a_type("group-fields", vec![def("keep", FieldType::Number, false), def("gone", FieldType::Number, false)]);
    repo.create(&fx.ctx(), &t).await.expect("type");
    let g = fx
        .groups()
        .create(&fx.ctx(), &with_custom(group("Gold", None), t.id(), json!({"keep": 1})), 1000, checked(&t))
        .await
        .expect("group");

    // A group write in flight, as the adapter does it: the type row FOR SHARE, then the group.
    let mut writer = fx.conn().await;
    writer
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM types WHERE project_id = '{p}' AND id = '{t}' FOR SHARE; \
             UPDATE customer_groups SET custom_fields = '{{\"keep\": 1, \"gone\": 7}}' WHERE project_id = '{p}' AND id = '{g}';",
            p = fx.project.0,
            t = t.id().0,
            g = g.id().0
        ))
        .await
        .expect("group write");

    let removed = next(&t, &[TypeAction::RemoveFieldDefinition("gone".into())]);
    let ctx = fx.ctx();
    let save = tokio::spawn(async move { repo.save(&ctx, &removed, Version::new(1).unwrap()).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!save.is_finished(), "the type save waits for the group write");
    writer.batch_execute("COMMIT").await.expect("commit");
    let result = save.await.expect("task");
    assert!(matches!(result, Err(DomainError::ReferenceExists { .. })), "{result:?}");
}

#[derive(diesel::QueryableByName)]
struct StoredText {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

/// The stored JSON of a type with every field type, both input hints and localized labels and
/// names: exactly the text it always was (the stored form must never drift).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stored_type_json_is_unchanged() {
    use diesel_async::RunQueryDsl;
    use xclade_domain::custom_type::{EnumValue, LocalizedEnumValue};
    let fx = Fx::new().await;
    let repo = PgTypeRepository::new(fx.pool.clone(), crate::common::events());
    let two = |en: &str, de: &str| {
        LocalizedString::new(
            "label",
            [("en".to_owned(), en.to_owned()), ("de".to_owned(), de.to_owned())].into_iter().collect(),
        )
        .expect("valid")
    };
    let with = |name: &str, t: FieldType, required: bool, hint: InputHint| {
        FieldDefinition::new(FieldName::parse(name).expect("name"), two(name, &name.to_uppercase()), required, t, hint)
            .expect("def")
    };
    let enums = || FieldType::Enum {
        values: vec![
            EnumValue { key: "gold".into(), label: "Gold".into() },
            EnumValue { key: "silver".into(), label: "Silver \"S\"".into() },
        ],
    };
    let lenums = || FieldType::LocalizedEnum {
        values: vec![LocalizedEnumValue { key: "red".into(), label: two("Red", "Rot") }],
    };
    // One field of every type (and sets of three of them); `flag` is the one required field,
    // `note` and `numbers` are the multi-line ones.
    let set = |element: FieldType| FieldType::Set { element_type: Box::new(element) };
    let fields = [
        ("flag", FieldType::Boolean),
        ("note", FieldType::String),
        ("title", FieldType::LocalizedString),
        ("points", FieldType::Number),
        ("born", FieldType::Date),
        ("seen", FieldType::DateTime),
        ("tier", enums()),
        ("color", lenums()),
        ("tiers", set(enums())),
        ("colors", set(lenums())),
        ("numbers", set(FieldType::Number)),
    ];
    let defs = fields
        .into_iter()
        .map(|(name, t)| {
            let hint = if ["note", "numbers"].contains(&name) { InputHint::MultiLine } else { InputHint::SingleLine };
            with(name, t, name == "flag", hint)
        })
        .collect();
    let t = a_type("every-field", defs);
    let t = Type::from_parts(xclade_domain::custom_type::TypeParts {
        name: two("Every field", "Jedes Feld"),
        description: Some(two("All of them", "Alle")),
        ..t.into_parts()
    });
    let created = repo.create(&fx.ctx(), &t).await.expect("create");
    assert_eq!(repo.get(fx.project, t.id()).await.expect("reads back"), created);
    let text = |sql: &'static str| {
        let pool_url = fx.db.url().to_owned();
        async move {
            let mut conn = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&pool_url)
                .await
                .expect("connect");
            let rows: Vec<StoredText> = diesel::sql_query(sql).load(&mut conn).await.expect("select");
            rows.into_iter().map(|r| r.t).collect::<Vec<_>>().join("\n")
        }
    };
    assert_eq!(
        text("SELECT name::text || ' ' || description::text AS t FROM types").await,
        r#"{"de": "Jedes Feld", "en": "Every field"} {"de": "Alle", "en": "All of them"}"#
    );
    assert_eq!(
        text("SELECT field_definitions::text AS t FROM types").await,
        concat!(
            "[",
            r#"{"name": "flag", "type": {"name": "Boolean"}, "label": {"de": "FLAG", "en": "flag"}, "required": true, "inputHint": "SingleLine"}, "#,
            r#"{"name": "note", "type": {"name": "String"}, "label": {"de": "NOTE", "en": "note"}, "required": false, "inputHint": "MultiLine"}, "#,
            r#"{"name": "title", "type": {"name": "LocalizedString"}, "label": {"de": "TITLE", "en": "title"}, "required": false, "inputHint": "SingleLine"}, "#,
            r#"{"name": "points", "type": {"name": "Number"}, "label": {"de": "POINTS", "en": "points"}, "required": false, "inputHint": "SingleLine"}, "#,
            r#"{"name": "born", "type": {"name": "Date"}, "label": {"de": "BORN", "en": "born"}, "required": false, "inputHint": "SingleLine"}, "#,
            r#"{"name": "seen", "type": {"name": "DateTime"}, "label": {"de": "SEEN", "en": "seen"}, "required": false, "inputHint": "SingleLine"}, "#,
            r#"{"name": "tier", "type": {"name": "Enum", "values": [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver \"S\""}]}, "label": {"de": "TIER", "en": "tier"}, "required": false, "inputHint": "SingleLine"}, "#,
            r#"{"name": "color", "type": {"name": "LocalizedEnum", "values": [{"key": "red", "label": {"de": "Rot", "en": "Red"}}]}, "label": {"de": "COLOR", "en": "color"}, "required": false, "inputHint": "SingleLine"}, "#,
            r#"{"name": "tiers", "type": {"name": "Set", "elementType": {"name": "Enum", "values": [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver \"S\""}]}}, "label": {"de": "TIERS", "en": "tiers"}, "required": false, "inputHint": "SingleLine"}, "#,
            r#"{"name": "colors", "type": {"name": "Set", "elementType": {"name": "LocalizedEnum", "values": [{"key": "red", "label": {"de": "Rot", "en": "Red"}}]}}, "label": {"de": "COLORS", "en": "colors"}, "required": false, "inputHint": "SingleLine"}, "#,
            r#"{"name": "numbers", "type": {"name": "Set", "elementType": {"name": "Number"}}, "label": {"de": "NUMBERS", "en": "numbers"}, "required": false, "inputHint": "MultiLine"}"#,
            "]"
        )
    );
    // The event's JSON of a type is the encoder's (pinned in `crates/http/src/events`).
}
