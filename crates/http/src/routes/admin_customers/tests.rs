//! Tests of the admin customer routes: the pure parts, and the handlers against mocked ports.

use super::*;
use crate::fields::parse_fields;
use harness::{call, customer, group, message, Harness};
use serde_json::json;
use std::sync::{Arc, Mutex};
use xclade_domain::customer::{Customer, Relations};
use xclade_domain::customer_group::CustomerGroup;
use xclade_domain::ids::{AddressId, CustomerId, GroupId};
use xclade_domain::DomainError;

/// Mocked ports, an app over them, and fixtures.
pub(crate) mod harness {
    use crate::state::{AppState, HttpConfig};
    use crate::Metrics;
    use actix_web::body::MessageBody;
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::{test, web, App};
    use chrono::{TimeZone, Utc};
    use serde_json::Value;
    use std::sync::Arc;
    use xclade_domain::auth::TokenClaims;
    use xclade_domain::customer::Customer;
    use xclade_domain::customer_group::{CustomerGroup, GroupName, Version};
    use xclade_domain::ids::{CustomerId, GroupId};
    use xclade_domain::metadata::Metadata;
    use xclade_domain::ports::{
        MockClock, MockCustomerGroupRepository, MockCustomerRepository, MockHealthCheck, MockIdGenerator,
        MockPasswordHasher, MockProjectRepository, MockTokenSigner, TokenRejection,
    };
    use xclade_domain::services::{AuthService, CustomerService, GroupService, TypeService};

