//! §2.2–§2.3 and §2.6: creating customers field by field (seed 001), updates, email uniqueness,
//! soft delete, and the outbox event of every write (§4).

use crate::{
    assert_answer, coded_error, created, customer_body, error, id_of, invalid_data_message, json, Ctx, UNKNOWN_ID,
};
use serde_json::{json, Value};

/// `2019-08-24T14:15:22.000Z`: RFC 3339 UTC with milliseconds.
fn is_millis_utc(v: &Value) -> bool {
    let Some(s) = v.as_str() else {
        return false;
    };
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_answers_the_whole_customer() {
    let ctx = Ctx::new().await;
    let (s, b) = ctx.post("/admin/customers", customer_body("Jane@Example.com")).await;
    assert_eq!(s, 200, "{b}");
    insta::assert_json_snapshot!(created(&b, "customer"), @r#"
        {
          "customer": {
            "id": "[id]",
            "email": "Jane@Example.com",
            "company_name": "Acme",
            "first_name": "Jane",
            "last_name": "Doe",
            "phone": "+1 555 0100",
            "metadata": {
              "tier": "gold"
            },
            "has_account": false,
            "default_billing_address_id": null,
            "default_shipping_address_id": null,
            "groups": [],
            "addresses": [],
            "created_by": "[admin user id]",
            "created_at": "[ts]",
            "updated_at": "[ts]",
            "deleted_at": null
          }
        }
        "#);
    let c = &b["customer"];
    assert!(uuid::Uuid::parse_str(&id_of(c)).is_ok_and(|u| u.get_version_num() == 7), "{c}");
    assert!(is_millis_utc(&c["created_at"]) && is_millis_utc(&c["updated_at"]), "{c}");

    // `created_by` is the acting admin user; with an API client it is its client id.
    let mut db = ctx.db().await;
    let user = db.text("SELECT id::text AS a FROM admin_users").await;
    assert_eq!(c["created_by"], json!(user));
    let client =
        ctx.app.services.admin.create_client("demo", &["manage_customers:demo".to_owned()]).await.expect("client");
    let token = ctx.app.client_token(&client.client_id, &client.client_secret, None).await;
    let (s, b) = ctx.post_as(&token, "/admin/customers", customer_body("b@b.co")).await;
    assert_eq!((s, &b["customer"]["created_by"]), (200, &json!(client.client_id)));

    // A read answers what the create answered.
    let (s, read) = ctx.get(&format!("/admin/customers/{}", id_of(c))).await;
    assert_eq!((s, &read["customer"]), (200, c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_001_field_by_field() {
    let ctx = Ctx::new().await;
    let mut table = Vec::new();
    let mut check = |case: String, answer: (u16, Value)| {
        let message = invalid_data_message(&case, answer);
        table.push(json!([case, message]));
    };

    for field in ["email", "company_name", "first_name", "last_name", "phone", "metadata"] {
        let mut body = customer_body("a@b.co");
        body.as_object_mut().expect("object").remove(field);
        check(format!("missing {field}"), ctx.post("/admin/customers", body).await);
    }
    for (field, value) in [
        ("email", json!(1)),
        ("company_name", json!(true)),
        ("first_name", json!(42)),
        ("last_name", json!(["Doe"])),
        ("phone", json!({"n": 1})),
        ("first_name", Value::Null),
        ("metadata", json!("gold")),
        ("metadata", json!([1])),
        ("additional_data", json!("x")),
    ] {
        let mut body = customer_body("a@b.co");
        body[field] = value.clone();
        check(format!("{field} = {value}"), ctx.post("/admin/customers", body).await);
    }
    for field in ["company_name", "first_name", "last_name", "phone"] {
        let mut body = customer_body("a@b.co");
        body[field] = json!("x".repeat(256));
        check(format!("{field} of 256 characters"), ctx.post("/admin/customers", body).await);
    }
    let long_email = format!("{}@{}.io", "a".repeat(64), "b".repeat(253));
    assert_eq!(long_email.len(), 321);
    check("email of 321 characters".into(), ctx.post("/admin/customers", customer_body(&long_email)).await);
    for bad in ["plain", "a@b", "a b@c.io", "@c.io", "a@c..io"] {
        check(format!("email {bad}"), ctx.post("/admin/customers", customer_body(bad)).await);
    }
    let metadata_cases = [
        ("metadata over 16 KiB", json!({"a": "x".repeat(16 * 1024)})),
        ("metadata of 65 keys", Value::Object((0..65).map(|i| (format!("k{i}"), json!(i))).collect())),
        ("metadata nested 6 levels", json!({"a": {"b": {"c": {"d": {"e": {}}}}}})),
    ];
    for (case, metadata) in metadata_cases {
        let mut body = customer_body("a@b.co");
        body["metadata"] = metadata;
        check(case.into(), ctx.post("/admin/customers", body).await);
    }
    let mut body = customer_body("a@b.co");
    body["foo"] = json!(1);
    check("unknown key".into(), ctx.post("/admin/customers", body).await);
    let mut body = customer_body("a@b.co");
    body["foo"] = json!(1);
    body["bar"] = json!(2);
    check("two unknown keys".into(), ctx.post("/admin/customers", body).await);
    check("malformed JSON".into(), ctx.post_raw("/admin/customers", "{\"email\": ").await);
    check("trailing garbage".into(), ctx.post_raw("/admin/customers", "{} x").await);
    check("a JSON string".into(), ctx.post_raw("/admin/customers", "\"a@b.co\"").await);
    check("an empty body".into(), ctx.post_raw("/admin/customers", "").await);

    insta::assert_json_snapshot!(Value::Array(table), @r#"
        [
          [
            "missing email",
            "Invalid request: Field 'email' is required"
          ],
          [
            "missing company_name",
            "Invalid request: Field 'company_name' is required"
          ],
          [
            "missing first_name",
            "Invalid request: Field 'first_name' is required"
          ],
          [
            "missing last_name",
            "Invalid request: Field 'last_name' is required"
          ],
          [
            "missing phone",
            "Invalid request: Field 'phone' is required"
          ],
          [
            "missing metadata",
            "Invalid request: Field 'metadata' is required"
          ],
          [
            "email = 1",
            "Invalid request: Expected type: 'string' for field 'email', got: 'number'"
          ],
          [
            "company_name = true",
            "Invalid request: Expected type: 'string' for field 'company_name', got: 'boolean'"
          ],
          [
            "first_name = 42",
            "Invalid request: Expected type: 'string' for field 'first_name', got: 'number'"
          ],
          [
            "last_name = [\"Doe\"]",
            "Invalid request: Expected type: 'string' for field 'last_name', got: 'array'"
          ],
          [
            "phone = {\"n\":1}",
            "Invalid request: Expected type: 'string' for field 'phone', got: 'object'"
          ],
          [
            "first_name = null",
            "Invalid request: Expected type: 'string' for field 'first_name', got: 'null'"
          ],
          [
            "metadata = \"gold\"",
            "Invalid request: Expected type: 'object' for field 'metadata', got: 'string'"
          ],
          [
            "metadata = [1]",
            "Invalid request: Expected type: 'object' for field 'metadata', got: 'array'"
          ],
          [
            "additional_data = \"x\"",
            "Invalid request: Expected type: 'object' for field 'additional_data', got: 'string'"
          ],
          [
            "company_name of 256 characters",
            "Invalid request: Field 'company_name' must be at most 255 characters long"
          ],
          [
            "first_name of 256 characters",
            "Invalid request: Field 'first_name' must be at most 255 characters long"
          ],
          [
            "last_name of 256 characters",
            "Invalid request: Field 'last_name' must be at most 255 characters long"
          ],
          [
            "phone of 256 characters",
            "Invalid request: Field 'phone' must be at most 255 characters long"
          ],
          [
            "email of 321 characters",
            "Invalid request: Invalid email"
          ],
          [
            "email plain",
            "Invalid request: Invalid email"
          ],
          [
            "email a@b",
            "Invalid request: Invalid email"
          ],
          [
            "email a b@c.io",
            "Invalid request: Invalid email"
          ],
          [
            "email @c.io",
            "Invalid request: Invalid email"
          ],
          [
            "email a@c..io",
            "Invalid request: Invalid email"
          ],
          [
            "metadata over 16 KiB",
            "Invalid request: Field 'metadata' must be at most 16384 bytes when serialized"
          ],
          [
            "metadata of 65 keys",
            "Invalid request: Field 'metadata' must have at most 64 keys"
          ],
          [
            "metadata nested 6 levels",
            "Invalid request: Field 'metadata' must not be nested deeper than 5 levels"
          ],
          [
            "unknown key",
            "Invalid request: Unrecognized fields: 'foo'"
          ],
          [
            "two unknown keys",
            "Invalid request: Unrecognized fields: 'foo', 'bar'"
          ],
          [
            "malformed JSON",
            "Invalid request: Malformed JSON: EOF while parsing a value at line 1 column 10"
          ],
          [
            "trailing garbage",
            "Invalid request: Malformed JSON: trailing characters at line 1 column 4"
          ],
          [
            "a JSON string",
            "Invalid request: Expected type: 'object' for the request body, got: 'string'"
          ],
          [
            "an empty body",
            "Invalid request: Field 'email' is required"
          ]
        ]
        "#);

    let mut db = ctx.db().await;
    assert_eq!(db.rows("customers").await, 0);
    assert_eq!(db.event_count().await, 0);

    // Right at every limit is accepted.
    let email = format!("{}@{}.io", "a".repeat(64), "b".repeat(252));
    assert_eq!(email.len(), 320);
    let mut body = customer_body(&email);
    for field in ["company_name", "first_name", "last_name", "phone"] {
        body[field] = json!("é".repeat(255));
    }
    let (s, b) = ctx.post("/admin/customers", body).await;
    assert_eq!(s, 200, "{b}");
    for metadata in [
        json!({"a": {"b": {"c": {"d": {}}}}}),
        Value::Object((0..64).map(|i| (format!("k{i}"), json!(i))).collect()),
        json!({"a": "x".repeat(16 * 1024 - 8)}),
    ] {
        let mut body = customer_body(&format!("m{}@b.co", metadata.to_string().len()));
        body["metadata"] = metadata.clone();
        let (s, b) = ctx.post("/admin/customers", body).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["customer"]["metadata"], metadata);
    }
    // Empty strings are strings.
    let mut body = customer_body("empty@b.co");
    body["company_name"] = json!("");
    assert_eq!(ctx.post("/admin/customers", body).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn additional_data_travels_with_the_event_only() {
    let ctx = Ctx::new().await;
    let mut body = customer_body("a@b.co");
    body["additional_data"] = json!({"source": "import-7f3a", "batch": [1, 2]});
    let (s, b) = ctx.post("/admin/customers", body).await;
    assert_eq!(s, 200, "{b}");
    let customer = b["customer"].clone();
    assert!(customer.get("additional_data").is_none());
    assert!(!b.to_string().contains("import-7f3a"), "{b}");

    let mut db = ctx.db().await;
    let row = db.text("SELECT row_to_json(c)::text AS a FROM customers c").await;
    assert!(!row.contains("import-7f3a"), "{row}");

    let events = db.events().await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!((event.kind.as_str(), event.resource_id.as_str()), ("customer.created", id_of(&customer).as_str()));
    assert_eq!(event.payload["additional_data"], json!({"source": "import-7f3a", "batch": [1, 2]}));
    assert_eq!(event.payload["resource"]["email"], "a@b.co");
    let (project_key, actor) =
        (db.text("SELECT project_key AS a FROM events").await, db.text("SELECT actor::text AS a FROM events").await);
    let user = db.text("SELECT id::text AS a FROM admin_users").await;
    assert_eq!(project_key, "demo");
    assert_eq!(serde_json::from_str::<Value>(&actor).expect("json"), json!({"externalUserId": user}));

    // Without additional_data the event has none.
    ctx.customer("c@b.co").await;
    let events = db.events().await;
    assert!(events[1].payload.get("additional_data").is_none(), "{:?}", events[1]);
    // `null` counts as absent.
    let mut body = customer_body("d@b.co");
    body["additional_data"] = Value::Null;
    assert_eq!(ctx.post("/admin/customers", body).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_records_exactly_one_event_of_its_kind() {
    let ctx = Ctx::new().await;
    let mut db = ctx.db().await;
    let mut seen = 0;
    macro_rules! expect_event {
        ($kind:expr, $resource:expr) => {{
            let new = db.events_after(seen).await;
            assert_eq!(new.len(), 1, "one event for {}: {new:?}", $kind);
            assert_eq!((new[0].kind.as_str(), new[0].resource_id.as_str()), ($kind, $resource.as_str()));
            seen += 1;
            new.into_iter().next().expect("one")
        }};
    }
    macro_rules! expect_none {
        ($why:expr) => {{
            assert_eq!(db.event_count().await, seen, "no event for {}", $why);
        }};
    }

    let customer = ctx.customer_id("a@b.co").await;
    let e = expect_event!("customer.created", customer);
    assert_eq!(e.payload["resource"]["id"], json!(customer));

    let (s, _) = ctx.post(&format!("/admin/customers/{customer}"), json!({"first_name": "Janet"})).await;
    assert_eq!(s, 200);
    let e = expect_event!("customer.updated", customer);
    assert_eq!(e.payload["resource"]["first_name"], "Janet");
    let (s, _) = ctx.post(&format!("/admin/customers/{customer}"), json!({"first_name": "Janet"})).await;
    assert_eq!(s, 200);
    expect_none!("an update that changes nothing");

    let group = ctx.group("gold").await;
    let e = expect_event!("customer-group.created", group);
    assert_eq!(e.payload["resource"]["name"], "gold");

    let (s, _) = ctx.post(&format!("/admin/customers/{customer}/customer-groups"), json!({"add": [group]})).await;
    assert_eq!(s, 200);
    let e = expect_event!("customer.groups_changed", customer);
    assert_eq!(e.payload["resource"]["groups"][0]["id"], json!(group));
    let (s, _) = ctx.post(&format!("/admin/customers/{customer}/customer-groups"), json!({"add": [group]})).await;
    assert_eq!(s, 200);
    expect_none!("adding a group the customer is already in");

    let (s, _) = ctx.post(&format!("/admin/customer-groups/{group}"), json!({"name": "platinum"})).await;
    assert_eq!(s, 200);
    expect_event!("customer-group.updated", group);

    let (s, _) = ctx.post(&format!("/admin/customer-groups/{group}/customers"), json!({"remove": [customer]})).await;
    assert_eq!(s, 200);
    expect_event!("customer-group.updated", group);

    let (s, b) = ctx.post(&format!("/admin/customers/{customer}/addresses"), json!({"city": "Paris"})).await;
    assert_eq!(s, 200);
    let address = id_of(&b["customer"]["addresses"][0]);
    expect_event!("customer.updated", customer);
    let path = format!("/admin/customers/{customer}/addresses/{address}");
    assert_eq!(ctx.post(&path, json!({"city": "Lyon"})).await.0, 200);
    expect_event!("customer.updated", customer);
    assert_eq!(ctx.delete(&path).await.0, 200);
    expect_event!("customer.updated", customer);

    // Failed writes record nothing.
    assert_eq!(ctx.post("/admin/customers", customer_body("A@B.CO")).await.0, 422);
    assert_eq!(ctx.post(&format!("/admin/customers/{UNKNOWN_ID}"), json!({"first_name": "x"})).await.0, 404);
    let (s, _) = ctx.post(&format!("/admin/customers/{customer}/customer-groups"), json!({"add": [UNKNOWN_ID]})).await;
    assert_eq!(s, 404);
    assert_eq!(ctx.post("/admin/customer-groups", json!({"name": "platinum"})).await.0, 422);
    expect_none!("failed writes");

    assert_eq!(ctx.delete(&format!("/admin/customer-groups/{group}")).await.0, 200);
    expect_event!("customer-group.deleted", group);

    assert_eq!(ctx.delete(&format!("/admin/customers/{customer}")).await.0, 200);
    let e = expect_event!("customer.deleted", customer);
    assert!(e.payload["resource"]["deleted_at"].is_string(), "{:?}", e.payload);
    expect_none!("anything else");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_is_partial_and_merges_metadata() {
    let ctx = Ctx::new().await;
    let mut body = customer_body("a@b.co");
    body["metadata"] = json!({"a": 1, "b": 2});
    let (_, created) = ctx.post("/admin/customers", body).await;
    let id = id_of(&created["customer"]);
    let path = format!("/admin/customers/{id}");

    let (s, b) = ctx.post(&path, json!({"first_name": null, "metadata": {"a": "", "c": 3}})).await;
    assert_eq!(s, 200, "{b}");
    let c = &b["customer"];
    assert_eq!(c["first_name"], Value::Null);
    assert_eq!(c["last_name"], "Doe", "untouched");
    assert_eq!(c["metadata"], json!({"b": 2, "c": 3}));
    assert_ne!(c["updated_at"], created["customer"]["updated_at"]);
    assert_eq!(c["created_at"], created["customer"]["created_at"]);

    let (s, b) = ctx.post(&path, json!({"email": null})).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (400, Some("Invalid request: Expected type: 'string' for field 'email', got: 'null'"))
    );
    let (s, b) = ctx.post(&path, json!({"email": "nope"})).await;
    assert_eq!((s, b["message"].as_str()), (400, Some("Invalid request: Invalid email")));
    let (s, b) = ctx.post(&path, json!({"phone": "1".repeat(256)})).await;
    assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")), "{b}");
    let (s, b) = ctx.post(&path, json!({"has_account": true})).await;
    assert_eq!((s, b["message"].as_str()), (400, Some("Invalid request: Unrecognized fields: 'has_account'")));

    ctx.customer("taken@b.co").await;
    let (s, b) = ctx.post(&path, json!({"email": "TAKEN@b.co"})).await;
    assert_eq!((s, b["message"].as_str()), (422, Some("Customer with email: TAKEN@b.co already exists.")));
    // Changing only the case of one's own email is fine.
    let (s, b) = ctx.post(&path, json!({"email": "A@B.co"})).await;
    assert_eq!((s, b["customer"]["email"].as_str()), (200, Some("A@B.co")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_is_unique_case_insensitively_among_live_customers() {
    let ctx = Ctx::new().await;
    let first = ctx.customer_id("A@x.io").await;
    let answer = ctx.post("/admin/customers", customer_body("a@X.IO")).await;
    let message = "Customer with email: a@X.IO already exists.";
    assert_answer(&answer, 422, &coded_error("duplicate_error", message, "invalid_request_error"));

    assert_eq!(ctx.delete(&format!("/admin/customers/{first}")).await.0, 200);
    let (s, b) = ctx.post("/admin/customers", customer_body("a@X.IO")).await;
    assert_eq!((s, b["customer"]["email"].as_str()), (200, Some("a@X.IO")), "stored as given: {b}");
    let mut db = ctx.db().await;
    assert_eq!(db.rows("customers").await, 2, "the deleted one is kept (soft delete)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_creates_of_one_email() {
    let ctx = Ctx::new().await;
    let requests = (0..50).map(|i| {
        let email = if i % 2 == 0 { "race@x.io" } else { "RACE@x.io" };
        let req = ctx.post_request("/admin/customers").json(&customer_body(email));
        async move { json(req.send().await.expect("send")).await }
    });
    let answers = futures::future::join_all(requests).await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    let duplicates: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 422).map(|(_, b)| b).collect();
    assert_eq!(ok, 1, "{answers:?}");
    assert_eq!(duplicates.len(), 49, "{answers:?}");
    for b in duplicates {
        assert_eq!(b["type"], "duplicate_error");
        assert_eq!(b["code"], "invalid_request_error");
        let message = b["message"].as_str().unwrap_or_default();
        assert!(
            message == "Customer with email: race@x.io already exists."
                || message == "Customer with email: RACE@x.io already exists.",
            "{message}"
        );
    }
    let mut db = ctx.db().await;
    assert_eq!(db.rows("customers").await, 1);
    assert_eq!(db.event_count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_delete() {
    let ctx = Ctx::new().await;
    let customer = ctx.customer_id("gone@x.io").await;
    let other = ctx.customer_id("stays@x.io").await;
    let gold = ctx.group("gold").await;
    let silver = ctx.group("silver").await;
    let path = format!("/admin/customers/{customer}");
    let (s, _) = ctx.post(&format!("{path}/customer-groups"), json!({"add": [gold, silver]})).await;
    assert_eq!(s, 200);
    assert_eq!(ctx.post(&format!("/admin/customers/{other}/customer-groups"), json!({"add": [gold]})).await.0, 200);
    let (_, b) = ctx.post(&format!("{path}/addresses"), json!({"city": "Paris"})).await;
    let address = id_of(&b["customer"]["addresses"][0]);
    let versions = (ctx.version(&gold).await, ctx.version(&silver).await);

    assert_answer(&ctx.delete(&path).await, 200, &json!({"id": customer, "object": "customer", "deleted": true}));

    let not_found = json!({"type": "not_found", "message": format!("Customer with id: {customer} was not found")});
    let address_path = format!("{path}/addresses/{address}");
    for (method, p, body) in [
        ("GET", path.clone(), None),
        ("POST", path.clone(), Some(json!({"first_name": "x"}))),
        ("DELETE", path.clone(), None),
        ("GET", format!("{path}/addresses"), None),
        ("POST", format!("{path}/addresses"), Some(json!({"city": "x"}))),
        ("GET", address_path.clone(), None),
        ("POST", address_path.clone(), Some(json!({"city": "x"}))),
        ("DELETE", address_path.clone(), None),
        ("POST", format!("{path}/customer-groups"), Some(json!({"add": [gold]}))),
    ] {
        let answer = match (method, body) {
            ("GET", _) => ctx.get(&p).await,
            ("DELETE", _) => ctx.delete(&p).await,
            (_, body) => ctx.post(&p, body.unwrap_or_default()).await,
        };
        assert_eq!(answer, (404, not_found.clone()), "{method} {p}");
    }
    // Through the group too.
    let (s, b) = ctx.post(&format!("/admin/customer-groups/{gold}/customers"), json!({"add": [customer]})).await;
    assert_eq!((s, b), (404, not_found.clone()));

    // It left its groups (the other member stays), which bumped their versions once.
    let mut db = ctx.db().await;
    assert_eq!(db.memberships(&customer).await, 0);
    assert_eq!(db.memberships(&other).await, 1);
    assert_eq!((ctx.version(&gold).await, ctx.version(&silver).await), (versions.0 + 1, versions.1 + 1));
    // Not listed; its email is free; the row is kept with deleted_at.
    let (_, list) = ctx.get("/admin/customers").await;
    assert_eq!(list["count"], 1);
    assert_eq!(ctx.post("/admin/customers", customer_body("GONE@x.io")).await.0, 200);
    let deleted = db
        .count(&format!("SELECT count(*) AS n FROM customers WHERE id = '{customer}' AND deleted_at IS NOT NULL"))
        .await;
    assert_eq!(deleted, 1);

    let answer = ctx.delete(&format!("/admin/customers/{UNKNOWN_ID}")).await;
    assert_answer(
        &answer,
        404,
        &error("not_found", "Customer with id: 01900000-0000-7000-8000-000000000000 was not found"),
    );
}
