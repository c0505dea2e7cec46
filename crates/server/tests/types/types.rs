//! The type resource itself: representation, create/read/query/update/delete, versions,
//! errors, scopes, events and the OpenAPI document.

use crate::support::{code, enum_of, field, first_error, id, optional, type_draft, version, Ctx};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_read() {
    let ctx = Ctx::new().await;
    let draft = json!({
        "key": "group-fields",
        "name": {"en": "Group fields", "de": "Gruppenfelder"},
        "description": {"en": "Extra fields"},
        "resourceTypeIds": ["customer-group"],
        "fieldDefinitions": [
            {"name": "tier", "label": {"en": "Tier"}, "required": false, "type": enum_of(&["gold"])},
            {"name": "note", "label": {"en": "Note"}, "required": true, "type": {"name": "String"}, "inputHint": "MultiLine"},
        ],
    });
    let (s, t) = ctx.post("/types", &draft).await;
    assert_eq!(s, 201, "{t}");
    insta::assert_json_snapshot!(t, {".id" => "[id]", ".createdAt" => "[ts]", ".lastModifiedAt" => "[ts]", ".createdBy.clientId" => "[client]", ".lastModifiedBy.clientId" => "[client]"}, @r#"
    {
      "id": "[id]",
      "version": 1,
      "key": "group-fields",
      "name": {
        "de": "Gruppenfelder",
        "en": "Group fields"
      },
      "description": {
        "en": "Extra fields"
      },
      "resourceTypeIds": [
        "customer-group"
      ],
      "fieldDefinitions": [
        {
          "name": "tier",
          "label": {
            "en": "Tier"
          },
          "required": false,
          "type": {
            "name": "Enum",
            "values": [
              {
                "key": "gold",
                "label": "GOLD"
              }
            ]
          },
          "inputHint": "SingleLine"
        },
        {
          "name": "note",
          "label": {
            "en": "Note"
          },
          "required": true,
          "type": {
            "name": "String"
          },
          "inputHint": "MultiLine"
        }
      ],
      "createdAt": "[ts]",
      "createdBy": {
        "clientId": "[client]"
      },
      "lastModifiedAt": "[ts]",
      "lastModifiedBy": {
        "clientId": "[client]"
      }
    }
    "#);
    let (s, by_id) = ctx.get(&format!("/types/{}", id(&t))).await;
    assert_eq!((s, &by_id), (200, &t));
    let (s, by_key) = ctx.get("/types/key=group-fields").await;
    assert_eq!((s, &by_key), (200, &t));
    for path in ["/types/key=nope", "/types/00000000-0000-0000-0000-000000000000", "/types/not-a-uuid"] {
        let (s, b) = ctx.get(path).await;
        assert_eq!((s, code(&b)), (404, "ResourceNotFound"), "{path}: {b}");
    }
    assert_eq!(ctx.events("type.created").await, 1);

    // Errors of a create.
    let (s, b) = ctx.post("/types", &draft).await;
    assert_eq!((s, code(&b)), (400, "DuplicateField"), "{b}");
    assert_eq!(
        (first_error(&b)["field"].clone(), first_error(&b)["duplicateValue"].clone()),
        (json!("key"), json!("group-fields"))
    );
    let (s, b) = ctx.post("/types", &json!({"key": "x1", "resourceTypeIds": ["customer-group"]})).await;
    assert_eq!((s, code(&b)), (400, "InvalidJsonInput"), "{b}");
    assert_eq!(first_error(&b)["detailedErrorMessage"], json!("name: Missing required value"));
    let bad_type = type_draft("x2", vec![optional("f1", "Money")]);
    let (s, b) = ctx.post("/types", &bad_type).await;
    assert_eq!((s, code(&b)), (400, "InvalidJsonInput"), "{b}");
    let twice = type_draft("x3", vec![optional("f1", "String"), optional("f1", "Number")]);
    let (s, b) = ctx.post("/types", &twice).await;
    assert_eq!((s, code(&b)), (400, "InvalidOperation"), "{b}");
    let (s, b) = ctx.post("/types", &type_draft("x", vec![])).await;
    assert_eq!((s, code(&b)), (400, "InvalidInput"), "a one-character key: {b}");
    // Enum keys are unique within a field type (no JSON Schema states that across items).
    let repeated = type_draft("x4", vec![field("f1", enum_of(&["a", "b", "a", "b", "a"]), false)]);
    let (s, b) = ctx.post("/types", &repeated).await;
    assert_eq!((s, code(&b)), (400, "InvalidOperation"), "{b}");
    assert_eq!(b["message"], json!("The enum values contain duplicate keys: 'a', 'b'."));
    assert_eq!(ctx.count("SELECT count(*) AS n FROM types").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_are_versioned() {
    let ctx = Ctx::new().await;
    let t = ctx.create_type(type_draft("group-fields", vec![field("tier", enum_of(&["gold"]), false)])).await;
    let tid = id(&t);
    let actions = json!([
        {"action": "changeName", "name": {"en": "group-fields"}},
        {"action": "changeName", "name": {"en": "Renamed"}},
        {"action": "setDescription", "description": {"en": "D"}},
        {"action": "addFieldDefinition", "fieldDefinition": optional("points", "Number")},
        {"action": "changeLabel", "fieldName": "points", "label": {"en": "Points"}},
        {"action": "addEnumValue", "fieldName": "tier", "value": {"key": "silver", "label": "Silver"}},
    ]);
    let (s, b) = ctx.update_type(&tid, 1, actions).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(version(&b), 6, "five effective actions, one no-op");
    assert_eq!(b["name"], json!({"en": "Renamed"}));
    assert_eq!(b["description"], json!({"en": "D"}));
    assert_eq!(b["fieldDefinitions"][0]["type"]["values"][1], json!({"key": "silver", "label": "Silver"}));
    assert_eq!(b["fieldDefinitions"][1]["label"], json!({"en": "Points"}));

    // No-ops keep the version and write nothing.
    let (s, same) = ctx.update_type(&tid, 6, json!([{"action": "changeName", "name": {"en": "Renamed"}}])).await;
    assert_eq!((s, version(&same)), (200, 6));
    assert_eq!(ctx.events("type.updated").await, 1);

    // By key; the new enum value is usable on groups at once.
    let (s, b) =
        ctx.post("/types/key=group-fields", &json!({"version": 6, "actions": [{"action": "setDescription"}]})).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.get("description").is_none(), "{b}");
    let (s, g) = ctx
        .create_group(
            json!({"groupName": "G", "custom": {"type": {"key": "group-fields"}, "fields": {"tier": "silver"}}}),
        )
        .await;
    assert_eq!(s, 201, "{g}");

    // Errors: stale version, unknown action, refused actions (all or nothing).
    let (s, b) = ctx.update_type(&tid, 1, json!([])).await;
    assert_eq!((s, code(&b)), (409, "ConcurrentModification"), "{b}");
    assert_eq!(first_error(&b)["currentVersion"], json!(7));
    let (s, b) = ctx.update_type(&tid, 7, json!([{"action": "changeKey", "key": "x"}])).await;
    assert_eq!((s, code(&b), b["message"].clone()), (400, "InvalidInput", json!("Invalid action changeKey")));
    for refused in [
        json!({"action": "addFieldDefinition", "fieldDefinition": optional("tier", "String")}),
        json!({"action": "removeFieldDefinition", "fieldName": "nope"}),
        json!({"action": "changeLabel", "fieldName": "nope", "label": {"en": "x"}}),
        json!({"action": "addEnumValue", "fieldName": "tier", "value": {"key": "gold", "label": "Again"}}),
        json!({"action": "addEnumValue", "fieldName": "points", "value": {"key": "x", "label": "X"}}),
    ] {
        let actions = json!([{"action": "changeName", "name": {"en": "Changed"}}, refused.clone()]);
        let (s, b) = ctx.update_type(&tid, 7, actions).await;
        assert_eq!((s, code(&b)), (400, "InvalidOperation"), "{refused}: {b}");
    }
    let (_, now) = ctx.get(&format!("/types/{tid}")).await;
    assert_eq!((now["name"].clone(), version(&now)), (json!({"en": "Renamed"}), 7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_share_the_group_machinery() {
    let ctx = Ctx::new().await;
    for key in ["t-a", "t-b", "t-c"] {
        ctx.create_type(type_draft(key, vec![])).await;
    }
    let (s, b) = ctx.get_q("/types", &[("sort", "key desc"), ("limit", "2")]).await;
    assert_eq!(s, 200, "{b}");
    let keys: Vec<&str> = b["results"].as_array().expect("results").iter().filter_map(|t| t["key"].as_str()).collect();
    assert_eq!(
        (keys, b["count"].clone(), b["total"].clone(), b["limit"].clone()),
        (vec!["t-c", "t-b"], json!(2), json!(3), json!(2))
    );
    let (s, b) = ctx.get_q("/types", &[("where", r#"key in ("t-a", "t-c")"#), ("withTotal", "false")]).await;
    assert_eq!((s, b["count"].clone()), (200, json!(2)), "{b}");
    assert!(b.get("total").is_none());
    let (s, b) = ctx.get_q("/types", &[("where", "version = :v"), ("var.v", "1"), ("offset", "1")]).await;
    assert_eq!((s, b["count"].clone(), b["total"].clone()), (200, json!(2), json!(3)), "{b}");
    for (param, value) in
        [("where", "foo = 1"), ("where", "custom(fields(x)) = 1"), ("sort", "nope asc"), ("limit", "501")]
    {
        let (s, b) = ctx.get_q("/types", &[(param, value)]).await;
        assert_eq!((s, code(&b)), (400, "InvalidInput"), "{param}={value}: {b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes() {
    let ctx = Ctx::new().await;
    let t = ctx.create_type(type_draft("group-fields", vec![])).await;
    let path = format!("/types/{}", id(&t));
    let update = json!({"version": 1, "actions": [{"action": "setDescription", "description": {"en": "x"}}]});
    // Every scope of the project's customers and types reads types; only `manage_types` writes.
    let scopes = [
        "view_types:demo",
        "manage_types:demo",
        "view_customer_groups:demo",
        "manage_customer_groups:demo",
        "view_customers:demo",
        "manage_customers:demo",
    ];
    for scope in scopes {
        let write = scope == "manage_types:demo";
        let token = ctx.app.token_with_scopes("demo", &[scope]).await;
        let (s, b) = ctx.get_as(&token, &path, &[]).await;
        assert_eq!(s, 200, "{scope} read: {b}");
        let (s, b) = ctx.get_as(&token, "/types", &[]).await;
        assert_eq!(s, 200, "{scope} query: {b}");
        let (s, b) =
            ctx.post_as(&token, "/types", &type_draft(&format!("k-{}", scope.replace(':', "-")), vec![])).await;
        assert_eq!(s, if write { 201 } else { 403 }, "{scope} create: {b}");
        if !write {
            assert_eq!((code(&b), b["error"].clone()), ("insufficient_scope", json!("insufficient_scope")), "{b}");
            assert!(b["message"].as_str().is_some_and(|m| m.contains("manage_types")), "{b}");
        }
    }
    let token = ctx.app.token_with_scopes("demo", &["manage_types:demo"]).await;
    let (s, b) = ctx.post_as(&token, &path, &update).await;
    assert_eq!(s, 200, "{b}");
    // Another project's scopes do nothing here; no token is a 401.
    let other = ctx.app.project("other").await;
    let other_token = ctx.app.client_token(&other.client_id, &other.client_secret, None).await;
    let (s, _) = ctx.get_as(&other_token, &path, &[]).await;
    assert_eq!(s, 403);
    let resp = ctx.app.http.get(ctx.url("/types")).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_are_documented() {
    let ctx = Ctx::new().await;
    let resp = ctx.app.http.get(ctx.app.url("/openapi.json")).send().await.expect("send");
    let doc: serde_json::Value = resp.json().await.expect("json");
    for (path, methods) in [
        ("/{projectKey}/types", &["get", "post"][..]),
        ("/{projectKey}/types/{id}", &["get", "post", "delete"][..]),
        ("/{projectKey}/types/key={key}", &["get", "post", "delete"][..]),
    ] {
        for method in methods {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} missing");
        }
    }
    for schema in ["Type", "TypeDraft", "FieldDefinition", "TypeUpdate", "TypePagedQueryResponse"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema} missing");
    }
}