    pub fn t0() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2019, 8, 24, 14, 15, 22).single().unwrap_or_default()
    }

    pub fn customer(email: &str) -> Customer {
        Customer::from_parts(xclade_domain::customer::CustomerParts {
            id: CustomerId(uuid::Uuid::now_v7()),
            email: xclade_domain::customer::Email::parse(email).expect("valid email"),
            company_name: Some("Acme".into()),
            first_name: Some("Jane".into()),
            last_name: Some("Doe".into()),
            phone: None,
            metadata: Metadata::default(),
            has_account: false,
            default_billing_address_id: None,
            default_shipping_address_id: None,
            created_by: Some("u1".into()),
            created_at: t0(),
            updated_at: t0(),
            deleted_at: None,
            groups: Vec::new(),
            addresses: Vec::new(),
        })
    }

    pub fn group(name: &str) -> CustomerGroup {
        CustomerGroup::from_parts(xclade_domain::customer_group::CustomerGroupParts {
            id: GroupId(uuid::Uuid::now_v7()),
            version: Version::new(1).unwrap(),
            key: None,
            name: GroupName::parse("name", name).unwrap(),
            custom: None,
            metadata: Metadata::default(),
            created_at: t0(),
            created_by: None,
            last_modified_at: t0(),
            last_modified_by: None,
        })
    }

    /// Set expectations on the repositories, then build the app.
    pub struct Harness {
        pub customers: MockCustomerRepository,
        pub groups: MockCustomerGroupRepository,
    }

    impl Harness {
        pub fn new() -> Harness {
            Harness { customers: MockCustomerRepository::new(), groups: MockCustomerGroupRepository::new() }
        }

        fn state(self) -> AppState {
            let mut clock = MockClock::new();
            clock.expect_now().returning(t0);
            let clock = Arc::new(clock);
            let mut ids = MockIdGenerator::new();
            ids.expect_new_id().returning(uuid::Uuid::now_v7);
            let ids = Arc::new(ids);
            // The bearer token is the name of the one scope it carries (`bad` is refused).
            let mut signer = MockTokenSigner::new();
            signer.expect_verify().returning(|token| {
                if token == "bad" {
                    return Err(TokenRejection::Invalid);
                }
                Ok(TokenClaims {
                    sub: "u1".into(),
                    kind: "user".into(),
                    project: "demo".into(),
                    pid: uuid::Uuid::nil(),
                    scope: format!("{token}:demo"),
                    iat: 0,
                    exp: i64::MAX,
                })
            });
            AppState {
                auth: AuthService::new(
                    Arc::new(MockProjectRepository::new()),
                    Arc::new(MockPasswordHasher::new()),
                    Arc::new(signer),
                    clock.clone(),
                    3600,
                ),
                customers: CustomerService::new(Arc::new(self.customers), clock.clone(), ids.clone()),
                groups: GroupService::new(
                    Arc::new(self.groups),
                    Arc::new(xclade_domain::ports::MockTypeRepository::new()),
                    clock.clone(),
                    ids.clone(),
                    1000,
                ),
                types: TypeService::new(Arc::new(xclade_domain::ports::MockTypeRepository::new()), clock, ids),
                health: Arc::new(MockHealthCheck::new()),
                metrics: Arc::new(Metrics::new()),
                pool_stats: None,
                events: None,
                config: HttpConfig::default(),
            }
        }

        pub async fn app(
            self,
        ) -> impl Service<actix_http::Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>
        {
            test::init_service(
                App::new()
                    .wrap(actix_web::middleware::from_fn(crate::middleware::observe))
                    .app_data(web::Data::new(self.state()))
                    .configure(crate::routes::admin),
            )
            .await
        }
    }

    /// The message of an error as the client sees it.
    pub fn message(err: &crate::error::AdminError) -> String {
        use actix_web::ResponseError;
        let body = err.error_response().into_body();
        let bytes = futures::executor::block_on(actix_web::body::to_bytes(body)).unwrap_or_default();
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Sends a request with `token` (none when empty) and an optional JSON body; answers the
    /// status and the body as JSON (a non-JSON body as a JSON string).
    pub async fn call<S, B>(app: &S, method: &str, uri: &str, token: &str, body: Option<Value>) -> (u16, Value)
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let (status, bytes) = call_raw(app, method, uri, token, &[], body.map(|b| b.to_string())).await;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    /// [`call`] with extra headers and a raw body; answers the raw bytes.
    pub async fn call_raw<S, B>(
        app: &S,
        method: &str,
        uri: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> (u16, Vec<u8>)
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap_or_default();
        let mut req = test::TestRequest::default().method(method).uri(uri);
        if !token.is_empty() {
            req = req.insert_header(("Authorization", format!("Bearer {token}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        if let Some(body) = body {
            req = req.insert_header(("Content-Type", "application/json")).set_payload(body);
        }
        let resp = test::call_service(app, req.to_request()).await;
        let status = resp.status().as_u16();
        let bytes = test::read_body(resp).await;
        (status, bytes.to_vec())
    }
}

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn create_body() -> Value {
    json!({"email": "jane@example.com", "company_name": "Acme", "first_name": "Jane", "last_name": "Doe", "phone": "+1 555", "metadata": {"a": 1}})
}

// ---------------------------------------------------------------------------------------------
// Pure parts

#[test]
fn customer_json_key_order_timestamps_and_nulls() {
    use chrono::{TimeZone, Utc};
    let mut c = customer("jane@example.com").into_parts();
    c.updated_at =
        Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).single().expect("time") + chrono::Duration::milliseconds(7);
    let g = group("Gold");
    c.groups = vec![g.clone()];
    let c = Customer::from_parts(c);
    let v = dto::customer_value(&c, &parse_fields(None).expect("defaults")).expect("json");
    let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "email",
            "company_name",
            "first_name",
            "last_name",
            "phone",
            "metadata",
            "has_account",
            "default_billing_address_id",
            "default_shipping_address_id",
            "groups",
            "addresses",
            "created_by",
            "created_at",
            "updated_at",
            "deleted_at"
        ]
    );
    assert_eq!(v["created_at"], json!("2019-08-24T14:15:22.000Z"));
    assert_eq!(v["updated_at"], json!("2024-01-02T03:04:05.007Z"));
    assert_eq!(v["phone"], Value::Null);
    assert_eq!(v["deleted_at"], Value::Null);
    assert_eq!(v["default_billing_address_id"], Value::Null);
    assert_eq!(v["metadata"], json!({}));
    assert_eq!(
        v["groups"],
        json!([{"id": g.id().0, "name": "Gold", "metadata": {}, "created_at": "2019-08-24T14:15:22.000Z", "updated_at": "2019-08-24T14:15:22.000Z"}])
    );
    assert_eq!(v["addresses"], json!([]));
}

