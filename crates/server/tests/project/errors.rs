//! §3.1: every row of the project family's error table, reached by a real request, with the
//! exact body. (`InvalidField`, `RequiredField` and `ReferenceExists` need custom types, issue 7.)

use crate::json;
use crate::support::{
    assert_auth_envelope, assert_envelope, assert_envelope_with, assert_error_answer, first_error, id, Ctx, PROJECT,
};
use serde_json::{json, Value};

/// Replaces every occurrence of each `from` in the body's strings with `to`.
fn scrub(body: &Value, pairs: &[(&str, &str)]) -> Value {
    let mut text = body.to_string();
    for (from, to) in pairs {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).expect("still JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_input() {
    let ctx = Ctx::new().await;
    let (s, b) = ctx.post_raw("/customer-groups", r#"{"groupName": "Gold""#).await;
    assert_eq!(s, 400);
    insta::assert_json_snapshot!(b, {".errors[0].detailedErrorMessage" => "[serde detail]"}, @r#"
    {
      "statusCode": 400,
      "message": "Request body does not contain valid JSON.",
      "errors": [
        {
          "code": "InvalidJsonInput",
          "message": "Request body does not contain valid JSON.",
          "detailedErrorMessage": "[serde detail]"
        }
      ]
    }
    "#);
    assert!(b["errors"][0]["detailedErrorMessage"].as_str().is_some_and(|d| d.starts_with("Malformed JSON: ")), "{b}");

    let group = ctx.create("Gold", None).await;
    let by_id = format!("/customer-groups/{}", id(&group));
    for (path, body, detail) in [
        ("/customer-groups", json!({"key": "gold"}), "groupName: Missing required value"),
        ("/customer-groups", json!({"groupName": 7}), "groupName: JSON string expected."),
        (by_id.as_str(), json!({"actions": []}), "version: Missing required value"),
        (by_id.as_str(), json!({"version": 1}), "actions: Missing required value"),
    ] {
        let (s, b) = ctx.post(path, &body).await;
        assert_eq!(s, 400, "{body}");
        let detail = json!({"detailedErrorMessage": detail});
        assert_envelope_with(&b, 400, "InvalidJsonInput", "Request body does not contain valid JSON.", detail);
    }
    assert_eq!(ctx.events("customer-group.updated").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input() {
    let ctx = Ctx::new().await;
    for (parameter, value, message) in [
        (
            "where",
            "name = \"Gold\" and",
            "Malformed parameter: where: Syntax error while parsing 'where'. Unexpected end of input, expected a field name, 'not' or '(' (line 1, column 18)",
        ),
        (
            "where",
            "name = \"a\"\n  or = 3",
            "Malformed parameter: where: Syntax error while parsing 'where'. Invalid input '=', expected a field name, 'not' or '(' (line 2, column 6)",
        ),
        ("where", "foo = \"x\"", "Malformed parameter: where: The field 'foo' does not exist."),
        ("limit", "abc", "Malformed parameter: limit: Expected a whole number between 0 and 500, got 'abc'."),
        ("sort", "foo asc", "Malformed parameter: sort: Invalid sort expression 'foo asc'."),
    ] {
        let (s, b) = ctx.get_q("/customer-groups", &[(parameter, value)]).await;
        assert_eq!(s, 400, "{parameter}={value}");
        assert_envelope(&b, 400, "InvalidInput", message);
    }

    let group = ctx.create("Gold", None).await;
    let (s, b) = ctx.update(&id(&group), 1, json!([{"action": "foo"}])).await;
    assert_eq!(s, 400);
    assert_envelope(&b, 400, "InvalidInput", r#"Invalid action foo"#);

    // A rule of the domain (key pattern) is InvalidInput too.
    let (s, b) = ctx.post("/customer-groups", &json!({"groupName": "Silver", "key": "no spaces"})).await;
    assert_eq!(s, 400);
    assert_envelope(
        &b,
        400,
        "InvalidInput",
        r#"Invalid key 'no spaces'. Keys may only contain alphanumeric characters, underscores and hyphens and must have a minimum length of 2 characters and maximum length of 256 characters."#,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_operation() {
    let ctx = Ctx::new().await;
    let group = ctx.create("Gold", Some("gold")).await;
    let (s, b) = ctx.delete(&format!("/customer-groups/{}", id(&group))).await;
    assert_eq!(s, 400);
    assert_envelope(&b, 400, "InvalidOperation", r#"Missing version number"#);
    let (s, b) = ctx.delete("/customer-groups/key=gold").await;
    assert_eq!(s, 400);
    assert_eq!(b["errors"][0]["code"], "InvalidOperation");

    // Removing a custom field that is not set needs a custom type (issue 7); without any
    // type, setting or removing a field is an InvalidOperation already.
    let (s, b) = ctx.update(&id(&group), 1, json!([{"action": "setCustomField", "name": "tier"}])).await;
    assert_eq!(s, 400);
    assert_envelope(
        &b,
        400,
        "InvalidOperation",
        r#"The customer group has no custom type; the field 'tier' cannot be set."#,
    );
    let (s, b) = ctx.get(&format!("/customer-groups/{}", id(&group))).await;
    assert_eq!((s, &b["version"]), (200, &json!(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_field() {
    let ctx = Ctx::new().await;
    ctx.create("Gold", Some("gold-key")).await;
    let other = ctx.create("Silver", None).await;
    let (s, b) = ctx.update(&id(&other), 1, json!([{"action": "changeName", "name": "Gold"}])).await;
    assert_eq!(
        (s, b["errors"][0]["code"].as_str(), b["errors"][0]["field"].as_str()),
        (400, Some("DuplicateField"), Some("name"))
    );
    for (answer, field, value) in [
        (ctx.post("/customer-groups", &json!({"groupName": "Gold"})).await, "name", "Gold"),
        (ctx.post("/customer-groups", &json!({"groupName": "Other", "key": "gold-key"})).await, "key", "gold-key"),
        // Through updates as well.
        (ctx.update(&id(&other), 1, json!([{"action": "setKey", "key": "gold-key"}])).await, "key", "gold-key"),
    ] {
        let message = format!("A duplicate value '\"{value}\"' exists for field '{field}'.");
        let extra = json!({"field": field, "duplicateValue": value});
        assert_error_answer(&answer, 400, "DuplicateField", &message, extra);
    }
    // Names are case-sensitive: "gold" is another name.
    ctx.create("gold", None).await;
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_resource_limit_exceeded() {
    let ctx = Ctx::with(|settings| settings.max_customer_groups = 2).await;
    ctx.create("a", None).await;
    ctx.create("b", None).await;
    let (s, b) = ctx.post("/customer-groups", &json!({"groupName": "c"})).await;
    assert_eq!(s, 400);
    assert_envelope_with(
        &b,
        400,
        "MaxResourceLimitExceeded",
        r#"You have exceeded the limit of 2 resources of type customer-group."#,
        json!({"exceededResource": r#"customer-group"#}),
    );
    // A delete frees a place.
    let (s, page) = ctx.get_q("/customer-groups", &[("where", "name = \"a\"")]).await;
    assert_eq!(s, 200);
    let a = &page["results"][0];
    let (s, _) = ctx.delete(&format!("/customer-groups/{}?version=1", id(a))).await;
    assert_eq!(s, 200);
    ctx.create("c", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referenced_resource_not_found() {
    let ctx = Ctx::new().await;
    let by_id = "00000000-0000-7000-8000-000000000009";
    for (reference, named) in [
        (json!({"typeId": "type", "key": "nope"}), "key 'nope'"),
        (json!({"typeId": "type", "id": by_id}), "identifier '00000000-0000-7000-8000-000000000009'"),
    ] {
        let answer = ctx.post("/customer-groups", &json!({"groupName": "Gold", "custom": {"type": reference}})).await;
        let message = format!("The referenced object of type 'type' with {named} was not found. It either doesn't exist, or it can't be accessed from this endpoint.");
        assert_error_answer(&answer, 400, "ReferencedResourceNotFound", &message, reference);
    }
    assert_eq!(ctx.count("SELECT count(*) AS n FROM customer_groups").await, 0);
    assert_eq!(ctx.count("SELECT customer_group_count::bigint AS n FROM projects").await, 0);

    let group = ctx.create("Gold", None).await;
    let action = json!([{"action": "setCustomType", "type": {"key": "nope"}}]);
    let (s, b) = ctx.update(&id(&group), 1, action).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (400, Some("ReferencedResourceNotFound")), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_token() {
    let ctx = Ctx::new().await;
    let http = &ctx.app.http;
    let resp = http.get(ctx.url("/customer-groups")).send().await.expect("send");
    assert_auth_envelope(&json(resp).await, 401, "invalid_token", "invalid_token");

    let resp = http.post(ctx.url("/customer-groups")).bearer_auth("not-a-jwt").json(&json!({})).send().await;
    let (s, b) = json(resp.expect("send")).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_token")), "{b}");

    // A real token with its signature altered.
    let mut forged = ctx.token.clone();
    let last = forged.pop().expect("non-empty");
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let resp = http.get(ctx.url("/customer-groups")).bearer_auth(&forged).send().await.expect("send");
    let (s, b) = json(resp).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (401, Some("invalid_token")), "{b}");
    let resp = http.head(ctx.url("/customer-groups")).bearer_auth(&forged).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.text().await.unwrap_or_default().is_empty());

    // Well-formed tokens: expired an hour ago, or signed with another secret.
    let pid = ctx.strings("SELECT project_id::text AS s FROM projects").await.remove(0);
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| {
        json!({"sub": ctx.fixture.client_id, "kind": "client", "project": PROJECT, "pid": pid,
               "scope": "manage_project:demo", "iat": exp - 3600, "exp": exp})
    };
    let sign = |claims: &Value, secret: &str| {
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).expect("sign")
    };
    let fresh = sign(&claims(now + 3600), xclade_testkit::app::TEST_JWT_SECRET);
    let resp = http.get(ctx.url("/customer-groups")).bearer_auth(&fresh).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 200, "the hand-made token is right when fresh");
    for token in [
        sign(&claims(now - 3600), xclade_testkit::app::TEST_JWT_SECRET),
        sign(&claims(now + 3600), "another-secret-another-secret-another-secret"),
    ] {
        let resp = http.get(ctx.url("/customer-groups")).bearer_auth(&token).send().await.expect("send");
        let (s, b) = json(resp).await;
        assert_eq!(
            (s, &b["error"], first_error(&b).0.as_str()),
            (401, &json!("invalid_token"), "invalid_token"),
            "{b}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_scope() {
    let ctx = Ctx::new().await;
    let view = ctx.app.token_with_scopes(PROJECT, &["view_customer_groups:demo"]).await;
    let http = &ctx.app.http;
    let resp = http.post(ctx.url("/customer-groups")).bearer_auth(&view).json(&json!({"groupName": "x"})).send();
    let answer = json(resp.await.expect("send")).await;
    let missing = "Insufficient scope. One of the following scopes is missing:";
    let message = format!("{missing} manage_customer_groups, manage_customers.");
    assert_auth_envelope(&answer, 403, "insufficient_scope", &message);

    let types = ctx.app.token_with_scopes(PROJECT, &["view_types:demo"]).await;
    let resp = http.get(ctx.url("/customer-groups")).bearer_auth(&types).send().await.expect("send");
    let message = format!("{missing} manage_customer_groups, manage_customers, view_customer_groups, view_customers.");
    assert_auth_envelope(&json(resp).await, 403, "insufficient_scope", &message);

    // Every read scope of §1.3 reads, every write scope writes.
    for scope in
        ["view_customer_groups:demo", "manage_customer_groups:demo", "view_customers:demo", "manage_customers:demo"]
    {
        let token = ctx.app.token_with_scopes(PROJECT, &[scope]).await;
        let resp = http.get(ctx.url("/customer-groups")).bearer_auth(&token).send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 200, "{scope}");
    }
    for (i, scope) in ["manage_customer_groups:demo", "manage_customers:demo"].into_iter().enumerate() {
        let token = ctx.app.token_with_scopes(PROJECT, &[scope]).await;
        let draft = json!({"groupName": format!("by-{i}")});
        let resp = http.post(ctx.url("/customer-groups")).bearer_auth(&token).json(&draft).send().await;
        assert_eq!(resp.expect("send").status().as_u16(), 201, "{scope}");
    }
    for scope in ["view_customers:demo", "manage_types:demo"] {
        let token = ctx.app.token_with_scopes(PROJECT, &[scope]).await;
        let resp = http.post(ctx.url("/customer-groups")).bearer_auth(&token).json(&json!({"groupName": "no"})).send();
        assert_eq!(resp.await.expect("send").status().as_u16(), 403, "{scope}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_not_found() {
    let ctx = Ctx::new().await;
    let missing = "0190d7a0-0000-7000-8000-000000000001";
    for (path, named) in [
        (format!("/customer-groups/{missing}"), "ID '0190d7a0-0000-7000-8000-000000000001'"),
        ("/customer-groups/key=nope".to_owned(), "key 'nope'"),
        ("/customer-groups/not-a-uuid".to_owned(), "ID 'not-a-uuid'"),
    ] {
        let message = format!("The Resource with {named} was not found.");
        assert_error_answer(&ctx.get(&path).await, 404, "ResourceNotFound", &message, json!({}));
    }
    let (s, b) = ctx.update(missing, 1, json!([{"action": "changeName", "name": "x"}])).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (404, Some("ResourceNotFound")), "{b}");
    let (s, b) = ctx.delete(&format!("/customer-groups/{missing}?version=1")).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (404, Some("ResourceNotFound")), "{b}");
    let (s, b) = ctx.delete("/customer-groups/key=nope?version=1").await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (404, Some("ResourceNotFound")), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_modification() {
    let ctx = Ctx::new().await;
    let group = ctx.create("Gold", Some("gold")).await;
    let gid = id(&group);
    // The answer to version 1 once the group is at version 2.
    let stale = |b: &Value| {
        assert_envelope_with(
            &scrub(b, &[(&gid, "[id]")]),
            409,
            "ConcurrentModification",
            r#"Object [id] has a different version than expected. Expected: 1 - Actual: 2."#,
            json!({"currentVersion": 2}),
        )
    };
    let (s, _) = ctx.update(&gid, 1, json!([{"action": "changeName", "name": "Gold 2"}])).await;
    assert_eq!(s, 200);
    let (s, b) = ctx.update(&gid, 1, json!([{"action": "changeName", "name": "Gold 3"}])).await;
    assert_eq!(s, 409);
    stale(&b);
    // A version from the future is stale too; by key as well; delete too.
    let (s, b) = ctx.post("/customer-groups/key=gold", &json!({"version": 9, "actions": []})).await;
    assert_eq!((s, &b["errors"][0]["currentVersion"]), (409, &json!(2)), "{b}");
    let (s, b) = ctx.delete(&format!("/customer-groups/{gid}?version=1")).await;
    assert_eq!(s, 409);
    stale(&b);
    let (s, b) = ctx.get(&format!("/customer-groups/{gid}")).await;
    assert_eq!((s, b["name"].as_str(), &b["version"]), (200, Some("Gold 2"), &json!(2)));
}

/// A read and a write of groups both answer `status` with the `General` error.
async fn assert_general(ctx: &Ctx, status: u16) {
    let (s, b) = ctx.get("/customer-groups").await;
    assert_eq!(s, status);
    assert_envelope(
        &b,
        status,
        "General",
        r#"Sorry, we are not able to process your request right now. Please try again later."#,
    );
    let (s, b) = ctx.post("/customer-groups", &json!({"groupName": "x"})).await;
    assert_eq!((s, b["errors"][0]["code"].as_str()), (status, Some("General")), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn general_500_and_503() {
    let ctx = Ctx::new().await;
    ctx.create("Gold", None).await;

    // 500: the database answers, but the statement fails (the table is gone).
    ctx.exec("ALTER TABLE customer_groups RENAME TO customer_groups_away").await;
    assert_general(&ctx, 500).await;
    ctx.exec("ALTER TABLE customer_groups_away RENAME TO customer_groups").await;
    assert_eq!(ctx.get("/customer-groups").await.0, 200);

    // 503: the database refuses connections.
    ctx.app.db.set_connections(false).await;
    assert_general(&ctx, 503).await;
    let (s, body) = ctx.head_q("/customer-groups", &[]).await;
    assert_eq!((s, body.as_str()), (503, ""));

    ctx.app.db.set_connections(true).await;
    let mut recovered = false;
    for _ in 0..40 {
        if ctx.get("/customer-groups").await.0 == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(recovered, "the service recovers by itself");
}

/// PostgreSQL text cannot hold U+0000: strings with it are refused (400) or cannot exist (404),
/// never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_are_refused() {
    let ctx = Ctx::new().await;
    let group = ctx.create("Gold", Some("gold")).await;
    let answer = ctx.post("/customer-groups", &json!({"groupName": "Gold\u{0000}"})).await;
    assert_error_answer(&answer, 400, "InvalidInput", "Field 'groupName' must not contain U+0000", json!({}));
    let (s, b) = ctx.update(&id(&group), 1, json!([{"action": "changeName", "name": "\u{0000}"}])).await;
    assert_eq!((s, first_error(&b).0.as_str()), (400, "InvalidInput"), "{b}");
    let answer = ctx.get_q("/customer-groups", &[("where", "name = \"Gold\\u0000\"")]).await;
    let message = "Malformed parameter: where: String values must not contain the character U+0000.";
    assert_error_answer(&answer, 400, "InvalidInput", message, json!({}));
    let (s, b) =
        ctx.get_q("/customer-groups", &[("where", "name in :n"), ("var.n", "Gold"), ("var.n", "\u{0000}")]).await;
    assert_eq!((s, first_error(&b).0.as_str()), (400, "InvalidInput"), "{b}");
    let (s, body) = ctx.head_q("/customer-groups", &[("where", "key = \"\u{0000}\"")]).await;
    assert_eq!((s, body.as_str()), (400, ""));
    let (s, b) = ctx.get("/customer-groups/key=gold%00").await;
    assert_eq!((s, first_error(&b).0.as_str()), (404, "ResourceNotFound"), "{b}");
    let (s, b) = ctx.delete("/customer-groups/key=gold%00?version=1").await;
    assert_eq!((s, first_error(&b).0.as_str()), (404, "ResourceNotFound"), "{b}");
    let (s, body) = ctx.head_q("/customer-groups/key=%00", &[]).await;
    assert_eq!((s, body.as_str()), (404, ""));
    let (s, b) = ctx.get(&format!("/customer-groups/{}", id(&group))).await;
    assert_eq!((s, &b), (200, &group));
}