#[test]
fn address_json_key_order() {
    let a = xclade_domain::customer::Address::from_parts(xclade_domain::customer::AddressParts {
        id: AddressId(uuid::Uuid::now_v7()),
        customer_id: CustomerId(uuid::Uuid::now_v7()),
        address_name: Some("Home".into()),
        is_default_shipping: true,
        is_default_billing: false,
        company: None,
        first_name: None,
        last_name: None,
        address_1: Some("1 Main St".into()),
        address_2: None,
        city: None,
        country_code: Some("us".into()),
        province: Some("us-ca".into()),
        postal_code: None,
        phone: None,
        metadata: Default::default(),
        created_at: harness::t0(),
        updated_at: harness::t0(),
    });
    let v = dto::address_value(&a).expect("json");
    let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "address_name",
            "is_default_shipping",
            "is_default_billing",
            "customer_id",
            "company",
            "first_name",
            "last_name",
            "address_1",
            "address_2",
            "city",
            "country_code",
            "province",
            "postal_code",
            "phone",
            "metadata",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(v["created_at"], json!("2019-08-24T14:15:22.000Z"));
}

#[test]
fn fields_shape_the_dto() {
    let mut c = customer("jane@example.com");
    let g = group("Gold");
    c.set_groups(vec![g.clone()]);
    let selected = parse_fields(Some("email%2Cgroups.name")).expect("valid");
    assert_eq!(support::relations(&selected), Relations { groups: true, addresses: false });
    let v = dto::customer_value(&c, &selected).expect("json");
    assert_eq!(v, json!({"id": c.id().0, "email": "jane@example.com", "groups": [{"id": g.id().0, "name": "Gold"}]}));

    let selected = parse_fields(Some("-phone%2C%2Bgroups.id,-addresses")).expect("valid");
    assert_eq!(support::relations(&selected), Relations { groups: true, addresses: false });
    let v = dto::customer_value(&c, &selected).expect("json");
    let obj = v.as_object().expect("object");
    assert!(!obj.contains_key("phone") && !obj.contains_key("addresses") && obj.contains_key("groups"));

    let err = support::parse_fields_raw(&crate::fields::CUSTOMER_SPEC, Some("foo,+bar")).expect_err("invalid");
    assert_eq!(err.to_string(), "Requested fields [foo, bar] are not valid");
}

#[test]
fn create_body_messages() {
    let msg = |v: Value| message(&customer_draft(map(v)).expect_err("invalid"));
    let mut body = create_body();
    body["first_name"] = Value::Null;
    assert_eq!(msg(body), "Invalid request: Expected type: 'string' for field 'first_name', got: 'null'");
    let mut body = create_body();
    body["first_name"] = json!(3);
    assert_eq!(msg(body), "Invalid request: Expected type: 'string' for field 'first_name', got: 'number'");
    let mut body = create_body();
    body.as_object_mut().expect("object").remove("email");
    assert_eq!(msg(body), "Invalid request: Field 'email' is required");
    let mut body = create_body();
    body.as_object_mut().expect("object").remove("metadata");
    assert_eq!(msg(body), "Invalid request: Field 'metadata' is required");
    let mut body = create_body();
    body["email"] = json!("not-an-email");
    assert_eq!(msg(body), "Invalid request: Invalid email");
    let mut body = create_body();
    body["foo"] = json!(1);
    assert_eq!(msg(body), "Invalid request: Unrecognized fields: 'foo'");
    let mut body = create_body();
    body["additional_data"] = json!({"source": "import"});
    let draft = customer_draft(map(body)).expect("valid");
    assert_eq!(draft.phone.as_deref(), Some("+1 555"));
    assert!(draft.additional_data.is_some_and(|d| d.contains_key("source")));
}

#[test]
fn update_and_address_bodies() {
    let patch = customer_patch(map(json!({"first_name": null, "metadata": {"a": ""}}))).expect("valid");
    assert_eq!(patch.first_name, Some(None));
    // additional_data of an update follows the create's rule (found by tests/fuzz).
    assert!(customer_patch(map(json!({"additional_data": {"a": "b"}}))).is_ok());
    assert!(customer_patch(map(json!({"additional_data": {"a\u{0}": "b"}}))).is_err());
    assert_eq!(patch.last_name, None);
    assert_eq!(
        message(&customer_patch(map(json!({"email": "x"}))).expect_err("invalid")),
        "Invalid request: Invalid email"
    );
    assert!(patch.metadata.is_some());
    assert_eq!(
        message(&customer_patch(map(json!({"email": null}))).expect_err("null")),
        "Invalid request: Expected type: 'string' for field 'email', got: 'null'"
    );
    let fields =
        address_fields(map(json!({"city": "Paris", "company": null, "is_default_billing": true}))).expect("valid");
    assert_eq!(fields.city, Some(Some("Paris".into())));
    assert_eq!(fields.company, Some(None));
    assert_eq!(fields.is_default_billing, Some(true));
    assert_eq!(
        message(&address_fields(map(json!({"is_default_shipping": "yes"}))).expect_err("type")),
        "Invalid request: Expected type: 'boolean' for field 'is_default_shipping', got: 'string'"
    );
}

#[test]
fn membership_bodies() {
    let g = "0193a1b2-0000-7000-8000-000000000001";
    let (add, remove) = group_changes(map(json!({"add": [g], "remove": null}))).expect("valid");
    assert_eq!((add, remove), (vec![GroupId(uuid::Uuid::parse_str(g).expect("uuid"))], vec![]));
    // Types of both lists first (in declaration order), then the ids, `add` first.
    assert_eq!(
        message(&group_changes(map(json!({"remove": [1], "add": ["x"]}))).expect_err("type")),
        "Invalid request: Expected type: 'string' for field 'remove.0', got: 'number'"
    );
    assert_eq!(
        message(&group_changes(map(json!({"remove": ["y"], "add": ["x"]}))).expect_err("404")),
        "Customer group with id: x was not found"
    );
    assert_eq!(
        message(&group_changes(map(json!({"remove": "y", "add": "x", "other": 1}))).expect_err("unknown")),
        "Invalid request: Unrecognized fields: 'other'"
    );
}

#[test]
fn create_body_issues_come_in_declaration_order() {
    let msg = |v: Value| message(&customer_draft(map(v)).expect_err("invalid"));
    // A missing field declared before a mistyped one is reported first, as before typed DTOs.
    assert_eq!(msg(json!({"first_name": 3})), "Invalid request: Field 'email' is required");
    assert_eq!(
        msg(json!({"phone": 1, "email": 2})),
        "Invalid request: Expected type: 'string' for field 'email', got: 'number'"
    );
    // Unknown keys before everything else; the domain's checks after every type.
    assert_eq!(msg(json!({"email": 1, "foo": 2})), "Invalid request: Unrecognized fields: 'foo'");
    let mut body = create_body();
    body["email"] = json!("not-an-email");
    body["metadata"] = json!([]);
    assert_eq!(msg(body), "Invalid request: Expected type: 'object' for field 'metadata', got: 'array'");
}

// ---------------------------------------------------------------------------------------------
// Handlers over mocked ports

#[actix_web::test]
async fn auth_comes_first_then_the_permission() {
    let mut h = Harness::new();
    h.customers.expect_create().never();
    let app = h.app().await;
    let (status, body) = call(&app, "POST", "/admin/customers", "", Some(json!({"x": 1}))).await;
    assert_eq!((status, body), (401, json!("Unauthorized")));
    let (status, _) = call(&app, "GET", "/admin/customers/abc", "bad", None).await;
    assert_eq!(status, 401);
    // A read-only caller is refused before its (bad) body is looked at.
    let (status, body) = call(&app, "POST", "/admin/customers", "view_customers", Some(json!({"x": 1}))).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["type"], json!("forbidden"));
}

#[actix_web::test]
async fn non_uuid_path_ids_are_404() {
    let app = Harness::new().app().await;
    for (method, uri) in [
        ("GET", "/admin/customers/cus_123"),
        ("POST", "/admin/customers/cus_123"),
        ("DELETE", "/admin/customers/cus_123"),
        ("POST", "/admin/customers/cus_123/customer-groups"),
        ("GET", "/admin/customers/cus_123/addresses"),
    ] {
        let body = (method == "POST").then(|| json!({}));
        let (status, body) = call(&app, method, uri, "manage_customers", body).await;
        assert_eq!(status, 404, "{method} {uri}");
        assert_eq!(body, json!({"type": "not_found", "message": "Customer with id: cus_123 was not found"}));
    }
    let id = uuid::Uuid::now_v7();
    let (status, body) =
        call(&app, "GET", &format!("/admin/customers/{id}/addresses/addr_1"), "manage_customers", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], json!("Customer address with id: addr_1 was not found"));
}

#[actix_web::test]
async fn create_with_idempotency_key_replays_byte_identical() {
    let mut h = Harness::new();
    let created: Arc<Mutex<Option<xclade_domain::customer::Customer>>> = Arc::default();
    let hashes: Arc<Mutex<Vec<String>>> = Arc::default();
    {
        let (created, hashes) = (created.clone(), hashes.clone());
        h.customers.expect_create().times(2).returning(move |_, c, data, idem| {
            assert!(data.is_none());
            let claim = idem.expect("a claim");
            assert_eq!(claim.key, "key-1");
            hashes.lock().expect("lock").push(claim.request_hash.clone());
            let mut first = created.lock().expect("lock");
            match first.as_ref() {
                None => {
                    *first = Some(c.clone());
                    Ok(CreateOutcome::Created(c.clone()))
                }
                Some(original) => Ok(CreateOutcome::Replayed(original.clone())),
            }
        });
    }
    let app = h.app().await;
    let send = || {
        harness::call_raw(
            &app,
            "POST",
            "/admin/customers?fields=-addresses",
            "manage_customers",
            &[("Idempotency-Key", "key-1")],
            Some(create_body().to_string()),
        )
    };
    let (s1, b1) = send().await;
    let (s2, b2) = send().await;
    assert_eq!((s1, s2), (200, 200), "{}", String::from_utf8_lossy(&b1));
    assert_eq!(b1, b2);
    let hashes = hashes.lock().expect("lock");
    assert_eq!(hashes[0], hashes[1]);
    assert_eq!(hashes[0].len(), 64);
    let v: Value = serde_json::from_slice(&b1).expect("json");
    let c = &v["customer"];
    assert_eq!(c["email"], json!("jane@example.com"));
    assert_eq!(c["groups"], json!([]));
    assert!(c.get("addresses").is_none());
    assert_eq!(c["created_at"], json!("2019-08-24T14:15:22.000Z"));
}

#[actix_web::test]
async fn create_refuses_long_keys_and_reports_duplicates() {
    let mut h = Harness::new();
    h.customers.expect_create().times(1).returning(|_, c, _, idem| {
        assert!(idem.is_none());
        Err(DomainError::Duplicate {
            resource: xclade_domain::Resource::Customer,
            field: "email",
            value: c.email_str().to_owned(),
        })
    });
    let app = h.app().await;
    let long = "k".repeat(256);
    let (status, _) = harness::call_raw(
        &app,
        "POST",
        "/admin/customers",
        "manage_customers",
        &[("Idempotency-Key", &long)],
        Some(create_body().to_string()),
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = call(&app, "POST", "/admin/customers", "manage_customers", Some(create_body())).await;
    assert_eq!(status, 422);
    assert_eq!(
        body,
        json!({"type": "duplicate_error", "message": "Customer with email: jane@example.com already exists.", "code": "invalid_request_error"})
    );
}

#[actix_web::test]
async fn list_validates_before_the_database_and_loads_only_selected_relations() {
    let mut h = Harness::new();
    h.customers
        .expect_list()
        .times(1)
        .withf(|_, filter, relations| {
            filter.limit == 10
                && filter.offset == 20
                && filter.descending
                && *relations == Relations { groups: true, addresses: false }
        })
        .returning(|_, _, _| Ok(Listed { items: vec![customer("a@b.co")], count: 31 }));
    let app = h.app().await;
    let (status, body) = call(&app, "GET", "/admin/customers?limit=1001", "view_customers", None).await;
    assert_eq!((status, body["message"].clone()), (400, json!("Invalid request: Field 'limit' must be at most 1000")));
    let (status, body) = call(&app, "GET", "/admin/customers?groups=gold", "view_customers", None).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"customers": [], "count": 0, "offset": 0, "limit": 50}));
    let (status, body) = call(
        &app,
        "GET",
        "/admin/customers?fields=email,groups.id&limit=10&offset=20&order=-email",
        "view_customers",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], json!(31));
    assert_eq!((body["offset"].clone(), body["limit"].clone()), (json!(20), json!(10)));
    let first = body["customers"][0].as_object().expect("customer");
    assert_eq!(first.keys().map(String::as_str).collect::<Vec<_>>(), ["id", "email", "groups"]);
    let (status, body) = call(&app, "GET", "/admin/customers?fields=password", "view_customers", None).await;
    assert_eq!(
        (status, body),
        (400, json!({"type": "invalid_data", "message": "Requested fields [password] are not valid"}))
    );
}

#[actix_web::test]
async fn manage_groups_checks_ids_before_writing() {
    let mut h = Harness::new();
    let g = GroupId(uuid::Uuid::now_v7());
    h.customers
        .expect_set_groups()
        .times(1)
        .withf(move |_, _, add, remove, _| add == [g] && remove.is_empty())
        .returning(|_, id, add, _, _| {
            let mut c = customer("a@b.co").into_parts();
            c.id = id;
            let mut gold = group("Gold").into_parts();
            gold.id = add[0];
            c.groups = vec![CustomerGroup::from_parts(gold)];
            Ok(Customer::from_parts(c))
        });
    let app = h.app().await;
    let id = uuid::Uuid::now_v7();
    let uri = format!("/admin/customers/{id}/customer-groups");
    let (status, body) =
        call(&app, "POST", &uri, "manage_customers", Some(json!({"add": [g.to_string(), "vip"]}))).await;
    assert_eq!(
        (status, body),
        (404, json!({"type": "not_found", "message": "Customer group with id: vip was not found"}))
    );
    let (status, body) =
        call(&app, "POST", &uri, "manage_customers", Some(json!({"add": [g.to_string()], "foo": 1}))).await;
    assert_eq!((status, body["message"].clone()), (400, json!("Invalid request: Unrecognized fields: 'foo'")));
    let (status, body) = call(
        &app,
        "POST",
        &format!("{uri}?fields=groups.id"),
        "manage_customers",
        Some(json!({"add": [g.to_string()]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"customer": {"id": id, "groups": [{"id": g.0}]}}));
}

#[actix_web::test]
async fn address_delete_answers_the_parent() {
    let mut h = Harness::new();
    h.customers.expect_delete_address().times(1).returning(|_, id, _, relations| {
        assert_eq!(relations, Relations { groups: false, addresses: true });
        let mut c = customer("a@b.co").into_parts();
        c.id = id;
        Ok(Customer::from_parts(c))
    });
    let app = h.app().await;
    let (id, address) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let (status, body) = call(
        &app,
        "DELETE",
        &format!("/admin/customers/{id}/addresses/{address}?fields=email,*addresses"),
        "manage_customers",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"id": address, "object": "customer_address", "deleted": true, "parent": {"id": id, "email": "a@b.co", "addresses": []}})
    );
}

#[actix_web::test]
async fn delete_answers_the_deleted_object() {
    let mut h = Harness::new();
    h.customers.expect_delete().times(1).returning(|_, _| Ok(()));
    let app = h.app().await;
    let id = uuid::Uuid::now_v7();
    let (status, body) = call(&app, "DELETE", &format!("/admin/customers/{id}"), "manage_customers", None).await;
    assert_eq!((status, body), (200, json!({"id": id, "object": "customer", "deleted": true})));
}

#[actix_web::test]
async fn update_passes_the_patch_and_shapes_the_answer() {
    let mut h = Harness::new();
    h.customers.expect_update().times(1).withf(|_, _, _, relations| *relations == Relations::NONE).returning(
        |_, id, change, _| {
            // The change the service decided, run as an adapter runs it on the locked customer.
            let mut c = customer("a@b.co").into_parts();
            c.id = id;
            c.first_name = Some("Ada".into());
            let mut c = Customer::from_parts(c);
            let before = c.clone();
            assert!(change(&mut c)?, "the first name is cleared");
            assert_eq!((c.first_name(), c.email_str()), (None, before.email_str()), "and nothing else");
            Ok(c)
        },
    );
    let app = h.app().await;
    let id = uuid::Uuid::now_v7();
    let uri = format!("/admin/customers/{id}?fields=first_name");
    let (status, body) = call(&app, "POST", &uri, "manage_customers", Some(json!({"first_name": null}))).await;
    assert_eq!((status, body), (200, json!({"customer": {"id": id, "first_name": null}})));
    let (status, body) = call(&app, "PATCH", "/admin/customers", "manage_customers", None).await;
    assert_eq!(status, 405);
    assert_eq!(body["type"], json!("invalid_data"));
}

#[test]
fn openapi_lists_every_route() {
    let doc = openapi();
    let paths: Vec<&str> = doc.paths.paths.keys().map(String::as_str).collect();
    for p in [
        "/admin/customers",
        "/admin/customers/{id}",
        "/admin/customers/{id}/customer-groups",
        "/admin/customers/{id}/addresses",
        "/admin/customers/{id}/addresses/{address_id}",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    let groups = crate::routes::admin_groups::openapi();
    assert_eq!(groups.paths.paths.len(), 3);
    // The whole document builds and serializes.
    assert!(serde_json::to_string(&crate::openapi::document()).is_ok());
}

/// The direct serializer gives exactly (bytes, so key order too) what shaping the full DTO's
/// `Value` gives, for every kind of selection.
#[test]
fn shaped_customer_serializes_like_shaping_the_full_value() {
    let mut c = customer("jane@example.com").into_parts();
    c.phone = Some("+1 555 0100".into());
    c.metadata = xclade_domain::metadata::Metadata::parse(
        json!({"tier": "gold", "n": 3}).as_object().cloned().unwrap_or_default(),
    )
    .expect("metadata");
    c.groups = vec![group("Gold"), group("Silver")];
    let address = |name: &str| {
        xclade_domain::customer::Address::from_parts(xclade_domain::customer::AddressParts {
            id: AddressId(uuid::Uuid::now_v7()),
            customer_id: c.id,
            address_name: Some(name.into()),
            is_default_shipping: false,
            is_default_billing: true,
            company: None,
            first_name: Some("Jane".into()),
            last_name: None,
            address_1: Some("1 Main St".into()),
            address_2: None,
            city: Some("Springfield".into()),
            country_code: Some("us".into()),
            province: None,
            postal_code: Some("12345".into()),
            phone: None,
            metadata: Default::default(),
            created_at: harness::t0(),
            updated_at: harness::t0(),
        })
    };
    c.addresses = vec![address("Home"), address("Work")];
    let c = Customer::from_parts(c);
    let selections = [
        None,
        Some(""),
        Some("id"),
        Some("email,groups.name"),
        Some("-phone,+groups.id,-addresses"),
        Some("*groups"),
        Some("*groups,*addresses"),
        Some("addresses.city,addresses.postal_code,metadata"),
        Some("+created_at,-email,-groups"),
        Some("groups,addresses"),
        Some("-groups,-addresses,-metadata"),
    ];
    for raw in selections {
        let selected = parse_fields(raw).expect("valid fields");
        let direct = serde_json::to_string(&dto::ShapedCustomer::new(&c, &selected)).expect("direct");
        let full = serde_json::to_value(dto::AdminCustomer::from(&c)).expect("full");
        let shaped = serde_json::to_string(&selected.shape(full)).expect("shaped");
        assert_eq!(direct, shaped, "fields = {raw:?}");
    }
}
